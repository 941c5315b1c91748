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

typedef struct membuf {
    char *data;
    size_t len;
} membuf;

static size_t to_membuf(char *p, size_t size, size_t n, void *ctx)
{
    membuf *m = ctx;
    size_t add = size * n;
    if (m->len + add > (256u << 20))
        return 0;  /* an index this large is not an index */
    char *more = realloc(m->data, m->len + add + 1);
    if (!more)
        return 0;
    memcpy(more + m->len, p, add);
    m->data = more;
    m->len += add;
    m->data[m->len] = '\0';
    return add;
}

static void common_options(CURL *h, const char *url, const larder_sync_options *opt, struct curl_slist *hdrs)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);   /* abort a transfer stalled for 60 s */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");   /* the index may come compressed */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "larder-mirror");
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)opt;
}

static larder_code fetch_small(const char *url, const larder_sync_options *opt, struct curl_slist *hdrs, membuf *out,
                               larder_error *err)
{
    CURL *h = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!h)
        return larder_fail(err, LARDER_ENOMEM, "curl: cannot start");
    common_options(h, url, opt, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_membuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return larder_fail(err, LARDER_EFETCH, "cannot fetch %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return LARDER_OK;
}

typedef struct job {
    const larder_package *p;
    char url[4096], part[4096], final[4096];
    FILE *f;
    long offset;
    int done, failed;
    char error[300];
} job;

static size_t to_file(char *p, size_t size, size_t n, void *ctx)
{
    return fwrite(p, size, n, ((job *)ctx)->f) * size;
}

static int already_have(larder_repo *repo, const larder_package *p)
{
    sqlite3_stmt *st;
    int same = 0;
    if (sqlite3_prepare_v2(repo->db, "SELECT 1 FROM packages WHERE name=?1 AND sha256=?2", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->sha256, -1, SQLITE_STATIC);
        same = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return same;
}

static void report(const larder_sync_options *opt, size_t done, size_t total, uint64_t bytes, const char *name)
{
    if (opt->quiet)
        return;
    if (isatty(fileno(stdout))) {
        int width = 30, fill = total ? (int)(width * done / total) : width;
        printf("\r[%.*s%*s] %zu/%zu %6.1f MB %-30.30s", fill, "##############################", width - fill, "",
               done, total, (double)bytes / 1e6, name);
        if (done == total)
            printf("\n");
    } else {
        printf("sync: %zu/%zu %s (%.1f MB so far)\n", done, total, name, (double)bytes / 1e6);
    }
    fflush(stdout);
}

static void start_job(CURLM *multi, job *j, const larder_sync_options *opt, struct curl_slist *hdrs)
{
    struct stat st;
    j->offset = stat(j->part, &st) == 0 ? (long)st.st_size : 0;
    if (j->p->size && (uint64_t)j->offset >= j->p->size)
        j->offset = 0;  /* a complete or oversized leftover: start over */
    j->f = fopen(j->part, j->offset ? "ab" : "wb");
    if (!j->f) {
        j->failed = j->done = 1;
        snprintf(j->error, sizeof j->error, "cannot write %.200s: %s", j->part, strerror(errno));
        return;
    }
    CURL *h = curl_easy_init();
    common_options(h, j->url, opt, hdrs);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);  /* archives are already compressed */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    if (j->offset)
        curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)j->offset);
    curl_multi_add_handle(multi, h);
}

/* A finished transfer: check it, move it into the store. */
static void finish_job(larder_repo *repo, job *j, CURL *h, CURLcode result)
{
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    j->done = 1;
    if (fclose(j->f) != 0 && result == CURLE_OK)
        result = CURLE_WRITE_ERROR;
    j->f = NULL;
    if (result != CURLE_OK) {
        j->failed = 1;  /* the .part stays: the next sync resumes it */
        snprintf(j->error, sizeof j->error, "%.200s: %s", j->url, curl_easy_strerror(result));
        return;
    }
    char sha[65];
    uint64_t size;
    larder_error e;
    if (file_sha256(j->part, sha, &size, &e) != LARDER_OK || strcmp(sha, j->p->sha256) != 0
        || (j->p->size && size != j->p->size)) {
        j->failed = 1;
        unlink(j->part);  /* wrong bytes are not worth resuming */
        snprintf(j->error, sizeof j->error, "%.150s: the download does not match the signed index "
                 "(sha256 %s, %llu bytes; HTTP %ld)", j->url, sha, (unsigned long long)size, code);
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", j->final);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0755);
    if (rename(j->part, j->final) != 0) {
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "cannot store %.200s: %s", j->final, strerror(errno));
    }
    (void)repo;
}

static larder_code record(larder_repo *repo, const larder_index *index, const cJSON *packages, larder_error *err)
{
    larder_code rc = db_exec(repo, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; rc == LARDER_OK && i < larder_index_count(index); i++) {
        const larder_package *p = larder_index_at(index, i);
        const cJSON *entry = cJSON_GetObjectItemCaseSensitive(packages, p->name);
        if (!entry) {  /* the key was written differently from the name */
            const cJSON *e;
            cJSON_ArrayForEach(e, packages) {
                const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
                char key[256];
                if (n && !strcmp(larder_normalize_name(n, key, sizeof key), p->key))
                    entry = e;
            }
        }
        char *text = entry ? cJSON_PrintUnformatted(entry) : NULL;
        if (!text)
            rc = larder_fail(err, LARDER_EINVAL, "upstream index: no entry text for %s", p->name);
        else
            rc = catalog_put(repo, p->key, p->version, p->file_name, p->sha256, p->size, text, err);
        free(text);
    }
    if (rc == LARDER_OK)
        rc = db_exec(repo, "COMMIT", err);
    else
        db_exec(repo, "ROLLBACK", NULL);
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
    snprintf(base, sizeof base, "%s", url);
    *(strrchr(base, '/') + 1) = '\0';
    membuf json = {0}, sig = {0};
    char sig_url[4200];
    snprintf(sig_url, sizeof sig_url, "%s.sig", url);
    if ((rc = fetch_small(url, opt, hdrs, &json, err)) != LARDER_OK
        || (rc = fetch_small(sig_url, opt, hdrs, &sig, err)) != LARDER_OK)
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
    job *jobs = calloc(n + 1, sizeof *jobs);
    char partdir[4096];
    repo_path(repo, "store/partial", partdir, sizeof partdir, NULL);
    mkdir(partdir, 0755);
    for (size_t i = 0; jobs && i < n; i++) {
        const larder_package *p = larder_index_at(index, i);
        if (already_have(repo, p))
            continue;
        result->changed++;
        job *j = &jobs[todo];
        j->p = p;
        repo_store_path(repo, p->sha256, j->final, sizeof j->final, NULL);
        if (access(j->final, F_OK) == 0)
            continue;  /* in the store already: only the catalog changes */
        snprintf(j->url, sizeof j->url, "%s%s", base, p->file_name);
        if (snprintf(j->part, sizeof j->part, "%.3900s/%s.part", partdir, p->sha256) >= (int)sizeof j->part)
            continue;
        todo++;
    }
    /* transfers, opt->parallel at a time */
    CURLM *multi = curl_multi_init();
    size_t next = 0, finished = 0, active = 0, parallel = opt->parallel ? (size_t)opt->parallel : 8;
    while (finished < todo) {
        while (active < parallel && next < todo) {
            start_job(multi, &jobs[next], opt, hdrs);
            if (jobs[next].done)
                finished++;
            else
                active++;
            next++;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            job *j;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            curl_off_t got = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_SIZE_DOWNLOAD_T, &got);
            result->bytes += (uint64_t)got;
            if (j->offset)
                result->resumed++;
            finish_job(repo, j, msg->easy_handle, msg->data.result);
            curl_multi_remove_handle(multi, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
            active--;
            finished++;
            if (!j->failed)
                result->downloaded++;
            report(opt, finished, todo, result->bytes, j->p->name);
        }
        if (finished < todo)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    curl_multi_cleanup(multi);
    for (size_t i = 0; i < todo && rc == LARDER_OK; i++)
        if (jobs[i].failed)
            rc = larder_fail(err, LARDER_EFETCH, "sync incomplete, nothing published (run it again to resume): %s",
                             jobs[i].error);
    free(jobs);
    if (rc == LARDER_OK && result->changed) {
        cJSON *doc = cJSON_ParseWithLength(json.data, json.len);
        rc = record(repo, index, cJSON_GetObjectItemCaseSensitive(doc, "packages"), err);
        cJSON_Delete(doc);
        if (rc == LARDER_OK)
            rc = larder_repo_sign(repo, &result->serial, err);
    }
    if (rc == LARDER_OK)
        upstream_serial(repo, url, (int64_t)larder_index_get_info(index)->serial);
    larder_index_free(index);
done:
    free(json.data);
    free(sig.data);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return rc;
}
