/*
 * package.c - write a built package: the archive and its index entry, both
 * atomically (temporary file + rename), or nothing at all.
 */
#include "builder.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cJSON *string_array(const char *const *items, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(items[i]));
    return arr;
}

/* "python-dateutil" -> "python_dateutil": '-' separates the file name's fields. */
static void file_component(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (in[i] == '-' || in[i] == '/') ? '_' : in[i];
    out[i] = '\0';
}

larder_code larder_package_write(larder_fileset *set, const char *name, const char *version,
                                 const char *install_dir, const char *package_type,
                                 const char *const *imports, size_t n_imports,
                                 const char *const *depends, size_t n_depends,
                                 const larder_build_options *opt, larder_build_result *result,
                                 larder_error *err)
{
    char key[128], fname[128], fversion[64], base[300], file_name[320];
    char sha[LARDER_SHA256_HEX];
    unsigned char *archive = NULL;
    size_t archive_len = 0;
    const char *outdir = opt->outdir ? opt->outdir : ".";
    const char *build = opt->build ? opt->build : "0";

    larder_normalize_name(name, key, sizeof key);
    file_component(key, fname, sizeof fname);
    file_component(version, fversion, sizeof fversion);
    snprintf(base, sizeof base, "%s-%s-%s", fname, fversion, build);
    snprintf(file_name, sizeof file_name, "%s.tar.zst", base);

    uint64_t unpacked = larder_fileset_bytes(set);
    larder_code rc = larder_archive_write(set, opt->level ? opt->level : 19, &archive, &archive_len, err);
    if (rc != LARDER_OK)
        return rc;
    larder_sha256_hex(archive, archive_len, sha);

    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "name", name);  /* as written; lookups normalise */
    cJSON_AddStringToObject(entry, "version", version);
    cJSON_AddStringToObject(entry, "file_name", file_name);
    cJSON_AddStringToObject(entry, "install_dir", install_dir);
    cJSON_AddStringToObject(entry, "sha256", sha);
    cJSON_AddNumberToObject(entry, "size", (double)archive_len);
    cJSON_AddNumberToObject(entry, "unpacked_size", (double)unpacked);
    cJSON_AddNumberToObject(entry, "entries", (double)larder_archive_entries(set));
    cJSON_AddStringToObject(entry, "package_type", package_type);
    cJSON_AddItemToObject(entry, "imports", string_array(imports, n_imports));
    cJSON_AddItemToObject(entry, "depends", string_array(depends, n_depends));
    cJSON_AddItemToObject(entry, "shared_libraries", cJSON_CreateArray());
    char *json = cJSON_Print(entry);
    cJSON_Delete(entry);
    if (!json) {
        free(archive);
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    }

    memset(result, 0, sizeof *result);
    snprintf(result->name, sizeof result->name, "%s", key);
    snprintf(result->version, sizeof result->version, "%s", version);
    snprintf(result->archive_path, sizeof result->archive_path, "%s/%s", outdir, file_name);
    snprintf(result->entry_path, sizeof result->entry_path, "%s/%s.json", outdir, base);
    result->size = archive_len;
    result->unpacked_size = unpacked;
    result->n_files = larder_fileset_count(set);

    size_t json_len = strlen(json);
    json[json_len] = '\n';  /* replaces the NUL: written with its length */
    rc = larder_write_file(result->archive_path, archive, archive_len, 0644, 0, err);
    if (rc == LARDER_OK && (rc = larder_write_file(result->entry_path, json, json_len + 1, 0644, 0, err)) != LARDER_OK)
        unlink(result->archive_path);
    free(json);
    free(archive);
    return rc;
}
