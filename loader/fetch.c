/*
 * fetch.c - the wasm runtime's platform hooks: fetching, progress and
 * persisting the cache go to JS functions that larder-runtime.js installs on
 * the module (larderFetch: synchronous XHR in a Worker, a helper thread
 * under Node; larderProgress; larderPersist: IDBFS syncfs in the
 * background); an archive's files are written into MEMFS directly
 * (write_files); the digests larder-runtime.js computed of the IDBFS
 * cache's files are given to the loader (file_sha256). Only this file
 * differs between the wasm and host loaders.
 */
#include "loader.h"

#include <emscripten.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0 and a malloc'd buffer (and in *from_store whether the
 * platform's archive store had it, in digest the bytes' sha256 when the
 * fetcher computed it: 64 hex digits, or ""), or 1 with the cause in errbuf. */
EM_JS(int, larder_js_fetch, (const char *url, double expected, const char *sha256, int refresh,
                             unsigned char **data, size_t *len, int *from_store, int *ahead, char *digest,
                             int digestlen, char *errbuf, int errlen), {
    try {
        if (!Module.larderFetch)
            throw new Error('this runtime has no fetcher (larder-runtime.js sets Module.larderFetch)');
        const got = Module.larderFetch(UTF8ToString(url), expected, sha256 ? UTF8ToString(sha256) : null,
                                       refresh !== 0);
        const bytes = got.bytes;
        HEAP32[from_store >> 2] = got.fromStore ? 1 : 0;
        HEAP32[ahead >> 2] = got.ahead ? 1 : 0;
        stringToUTF8(got.sha256 || "", digest, digestlen);
        const ptr = _malloc(bytes.length || 1);
        if (!ptr)
            throw new Error('out of memory for ' + bytes.length + ' bytes');
        HEAPU8.set(bytes, ptr);
        if (got.release)  /* the bytes were a view of shared memory the fetcher may reuse now */
            got.release();
        HEAPU32[data >> 2] = ptr;
        HEAPU32[len >> 2] = bytes.length;
        return 0;
    } catch (e) {
        stringToUTF8(String((e && e.message) || e), errbuf, errlen);
        return 1;
    }
});

/* The entries of an archive written straight into MEMFS nodes: a system
 * call per file costs a trip from wasm to JavaScript and, for every new
 * name, two ENOENT exceptions thrown inside emscripten's FS (its lookup
 * throws when a name is missing); this asks for each name once, without
 * throwing. It relies on MEMFS of emscripten 3.1.6 (the FS name table,
 * MEMFS.createNode, node.contents/usedBytes, the directory node_ops), which
 * the runtime pins.
 * The file bytes are copied out of the wasm heap once; each file is a view
 * of that copy. A directory two or more levels below root whose files add
 * up to LAZY bytes or more is made empty and filled when something first
 * looks into it (a lookup of a name in it, or a listing: every path that
 * reaches a file inside goes through one), so that importing one
 * subpackage of a large package does not create the nodes of all the
 * others (fontTools.ttLib needs a seventh of fonttools' 6.4 MB). What is in
 * such a directory was checked with the rest (the loader's untar and
 * owns_path) before anything was written. Until filled, a directory counts
 * as not empty (rmdir and rename refuse it, as they would the full one).
 * Returns 0 when written, 1 on failure (cause in errbuf, nothing left
 * behind), 2 when root or a directory on the way is not a plain MEMFS
 * directory (a mount point, another file system): the loader then writes
 * the files itself. */
EM_JS(int, larder_js_write_files, (const char *root_c, const void *entries, int n, int stride, int off_path,
                                   int off_dir, int off_mode, int off_data, int off_size, char *errbuf,
                                   int errlen), {
    const LAZY = 65536;
    const root = UTF8ToString(root_c);
    const made = [];  /* nodes created, for the rollback */
    const NOT_HERE = {};
    const base = MEMFS.ops_table && MEMFS.ops_table.dir.node;
    const isMemfsDir = (node) => FS.isDir(node.mode) && !node.mounted && node.node_ops === base;
    const child = (parent, name) => {
        for (let node = FS.nameTable[FS.hashName(parent.id, name)]; node; node = node.name_next)
            if (node.parent.id === parent.id && node.name === name)
                return node;
        return null;
    };
    if (base && !Module.larderLazyDirOps) {
        /* a directory not filled yet: filled before the first lookup or listing */
        const fill = (node) => {
            const lazy = node.larderLazy;
            node.larderLazy = null;
            node.node_ops = base;
            node.contents = {};
            try {
                lazy();
            } catch (e) {  /* checked at install, so not expected: say what and fail the call */
                err('larder: cannot unpack ' + FS.getPath(node) + ': ' + ((e && e.message) || e));
                throw new FS.ErrnoError(29);
            }
        };
        Module.larderLazyDirOps = Object.assign({}, base, {
            lookup: (parent, name) => { fill(parent); return FS.lookupNode(parent, name); },
            readdir: (node) => { fill(node); return base.readdir(node); },
        });
        Module.larderLazyDirContents = { '(not unpacked yet)': true };
    }
    try {
        let top;
        try {
            top = FS.lookupPath(root, { follow: true }).node;
        } catch (e) {
            return 2;  /* the loader's own writes report it */
        }
        if (!base || !isMemfsDir(top))
            return 2;
        const list = [];
        let lo = Infinity, hi = 0;
        for (let i = 0; i < n; i++) {
            const e = entries + i * stride;
            const item = { rel: UTF8ToString(HEAPU32[(e + off_path) >> 2]), isDir: HEAP32[(e + off_dir) >> 2] !== 0,
                           mode: HEAPU32[(e + off_mode) >> 2] & 0o777, data: HEAPU32[(e + off_data) >> 2],
                           size: HEAPU32[(e + off_size) >> 2] };
            if (!item.isDir && item.size) {
                lo = Math.min(lo, item.data);
                hi = Math.max(hi, item.data + item.size);
            }
            list.push(item);
        }
        const bytes = hi > lo ? HEAPU8.slice(lo, hi) : new Uint8Array(0);
        /* the lazy directories, and which of them (or '' for none) each entry lies below, deepest first */
        const parents = (rel) => {
            const out = [];
            for (let cut = rel.lastIndexOf('/'); cut > 0; cut = rel.lastIndexOf('/', cut - 1))
                out.push(rel.slice(0, cut));
            return out;
        };
        const under = new Map();
        for (const item of list)
            if (!item.isDir)
                for (const d of parents(item.rel))
                    under.set(d, (under.get(d) || 0) + item.size);
        const groups = new Map([["", []]]);
        under.forEach((size, d) => {
            if (size >= LAZY && d.indexOf('/') > 0)
                groups.set(d, []);
        });
        const ownerOf = (rel) => {
            for (const d of parents(rel))
                if (groups.has(d))
                    return d;
            return "";
        };
        for (const item of list)
            groups.get(ownerOf(item.rel)).push(item);
        const lazyDirs = new Map();  /* group -> the lazy directories right below it */
        for (const d of groups.keys())
            if (d) {
                const o = ownerOf(d);
                lazyDirs.set(o, (lazyDirs.get(o) || []).concat([d]));
            }
        const dirs = new Map([["", top]]);
        const fresh = new Set();  /* directories this install made: only those can wait to be filled */
        const dir = (rel, rollback) => {
            let node = dirs.get(rel);
            if (node)
                return node;
            const cut = rel.lastIndexOf('/');
            const parent = dir(cut < 0 ? "" : rel.slice(0, cut), rollback);
            const name = rel.slice(cut + 1);
            node = child(parent, name);
            if (!node) {
                node = MEMFS.createNode(parent, name, 0o40755, 0);
                fresh.add(node);
                if (rollback)
                    made.push(node);
            } else if (FS.isLink(node.mode) || !FS.isDir(node.mode)) {
                throw new Error(root + '/' + rel + ' exists and is not a directory');
            } else if (!isMemfsDir(node)) {
                throw NOT_HERE;
            }
            dirs.set(rel, node);
            return node;
        };
        /* write a group's entries, then make the lazy directories right below it */
        const write = (group, rollback) => {
            for (const item of groups.get(group)) {
                if (item.isDir) {
                    dir(item.rel, rollback);
                    continue;
                }
                const cut = item.rel.lastIndexOf('/');
                const parent = dir(cut < 0 ? "" : item.rel.slice(0, cut), rollback);
                const name = item.rel.slice(cut + 1);
                if (child(parent, name))
                    throw new Error(root + '/' + item.rel + ' already exists: another package installed it (or '
                                    + 'something put a file or link there)');
                const node = MEMFS.createNode(parent, name, 0o100000 | item.mode, 0);
                if (rollback)
                    made.push(node);
                node.contents = bytes.subarray(item.data - lo, item.data - lo + item.size);
                node.usedBytes = item.size;
            }
            for (const d of lazyDirs.get(group) || []) {
                const node = dir(d, rollback);
                if (!fresh.has(node)) {  /* there before (a namespace shared with another package) */
                    write(d, rollback);
                    continue;
                }
                node.node_ops = Module.larderLazyDirOps;
                node.contents = Object.create(Module.larderLazyDirContents);
                node.larderLazy = () => write(d, false);
            }
        };
        write("", true);
        return 0;
    } catch (e) {
        for (let i = made.length - 1; i >= 0; i--) {
            delete made[i].parent.contents[made[i].name];
            FS.destroyNode(made[i]);
        }
        if (e === NOT_HERE)
            return 2;
        stringToUTF8(String((e && e.message) || e), errbuf, errlen);
        return 1;
    }
});

EM_JS(void, larder_js_progress, (const char *package, double done, double total), {
    if (Module.larderProgress)
        Module.larderProgress(UTF8ToString(package), done, total);
});

EM_JS(void, larder_js_prefetch, (const char *const *urls, const double *sizes, const char *const *shas, int n), {
    if (!Module.larderPrefetch)
        return;
    const list = [];
    for (let i = 0; i < n; i++) {
        const sha = HEAPU32[(shas >> 2) + i];
        list.push({ url: UTF8ToString(HEAPU32[(urls >> 2) + i]), size: HEAPF64[(sizes >> 3) + i],
                    sha256: sha ? UTF8ToString(sha) : null });
    }
    Module.larderPrefetch(list);
});

EM_JS(void, larder_js_persist, (void), {
    if (Module.larderPersist)
        Module.larderPersist();
});

EM_JS(void, larder_js_installed, (const char *package, const char *version, double size, int stdlib, int from_cache), {
    if (Module.larderInstalled)
        Module.larderInstalled(UTF8ToString(package), from_cache != 0,
                               { version: UTF8ToString(version), size: size, stdlib: stdlib != 0 });
});

/* 1 and the file's SHA-256 in out when larder-runtime.js hashed it (the
 * IDBFS cache, with WebCrypto) and it has not changed since; 0 otherwise. */
EM_JS(int, larder_js_file_sha256, (const char *path, char *out, int outlen), {
    const digest = Module.larderFileSha256 ? Module.larderFileSha256(UTF8ToString(path)) : null;
    if (!digest)
        return 0;
    stringToUTF8(digest, out, outlen);
    return 1;
});

EM_JS(void, larder_js_warn, (const char *message), {
    if (Module.larderWarn)
        Module.larderWarn(UTF8ToString(message));
});

larder_code platform_fetch(void *ctx, const larder_fetch_request *req, unsigned char **data, size_t *len,
                           larder_fetch_result *result, larder_error *err)
{
    (void)ctx;
    char cause[400];
    *data = NULL;
    *len = 0;
    *result = (larder_fetch_result){0};
    if (larder_js_fetch(req->url, (double)req->size, req->sha256, req->refresh, data, len, &result->from_store,
                        &result->ahead, result->sha256, (int)sizeof result->sha256, cause, (int)sizeof cause) != 0)
        return larder_fail(err, LARDER_EFETCH, "%s", cause);
    return LARDER_OK;
}

void platform_progress(void *ctx, const char *package, uint64_t done, uint64_t total)
{
    (void)ctx;
    larder_js_progress(package, (double)done, (double)total);
}

void platform_prefetch(void *ctx, const larder_fetch_request *reqs, size_t n)
{
    (void)ctx;
    const char **urls = malloc(sizeof *urls * (n ? n : 1)), **shas = malloc(sizeof *shas * (n ? n : 1));
    double *sizes = malloc(sizeof *sizes * (n ? n : 1));
    if (urls && shas && sizes) {  /* only an optimisation: each archive is still fetched */
        for (size_t i = 0; i < n; i++) {
            urls[i] = reqs[i].url;
            shas[i] = reqs[i].sha256;
            sizes[i] = (double)reqs[i].size;
        }
        larder_js_prefetch(urls, sizes, shas, (int)n);
    }
    free(urls);
    free(shas);
    free(sizes);
}

void platform_persist(void *ctx)
{
    (void)ctx;
    larder_js_persist();
}

void platform_installed(void *ctx, const larder_package *p, int from_cache)
{
    (void)ctx;
    larder_js_installed(p->name, p->version, (double)p->size, !strcmp(p->package_type, "cpython_module"), from_cache);
}

larder_code platform_write_files(void *ctx, const char *root, const larder_tar_entry *entries, size_t n,
                                 int *handled, larder_error *err)
{
    (void)ctx;
    char cause[512] = "";
    *handled = 0;
    if (n > INT32_MAX)
        return LARDER_OK;
    int rc = larder_js_write_files(root, entries, (int)n, (int)sizeof *entries, (int)offsetof(larder_tar_entry, path),
                                   (int)offsetof(larder_tar_entry, is_dir), (int)offsetof(larder_tar_entry, mode),
                                   (int)offsetof(larder_tar_entry, data), (int)offsetof(larder_tar_entry, size),
                                   cause, (int)sizeof cause);
    if (rc == 2)
        return LARDER_OK;
    *handled = 1;
    return rc == 0 ? LARDER_OK : larder_fail(err, LARDER_EINVAL, "%s", cause);
}

void platform_warn(void *ctx, const char *message)
{
    (void)ctx;
    larder_js_warn(message);
}

int platform_file_sha256(void *ctx, const char *path, char out[LARDER_SHA256_HEX])
{
    (void)ctx;
    return larder_js_file_sha256(path, out, LARDER_SHA256_HEX);
}
