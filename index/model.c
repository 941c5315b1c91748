/*
 * model.c - index.json / pyodide-lock.json parsed into larder_package views.
 *
 * The cJSON tree is kept for the life of the index and the views point into
 * it. Packages are sorted by normalised name; an import table (module ->
 * package), also sorted, answers "which package provides `import x`".
 */
#include "index.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct import_entry {
    const char *module;
    const larder_package *package;
} import_entry;

struct larder_index {
    cJSON *root;
    larder_index_info info;
    larder_package *packages;
    size_t n_packages;
    char *keys;              /* normalised names, NUL-separated */
    import_entry *imports;
    size_t n_imports;
};

char *larder_normalize_name(const char *name, char *out, size_t outsize)
{
    size_t o = 0;
    int in_sep = 0;
    if (outsize == 0)
        return out;
    for (const char *p = name; *p && o + 1 < outsize; p++) {
        if (*p == '-' || *p == '_' || *p == '.') {
            if (!in_sep)
                out[o++] = '-';
            in_sep = 1;
        } else {
            out[o++] = (char)tolower((unsigned char)*p);
            in_sep = 0;
        }
    }
    out[o] = '\0';
    return out;
}

static const char *get_string(const cJSON *obj, const char *field)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A file name the loader may join to the index URL and to its cache dir. */
static int is_plain_file_name(const char *s)
{
    return s[0] && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\') && strlen(s) < 256;
}

static larder_code get_size(const cJSON *obj, const char *field, uint64_t *out, const char *pkg,
                            larder_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);
    *out = 0;
    if (!item || cJSON_IsNull(item))
        return LARDER_OK;
    double v = cJSON_GetNumberValue(item);
    if (!cJSON_IsNumber(item) || v < 0 || v > 9007199254740992.0 || v != (double)(uint64_t)v)
        return larder_fail(err, LARDER_EINVAL, "index: package '%s': \"%s\" must be a non-negative integer",
                           pkg, field);
    *out = (uint64_t)v;
    return LARDER_OK;
}

static larder_code get_string_list(const cJSON *obj, const char *field, const char ***out, size_t *n,
                                   const char *pkg, larder_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, field);
    const cJSON *item;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr))
        return LARDER_OK;
    if (!cJSON_IsArray(arr))
        return larder_fail(err, LARDER_EINVAL, "index: package '%s': \"%s\" must be a list of strings",
                           pkg, field);
    cJSON_ArrayForEach(item, arr) {
        if (!cJSON_IsString(item) || !item->valuestring[0])
            return larder_fail(err, LARDER_EINVAL,
                               "index: package '%s': \"%s\" must hold non-empty strings", pkg, field);
        count++;
    }
    if (count == 0)
        return LARDER_OK;
    *out = malloc(count * sizeof **out);
    if (!*out)
        return larder_fail(err, LARDER_ENOMEM, "index: out of memory");
    cJSON_ArrayForEach(item, arr) (*out)[(*n)++] = item->valuestring;
    return LARDER_OK;
}

static larder_code parse_info(larder_index *index, larder_error *err)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(index->root, "info");
    larder_index_info *i = &index->info;
    if (!info)
        return LARDER_OK;
    if (!cJSON_IsObject(info))
        return larder_fail(err, LARDER_EINVAL, "index: \"info\" must be an object");
    i->arch = get_string(info, "arch");
    i->platform = get_string(info, "platform");
    i->python = get_string(info, "python");
    i->abi_version = get_string(info, "abi_version");
    i->generated = get_string(info, "generated");
    i->expires = get_string(info, "expires");
    const cJSON *expires = cJSON_GetObjectItemCaseSensitive(info, "expires");
    if (expires && !cJSON_IsString(expires))
        return larder_fail(err, LARDER_EINVAL, "index: \"expires\" must be a date string (\"2026-12-31T00:00:00Z\"), "
                           "not a %s: an index that cannot say when it expires is refused",
                           cJSON_IsNumber(expires) ? "number" : "non-string value");
    i->key_id = get_string(info, "key_id");
    return get_size(info, "serial", &i->serial, "(info)", err);
}

static larder_code parse_package(const cJSON *entry, larder_package *p, larder_error *err)
{
    const char *label = entry->string;
    if (!cJSON_IsObject(entry))
        return larder_fail(err, LARDER_EINVAL, "index: package '%s' is not an object", label);
    p->name = get_string(entry, "name");
    if (!p->name)
        p->name = label;  /* pyodide-lock.json always has both; the key suffices */
    label = p->name;
    if (!p->name[0] || strlen(p->name) > LARDER_NAME_MAX)
        return larder_fail(err, LARDER_EINVAL, "index: a package name must have 1 to %d characters",
                           LARDER_NAME_MAX);
    p->version = get_string(entry, "version");
    p->file_name = get_string(entry, "file_name");
    p->sha256 = get_string(entry, "sha256");
    p->install_dir = get_string(entry, "install_dir");
    p->package_type = get_string(entry, "package_type");
    if (!p->version || !p->version[0])
        return larder_fail(err, LARDER_EINVAL, "index: package '%s' has no \"version\"", label);
    if (!p->file_name)
        return larder_fail(err, LARDER_EINVAL, "index: package '%s' has no \"file_name\"", label);
    if (!is_plain_file_name(p->file_name))
        return larder_fail(err, LARDER_EINVAL,
                           "index: package '%s': file_name \"%s\" must be a plain file name (no path)",
                           label, p->file_name);
    if (!p->sha256 || !larder_is_sha256_hex(p->sha256))
        return larder_fail(err, LARDER_EINVAL,
                           "index: package '%s': \"sha256\" must be 64 lowercase hex digits", label);
    if (!p->install_dir)
        p->install_dir = "site";
    if (!p->package_type)
        p->package_type = "package";
    if (strstr(p->install_dir, "..") || strchr(p->install_dir, '/'))
        return larder_fail(err, LARDER_EINVAL, "index: package '%s': bad install_dir \"%s\"", label,
                           p->install_dir);
    larder_code rc;
    if ((rc = get_size(entry, "size", &p->size, label, err))
        || (rc = get_size(entry, "unpacked_size", &p->unpacked_size, label, err))
        || (rc = get_size(entry, "entries", &p->entries, label, err))
        || (rc = get_string_list(entry, "imports", &p->imports, &p->n_imports, label, err))
        || (rc = get_string_list(entry, "depends", &p->depends, &p->n_depends, label, err))
        || (rc = get_string_list(entry, "shared_libraries", &p->shared_libraries,
                                 &p->n_shared_libraries, label, err)))
        return rc;
    for (size_t i = 0; i < p->n_imports; i++)
        if (strlen(p->imports[i]) > LARDER_NAME_MAX || strpbrk(p->imports[i], "./\\ \t\n"))
            return larder_fail(err, LARDER_EINVAL,
                               "index: package '%s': import \"%.40s\" is not a top-level module name",
                               label, p->imports[i]);
    return LARDER_OK;
}

static int compare_packages(const void *a, const void *b)
{
    return strcmp(((const larder_package *)a)->key, ((const larder_package *)b)->key);
}

static int compare_imports(const void *a, const void *b)
{
    const import_entry *x = a, *y = b;
    int c = strcmp(x->module, y->module);
    if (c)
        return c;
    /* the package named like the module first, then by key */
    char norm[256];
    larder_normalize_name(x->module, norm, sizeof norm);
    int xm = strcmp(x->package->key, norm) == 0, ym = strcmp(y->package->key, norm) == 0;
    if (xm != ym)
        return ym - xm;
    return strcmp(x->package->key, y->package->key);
}

static larder_code build_tables(larder_index *index, larder_error *err)
{
    size_t key_bytes = 0, n_imports = 0;
    for (size_t i = 0; i < index->n_packages; i++) {
        key_bytes += strlen(index->packages[i].name) + 1;
        n_imports += index->packages[i].n_imports;
    }
    index->keys = malloc(key_bytes ? key_bytes : 1);
    index->imports = malloc((n_imports ? n_imports : 1) * sizeof *index->imports);
    if (!index->keys || !index->imports)
        return larder_fail(err, LARDER_ENOMEM, "index: out of memory");
    char *k = index->keys;
    for (size_t i = 0; i < index->n_packages; i++) {
        size_t len = strlen(index->packages[i].name) + 1;
        index->packages[i].key = larder_normalize_name(index->packages[i].name, k, len);
        k += len;
    }
    qsort(index->packages, index->n_packages, sizeof *index->packages, compare_packages);
    for (size_t i = 1; i < index->n_packages; i++)
        if (strcmp(index->packages[i - 1].key, index->packages[i].key) == 0)
            return larder_fail(err, LARDER_EINVAL, "index: packages '%s' and '%s' have the same name",
                               index->packages[i - 1].name, index->packages[i].name);
    for (size_t i = 0; i < index->n_packages; i++)
        for (size_t j = 0; j < index->packages[i].n_imports; j++)
            index->imports[index->n_imports++] = (import_entry){index->packages[i].imports[j],
                                                                &index->packages[i]};
    qsort(index->imports, index->n_imports, sizeof *index->imports, compare_imports);
    return LARDER_OK;
}

larder_index *larder_index_parse(const char *json, size_t len, larder_error *err)
{
    larder_index *index = calloc(1, sizeof *index);
    if (!index) {
        larder_fail(err, LARDER_ENOMEM, "index: out of memory");
        return NULL;
    }
    index->root = cJSON_ParseWithLength(json, len);
    if (!index->root) {
        const char *at = cJSON_GetErrorPtr();
        long offset = at && at >= json && at <= json + len ? (long)(at - json) : -1;
        larder_fail(err, LARDER_EINVAL, "index: not valid JSON (error near byte %ld)", offset);
        goto fail;
    }
    if (!cJSON_IsObject(index->root)) {
        larder_fail(err, LARDER_EINVAL, "index: the document must be a JSON object");
        goto fail;
    }
    const cJSON *packages = cJSON_GetObjectItemCaseSensitive(index->root, "packages");
    if (!cJSON_IsObject(packages)) {
        larder_fail(err, LARDER_EINVAL, "index: \"packages\" must be an object of package entries");
        goto fail;
    }
    if (parse_info(index, err) != LARDER_OK)
        goto fail;
    size_t count = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, packages) count++;
    index->packages = calloc(count ? count : 1, sizeof *index->packages);
    if (!index->packages) {
        larder_fail(err, LARDER_ENOMEM, "index: out of memory");
        goto fail;
    }
    cJSON_ArrayForEach(entry, packages) {
        if (parse_package(entry, &index->packages[index->n_packages++], err) != LARDER_OK)
            goto fail;
    }
    if (build_tables(index, err) != LARDER_OK)
        goto fail;
    return index;
fail:
    larder_index_free(index);
    return NULL;
}

void larder_index_free(larder_index *index)
{
    if (!index)
        return;
    for (size_t i = 0; i < index->n_packages; i++) {
        free(index->packages[i].imports);
        free(index->packages[i].depends);
        free(index->packages[i].shared_libraries);
    }
    free(index->packages);
    free(index->keys);
    free(index->imports);
    cJSON_Delete(index->root);
    free(index);
}

const larder_index_info *larder_index_get_info(const larder_index *index) { return &index->info; }
size_t larder_index_count(const larder_index *index) { return index->n_packages; }

const larder_package *larder_index_at(const larder_index *index, size_t i)
{
    return i < index->n_packages ? &index->packages[i] : NULL;
}

const larder_package *larder_index_find(const larder_index *index, const char *name)
{
    char key[LARDER_NAME_MAX + 2];
    larder_package probe = {0};
    probe.key = larder_normalize_name(name, key, sizeof key);
    return bsearch(&probe, index->packages, index->n_packages, sizeof probe, compare_packages);
}

const larder_package *larder_index_find_import(const larder_index *index, const char *module)
{
    char top[LARDER_NAME_MAX + 1];
    size_t n = strcspn(module, ".");
    if (n == 0 || n >= sizeof top)
        return NULL;
    memcpy(top, module, n);
    top[n] = '\0';
    /* lower bound: the first entry for this module is the preferred one */
    size_t lo = 0, hi = index->n_imports;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(index->imports[mid].module, top) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < index->n_imports && strcmp(index->imports[lo].module, top) == 0)
        return index->imports[lo].package;
    return NULL;
}
