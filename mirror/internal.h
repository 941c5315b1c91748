/* internal.h - shared between mirror/'s sources; not part of the API. */
#ifndef LARDER_MIRROR_INTERNAL_H
#define LARDER_MIRROR_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "../builder/builder.h"
#include "mirror.h"

#define MAX_CONFIG 32

struct larder_repo {
    char *dir;
    sqlite3 *db;
    int lock_fd;  /* -1 until larder_repo_lock */
    char *config_keys[MAX_CONFIG], *config_values[MAX_CONFIG];
    int n_config;
};

/* dir/rel into out; LARDER_EINVAL when it does not fit. */
larder_code repo_path(const larder_repo *repo, const char *rel, char *out, size_t size, larder_error *err);
/* store/XX/SHA256 for a digest. */
larder_code repo_store_path(const larder_repo *repo, const char *sha, char *out, size_t size,
                            larder_error *err);
/* SQL creating the tables added since the first release (IF NOT EXISTS). */
extern const char REPO_MIGRATE[];
/* Run SQL that returns no rows. */
larder_code db_exec(larder_repo *repo, const char *sql, larder_error *err);
/* One statement with text parameters (a NULL-terminated list after err);
 * with have (65 bytes), the first column of its first row, or "" when none. */
larder_code db_query(larder_repo *repo, const char *sql, char *have, larder_error *err, ...);
/* The SHA-256 of a file, streamed. */
larder_code file_sha256(const char *path, char hex[65], uint64_t *size, larder_error *err);

/* 1 when name ends in .tar.zst (a content-addressed archive). */
int larder_ends_with_zst(const char *name);

/* Insert or replace a package in the catalog (inside the caller's
 * transaction). */
larder_code catalog_put(larder_repo *repo, const char *name, const char *version, const char *file_name,
                        const char *sha256, uint64_t size, const char *entry, larder_error *err);

/* larder_repo_publish checking side modules against the runtime in
 * runtime_dir (NULL: no check), not the repository's configured one. */
larder_code repo_publish_for(larder_repo *repo, const char *const *archives, int n, const char *runtime_dir,
                             larder_error *err);

/* The repository's private key (keys/signing.pem). */
larder_signing_key *repo_signing_key(larder_repo *repo, larder_error *err);

/* $LARDER_CACHE (default ~/.cache/larder) into out. */
const char *larder_cache_root(char *out, size_t size);

/* HTTP (http.c). A document in memory: at most max bytes (0: 256 MiB). */
struct curl_slist;
typedef struct http_buf {
    char *data;
    size_t len, max;
    char *content_type;  /* as the server sent it, or NULL */
    char etag[256];      /* its ETag header, or "" */
} http_buf;
void http_buf_free(http_buf *b);
/* GET url into out. With status NULL an HTTP error is a failure; otherwise
 * *status receives the code and only transport errors fail. */
larder_code http_get(const char *url, struct curl_slist *hdrs, http_buf *out, long *status, larder_error *err);

/* One file to download: through part (resumed when it exists), checked
 * against sha256 and size (when given), then renamed to final. */
typedef struct http_job {
    const char *sha256, *label, *what;
    uint64_t size;
    char url[4096], part[4096], final[4096];
    /* filled in */
    FILE *f;
    uint64_t offset, got;
    int done, failed;
    char error[400];
} http_job;
/* Download every job, parallel at a time (0: 8), with a progress line per
 * file under verb (NULL: quiet). The first failure is returned after all
 * finished; partial files stay for the next run. */
larder_code http_download(http_job *jobs, size_t n, struct curl_slist *hdrs, int parallel, const char *verb,
                          uint64_t *bytes, size_t *resumed, larder_error *err);

/* A project's files on a Python package index (pypi.c). */
enum { PYPI_SDIST = 1, PYPI_PURE_WHEEL, PYPI_OTHER_WHEEL };
typedef struct pypi_file {
    char *filename, *url, *sha256;
    char *requires_python;  /* or NULL */
    char *version_text;
    char *tags;             /* a wheel's "py-abi-platform", or NULL */
    larder_version version;
    uint64_t size;          /* 0 when the index does not say */
    int kind, yanked, has_metadata;
} pypi_file;
typedef struct pypi_listing {
    char name[128];
    pypi_file *files;
    size_t n, cap;
} pypi_listing;
/* The files of project name (normalised) on the simple index at index_url:
 * sdists and wheels with a sha256 and a PEP 440 version. A project the
 * index does not have is LARDER_ENOTFOUND. */
larder_code pypi_list(const char *index_url, const char *name, pypi_listing *out, larder_error *err);
void pypi_listing_free(pypi_listing *l);
/* 1 when a wheel's file name says the runtime can load it as pure Python
 * (platform any, ABI none, a Python 3 tag up to 3.11). */
int pypi_wheel_is_pure(const char *filename);

#endif
