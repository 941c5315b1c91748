/*
 * stdlib.c - the stdlib split: every top-level stdlib module or package
 * outside the core becomes a cpython_module package (install_dir "stdlib").
 * The plan (what goes where, module-level dependencies by static analysis)
 * comes from stdlib_plan.py (plan.c), run by the host CPython 3.11.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char **string_list(const cJSON *arr, size_t *n)
{
    const cJSON *item;
    size_t count = 0;
    cJSON_ArrayForEach(item, arr) count++;
    const char **list = calloc(count + 1, sizeof *list);
    *n = 0;
    if (list)
        cJSON_ArrayForEach(item, arr) if (cJSON_IsString(item)) list[(*n)++] = item->valuestring;
    return list;
}

static larder_code build_one(const cJSON *pkg, const larder_stdlib_options *so,
                             const larder_build_options *opt, larder_build_result *result,
                             larder_error *err)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pkg, "name"));
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(pkg, "files"), *f;
    larder_fileset *set = larder_fileset_new();
    larder_code rc = LARDER_OK;
    if (!name || !set) {
        larder_fileset_free(set);
        return larder_fail(err, LARDER_EINVAL, "stdlib plan: a package without a name");
    }
    cJSON_ArrayForEach(f, files) {
        const char *rel = cJSON_GetStringValue(cJSON_GetArrayItem(f, 0));
        const char *src = cJSON_GetStringValue(cJSON_GetArrayItem(f, 1));
        unsigned char *data;
        size_t size;
        if (!rel || !src) {
            rc = larder_fail(err, LARDER_EINVAL, "stdlib plan: bad file entry in %s", name);
            break;
        }
        if ((rc = larder_read_file(src, LARDER_DEFAULT_MAX_FILE, &data, &size, err)) != LARDER_OK)
            break;
        rc = larder_fileset_add(set, rel, data, size, 0644, err);
        free(data);
        if (rc != LARDER_OK)
            break;
    }
    size_t n_imports = 0, n_depends = 0;
    const char **imports = string_list(cJSON_GetObjectItemCaseSensitive(pkg, "imports"), &n_imports);
    const char **depends = string_list(cJSON_GetObjectItemCaseSensitive(pkg, "depends"), &n_depends);
    if (rc == LARDER_OK && (!imports || !depends))
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    if (rc == LARDER_OK)
        rc = larder_compile_pyc(set, opt->python ? opt->python : LARDER_HOST_PYTHON, LARDER_TARGET_STDLIB_DIR, 0,
                                NULL, 0, NULL, err);
    if (rc == LARDER_OK)
        rc = larder_package_write(set, name, so->version, "stdlib", "cpython_module", imports, n_imports,
                                  depends, n_depends, opt, result, err);
    free(imports);
    free(depends);
    larder_fileset_free(set);
    return rc;
}

larder_code larder_build_stdlib(const larder_stdlib_options *so, const larder_build_options *opt,
                                size_t *n_built, larder_error *err)
{
    char *plan_text = NULL;
    size_t plan_len = 0;
    const char *argv[8];
    int a = 0;
    argv[a++] = so->libdir;
    argv[a++] = so->core_list;
    if (so->dynload) {
        argv[a++] = "--dynload";
        argv[a++] = so->dynload;
    }
    if (so->sysconfigdata) {
        argv[a++] = "--sysconfigdata";
        argv[a++] = so->sysconfigdata;
    }
    argv[a] = NULL;
    *n_built = 0;
    larder_code rc = builder_run_plan(opt->python ? opt->python : LARDER_HOST_PYTHON, argv, &plan_text, &plan_len,
                                      err);
    if (rc != LARDER_OK)
        return rc;
    cJSON *plan = cJSON_ParseWithLength(plan_text ? plan_text : "", plan_len);
    free(plan_text);
    const cJSON *packages = cJSON_GetObjectItemCaseSensitive(plan, "packages"), *pkg;
    if (!cJSON_IsArray(packages)) {
        cJSON_Delete(plan);
        return larder_fail(err, LARDER_EINVAL, "stdlib plan: the planner printed no package list");
    }
    cJSON_ArrayForEach(pkg, packages) {
        larder_build_result result;
        if ((rc = build_one(pkg, so, opt, &result, err)) != LARDER_OK)
            break;
        (*n_built)++;
        if (!opt->quiet)
            printf("%s: %s (%llu bytes, %zu files)\n", result.name, result.archive_path,
                   (unsigned long long)result.size, result.n_files);
    }
    cJSON_Delete(plan);
    return rc;
}
