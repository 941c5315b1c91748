/*
 * publish.c - archives into the store and the catalog. The store copy is
 * written and fsynced before the catalog transaction names it, so a crash
 * leaves either the old catalog or the new one, never a dangling entry.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct staged {
    char *name, *version, *file_name, *sha256, *entry;
    uint64_t size;
} staged;

static void staged_free(staged *s)
{
    free(s->name);
    free(s->version);
    free(s->file_name);
    free(s->sha256);
    free(s->entry);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Copy src into the store under its digest (unless it is already there). */
static larder_code store_archive(larder_repo *repo, const char *src, const char *sha, larder_error *err)
{
    char dest[4096], dir[4096];
    larder_code rc = repo_store_path(repo, sha, dest, sizeof dest, err);
    if (rc != LARDER_OK)
        return rc;
    char have[65];
    if (access(dest, F_OK) == 0 && file_sha256(dest, have, NULL, NULL) == LARDER_OK && strcmp(have, sha) == 0)
        return LARDER_OK;
    snprintf(dir, sizeof dir, "%s", dest);
    *strrchr(dir, '/') = '\0';
    if ((rc = larder_mkdir_p(dir, err)) == LARDER_OK && (rc = larder_copy_file(src, dest, err)) != LARDER_OK)
        larder_prefix(err, rc, "storing %s", src);
    return rc;
}

/* Read, validate and store one archive + entry; with runtime, its side
 * modules must import only what that runtime exports. */
static larder_code stage(larder_repo *repo, const char *archive, const larder_runtime_symbols *runtime,
                         staged *s, larder_error *err)
{
    char entry_path[4096];
    size_t n = strlen(archive);
    memset(s, 0, sizeof *s);
    if (n < 8 || strcmp(archive + n - 8, ".tar.zst") != 0 || n + 1 > sizeof entry_path)
        return larder_fail(err, LARDER_EINVAL, "%s: not a .tar.zst archive", archive);
    snprintf(entry_path, sizeof entry_path, "%.*s.json", (int)(n - 8), archive);
    unsigned char *text;
    size_t len;
    larder_code rc = larder_read_file(entry_path, 1 << 20, &text, &len, err);
    if (rc != LARDER_OK) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        return larder_fail(err, rc, "%s: its index entry is missing (%s); publish what larder-build wrote",
                           archive, why);
    }
    cJSON *entry = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "name"));
    if (!cJSON_IsObject(entry) || !name) {
        cJSON_Delete(entry);
        return larder_fail(err, LARDER_EINVAL, "%s: not a package entry (JSON object with a name)", entry_path);
    }
    /* validate with the index library itself: a one-package index */
    cJSON *doc = cJSON_CreateObject(), *pkgs = cJSON_AddObjectToObject(doc, "packages");
    cJSON_AddItemReferenceToObject(pkgs, name, entry);
    char *doc_text = cJSON_PrintUnformatted(doc);
    larder_index *check = doc_text ? larder_index_parse(doc_text, strlen(doc_text), err) : NULL;
    free(doc_text);
    cJSON_Delete(doc);
    if (!check) {
        cJSON_Delete(entry);
        return larder_prefix(err, LARDER_EINVAL, "%s", entry_path);
    }
    const larder_package *p = larder_index_at(check, 0);
    char sha[65];
    uint64_t size;
    if (strcmp(p->file_name, base_name(archive)) != 0)
        rc = larder_fail(err, LARDER_EINVAL, "%s: the entry names file %s", archive, p->file_name);
    else if ((rc = file_sha256(archive, sha, &size, err)) == LARDER_OK) {
        if (strcmp(sha, p->sha256) != 0)
            rc = larder_fail(err, LARDER_EINTEGRITY, "%s: sha256 %s, but its entry says %s", archive, sha,
                             p->sha256);
        else if (p->size && size != p->size)
            rc = larder_fail(err, LARDER_EINTEGRITY, "%s: %llu bytes, but its entry says %llu", archive,
                             (unsigned long long)size, (unsigned long long)p->size);
    }
    if (rc == LARDER_OK && runtime)
        rc = larder_check_side_modules(archive, runtime, err);
    if (rc == LARDER_OK && (rc = store_archive(repo, archive, sha, err)) == LARDER_OK) {
        s->name = strdup(p->key);
        s->version = strdup(p->version);
        s->file_name = strdup(p->file_name);
        s->sha256 = strdup(sha);
        s->size = size;
        s->entry = cJSON_PrintUnformatted(entry);
        if (!s->name || !s->version || !s->file_name || !s->sha256 || !s->entry)
            rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    }
    larder_index_free(check);
    cJSON_Delete(entry);
    return rc;
}

larder_code larder_repo_publish(larder_repo *repo, const char *const *archives, int n, larder_error *err)
{
    return repo_publish_for(repo, archives, n, larder_repo_config(repo, "runtime", NULL), err);
}

larder_code repo_publish_for(larder_repo *repo, const char *const *archives, int n, const char *runtime,
                             larder_error *err)
{
    staged *items = calloc((size_t)n + 1, sizeof *items);
    larder_code rc = LARDER_OK;
    int staged_n = 0;
    larder_runtime_symbols *symbols = NULL;
    if (!items)
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    if (runtime)
        rc = larder_runtime_symbols_load(runtime, &symbols, err);
    for (; rc == LARDER_OK && staged_n < n; staged_n++)
        rc = stage(repo, archives[staged_n], symbols, &items[staged_n], err);
    if (rc == LARDER_OK && (rc = db_exec(repo, "BEGIN IMMEDIATE", err)) == LARDER_OK) {
        for (int i = 0; rc == LARDER_OK && i < n; i++) {
            staged *s = &items[i];
            rc = catalog_put(repo, s->name, s->version, s->file_name, s->sha256, s->size, s->entry, err);
        }
        if (rc == LARDER_OK)
            rc = db_exec(repo, "COMMIT", err);
        if (rc != LARDER_OK)
            db_exec(repo, "ROLLBACK", NULL);
    }
    for (int i = 0; i < staged_n; i++)
        staged_free(&items[i]);
    free(items);
    larder_runtime_symbols_free(symbols);
    return rc;
}
