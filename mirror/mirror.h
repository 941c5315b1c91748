/*
 * mirror.h - larder-mirror's library: the one public header of mirror/.
 *
 * A repository is a directory:
 *   catalog.sqlite     the packages (SQLite, WAL): one entry per name
 *   store/XX/SHA256    archives, content-addressed (XX = first two hex digits)
 *   keys/signing.pem   Ed25519 private key, mode 0600 (keys/public.txt beside)
 *   public -> public-N the signed tree that is served and exported: index.json,
 *                      index.json.sig, index.json.gz/.zst, and the archives
 *                      under their file names (hard links into store/)
 *   larder-mirror.conf settings (key = value)
 * Every change is atomic: files appear by rename, the catalog changes in one
 * transaction, and `public` is swapped by renaming a symlink, so a crash at
 * any point leaves the previous valid state (and at most unreferenced files
 * for gc).
 */
#ifndef LARDER_MIRROR_H
#define LARDER_MIRROR_H

#include <stdint.h>

#include "../index/index.h"

typedef struct larder_repo larder_repo;

/* Create a repository in dir (which must not exist or be empty): layout,
 * catalog, a new signing key, a default config. */
larder_code larder_repo_init(const char *dir, larder_error *err);
/* Open an existing repository (LARDER_ENOTFOUND when dir is not one). */
larder_repo *larder_repo_open(const char *dir, larder_error *err);
void larder_repo_close(larder_repo *repo);
const char *larder_repo_dir(const larder_repo *repo);
/* A config value ("expires_days", "listen", "token_sha256", ...) or def. */
const char *larder_repo_config(const larder_repo *repo, const char *key, const char *def);

/* Publish archives (each with its index entry NAME-VERSION-BUILD.json
 * beside it, as larder-build writes them): the entry is validated, the
 * archive's size and sha256 must match it, the archive goes into the store,
 * and all of them enter the catalog in one transaction (replacing older
 * versions of the same names). Nothing is visible to clients until sign. */
larder_code larder_repo_publish(larder_repo *repo, const char *const *archives, int n, larder_error *err);

/* Write a new signed public tree: index.json of every catalog entry with
 * serial = previous + 1, generated now, expires in expires_days, the key id;
 * its signature; gzip and zstd copies; the archives. Returns the serial. */
larder_code larder_repo_sign(larder_repo *repo, uint64_t *serial, larder_error *err);

/* Copy the current public tree to dest (a static site for any web server). */
larder_code larder_repo_export(larder_repo *repo, const char *dest, larder_error *err);

/* Check that store and catalog agree and every archive hashes to its
 * sha256; *problems counts what is wrong (each reported on stderr). */
larder_code larder_repo_verify(larder_repo *repo, int *problems, larder_error *err);

/* Remove store files no catalog entry references, old public trees and
 * temporary files left by a crash. *removed counts them. */
larder_code larder_repo_gc(larder_repo *repo, int *removed, larder_error *err);

/* The repository's public key; rotate: a new key signs from now on (the old
 * one is kept as keys/signing.pem.N). */
larder_code larder_repo_public_key(larder_repo *repo, larder_pubkey *key, larder_error *err);
larder_code larder_repo_rotate_key(larder_repo *repo, larder_error *err);

/* Follow an upstream mirror. */
typedef struct larder_sync_options {
    const char *upstream;      /* its URL (index.json, or the directory holding it) */
    const char *upstream_key;  /* its public key, "ed25519:..." */
    const char *token;         /* bearer token for a private upstream, or NULL */
    int parallel;              /* transfers at once (default 8) */
    int quiet;
} larder_sync_options;

typedef struct larder_sync_result {
    size_t changed;     /* packages new or updated */
    size_t downloaded;  /* archives fetched */
    size_t resumed;     /* of which resumed from a partial download */
    uint64_t bytes;     /* transferred, index included */
    uint64_t serial;    /* our new serial (0 when nothing changed) */
} larder_sync_result;

/* Fetch the upstream's signed index, verify it with upstream_key (and
 * refuse a serial older than the last sync saw), download the archives this
 * repository lacks in parallel with libcurl, resuming partial downloads,
 * verify each against the index, then publish them all in one transaction
 * and sign with our key. With nothing new, only the index is transferred
 * and nothing changes. A failed download leaves the catalog untouched and
 * its partial file for the next run. */
larder_code larder_repo_sync(larder_repo *repo, const larder_sync_options *opt, larder_sync_result *result,
                             larder_error *err);

/* Import a Pyodide-style distribution: the pure-Python wheels a
 * pyodide-lock.json lists (and whose dependencies are pure too), fetched from
 * base_url, checked against the lockfile's sha256, converted with the
 * builder and published (all or none; run sign after). Wheels compiled for
 * Pyodide's runtime cannot load here and are counted in *skipped. */
larder_code larder_repo_sync_lockfile(larder_repo *repo, const char *lockfile, const char *base_url, int quiet,
                                      size_t *converted, size_t *skipped, larder_error *err);

/* Serve the repository over HTTP until SIGINT/SIGTERM. */
typedef struct larder_serve_options {
    const char *listen;       /* "127.0.0.1:8000" */
    const char *runtime_dir;  /* served under /runtime/, or NULL */
    const char *site_dir;     /* served at / (index.html), or NULL */
    const char *access_log;   /* a file, "-" for stderr, NULL for none */
    unsigned max_connections; /* default 256 */
    unsigned timeout_s;       /* idle connection timeout, default 30 */
} larder_serve_options;

larder_code larder_repo_serve(larder_repo *repo, const larder_serve_options *opt, larder_error *err);

#endif
