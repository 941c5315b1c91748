#define _GNU_SOURCE
/*
 * pypi.c - a project's files from a Python package index: the PEP 691 JSON
 * simple API, or the PEP 503 HTML page when the index answers with HTML.
 * Each page is kept under $LARDER_CACHE/pypi/pages and revalidated with
 * its ETag; when the index cannot be reached, the kept page is used (with a
 * note), so a repeated `add` needs no network.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../builder/builder.h"

const char *larder_cache_root(char *out, size_t size)
{
    const char *env = getenv("LARDER_CACHE"), *home = getenv("HOME");
    if (env && *env)
        snprintf(out, size, "%s", env);
    else
        snprintf(out, size, "%s/.cache/larder", home && *home ? home : "/tmp");
    return out;
}

/* ref resolved against the URL of the page it appeared on. */
static int url_join(const char *page, const char *ref, char *out, size_t size)
{
    const char *scheme_end = strstr(page, "://");
    if (strstr(ref, "://"))
        return snprintf(out, size, "%s", ref) < (int)size;
    if (!scheme_end)
        return 0;
    if (ref[0] == '/' && ref[1] == '/')
        return snprintf(out, size, "%.*s%s", (int)(scheme_end - page + 1), page, ref) < (int)size;
    const char *path = strchr(scheme_end + 3, '/');
    size_t origin = path ? (size_t)(path - page) : strlen(page);
    char joined[4096];
    if (ref[0] == '/') {
        if (snprintf(joined, sizeof joined, "%s", ref) >= (int)sizeof joined)
            return 0;
    } else {
        const char *dir_end = strrchr(path ? path : "/", '/');
        size_t dir_len = path ? (size_t)(dir_end - path + 1) : 1;
        if (snprintf(joined, sizeof joined, "%.*s%s", (int)dir_len, path ? path : "/", ref) >= (int)sizeof joined)
            return 0;
    }
    /* remove "." and ".." segments (the query and fragment keep theirs) */
    char clean[4096];
    size_t o = 0;
    const char *p = joined, *tail = joined + strcspn(joined, "?#");
    while (p < tail) {
        const char *seg = p + 1;
        size_t n = strcspn(seg, "/?#");
        if (seg + n > tail)
            n = (size_t)(tail - seg);
        if (n == 1 && seg[0] == '.') {
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && clean[--o] != '/')
                ;
        } else {
            if (o + n + 2 >= sizeof clean)
                return 0;
            clean[o++] = '/';
            memcpy(clean + o, seg, n);
            o += n;
        }
        p = seg + n;
        if (p < tail && *p != '/')
            break;
    }
    if (o == 0 || (*(tail - 1) == '/' && clean[o - 1] != '/'))
        clean[o++] = '/';
    clean[o] = '\0';
    return snprintf(out, size, "%.*s%s%s", (int)origin, page, clean, tail) < (int)size;
}

/* The runtime's Python tags that a pure wheel may carry. */
static int python_tag_ok(const char *tags)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", tags);
    for (char *save, *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
        if (!strcmp(t, "py3") || !strcmp(t, "cp3"))
            return 1;
        if ((!strncmp(t, "py3", 3) || !strncmp(t, "cp3", 3)) && isdigit((unsigned char)t[3])) {
            long minor = strtol(t + 3, NULL, 10);
            if (minor <= 11)
                return 1;
        }
    }
    return 0;
}

static int has_tag(const char *tags, const char *want)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", tags);
    for (char *save, *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save))
        if (!strcmp(t, want))
            return 1;
    return 0;
}

/* A wheel's file name NAME-VERSION(-BUILD)-PY-ABI-PLATFORM.whl: its
 * version and "PY-ABI-PLATFORM" tags; *pure when the runtime can load it
 * as pure Python. 0 when the name is not a wheel's. */
static int wheel_name(const char *name, char *version, size_t vsize, char *tags, size_t tsize, int *pure)
{
    size_t n = strlen(name);
    char stem[512];
    if (n <= 4 || n >= sizeof stem || strcmp(name + n - 4, ".whl"))
        return 0;
    snprintf(stem, sizeof stem, "%.*s", (int)(n - 4), name);
    char *parts[7];
    int k = 0;
    for (char *save, *t = strtok_r(stem, "-", &save); t && k < 7; t = strtok_r(NULL, "-", &save))
        parts[k++] = t;
    if (k != 5 && k != 6)
        return 0;
    snprintf(version, vsize, "%s", parts[1]);
    snprintf(tags, tsize, "%s-%s-%s", parts[k - 3], parts[k - 2], parts[k - 1]);
    *pure = has_tag(parts[k - 1], "any") && has_tag(parts[k - 2], "none") && python_tag_ok(parts[k - 3]);
    return 1;
}

int pypi_wheel_is_pure(const char *filename)
{
    char version[128], tags[256];
    int pure = 0;
    return wheel_name(filename, version, sizeof version, tags, sizeof tags, &pure) && pure;
}

/* Kind, version and tags from a file name; 0 for files of no interest. */
static int classify(pypi_file *f, const char *project)
{
    const char *name = f->filename;
    size_t n = strlen(name);
    char stem[512], version[128] = "", tags[256];
    int pure;
    if (n >= sizeof stem)
        return 0;
    if (wheel_name(name, version, sizeof version, tags, sizeof tags, &pure)) {
        f->tags = strdup(tags);
        f->kind = pure ? PYPI_PURE_WHEEL : PYPI_OTHER_WHEEL;
    } else if (larder_ends_with(name, ".whl")) {
        return 0;
    } else {
        static const char *const exts[] = {".tar.gz", ".zip", ".tar.bz2", ".tgz"};
        size_t ext = 0;
        for (size_t i = 0; i < sizeof exts / sizeof *exts && !ext; i++)
            if (larder_ends_with(name, exts[i]))
                ext = strlen(exts[i]);
        if (!ext)
            return 0;
        snprintf(stem, sizeof stem, "%.*s", (int)(n - ext), name);
        /* NAME-VERSION where NAME may hold '-': the split whose name part
         * normalises to the project's name */
        for (char *dash = strchr(stem, '-'); dash && !version[0]; dash = strchr(dash + 1, '-')) {
            char head[256], norm[256];
            snprintf(head, sizeof head, "%.*s", (int)(dash - stem), stem);
            if (!strcmp(larder_normalize_name(head, norm, sizeof norm), project))
                snprintf(version, sizeof version, "%s", dash + 1);
        }
        f->kind = PYPI_SDIST;
    }
    if (!version[0] || !larder_version_parse(version, &f->version))
        return 0;
    f->version_text = strdup(version);
    return f->version_text != NULL;
}

static larder_code add_file(pypi_listing *l, const char *page, const char *filename, const char *href,
                            const char *sha256, const char *requires_python, int yanked, int has_metadata,
                            uint64_t size, larder_error *err)
{
    if (!larder_grow_array(&l->files, l->n, &l->cap, sizeof *l->files))
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    pypi_file *f = &l->files[l->n];
    memset(f, 0, sizeof *f);
    char url[4096];
    if (!filename || !href || !url_join(page, href, url, sizeof url))
        return LARDER_OK;
    char *hash = strchr(url, '#');
    if (hash)
        *hash = '\0';
    if (!(f->filename = strdup(filename)))
        return larder_fail(err, LARDER_ENOMEM, "out of memory");
    if (!classify(f, l->name) || !sha256 || strlen(sha256) != 64) {
        /* no sha256: nothing to check the download against, so not usable */
        free(f->filename);
        free(f->tags);
        free(f->version_text);
        return LARDER_OK;
    }
    f->url = strdup(url);
    f->sha256 = strdup(sha256);
    f->requires_python = requires_python && *requires_python ? strdup(requires_python) : NULL;
    f->yanked = yanked;
    f->has_metadata = has_metadata;
    f->size = size;
    l->n++;
    return LARDER_OK;
}

static larder_code parse_json(pypi_listing *l, const char *page, const char *text, size_t len, larder_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "files"), *f;
    if (!cJSON_IsArray(files)) {
        cJSON_Delete(doc);
        return larder_fail(err, LARDER_EINVAL, "%s: not a PEP 691 project page (no \"files\" list)", page);
    }
    larder_code rc = LARDER_OK;
    cJSON_ArrayForEach(f, files) {
        if (rc != LARDER_OK)
            break;
        const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(f, "hashes");
        const cJSON *yanked = cJSON_GetObjectItemCaseSensitive(f, "yanked");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "core-metadata");
        if (!meta)
            meta = cJSON_GetObjectItemCaseSensitive(f, "dist-info-metadata");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
        rc = add_file(l, page, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "filename")),
                      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "url")),
                      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hashes, "sha256")),
                      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "requires-python")),
                      cJSON_IsTrue(yanked) || cJSON_IsString(yanked), meta && !cJSON_IsFalse(meta),
                      cJSON_IsNumber(size) && size->valuedouble > 0 ? (uint64_t)size->valuedouble : 0, err);
    }
    cJSON_Delete(doc);
    return rc;
}

/* The value of attribute name in the tag text [tag, end), entity-decoded;
 * 1 when present. */
static int attribute(const char *tag, const char *end, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = tag; p + n < end; p++) {
        if (strncasecmp(p, name, n) != 0 || !isspace((unsigned char)p[-1]))
            continue;
        const char *q = p + n;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q >= end || *q != '=') {
            if (q < end && (isspace((unsigned char)*q) || *q == '>' || *q == '/')) {
                out[0] = '\0';
                return 1;  /* present without a value */
            }
            continue;
        }
        q++;
        while (q < end && isspace((unsigned char)*q))
            q++;
        char quote = (*q == '"' || *q == '\'') ? *q++ : 0;
        size_t o = 0;
        while (q < end && (quote ? *q != quote : !isspace((unsigned char)*q) && *q != '>') && o + 1 < size) {
            static const struct { const char *ent; char c; } ents[] = {
                {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''}};
            int hit = 0;
            for (size_t i = 0; i < sizeof ents / sizeof *ents && !hit; i++)
                if (!strncmp(q, ents[i].ent, strlen(ents[i].ent))) {
                    out[o++] = ents[i].c;
                    q += strlen(ents[i].ent);
                    hit = 1;
                }
            if (!hit)
                out[o++] = *q++;
        }
        out[o] = '\0';
        return 1;
    }
    return 0;
}

static larder_code parse_html(pypi_listing *l, const char *page, const char *text, larder_error *err)
{
    larder_code rc = LARDER_OK;
    for (const char *p = text; rc == LARDER_OK && (p = strcasestr(p, "<a")) != NULL; p++) {
        if (!isspace((unsigned char)p[2]))
            continue;
        const char *end = strchr(p, '>');
        if (!end)
            break;
        char href[4096], rp[256] = "", meta[256], file[512], sha[80] = "";
        if (!attribute(p + 2, end, "href", href, sizeof href))
            continue;
        attribute(p + 2, end, "data-requires-python", rp, sizeof rp);
        int yanked = attribute(p + 2, end, "data-yanked", meta, sizeof meta);
        int has_meta = attribute(p + 2, end, "data-core-metadata", meta, sizeof meta)
                       || attribute(p + 2, end, "data-dist-info-metadata", meta, sizeof meta);
        if (has_meta && !strcmp(meta, "false"))
            has_meta = 0;
        const char *frag = strstr(href, "#sha256=");
        if (frag)
            snprintf(sha, sizeof sha, "%.64s", frag + 8);
        size_t path_len = strcspn(href, "?#");
        const char *slash = href;
        for (const char *s = href; s < href + path_len; s++)
            if (*s == '/')
                slash = s + 1;
        snprintf(file, sizeof file, "%.*s", (int)(href + path_len - slash), slash);
        /* percent-decoding of the name */
        char *d = file;
        for (char *s = file; *s; s++) {
            unsigned v;
            if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]) && sscanf(s + 1, "%2x", &v) == 1) {
                *d++ = (char)v;
                s += 2;
            } else {
                *d++ = *s;
            }
        }
        *d = '\0';
        rc = add_file(l, page, file, href, sha, rp, yanked, has_meta, 0, err);
        p = end;
    }
    return rc;
}

larder_code pypi_list(const char *index_url, const char *name, pypi_listing *out, larder_error *err)
{
    char url[4096], cache[4096], root[4096], body_path[4200], etag_path[4200], type_path[4200];
    snprintf(out->name, sizeof out->name, "%s", name);
    if (snprintf(url, sizeof url, "%s%s%s/", index_url, index_url[strlen(index_url) - 1] == '/' ? "" : "/", name)
        >= (int)sizeof url)
        return larder_fail(err, LARDER_EINVAL, "URL too long for %s", name);
    unsigned char digest[32];
    char key[65];
    crypto_hash_sha256(digest, (const unsigned char *)url, strlen(url));
    sodium_bin2hex(key, sizeof key, digest, sizeof digest);
    snprintf(cache, sizeof cache, "%s/pypi/pages", larder_cache_root(root, sizeof root));
    larder_code rc = larder_mkdir_p(cache, err);
    if (rc != LARDER_OK)
        return rc;
    snprintf(body_path, sizeof body_path, "%s/%s.body", cache, key);
    snprintf(etag_path, sizeof etag_path, "%s/%s.etag", cache, key);
    snprintf(type_path, sizeof type_path, "%s/%s.type", cache, key);
    unsigned char *etag = NULL, *type = NULL, *body = NULL;
    size_t etag_len = 0, type_len = 0, body_len = 0;
    int have = larder_read_file(body_path, 64u << 20, &body, &body_len, NULL) == LARDER_OK
               && larder_read_file(type_path, 4096, &type, &type_len, NULL) == LARDER_OK;
    if (have)
        larder_read_file(etag_path, 4096, &etag, &etag_len, NULL);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/vnd.pypi.simple.v1+json, "
                                                      "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1");
    char inm[4200];
    if (etag && etag_len) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", (char *)etag);
        hdrs = curl_slist_append(hdrs, inm);
    }
    http_buf page = {.max = 64u << 20};
    long status = 0;
    larder_error net;
    rc = http_get(url, hdrs, &page, &status, &net);
    curl_slist_free_all(hdrs);
    const char *text = NULL, *ctype = NULL;
    size_t text_len = 0;
    if (rc != LARDER_OK) {
        if (!have) {
            rc = larder_fail(err, net.code, "%s (and no copy of the page is kept in %s)", net.message, cache);
            goto done;
        }
        fprintf(stderr, "larder-mirror: %s; using the copy kept in %s\n", net.message, cache);
        rc = LARDER_OK;
        text = (char *)body, text_len = body_len, ctype = (char *)type;
    } else if (status == 304 && have) {
        text = (char *)body, text_len = body_len, ctype = (char *)type;
    } else if (status == 404) {
        rc = larder_fail(err, LARDER_ENOTFOUND, "no project named '%s' on %s (HTTP 404)", name, index_url);
        goto done;
    } else if (status != 200) {
        rc = larder_fail(err, LARDER_EFETCH, "cannot fetch %s: HTTP %ld", url, status);
        goto done;
    } else {
        text = page.data ? page.data : "", text_len = page.len, ctype = page.content_type ? page.content_type : "";
        /* keep it for the next run (revalidation, or offline use) */
        larder_error ignore;
        larder_write_file(body_path, text, text_len, 0644, 0, &ignore);
        larder_write_file(type_path, ctype, strlen(ctype), 0644, 0, &ignore);
        if (page.etag[0])
            larder_write_file(etag_path, page.etag, strlen(page.etag), 0644, 0, &ignore);
        else
            unlink(etag_path);
    }
    if (ctype && strstr(ctype, "json"))
        rc = parse_json(out, url, text, text_len, err);
    else
        rc = parse_html(out, url, text, err);
done:
    http_buf_free(&page);
    free(etag);
    free(type);
    free(body);
    return rc;
}

void pypi_listing_free(pypi_listing *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pypi_file *f = &l->files[i];
        free(f->filename);
        free(f->url);
        free(f->sha256);
        free(f->requires_python);
        free(f->version_text);
        free(f->tags);
    }
    free(l->files);
    memset(l, 0, sizeof *l);
}
