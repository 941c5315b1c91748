/*
 * sync.c - follow an upstream mirror: fetch its signed index, verify it
 * with the upstream's key (refusing an older serial than the last sync
 * saw), download the archives we lack in parallel (libcurl multi), resuming
 * partial downloads, verify each, publish them all in one transaction and
 * re-sign with our key. A sync with nothing new transfers only the index.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The catalog's entry text of p, when it has p with the same archive. */
static char *current_entry(larder_repo *repo, const larder_package *p)
{
    sqlite3_stmt *st;
    char *entry = NULL;
    if (sqlite3_prepare_v2(repo->db, "SELECT entry FROM packages WHERE name=?1 AND sha256=?2", -1, &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->sha256, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            entry = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return entry;
}

/* The upstream's entry object of p (its key may be written differently). */
static const cJSON *upstream_entry(const cJSON *packages, const larder_package *p)
{
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(packages, p->name), *e;
    if (entry)
        return entry;
    cJSON_ArrayForEach(e, packages) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
        char key[256];
        if (n && !strcmp(larder_normalize_name(n, key, sizeof key), p->key))
            return e;
    }
    return NULL;
}

/* 1 when the catalog holds p exactly as the upstream lists it. */
static int already_have(larder_repo *repo, const larder_package *p, const cJSON *packages)
{
    char *have = current_entry(repo, p);
    const cJSON *entry = upstream_entry(packages, p);
    char *want = entry ? cJSON_PrintUnformatted(entry) : NULL;
    int same = have && want && !strcmp(have, want);
    free(have);
    free(want);
    return same;
}

/* Make the catalog the upstream's set, in one transaction: every upstream
 * entry recorded (and marked as from url), then every package the upstream
 * no longer has removed (with keep_local, only those it brought). */
static larder_code record(larder_repo *repo, const larder_index *index, const cJSON *packages, const char *url,
                          int keep_local, size_t *removed, larder_error *err)
{
    larder_code rc = db_exec(repo, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; rc == LARDER_OK && i < larder_index_count(index); i++) {
        const larder_package *p = larder_index_at(index, i);
        const cJSON *entry = upstream_entry(packages, p);
        char *text = entry ? cJSON_PrintUnformatted(entry) : NULL;
        if (!text)
            rc = larder_fail(err, LARDER_EINVAL, "upstream index: no entry text for %s", p->name);
        else if ((rc = catalog_put(repo, p->key, p->version, p->file_name, p->sha256, p->size, text, err)) == LARDER_OK)
            rc = db_query(repo, "INSERT OR REPLACE INTO synced VALUES (?1, ?2)", NULL, err, p->key, url, NULL);
        free(text);
    }
    sqlite3_stmt *st;
    char **gone = NULL;
    size_t n_gone = 0;
    if (rc == LARDER_OK && sqlite3_prepare_v2(repo->db, "SELECT p.name, s.upstream FROM packages p "
                                              "LEFT JOIN synced s ON s.name = p.name", -1, &st, NULL) == SQLITE_OK) {
        while (rc == LARDER_OK && sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            const char *from = (const char *)sqlite3_column_text(st, 1);
            if (larder_index_find(index, name) || (keep_local && (!from || strcmp(from, url))))
                continue;
            char **more = realloc(gone, (n_gone + 1) * sizeof *gone);
            if (!more || !(more[n_gone] = strdup(name))) {
                if (more)
                    gone = more;
                rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
                break;
            }
            gone = more;
            n_gone++;
        }
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < n_gone; i++) {
        if (rc == LARDER_OK && (rc = db_query(repo, "DELETE FROM packages WHERE name=?1", NULL, err, gone[i], NULL))
            == LARDER_OK)
            rc = db_query(repo, "DELETE FROM synced WHERE name=?1", NULL, err, gone[i], NULL);
        free(gone[i]);
    }
    free(gone);
    *removed = n_gone;
    if (rc == LARDER_OK)
        rc = db_exec(repo, "COMMIT", err);
    else
        db_exec(repo, "ROLLBACK", NULL);
    return rc;
}

/* With a runtime configured, what the sync brings must load in it, as
 * publish requires: the side modules of the n_fresh packages new or changed
 * (in the store by now) checked against the runtime's exports
 * (larder_check_side_modules). */
static larder_code check_runtime(larder_repo *repo, const larder_package *const *fresh, size_t n_fresh,
                                 larder_error *err)
{
    const char *runtime = larder_repo_config(repo, "runtime", NULL);
    larder_runtime_symbols *symbols = NULL;
    if (!runtime || !n_fresh)
        return LARDER_OK;
    larder_code rc = larder_runtime_symbols_load(runtime, &symbols, err);
    for (size_t i = 0; rc == LARDER_OK && i < n_fresh; i++) {
        const larder_package *p = fresh[i];
        char path[4096];
        if ((rc = repo_store_path(repo, p->sha256, path, sizeof path, err)) == LARDER_OK
            && (rc = larder_check_side_modules(path, symbols, err)) != LARDER_OK)
            larder_prefix(err, rc, "sync refused, nothing published: upstream's %s %s does not load in this "
                          "mirror's runtime (%s); build the runtime the upstream's packages were built for, "
                          "or configure none", p->name, p->version, runtime);
    }
    larder_runtime_symbols_free(symbols);
    return rc;
}

static uint64_t upstream_serial(larder_repo *repo, const char *url, int64_t set)
{
    sqlite3_stmt *st;
    uint64_t v = 0;
    char key[4200];
    snprintf(key, sizeof key, "upstream_serial %s", url);
    if (set >= 0 && sqlite3_prepare_v2(repo->db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, set);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(repo->db, "SELECT value FROM meta WHERE key=?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

larder_code larder_repo_sync(larder_repo *repo, const larder_sync_options *opt, larder_sync_result *result,
                             larder_error *err)
{
    larder_pubkey key;
    larder_code rc = larder_pubkey_parse(opt->upstream_key, &key, err);
    if (rc != LARDER_OK)
        return rc;
    memset(result, 0, sizeof *result);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *hdrs = NULL;
    char auth[600];
    if (opt->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", opt->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    char url[4096], base[4096];
    snprintf(url, sizeof url, "%s", opt->upstream);
    if (!strstr(url, "index.json")) {
        size_t n = strlen(url);
        snprintf(url + n, sizeof url - n, "%sindex.json", n && url[n - 1] == '/' ? "" : "/");
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        rc = larder_fail(err, LARDER_EINVAL, "upstream %s: expected an http:// or https:// URL of a mirror "
                         "(its index.json or the directory holding it)", opt->upstream);
        curl_slist_free_all(hdrs);
        curl_global_cleanup();
        return rc;
    }
    snprintf(base, sizeof base, "%s", url);
    *(strrchr(base, '/') + 1) = '\0';
    http_buf json = {.max = 256u << 20}, sig = {.max = 4096};
    char sig_url[4200];
    snprintf(sig_url, sizeof sig_url, "%s.sig", url);
    if ((rc = http_get(url, hdrs, &json, NULL, err)) != LARDER_OK
        || (rc = http_get(sig_url, hdrs, &sig, NULL, err)) != LARDER_OK)
        goto done;
    result->bytes += json.len + sig.len;
    /* the upstream's index is checked the way a client checks ours */
    larder_trust trust = {&key, 0, upstream_serial(repo, url, -1), (int64_t)time(NULL)};
    larder_index *index = larder_index_open(json.data, json.len, sig.data, sig.len, &trust, err);
    if (!index) {
        rc = larder_prefix(err, err->code, "upstream %s", url);
        goto done;
    }
    size_t n = larder_index_count(index), todo = 0;
    cJSON *doc = cJSON_ParseWithLength(json.data, json.len);
    const cJSON *packages = cJSON_GetObjectItemCaseSensitive(doc, "packages");
    http_job *jobs = calloc(n + 1, sizeof *jobs);
    const larder_package **fresh = calloc(n + 1, sizeof *fresh);  /* new or changed: checked once downloaded */
    char partdir[4096];
    repo_path(repo, "store/partial", partdir, sizeof partdir, NULL);
    mkdir(partdir, 0755);
    if (!jobs || !fresh)
        rc = larder_fail(err, LARDER_ENOMEM, "out of memory");
    for (size_t i = 0; rc == LARDER_OK && i < n; i++) {
        const larder_package *p = larder_index_at(index, i);
        if (already_have(repo, p, packages))
            continue;
        fresh[result->changed++] = p;
        http_job *j = &jobs[todo];
        repo_store_path(repo, p->sha256, j->final, sizeof j->final, NULL);
        if (access(j->final, F_OK) == 0)
            continue;  /* in the store already: only the catalog changes */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", j->final);
        *strrchr(dir, '/') = '\0';
        mkdir(dir, 0755);
        if (snprintf(j->url, sizeof j->url, "%s%s", base, p->file_name) >= (int)sizeof j->url
            || snprintf(j->part, sizeof j->part, "%.3900s/%s.part", partdir, p->sha256) >= (int)sizeof j->part)
            continue;
        j->sha256 = p->sha256;
        j->size = p->size;
        j->label = p->name;
        j->what = "the signed index";
        todo++;
    }
    if (rc == LARDER_OK && todo) {
        rc = http_download(jobs, todo, hdrs, opt->parallel, opt->quiet ? NULL : "sync", &result->bytes,
                           &result->resumed, err);
        for (size_t i = 0; i < todo; i++)
            result->downloaded += !jobs[i].failed;
        if (rc != LARDER_OK)
            larder_prefix(err, rc, "sync incomplete, nothing published (run it again to resume)");
    }
    free(jobs);
    if (rc == LARDER_OK)
        rc = check_runtime(repo, fresh, result->changed, err);
    free(fresh);
    if (rc == LARDER_OK)
        rc = record(repo, index, packages, url, opt->keep_local, &result->removed, err);
    cJSON_Delete(doc);
    if (rc == LARDER_OK && (result->changed || result->removed))
        rc = larder_repo_sign(repo, &result->serial, err);
    if (rc == LARDER_OK)
        upstream_serial(repo, url, (int64_t)larder_index_get_info(index)->serial);
    larder_index_free(index);
done:
    http_buf_free(&json);
    http_buf_free(&sig);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return rc;
}
