/*
 * install.c - the loader's main path, top to bottom:
 *   names -> dependency closure (index) -> for each package not installed:
 *   cache hit, or fetch -> sha256 == index -> zstd -> strict untar ->
 *   files written under the package's install dir (rolled back on failure)
 *   -> cached. A package is installed completely or not at all.
 */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARCHIVE (1ull << 30)
/* What a tar entry adds to its file's bytes, at most: its header block, the
 * padding of its data to a block, and a pax header for a long path (a
 * header block and up to 4 KiB of records; larder_path_is_safe caps paths
 * at 4000 bytes). The end of the archive is two zero blocks, padded by
 * most tar writers to a 10240-byte record. */
#define TAR_ENTRY_OVERHEAD (512u + 511u + 512u + 4096u)
#define TAR_END 10240u

struct larder_loader {
    larder_loader_config cfg;
    const larder_index *index;
    larder_cache *cache;
    char **installed;
    size_t n_installed;
    larder_loader_stats stats;
};

/* The monotonic clock in milliseconds, for the stats. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const larder_loader_stats *larder_loader_get_stats(const larder_loader *l) { return &l->stats; }

larder_loader *larder_loader_new(const larder_loader_config *cfg, const larder_index *index,
                                 larder_error *err)
{
    larder_loader *l = calloc(1, sizeof *l);
    if (!l) {
        larder_fail(err, LARDER_ENOMEM, "out of memory");
        return NULL;
    }
    l->cfg = *cfg;
    l->index = index;
    /* a cap of 0 keeps nothing: no cache to look in (each miss would cost
     * a failed open per install) */
    if (cfg->cache_dir && cfg->cache_cap && !(l->cache = larder_cache_open(cfg->cache_dir, cfg->cache_cap, err))) {
        free(l);
        return NULL;
    }
    return l;
}

void larder_loader_free(larder_loader *l)
{
    if (!l)
        return;
    larder_cache_close(l->cache);
    for (size_t i = 0; i < l->n_installed; i++)
        free(l->installed[i]);
    free(l->installed);
    free(l);
}

larder_cache *larder_loader_cache(larder_loader *l) { return l->cache; }

int larder_loader_is_installed(const larder_loader *l, const char *key)
{
    for (size_t i = 0; i < l->n_installed; i++)
        if (strcmp(l->installed[i], key) == 0)
            return 1;
    return 0;
}

size_t larder_loader_installed(const larder_loader *l, const char *const **names)
{
    *names = (const char *const *)l->installed;
    return l->n_installed;
}

static larder_code mark_installed(larder_loader *l, const char *key, larder_error *err)
{
    char **more = realloc(l->installed, (l->n_installed + 1) * sizeof *more);
    if (!more || !(more[l->n_installed] = strdup(key))) {
        if (more)
            l->installed = more;
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    l->installed = more;
    l->n_installed++;
    return LARDER_OK;
}

static const char *install_root(const larder_loader *l, const char *install_dir)
{
    if (!strcmp(install_dir, "site"))
        return l->cfg.site_dir;
    if (!strcmp(install_dir, "stdlib"))
        return l->cfg.stdlib_dir;
    if (!strcmp(install_dir, "dynlib"))
        return l->cfg.dynlib_dir;
    return NULL;
}

/* Files and directories created so far, for the rollback. */
typedef struct undo {
    char **paths;
    size_t n;
} undo;

/* Record path before it is created: a file that could not be recorded is
 * never made, so a rollback never leaves one behind. */
static larder_code undo_push(undo *u, const char *path, larder_error *err)
{
    char **more = realloc(u->paths, (u->n + 1) * sizeof *more);
    if (more)
        u->paths = more;
    if (!more || !(more[u->n] = strdup(path)))
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    u->n++;
    return LARDER_OK;
}

static void undo_run(undo *u, int remove_all)
{
    for (size_t i = u->n; i-- > 0;) {
        if (remove_all && unlink(u->paths[i]) != 0)
            rmdir(u->paths[i]);
        free(u->paths[i]);
    }
    free(u->paths);
    u->paths = NULL;
    u->n = 0;
}

/* mkdir -p for root/rel's directories, recording the ones it creates. */
static larder_code make_dirs(const char *root, const char *rel, int include_last, undo *u, larder_error *err)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return larder_fail(err, LARDER_EINVAL, "path too long: %s/%s", root, rel);
    size_t start = strlen(root) + 1;
    for (size_t i = start; i <= (size_t)n; i++) {
        if (path[i] != '/' && !(include_last && path[i] == '\0'))
            continue;
        char saved = path[i];
        path[i] = '\0';
        struct stat st;
        if (lstat(path, &st) != 0) {
            larder_code rc = undo_push(u, path, err);
            if (rc == LARDER_OK && mkdir(path, 0755) != 0)
                rc = larder_fail(err, LARDER_EIO, "cannot create %s: %s", path, strerror(errno));
            if (rc != LARDER_OK) {
                path[i] = saved;
                return rc;
            }
        } else if (!S_ISDIR(st.st_mode)) {  /* a symbolic link is not followed */
            return larder_fail(err, LARDER_EINVAL, "%s exists and is not a directory", path);
        }
        path[i] = saved;
    }
    return LARDER_OK;
}

static int is_import(const larder_package *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_imports; i++)
        if (strlen(p->imports[i]) == len && !strncmp(p->imports[i], name, len))
            return 1;
    return 0;
}

/* 1 when top (a directory name) is p's own metadata directory:
 * NAME-VERSION.dist-info, .egg-info or .data, NAME normalised to p's key. */
static int is_own_metadata(const larder_package *p, const char *top, size_t len)
{
    static const char *const suffixes[] = {".dist-info", ".egg-info", ".data"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len <= sl || strncmp(top + len - sl, suffixes[i], sl))
            continue;
        const char *dash = memchr(top, '-', len);
        size_t name_len = dash ? (size_t)(dash - top) : len - sl;
        char name[LARDER_NAME_MAX + 1], key[LARDER_NAME_MAX + 1];
        if (name_len > LARDER_NAME_MAX)
            return 0;
        memcpy(name, top, name_len);
        name[name_len] = '\0';
        return !strcmp(larder_normalize_name(name, key, sizeof key), p->key);
    }
    return 0;
}

/* 1 when p may write rel: a package writes only under the top-level names
 * it declares, in its own install root (the roots nest, so the root alone
 * contains nothing): an import's directory, a module file named after an
 * import (NAME.py, NAME.cpython-311-...so), lib-dynload/NAME.*.so for the
 * stdlib's side modules, its own metadata directory, a shared library it
 * lists, or a .pth file (inert: site-packages are read at startup only). */
static int owns_path(const larder_package *p, const char *rel, int is_dir)
{
    const char *slash = strchr(rel, '/');
    size_t top_len = slash ? (size_t)(slash - rel) : strlen(rel);
    int an_import = is_import(p, rel, top_len);
    if (an_import || is_own_metadata(p, rel, top_len))
        return an_import || slash || is_dir;  /* a metadata name is a directory, never a file */
    if (slash || is_dir) {
        if (strncmp(rel, "lib-dynload", top_len) || top_len != 11 || strcmp(p->install_dir, "stdlib"))
            return 0;
        if (!slash)
            return 1;  /* the directory itself */
        const char *file = slash + 1;
        return !is_dir && !strchr(file, '/') && is_import(p, file, strcspn(file, "."));
    }
    /* a file at the top */
    if (is_import(p, rel, strcspn(rel, ".")))
        return 1;
    for (size_t i = 0; i < p->n_shared_libraries; i++)
        if (!strcmp(p->shared_libraries[i], rel))
            return 1;
    size_t len = strlen(rel);
    return len > 4 && !strcmp(rel + len - 4, ".pth");
}

/* Write the entries under root one system call at a time. Every file must
 * be new: a package never overwrites another's files. Each call is a trip
 * from wasm to JavaScript, so a directory checked or made for one file is
 * not checked again for the next file in it (tar lists a directory's files
 * together), and a file is made with its final mode when the umask allows.
 * On failure everything written is removed. */
static larder_code write_entries(const char *root, const larder_tar_entry *entries, size_t n, larder_error *err)
{
    larder_code rc = LARDER_OK;
    undo u = {0};
    mode_t mask = umask(0);
    umask(mask);
    char known[4096] = "";  /* the last directory made or checked, relative to root */
    for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
        const larder_tar_entry *e = &entries[i];
        const char *slash = strrchr(e->path, '/');
        size_t dir_len = e->is_dir ? strlen(e->path) : slash ? (size_t)(slash - e->path) : 0;
        if (dir_len && !(dir_len == strlen(known) && !strncmp(known, e->path, dir_len))) {
            if ((rc = make_dirs(root, e->path, e->is_dir, &u, err)) != LARDER_OK)
                break;
            if (dir_len < sizeof known) {
                memcpy(known, e->path, dir_len);
                known[dir_len] = '\0';
            }
        }
        if (e->is_dir)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, e->path);
        mode_t mode = (mode_t)(e->mode & 07777);
        /* created here or refused: never through a link, never over a file */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
        if (fd < 0) {
            rc = errno == EEXIST ? larder_fail(err, LARDER_EINVAL, "%s already exists: another package installed it "
                                               "(or something put a file or link there)", path)
                                 : larder_fail(err, LARDER_EIO, "cannot create %s: %s", path, strerror(errno));
            break;
        }
        if ((rc = undo_push(&u, path, err)) != LARDER_OK) {
            close(fd);
            unlink(path);
            break;
        }
        size_t off = 0;
        while (off < e->size) {
            ssize_t w = write(fd, e->data + off, e->size - off);
            if (w <= 0)
                break;  /* errno says why */
            off += (size_t)w;
        }
        int werr = off < e->size ? (errno ? errno : EIO) : 0;
        if (!werr && (mode & ~(mode_t)0777 || mode & mask) && fchmod(fd, mode) != 0)
            werr = errno;
        if (close(fd) != 0 && !werr)
            werr = errno;
        if (werr)
            rc = larder_fail(err, LARDER_EIO, "cannot write %s: %s", path, strerror(werr));
    }
    undo_run(&u, rc != LARDER_OK);
    return rc;
}

/* Unpack a verified archive into root: every file new, and only what the
 * package owns (owns_path); through the platform's write_files hook when it
 * takes them, else write_entries. */
static larder_code unpack(larder_loader *l, const larder_package *p, const unsigned char *archive, size_t len,
                          const char *root, larder_error *err)
{
    void *tar = NULL;
    size_t tar_len = 0;
    /* exactly what a tar of these files and entries can be, nothing more */
    uint64_t declared = p->unpacked_size;  /* absent: 0 bytes of files */
    if (!p->entries)
        return larder_fail(err, LARDER_ECORRUPT, "the index entry declares no entries, so the archive cannot be "
                           "bounded before it is unpacked; the mirror's operator should rebuild it with "
                           "larder-build");
    if (declared > MAX_ARCHIVE || p->entries > MAX_ARCHIVE / TAR_ENTRY_OVERHEAD)
        return larder_fail(err, LARDER_ETOOBIG, "the index declares %llu bytes in %llu entries, above the "
                           "loader's limit of %llu bytes", (unsigned long long)declared,
                           (unsigned long long)p->entries, (unsigned long long)MAX_ARCHIVE);
    uint64_t limit = declared + p->entries * TAR_ENTRY_OVERHEAD + TAR_END;
    double t0 = now_ms();
    /* verified: obtain() checked the archive's sha256 against the index */
    larder_code rc = larder_zstd_decompress(archive, len, (size_t)limit, 1, &tar, &tar_len, err);
    double t1 = now_ms();
    l->stats.decompress_ms += t1 - t0;
    if (rc != LARDER_OK)
        return rc;
    larder_tar_entry *entries = NULL;
    size_t n = 0;
    rc = larder_tar_parse(tar, tar_len, declared, &entries, &n, err);
    for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
        if (!owns_path(p, entries[i].path, entries[i].is_dir))
            rc = larder_fail(err, LARDER_ECORRUPT, "the archive writes %s, outside the top-level names the package "
                             "declares (imports: a package may not install files for another)", entries[i].path);
    }
    int handled = 0;
    if (rc == LARDER_OK && l->cfg.write_files)
        rc = l->cfg.write_files(l->cfg.hook_ctx, root, entries, n, &handled, err);
    if (rc == LARDER_OK && !handled)
        rc = write_entries(root, entries, n, err);
    for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
        l->stats.files += !entries[i].is_dir;
        l->stats.unpacked_bytes += entries[i].size;
    }
    larder_tar_free(entries, n);
    free(tar);
    l->stats.unpack_ms += now_ms() - t1;
    return rc;
}

/* The archive of p: from the cache, else fetched; verified either way. */
static larder_code obtain(larder_loader *l, const larder_package *p, const char *url, unsigned char **data,
                          size_t *len, int *from_cache, larder_error *err)
{
    *from_cache = 0;
    double t0 = now_ms();
    char known[LARDER_SHA256_HEX] = "";
    if (l->cache && l->cfg.file_sha256) {
        char path[1024];
        larder_cache_file(l->cache, p->sha256, path, sizeof path);
        if (!l->cfg.file_sha256(l->cfg.hook_ctx, path, known))
            known[0] = '\0';
    }
    int hit = l->cache && larder_cache_get(l->cache, p->sha256, known[0] ? known : NULL, data, len);
    double t1 = now_ms();
    l->stats.cache_read_ms += t1 - t0;
    if (hit) {
        l->stats.hashed_by_platform += known[0] != '\0';
        *from_cache = 1;
        return LARDER_OK;
    }
    if (!l->cfg.fetch)
        return larder_fail(err, LARDER_EFETCH, "no way to fetch (offline, and not in the cache)");
    larder_fetch_request req = {url, p->size, p->sha256, 0};
    for (;;) {
        larder_fetch_result got = {0};
        larder_code rc = l->cfg.fetch(l->cfg.fetch_ctx, &req, data, len, &got, err);
        *from_cache = got.from_store;
        l->stats.handed_ahead += got.ahead != 0;
        double t2 = now_ms();
        /* a platform store (IndexedDB) answers through the fetch hook too */
        if (*from_cache)
            l->stats.cache_read_ms += t2 - t1;
        else
            l->stats.fetch_ms += t2 - t1;
        if (rc != LARDER_OK)
            return rc;
        if (p->size && *len != p->size)
            rc = larder_fail(err, LARDER_EINTEGRITY, "got %zu bytes, the index says %llu (truncated or "
                             "altered download)", *len, (unsigned long long)p->size);
        else if (got.sha256[0]) {
            l->stats.hashed_by_platform++;
            rc = larder_check_sha256(got.sha256, p->sha256, "archive", err);
        } else
            rc = larder_verify_sha256(*data, *len, p->sha256, "archive", err);
        t1 = now_ms();
        l->stats.verify_ms += t1 - t2;
        if (rc == LARDER_OK)
            return rc;
        free(*data);
        *data = NULL;
        /* the platform's store checks sizes only: a damaged copy from it is
         * dropped and downloaded again, once, as the loader's own cache does */
        if (!*from_cache || req.refresh)
            return rc;
        req.refresh = 1;
    }
}

static void archive_url(const larder_loader *l, const larder_package *p, char *url, size_t size)
{
    const char *base = l->cfg.base_url ? l->cfg.base_url : "";
    snprintf(url, size, "%s%s%s", base, (*base && base[strlen(base) - 1] != '/') ? "/" : "", p->file_name);
}

static larder_code install_one(larder_loader *l, const larder_package *p, int *from_cache, larder_error *err)
{
    char url[4096];
    unsigned char *data = NULL;
    size_t len = 0;
    const char *root = install_root(l, p->install_dir);
    archive_url(l, p, url, sizeof url);
    larder_code rc;
    if (!root)
        rc = larder_fail(err, LARDER_EINVAL, "unknown install_dir \"%s\"", p->install_dir);
    else if ((rc = obtain(l, p, url, &data, &len, from_cache, err)) == LARDER_OK
             && (rc = unpack(l, p, data, len, root, err)) == LARDER_OK) {
        if (l->cache && !*from_cache) {
            larder_error cache_err;
            double t0 = now_ms();
            if (larder_cache_put(l->cache, p->sha256, data, len, &cache_err) != LARDER_OK && l->cfg.warn)
                l->cfg.warn(l->cfg.hook_ctx, cache_err.message);  /* the install itself succeeded */
            l->stats.cache_write_ms += now_ms() - t0;
        }
        if ((rc = mark_installed(l, p->key, err)) == LARDER_OK) {
            l->stats.packages++;
            l->stats.from_cache += *from_cache != 0;
            l->stats.archive_bytes += len;
        }
    }
    free(data);
    if (rc != LARDER_OK)
        larder_prefix(err, err->code, "cannot load package '%s' %s from %s", p->name, p->version, url);
    return rc;
}

/* Tell the platform (cfg.prefetch) the archives of order that are neither
 * installed nor cached, so that it can download them all at once; only
 * when there are at least min of them. */
static size_t announce(larder_loader *l, const larder_package *const *order, size_t n_order, size_t min)
{
    if (!l->cfg.prefetch)
        return 0;
    larder_fetch_request *reqs = calloc(n_order + 1, sizeof *reqs);
    size_t n_reqs = 0;
    for (size_t i = 0; reqs && i < n_order; i++) {
        const larder_package *p = order[i];
        if (larder_loader_is_installed(l, p->key) || (l->cache && larder_cache_has(l->cache, p->sha256)))
            continue;
        char url[4096];
        archive_url(l, p, url, sizeof url);
        if ((reqs[n_reqs].url = strdup(url))) {
            reqs[n_reqs].size = p->size;
            reqs[n_reqs++].sha256 = p->sha256;
        }
    }
    if (n_reqs >= min)
        l->cfg.prefetch(l->cfg.hook_ctx, reqs, n_reqs);
    for (size_t i = 0; i < n_reqs; i++)
        free((char *)reqs[i].url);
    free(reqs);
    return n_reqs >= min ? n_reqs : 0;
}

larder_code larder_loader_prefetch(larder_loader *l, const char *const *names, size_t n, larder_error *err)
{
    const larder_package **order;
    size_t n_order;
    double t0 = now_ms();
    larder_code rc = larder_index_resolve(l->index, names, n, &order, &n_order, err);
    if (rc != LARDER_OK)
        return rc;
    l->stats.prefetched += announce(l, order, n_order, 1);
    free(order);
    l->stats.resolve_ms += now_ms() - t0;
    return LARDER_OK;
}

larder_code larder_loader_install(larder_loader *l, const char *const *names, size_t n,
                                  larder_install_report *report, larder_error *err)
{
    const larder_package **order;
    size_t n_order;
    memset(report, 0, sizeof *report);
    double t0 = now_ms();
    larder_code rc = larder_index_resolve(l->index, names, n, &order, &n_order, err);
    if (rc != LARDER_OK)
        return rc;
    /* tell the platform everything it will fetch, so it can download the
     * whole closure at once where it can */
    (void)announce(l, order, n_order, 2);
    l->stats.resolve_ms += now_ms() - t0;
    for (size_t i = 0; i < n_order && rc == LARDER_OK; i++) {
        const larder_package *p = order[i];
        if (larder_loader_is_installed(l, p->key))
            continue;
        int from_cache = 0;
        if (l->cfg.progress)
            l->cfg.progress(l->cfg.hook_ctx, p->name, 0, p->size);
        if ((rc = install_one(l, p, &from_cache, err)) != LARDER_OK)
            break;
        if (l->cfg.progress)
            l->cfg.progress(l->cfg.hook_ctx, p->name, p->size, p->size);
        if (l->cfg.installed)
            l->cfg.installed(l->cfg.hook_ctx, p, from_cache);
        if (report->n < LARDER_REPORT_MAX) {
            report->packages[report->n] = p;
            report->from_cache[report->n++] = from_cache;
        }
    }
    free(order);
    larder_error cache_err;
    if (l->cache && larder_cache_sync(l->cache, &cache_err) != LARDER_OK && l->cfg.warn)
        l->cfg.warn(l->cfg.hook_ctx, cache_err.message);  /* which archives were used last: kept for eviction */
    if (l->cfg.persist && report->n)
        l->cfg.persist(l->cfg.hook_ctx);
    return rc;
}
