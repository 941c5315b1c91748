/*
 * finish.c - what wheels and installed distributions share once their
 * files are gathered: requirements -> depends, import names, .pyc, output.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct names {
    char **items;
    size_t n;
} names;

static int names_add(names *ns, const char *s, size_t len)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->items[i]) == len && strncmp(ns->items[i], s, len) == 0)
            return 1;
    char **more = realloc(ns->items, (ns->n + 1) * sizeof *more);
    if (!more)
        return 0;
    ns->items = more;
    return (ns->items[ns->n] = strndup(s, len)) ? (ns->n++, 1) : 0;
}

static void names_free(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->items[i]);
    free(ns->items);
}

static int is_identifier(const char *s, size_t len)
{
    if (!len || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Import names: top_level.txt when given, else the top-level packages
 * (directories with Python files) and modules (.py, extension .so). */
static int find_imports(const larder_fileset *set, const char *top_level, size_t top_len, names *out)
{
    if (top_level) {
        const char *p = top_level, *end = top_level + top_len, *line;
        size_t n;
        while (builder_next_line(&p, end, &line, &n)) {
            while (n && line[n - 1] == ' ')
                n--;
            /* "a/b" lines name namespace subpackages: the import is "a" */
            const char *slash = memchr(line, '/', n);
            if (slash)
                n = (size_t)(slash - line);
            if (is_identifier(line, n) && !names_add(out, line, n))
                return 0;
        }
        if (out->n)
            return 1;
    }
    for (size_t i = 0; i < larder_fileset_count(set); i++) {
        const char *path = larder_fileset_at(set, i)->path;
        const char *slash = strchr(path, '/');
        size_t n;
        if (slash) {
            n = (size_t)(slash - path);
            if (!larder_ends_with(path, ".py") && !larder_ends_with(path, ".so"))
                continue;
        } else if (larder_ends_with(path, ".py")) {
            n = strlen(path) - 3;
        } else if (larder_ends_with(path, ".so")) {
            n = strcspn(path, ".");
        } else {
            continue;
        }
        if (is_identifier(path, n) && !names_add(out, path, n))
            return 0;
    }
    qsort(out->items, out->n, sizeof *out->items, by_string);
    return 1;
}

/* Append name, normalised, to the list unless it is there. 0: out of memory. */
static int add_depend(char ***list, size_t *n, const char *name)
{
    char key[128];
    larder_normalize_name(name, key, sizeof key);
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], key) == 0)
            return 1;
    char **more = realloc(*list, (*n + 1) * sizeof *more);
    if (!more)
        return 0;
    *list = more;
    if (!(more[*n] = strdup(key)))
        return 0;
    (*n)++;
    return 1;
}

/* The stdlib split's packages (cpython_module entries in a stdlib split's
 * output directory) by the import names they provide: provides[i] is
 * provided by package[i]. */
typedef struct stdlib_table {
    names provides, package;
} stdlib_table;

static void stdlib_table_free(stdlib_table *t)
{
    names_free(&t->provides);
    names_free(&t->package);
}

static larder_code stdlib_table_load(const char *dir, stdlib_table *t, larder_error *err)
{
    struct dirent **list;  /* sorted: the result must not depend on the directory's order */
    int count = scandir(dir, &list, NULL, alphasort);
    if (count < 0)
        return larder_fail(err, LARDER_EIO, "--stdlib %s: %s (give the output directory of larder-build "
                           "stdlib)", dir, strerror(errno));
    larder_code rc = LARDER_OK;
    for (int i = 0; rc == LARDER_OK && i < count; i++) {
        const struct dirent *e = list[i];
        if (!larder_ends_with(e->d_name, ".json"))
            continue;
        char path[4096];
        unsigned char *data;
        size_t size;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = larder_read_file(path, LARDER_DEFAULT_MAX_FILE, &data, &size, err)) != LARDER_OK)
            break;
        cJSON *entry = cJSON_ParseWithLength((const char *)data, size);
        free(data);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(entry, "package_type");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
        const cJSON *imports = cJSON_GetObjectItemCaseSensitive(entry, "imports"), *imp;
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "cpython_module") && cJSON_IsString(name)) {
            cJSON_ArrayForEach(imp, imports) {
                if (!cJSON_IsString(imp))
                    continue;
                size_t before = t->provides.n;
                if (!names_add(&t->provides, imp->valuestring, strlen(imp->valuestring)))
                    rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
                else if (t->provides.n > before) {
                    /* a parallel list: no de-duplication */
                    char **more = realloc(t->package.items, (t->package.n + 1) * sizeof *more);
                    if (more)
                        t->package.items = more;
                    if (!more || !(more[t->package.n] = strdup(name->valuestring)))
                        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
                    else
                        t->package.n++;
                }
                if (rc != LARDER_OK)
                    break;
            }
        }
        cJSON_Delete(entry);
    }
    for (int i = 0; i < count; i++)
        free(list[i]);
    free(list);
    if (rc == LARDER_OK && !t->package.n)
        rc = larder_fail(err, LARDER_EINVAL, "--stdlib %s: no cpython_module entries there (give the "
                         "output directory of larder-build stdlib)", dir);
    return rc;
}

/* The stdlib package providing the import name s (len bytes), or NULL. */
static const char *stdlib_provider(const stdlib_table *t, const char *s, size_t len)
{
    for (size_t i = 0; i < t->provides.n && i < t->package.n; i++)
        if (strlen(t->provides.items[i]) == len && !strncmp(t->provides.items[i], s, len))
            return t->package.items[i];
    return NULL;
}

static int is_depend(char *const *depends, size_t n, const char *name)
{
    char key[128];
    larder_normalize_name(name, key, sizeof key);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(depends[i], key))
            return 1;
    return 0;
}

/* From scan_imports' report: the names importing the package imports, one
 * a line, up to a line "--modules"; then lines "MODULE NAME...", the names
 * importing a submodule adds. The stdlib packages among the first become
 * depends; those among a submodule's (beyond depends) are written into
 * the package as TOP/.larder-imports, a line "MODULE PACKAGE..." each, for
 * the loader to fetch when that submodule is imported. */
static larder_code add_stdlib_imports(larder_fileset *set, const char *dir, const char *report, char ***depends,
                                      size_t *n_depends, larder_error *err)
{
    stdlib_table t = {0};
    larder_code rc = stdlib_table_load(dir, &t, err);
    const char *p = report, *end = report + strlen(report), *line;
    size_t n;
    while (rc == LARDER_OK && builder_next_line(&p, end, &line, &n) && !(n == 9 && !strncmp(line, "--modules", 9))) {
        const char *pkg = stdlib_provider(&t, line, n);
        if (pkg && !add_depend(depends, n_depends, pkg))
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    /* lines come sorted by module, so each top's lines are together */
    builder_buf text = {0};
    char top[256] = "";
    for (int more = 1; rc == LARDER_OK && more;) {
        more = builder_next_line(&p, end, &line, &n);
        size_t module_len = more ? strcspn(line, " ") : 0, top_len = more ? strcspn(line, ". ") : 0;
        if (module_len > n)
            module_len = n;
        if (top_len > module_len)
            top_len = module_len;
        if (*top && (!more || top_len != strlen(top) || strncmp(line, top, top_len))) {
            char path[300];
            snprintf(path, sizeof path, "%s/.larder-imports", top);
            if (text.len)
                rc = larder_fileset_add(set, path, text.data, text.len, 0644, err);
            text.len = 0;
            *top = '\0';
        }
        if (!more || rc != LARDER_OK || top_len >= sizeof top)
            continue;
        memcpy(top, line, top_len);
        top[top_len] = '\0';
        size_t start = text.len;
        int ok = builder_buf_append(&text, line, module_len);
        names added = {0};
        for (const char *w = line + module_len; ok && w < line + n;) {
            while (w < line + n && *w == ' ')
                w++;
            size_t wl = 0;
            while (w + wl < line + n && w[wl] != ' ')
                wl++;
            const char *pkg = wl ? stdlib_provider(&t, w, wl) : NULL;
            size_t before = added.n;
            if (pkg && !is_depend(*depends, *n_depends, pkg))
                ok = names_add(&added, pkg, strlen(pkg));
            if (ok && added.n > before)
                ok = builder_buf_append(&text, " ", 1) && builder_buf_append(&text, pkg, strlen(pkg));
            w += wl;
        }
        if (ok && added.n)
            ok = builder_buf_append(&text, "\n", 1);
        else
            text.len = start;  /* nothing beyond depends: no line */
        names_free(&added);
        if (!ok)
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    free(text.data);
    stdlib_table_free(&t);
    return rc;
}

larder_code builder_finish_distribution(larder_fileset *set, const larder_metadata *md,
                                       const char *top_level, size_t top_level_len,
                                       const char *source, const larder_build_options *opt,
                                       larder_build_result *result, larder_error *err)
{
    char **depends = NULL, *imported = NULL;
    size_t n_depends = 0;
    names imports = {0};
    larder_code rc = larder_requirements_eval(md, &larder_default_target, opt->extras, &depends,
                                              &n_depends, err);
    if (rc != LARDER_OK)
        return rc;
    for (const char *const *d = opt->depends; d && *d; d++) {
        if (!add_depend(&depends, &n_depends, *d)) {
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!find_imports(set, top_level, top_level_len, &imports)) {
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
        goto done;
    }
    if (imports.n == 0) {
        rc = larder_fail(err, LARDER_EINVAL, "%s: no importable module found (no top_level.txt, no .py files)",
                         source);
        goto done;
    }
    uint64_t total = larder_fileset_bytes(set);
    uint64_t max_total = opt->max_total_size ? opt->max_total_size : LARDER_DEFAULT_MAX_TOTAL;
    if (total > max_total) {
        rc = larder_fail(err, LARDER_ETOOBIG, "%s: %llu bytes unpacked, over the limit of %llu", source,
                         (unsigned long long)total, (unsigned long long)max_total);
        goto done;
    }
    rc = larder_compile_pyc(set, opt->python ? opt->python : LARDER_HOST_PYTHON, LARDER_TARGET_SITE_DIR,
                            opt->keep_sources,
                            (const char *const *)imports.items, opt->stdlib_dir ? imports.n : 0, &imported, err);
    if (rc == LARDER_OK && opt->stdlib_dir && imported)
        rc = add_stdlib_imports(set, opt->stdlib_dir, imported, &depends, &n_depends, err);
    if (rc != LARDER_OK) {
        larder_prefix(err, rc, "%s", source);
        goto done;
    }
    rc = larder_package_write(set, md->name, md->version, "site", "package",
                              (const char *const *)imports.items, imports.n,
                              (const char *const *)depends, n_depends, opt, result, err);
done:
    for (size_t i = 0; i < n_depends; i++)
        free(depends[i]);
    free(depends);
    free(imported);
    names_free(&imports);
    return rc;
}
