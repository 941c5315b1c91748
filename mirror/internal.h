/* internal.h - shared between mirror/'s sources; not part of the API. */
#ifndef LARDER_MIRROR_INTERNAL_H
#define LARDER_MIRROR_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "mirror.h"

#define MAX_CONFIG 32

struct larder_repo {
    char *dir;
    sqlite3 *db;
    char *config_keys[MAX_CONFIG], *config_values[MAX_CONFIG];
    int n_config;
};

/* dir/rel into out; LARDER_EINVAL when it does not fit. */
larder_code repo_path(const larder_repo *repo, const char *rel, char *out, size_t size, larder_error *err);
/* store/XX/SHA256 for a digest. */
larder_code repo_store_path(const larder_repo *repo, const char *sha, char *out, size_t size,
                            larder_error *err);
/* Write data to path atomically (temp file in the same dir, fsync, rename). */
larder_code write_file_atomic(const char *path, const void *data, size_t len, larder_error *err);
/* Read a whole file (at most max bytes). */
larder_code read_file_all(const char *path, size_t max, unsigned char **data, size_t *len, larder_error *err);
/* Run SQL that returns no rows. */
larder_code db_exec(larder_repo *repo, const char *sql, larder_error *err);
/* The SHA-256 of a file, streamed. */
larder_code file_sha256(const char *path, char hex[65], uint64_t *size, larder_error *err);

/* 1 when name ends in .tar.zst (a content-addressed archive). */
int larder_ends_with_zst(const char *name);

/* Insert or replace a package in the catalog (inside the caller's
 * transaction). */
larder_code catalog_put(larder_repo *repo, const char *name, const char *version, const char *file_name,
                        const char *sha256, uint64_t size, const char *entry, larder_error *err);

/* The repository's private key (keys/signing.pem). */
larder_signing_key *repo_signing_key(larder_repo *repo, larder_error *err);

#endif
