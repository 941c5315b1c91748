/*
 * sidemodule.c - what a package's side modules (wasm dynamic libraries, the
 * .so files of compiled extensions) import from the runtime, checked against
 * what the runtime exports (python.symbols, written by the runtime's link).
 *
 * A side module names what it needs in its import section: functions of
 * module "env", and addresses of data and functions in "GOT.mem" and
 * "GOT.func". Some of those it defines itself (listed again in its export
 * section); some the dynamic linker makes (memory, the table and stack
 * bases, invoke_* wrappers, __cxa_find_matching_catch_N); the rest must be
 * exports of python.wasm, or loading the module fails at its first call.
 */
#include "internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A wasm binary read with bounds checks: every read fails past the end. */
typedef struct wasm_reader {
    const unsigned char *p, *end;
} wasm_reader;

static int read_u32(wasm_reader *r, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (r->p >= r->end)
            return 0;
        unsigned char b = *r->p++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

static int read_name(wasm_reader *r, const unsigned char **s, uint32_t *len)
{
    if (!read_u32(r, len) || *len > (size_t)(r->end - r->p))
        return 0;
    *s = r->p;
    r->p += *len;
    return 1;
}

/* Skip a table or memory limit: flags, minimum, and a maximum when flag 1. */
static int skip_limits(wasm_reader *r)
{
    uint32_t flags, v;
    return read_u32(r, &flags) && read_u32(r, &v) && (!(flags & 1) || read_u32(r, &v));
}

/* 1 when the dynamic linker provides name itself. */
static int linker_provided(const unsigned char *s, uint32_t n)
{
    static const char *const fixed[] = {"memory", "__memory_base", "__table_base", "__stack_pointer",
                                        "__indirect_function_table"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strlen(fixed[i]) == n && !memcmp(s, fixed[i], n))
            return 1;
    static const char *const prefixes[] = {"invoke_", "__cxa_find_matching_catch_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (n > strlen(prefixes[i]) && !memcmp(s, prefixes[i], strlen(prefixes[i])))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A sorted list of names. */
typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_add(names *l, const unsigned char *s, size_t n)
{
    if (!larder_grow_array(&l->v, l->n, &l->cap, sizeof *l->v) || !(l->v[l->n] = strndup((const char *)s, n)))
        return 0;
    l->n++;
    return 1;
}

static int names_has(const names *l, const char *s)
{
    return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

/* The wasm import (id 2) and export (id 7) sections' names: imports of env,
 * GOT.mem and GOT.func into *imports, exports into *exports. */
static larder_code wasm_names(const unsigned char *data, size_t len, const char *what, names *imports,
                              names *exports, larder_error *err)
{
    wasm_reader r = {data + 8, data + len};
    while (r.p < r.end) {
        unsigned char id = *r.p++;
        uint32_t size, count;
        if (!read_u32(&r, &size) || size > (size_t)(r.end - r.p))
            goto corrupt;
        wasm_reader s = {r.p, r.p + size};
        r.p += size;
        if (id != 2 && id != 7)
            continue;
        if (!read_u32(&s, &count))
            goto corrupt;
        for (uint32_t i = 0; i < count; i++) {
            const unsigned char *mod = NULL, *name;
            uint32_t mod_len = 0, name_len, index;
            if ((id == 2 && !read_name(&s, &mod, &mod_len)) || !read_name(&s, &name, &name_len) || s.p >= s.end)
                goto corrupt;
            unsigned char kind = *s.p++;
            int ok = id == 7 ? read_u32(&s, &index)
                   : kind == 0 ? read_u32(&s, &index)                           /* function: type */
                   : kind == 1 ? (s.p < s.end && (s.p++, skip_limits(&s)))      /* table: type, limits */
                   : kind == 2 ? skip_limits(&s)                                /* memory */
                   : kind == 3 ? (s.end - s.p >= 2 && (s.p += 2, 1))            /* global: type, mutability */
                   : kind == 4 ? (s.p < s.end && (s.p++, read_u32(&s, &index))) /* tag */
                               : 0;
            if (!ok)
                goto corrupt;
            int wanted = id == 7 || ((mod_len == 3 && !memcmp(mod, "env", 3)) ||
                                     (mod_len == 7 && !memcmp(mod, "GOT.mem", 7)) ||
                                     (mod_len == 8 && !memcmp(mod, "GOT.func", 8)));
            if (wanted && !names_add(id == 7 ? exports : imports, name, name_len))
                return larder_fail(err, LARDER_ENOMEM, "out of memory");
        }
    }
    return LARDER_OK;
corrupt:
    return larder_fail(err, LARDER_ECORRUPT, "%s: not a valid wasm module (a section runs past its end)", what);
}

larder_code larder_side_module_needs(const unsigned char *data, size_t len, const char *what, char ***needs,
                                     size_t *n_needs, larder_error *err)
{
    names imports = {0}, exports = {0}, out = {0};
    *needs = NULL;
    *n_needs = 0;
    if (len < 8 || memcmp(data, "\0asm\1\0\0\0", 8) != 0)
        return larder_fail(err, LARDER_EINVAL, "%s: not a wasm module", what);
    larder_code rc = wasm_names(data, len, what, &imports, &exports, err);
    if (rc == LARDER_OK && exports.n)
        qsort(exports.v, exports.n, sizeof *exports.v, cmp_str);
    if (rc == LARDER_OK && imports.n)
        qsort(imports.v, imports.n, sizeof *imports.v, cmp_str);
    for (size_t i = 0; rc == LARDER_OK && i < imports.n; i++) {
        const char *s = imports.v[i];
        if ((i && !strcmp(s, imports.v[i - 1])) || names_has(&exports, s) ||
            linker_provided((const unsigned char *)s, (uint32_t)strlen(s)))
            continue;
        if (!names_add(&out, (const unsigned char *)s, strlen(s)))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    names_free(&imports);
    names_free(&exports);
    if (rc != LARDER_OK) {
        names_free(&out);
        return rc;
    }
    *needs = out.v;
    *n_needs = out.n;
    return LARDER_OK;
}

struct larder_runtime_symbols {
    names names;
    char *dir;  /* for errors */
};

void larder_runtime_symbols_free(larder_runtime_symbols *symbols)
{
    if (!symbols)
        return;
    names_free(&symbols->names);
    free(symbols->dir);
    free(symbols);
}

larder_code larder_runtime_symbols_load(const char *runtime_dir, larder_runtime_symbols **out, larder_error *err)
{
    char path[4096];
    unsigned char *text;
    size_t len;
    *out = NULL;
    if ((size_t)snprintf(path, sizeof path, "%s/python.symbols", runtime_dir) >= sizeof path)
        return larder_fail(err, LARDER_EINVAL, "%s: path too long", runtime_dir);
    larder_code rc = larder_read_file(path, 16u << 20, &text, &len, err);
    if (rc == LARDER_ENOTFOUND)
        return larder_fail(err, rc, "the runtime %s has no python.symbols (the names python.wasm exports); "
                           "rebuild it with `make runtime`", runtime_dir);
    if (rc != LARDER_OK)
        return rc;
    larder_runtime_symbols *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(runtime_dir)))
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; rc == LARDER_OK && i < len;) {
        size_t n = 0;
        while (i + n < len && text[i + n] != '\n')
            n++;
        if (n && !names_add(&s->names, text + i, n))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
        i += n + 1;
    }
    free(text);
    if (rc != LARDER_OK) {
        larder_runtime_symbols_free(s);
        return rc;
    }
    if (s->names.n)
        qsort(s->names.v, s->names.n, sizeof *s->names.v, cmp_str);
    *out = s;
    return LARDER_OK;
}

/* Call fn with each side module of a .tar.zst archive (its member name and
 * bytes), stopping at the first failure. */
typedef larder_code (*module_fn)(const unsigned char *data, size_t len, const char *what, void *ctx,
                                 larder_error *err);

static larder_code each_side_module(const char *archive, module_fn fn, void *ctx, larder_error *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    unsigned char *buf = NULL;
    larder_code rc = LARDER_OK;
    archive_read_support_format_tar(a);
    archive_read_support_filter_zstd(a);
    if (archive_read_open_filename(a, archive, 65536) != ARCHIVE_OK)
        rc = larder_fail(err, LARDER_ECORRUPT, "%s: not a readable tar.zst (%s)", archive, archive_error_string(a));
    while (rc == LARDER_OK) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            rc = larder_fail(err, LARDER_ECORRUPT, "%s: corrupt or truncated (%s)", archive, archive_error_string(a));
            break;
        }
        const char *name = archive_entry_pathname(e);
        size_t n = name ? strlen(name) : 0;
        la_int64_t size = archive_entry_size(e);
        if (archive_entry_filetype(e) != AE_IFREG || n < 3 || strcmp(name + n - 3, ".so") != 0 || size < 8)
            continue;
        if ((uint64_t)size > LARDER_DEFAULT_MAX_FILE) {
            rc = larder_fail(err, LARDER_ETOOBIG, "%s: %s is %lld bytes, over the per-file limit", archive, name,
                             (long long)size);
            break;
        }
        unsigned char *more = realloc(buf, (size_t)size);
        if (!more) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            break;
        }
        buf = more;
        char what[4096];
        snprintf(what, sizeof what, "%s: %s", archive, name);
        if (archive_read_data(a, buf, (size_t)size) != size)
            rc = larder_fail(err, LARDER_ECORRUPT, "%s: cannot read %s (%s)", archive, name, archive_error_string(a));
        else if (!memcmp(buf, "\0asm", 4))
            rc = fn(buf, (size_t)size, what, ctx, err);
    }
    free(buf);
    archive_read_free(a);
    return rc;
}

/* each_side_module: the names a module needs that the runtime (*ctx) lacks,
 * in the error. */
static larder_code check_module(const unsigned char *data, size_t len, const char *what, void *ctx,
                                larder_error *err)
{
    const larder_runtime_symbols *runtime = *(const larder_runtime_symbols **)ctx;
    char missing[640] = "";
    char **needs;
    size_t n_needs, n_missing = 0, used = 0;
    larder_code rc = larder_side_module_needs(data, len, what, &needs, &n_needs, err);
    if (rc != LARDER_OK)
        return rc;
    for (size_t i = 0; i < n_needs; i++) {
        if (names_has(&runtime->names, needs[i]))
            continue;
        if (n_missing++ < 8 && used + strlen(needs[i]) + 3 < sizeof missing)
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", needs[i]);
    }
    names l = {needs, n_needs, n_needs};
    names_free(&l);
    if (!n_missing)
        return LARDER_OK;
    return larder_fail(err, LARDER_EINVAL,
                       "%s imports %zu name%s that the runtime %s does not export: %s%s; the runtime exports "
                       "CPython's C API and the names of builder/runtime/exports.txt: add them there and "
                       "rebuild the runtime (`make runtime`), or build the package without them",
                       what, n_missing, n_missing == 1 ? "" : "s", runtime->dir, missing,
                       n_missing > 8 ? ", ..." : "");
}

larder_code larder_check_side_modules(const char *archive, const larder_runtime_symbols *runtime,
                                      larder_error *err)
{
    return each_side_module(archive, check_module, &runtime, err);
}

/* each_side_module: add a module's needs to the names in ctx. */
static larder_code collect_module(const unsigned char *data, size_t len, const char *what, void *ctx,
                                  larder_error *err)
{
    names *all = ctx;
    char **needs;
    size_t n_needs;
    larder_code rc = larder_side_module_needs(data, len, what, &needs, &n_needs, err);
    for (size_t i = 0; rc == LARDER_OK && i < n_needs; i++)
        if (!names_add(all, (const unsigned char *)needs[i], strlen(needs[i])))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    names l = {needs, n_needs, n_needs};
    names_free(&l);
    return rc;
}

larder_code larder_archives_needs(const char *const *archives, size_t n, char ***needs, size_t *n_needs,
                                  larder_error *err)
{
    names all = {0}, out = {0};
    larder_code rc = LARDER_OK;
    for (size_t i = 0; rc == LARDER_OK && i < n; i++)
        rc = each_side_module(archives[i], collect_module, &all, err);
    if (rc == LARDER_OK && all.n)
        qsort(all.v, all.n, sizeof *all.v, cmp_str);
    for (size_t i = 0; rc == LARDER_OK && i < all.n; i++)
        if ((!i || strcmp(all.v[i], all.v[i - 1])) && !names_add(&out, (const unsigned char *)all.v[i], strlen(all.v[i])))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    names_free(&all);
    if (rc != LARDER_OK)
        names_free(&out);
    *needs = out.v;
    *n_needs = out.n;
    return rc;
}
