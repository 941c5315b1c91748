/*
 * lockfile.c - sync from a Pyodide-style distribution: a pyodide-lock.json
 * and the wheels beside it. Pure-Python wheels (py*-none-any) are
 * downloaded, checked against the lockfile's sha256, converted with the
 * builder (archives + entries) and published; wheels compiled for
 * Pyodide's own Emscripten and CPython cannot run in this runtime and are
 * left out, with the packages that need them.
 */
#include "internal.h"
#include "../builder/builder.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_pure(const larder_package *p)
{
    static const char suffix[] = "-none-any.whl";
    size_t n = strlen(p->file_name), m = sizeof suffix - 1;
    return n > m && strcmp(p->file_name + n - m, suffix) == 0;
}

/* usable[i]: package i is pure and so is everything it depends on. */
static void mark_usable(const larder_index *index, unsigned char *usable)
{
    size_t n = larder_index_count(index);
    for (size_t i = 0; i < n; i++)
        usable[i] = (unsigned char)is_pure(larder_index_at(index, i));
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            const larder_package *p = larder_index_at(index, i);
            for (size_t d = 0; usable[i] && d < p->n_depends; d++) {
                const larder_package *dep = larder_index_find(index, p->depends[d]);
                if (!dep || !usable[dep - larder_index_at(index, 0)]) {
                    usable[i] = 0;
                    changed = 1;
                }
            }
        }
    }
}

static larder_code download(CURL *h, const char *url, const char *path, larder_error *err)
{
    FILE *f = fopen(path, "wb");
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!f)
        return larder_fail(err, LARDER_EIO, "cannot write %s: %s", path, strerror(errno));
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    if (fclose(f) != 0 && rc == CURLE_OK)
        rc = CURLE_WRITE_ERROR;
    if (rc != CURLE_OK)
        return larder_fail(err, LARDER_EFETCH, "cannot fetch %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return LARDER_OK;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4400];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    if (d)
        closedir(d);
    rmdir(dir);
}

larder_code larder_repo_sync_lockfile(larder_repo *repo, const char *lockfile, const char *base_url, int quiet,
                                      size_t *converted, size_t *skipped, larder_error *err)
{
    unsigned char *text;
    size_t len;
    *converted = *skipped = 0;
    if (!base_url[0])
        return larder_fail(err, LARDER_EINVAL, "--base-url is empty: give the URL the wheels of %s are "
                           "downloaded from", lockfile);
    larder_code rc = larder_read_file(lockfile, 64u << 20, &text, &len, err);
    if (rc != LARDER_OK)
        return rc;
    larder_index *index = larder_index_parse((const char *)text, len, err);
    free(text);
    if (!index)
        return err->code;
    size_t n = larder_index_count(index);
    unsigned char *usable = calloc(n + 1, 1);
    char **archives = calloc(n + 1, sizeof *archives);
    char tmp[4096];
    repo_path(repo, "store/lockfile.tmp", tmp, sizeof tmp, NULL);
    remove_dir(tmp);
    if (!usable || !archives || mkdir(tmp, 0755) != 0) {
        free(usable);
        free(archives);
        larder_index_free(index);
        return larder_fail(err, LARDER_EIO, "cannot prepare %s: %s", tmp, strerror(errno));
    }
    mark_usable(index, usable);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    larder_build_options opt = {.outdir = tmp, .build = "0", .level = 19, .quiet = 1};
    int n_archives = 0;
    for (size_t i = 0; i < n && rc == LARDER_OK; i++) {
        const larder_package *p = larder_index_at(index, i);
        if (!usable[i]) {
            (*skipped)++;
            if (!quiet)
                printf("skip %s %s: %s\n", p->name, p->version,
                       is_pure(p) ? "needs a package compiled for Pyodide" : "compiled for Pyodide's runtime");
            continue;
        }
        char url[4200], wheel[4400];
        snprintf(url, sizeof url, "%s%s%s", base_url, base_url[strlen(base_url) - 1] == '/' ? "" : "/", p->file_name);
        snprintf(wheel, sizeof wheel, "%s/%s", tmp, p->file_name);
        char sha[65];
        larder_build_result r;
        if ((rc = download(h, url, wheel, err)) != LARDER_OK)
            break;
        if ((rc = file_sha256(wheel, sha, NULL, err)) == LARDER_OK && strcmp(sha, p->sha256) != 0)
            rc = larder_fail(err, LARDER_EINTEGRITY, "%s: sha256 %s, but the lockfile says %s", url, sha, p->sha256);
        if (rc == LARDER_OK && (rc = larder_build_wheel(wheel, &opt, &r, err)) == LARDER_OK) {
            archives[n_archives++] = strdup(r.archive_path);
            (*converted)++;
            if (!quiet)
                printf("convert %s %s: %llu bytes\n", r.name, r.version, (unsigned long long)r.size);
        }
        unlink(wheel);
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    if (rc == LARDER_OK && n_archives)
        rc = larder_repo_publish(repo, (const char *const *)archives, n_archives, err);
    for (int i = 0; i < n_archives; i++)
        free(archives[i]);
    free(archives);
    free(usable);
    larder_index_free(index);
    remove_dir(tmp);
    return rc;
}
