/*
 * http.c - the mirror's HTTP client (libcurl): small documents into memory,
 * with an optional on-disk copy revalidated by ETag, and files downloaded
 * in parallel (curl multi), resumed from a partial download, checked
 * against an expected sha256 and size, then renamed into place. Used by
 * sync (an upstream mirror) and add (a Python package index).
 */
#include "internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t to_membuf(char *p, size_t size, size_t n, void *ctx)
{
    http_buf *m = ctx;
    size_t add = size * n;
    if (m->len + add > m->max)
        return 0;  /* larger than the caller allows: the transfer fails */
    char *more = realloc(m->data, m->len + add + 1);
    if (!more)
        return 0;
    memcpy(more + m->len, p, add);
    m->data = more;
    m->len += add;
    m->data[m->len] = '\0';
    return add;
}

static size_t header_line(char *p, size_t size, size_t n, void *ctx)
{
    http_buf *m = ctx;
    size_t len = size * n;
    if (len > 5 && !strncasecmp(p, "etag:", 5)) {
        const char *v = p + 5;
        size_t k = len - 5;
        while (k && (*v == ' ' || *v == '\t'))
            v++, k--;
        while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
            k--;
        snprintf(m->etag, sizeof m->etag, "%.*s", (int)k, v);
    } else if (len > 5 && !strncmp(p, "HTTP/", 5)) {
        m->etag[0] = '\0';  /* a new response (after a redirect) */
    }
    return len;
}

static void common_options(CURL *h, const char *url, struct curl_slist *hdrs)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);  /* abort a transfer stalled for 60 s */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "larder-mirror");
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
}

void http_buf_free(http_buf *b)
{
    free(b->data);
    free(b->content_type);
    b->data = b->content_type = NULL;
    b->len = 0;
}

larder_code http_get(const char *url, struct curl_slist *hdrs, http_buf *out, long *status, larder_error *err)
{
    CURL *h = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!h)
        return larder_fail(err, LARDER_ENOMEM, "curl: cannot start");
    if (!out->max)
        out->max = 256u << 20;
    common_options(h, url, hdrs);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  /* documents may come compressed */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_membuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    char *type = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
    if (type && !(out->content_type = strdup(type)))
        rc = CURLE_OUT_OF_MEMORY;
    curl_easy_cleanup(h);
    if (status)
        *status = code;
    if (rc == CURLE_WRITE_ERROR && out->len + 1 > out->max)
        return larder_fail(err, LARDER_ETOOBIG, "%s: larger than %zu bytes", url, out->max);
    if (rc != CURLE_OK)
        return larder_fail(err, LARDER_EFETCH, "cannot fetch %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (!status && code >= 400)
        return larder_fail(err, LARDER_EFETCH, "cannot fetch %s: HTTP %ld", url, code);
    return LARDER_OK;
}

/* ------------------------------------------------------------------------
 * Parallel downloads
 * ------------------------------------------------------------------------ */

static size_t to_file(char *p, size_t size, size_t n, void *ctx)
{
    http_job *j = ctx;
    if (j->size && j->offset + j->got + size * n > j->size)
        return 0;  /* more than expected: stop before the disk fills */
    j->got += size * n;
    return fwrite(p, size, n, j->f) * size;
}

static void start(CURLM *multi, http_job *j, struct curl_slist *hdrs)
{
    struct stat st;
    j->offset = stat(j->part, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (j->size && j->offset >= j->size)
        j->offset = 0;  /* a complete or oversized leftover: start over */
    j->f = fopen(j->part, j->offset ? "ab" : "wb");
    if (!j->f) {
        j->failed = j->done = 1;
        snprintf(j->error, sizeof j->error, "cannot write %.200s: %s", j->part, strerror(errno));
        return;
    }
    CURL *h = curl_easy_init();
    common_options(h, j->url, hdrs);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    if (j->offset)
        curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)j->offset);
    curl_multi_add_handle(multi, h);
}

/* A finished transfer: check it, rename it into place. */
static void finish(http_job *j, CURL *h, CURLcode result)
{
    long code = 0, resumed_ok = 1;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (j->offset && code == 200)
        resumed_ok = 0;  /* the server ignored the range: the file holds a prefix twice */
    j->done = 1;
    if (fclose(j->f) != 0 && result == CURLE_OK)
        result = CURLE_WRITE_ERROR;
    j->f = NULL;
    if (result != CURLE_OK || !resumed_ok) {
        j->failed = 1;  /* the .part stays: the next run resumes it */
        if (!resumed_ok)
            unlink(j->part);
        snprintf(j->error, sizeof j->error, "%.200s: %s", j->url,
                 resumed_ok ? curl_easy_strerror(result) : "the server does not resume downloads; try again");
        return;
    }
    char sha[65];
    uint64_t size;
    larder_error e;
    if (file_sha256(j->part, sha, &size, &e) != LARDER_OK || (j->sha256 && strcmp(sha, j->sha256) != 0)
        || (j->size && size != j->size)) {
        j->failed = 1;
        unlink(j->part);  /* wrong bytes are not worth resuming */
        snprintf(j->error, sizeof j->error, "%.150s: the download does not match %s (sha256 %s, %llu bytes; "
                 "HTTP %ld)", j->url, j->what ? j->what : "what was expected", sha, (unsigned long long)size, code);
        return;
    }
    if (rename(j->part, j->final) != 0) {
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "cannot store %.200s: %s", j->final, strerror(errno));
    }
}

static void report(const char *verb, size_t done, size_t total, uint64_t bytes, const char *name)
{
    if (isatty(fileno(stdout))) {
        int width = 30, fill = total ? (int)(width * done / total) : width;
        printf("\r[%.*s%*s] %zu/%zu %6.1f MB %-30.30s", fill, "##############################", width - fill, "",
               done, total, (double)bytes / 1e6, name);
        if (done == total)
            printf("\n");
    } else {
        printf("%s: %zu/%zu %s (%.1f MB so far)\n", verb, done, total, name, (double)bytes / 1e6);
    }
    fflush(stdout);
}

larder_code http_download(http_job *jobs, size_t n, struct curl_slist *hdrs, int parallel, const char *verb,
                          uint64_t *bytes, size_t *resumed, larder_error *err)
{
    CURLM *multi = curl_multi_init();
    if (!multi)
        return larder_fail(err, LARDER_ENOMEM, "curl: cannot start");
    size_t next = 0, finished = 0, active = 0, width = parallel > 0 ? (size_t)parallel : 8;
    while (finished < n) {
        while (active < width && next < n) {
            start(multi, &jobs[next], hdrs);
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
            http_job *j;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            curl_off_t got = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_SIZE_DOWNLOAD_T, &got);
            if (bytes)
                *bytes += (uint64_t)got;
            if (j->offset && resumed)
                (*resumed)++;
            finish(j, msg->easy_handle, msg->data.result);
            curl_multi_remove_handle(multi, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
            active--;
            finished++;
            if (verb)
                report(verb, finished, n, bytes ? *bytes : 0, j->label ? j->label : j->url);
        }
        if (finished < n)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    curl_multi_cleanup(multi);
    for (size_t i = 0; i < n; i++)
        if (jobs[i].failed)
            return larder_fail(err, LARDER_EFETCH, "%s", jobs[i].error);
    return LARDER_OK;
}
