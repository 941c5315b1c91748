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

#include "../builder/builder.h" /* and through it index.h, common.h */

typedef struct larder_repo larder_repo;

/* Create a repository in dir (which must not exist or be empty): layout,
 * catalog, a new signing key, a default config; then, unless runtime_dir is
 * "" , larder_repo_set_runtime (NULL: the runtime this build made, when
 * there is one). */
larder_code larder_repo_init(const char *dir, const char *runtime_dir, larder_error *err);

/* Record the runtime the repository serves (its absolute path, config key
 * "runtime"; serve's default --runtime) and publish its stdlib split (the
 * *.tar.zst + entries of DIR/stdlib or DIR/../stdlib, as `make` writes
 * them), so that the index carries the stdlib modules its packages import.
 * runtime_dir NULL: the one beside this program (build/runtime, or
 * PREFIX/share/larder/runtime). *n_stdlib counts the packages. */
larder_code larder_repo_set_runtime(larder_repo *repo, const char *runtime_dir, size_t *n_stdlib, larder_error *err);
/* The runtime next to this program, or NULL when there is none. */
const char *larder_default_runtime(char *out, size_t size);
/* Open an existing repository (LARDER_ENOTFOUND when dir is not one). */
larder_repo *larder_repo_open(const char *dir, larder_error *err);
void larder_repo_close(larder_repo *repo);
/* Take the repository's writer lock (DIR/.lock, held until close) for a
 * command that changes it: publish, sign, sync, add, remove, gc, tokens,
 * runtime, keys --rotate. Another writer holding it is LARDER_EBUSY naming
 * its command and pid; readers (serve, list, verify, export) take none. */
larder_code larder_repo_lock(larder_repo *repo, const char *command, larder_error *err);
const char *larder_repo_dir(const larder_repo *repo);
/* A config value ("expires_days", "listen", "token_sha256", ...) or def. */
const char *larder_repo_config(const larder_repo *repo, const char *key, const char *def);

/* Publish archives (each with its index entry NAME-VERSION-BUILD.json
 * beside it, as larder-build writes them): the entry is validated, the
 * archive's size and sha256 must match it, the archive goes into the store,
 * and all of them enter the catalog in one transaction (replacing older
 * versions of the same names). Nothing is visible to clients until sign.
 * With a runtime configured, an archive whose side modules import a name
 * that runtime's python.wasm does not export is refused, naming it
 * (larder_check_side_modules). */
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
    int keep_local;            /* keep packages that did not come from this upstream */
} larder_sync_options;

typedef struct larder_sync_result {
    size_t changed;     /* packages new or updated (archive or entry) */
    size_t removed;     /* packages taken out because the upstream has them no more */
    size_t downloaded;  /* archives fetched */
    size_t resumed;     /* of which resumed from a partial download */
    uint64_t bytes;     /* transferred, index included */
    uint64_t serial;    /* our new serial (0 when nothing changed) */
} larder_sync_result;

/* Fetch the upstream's signed index, verify it with upstream_key (and
 * refuse a serial older than the last sync saw), download the archives this
 * repository lacks in parallel with libcurl, resuming partial downloads,
 * verify each against the index, then make the catalog the upstream's set
 * in one transaction (new and changed entries, metadata-only changes
 * included; packages the upstream no longer has removed, or with
 * keep_local only those that came from it) and sign with our key. With
 * nothing changed, only the index is transferred. A failed download leaves
 * the catalog untouched and its partial file for the next run. With a
 * runtime configured, a new archive whose side modules import a name that
 * runtime does not export refuses the whole sync, naming it, as publish
 * refuses it (larder_check_side_modules). */
larder_code larder_repo_sync(larder_repo *repo, const larder_sync_options *opt, larder_sync_result *result,
                             larder_error *err);

/* Import a Pyodide-style distribution: the pure-Python wheels a
 * pyodide-lock.json lists (and whose dependencies are pure too), fetched from
 * base_url, checked against the lockfile's sha256, converted with the
 * builder and published (all or none; run sign after). Wheels compiled for
 * Pyodide's runtime cannot load here and are counted in *skipped. */
larder_code larder_repo_sync_lockfile(larder_repo *repo, const char *lockfile, const char *base_url, int quiet,
                                      size_t *converted, size_t *skipped, larder_error *err);

/* Add projects from a Python package index (PEP 691 JSON or PEP 503 HTML
 * simple API): resolve, download (cached under $LARDER_CACHE/pypi), build
 * sdists into wheels (pure-Python ones on the host; those with extension
 * modules cross-compiled for wasm by larder_cross_wheel, unless no_build),
 * convert, publish in one transaction. */
typedef struct larder_add_options {
    const char *const *requirements;        /* PEP 508 requirement strings */
    size_t n_requirements;
    const char *const *requirement_files;   /* requirements.txt files */
    size_t n_requirement_files;
    const char *index_url;                  /* default https://pypi.org/simple/ */
    const char *const *extra_index_urls;
    size_t n_extra_index_urls;
    int no_deps, dry_run, sign, quiet, parallel;
    int no_build;                           /* refuse sdists with extension modules */
} larder_add_options;

typedef struct larder_add_result {
    size_t resolved;   /* projects in the resolution */
    size_t added;      /* published now */
    size_t unchanged;  /* already in the repository at that version */
    uint64_t serial;   /* with sign */
} larder_add_result;

larder_code larder_repo_add(larder_repo *repo, const larder_add_options *opt, larder_add_result *result,
                            larder_error *err);

/* Remove packages from the catalog (clients see it after sign). A package
 * another one depends on is refused, naming the dependents, unless cascade,
 * which removes them too; every name removed is printed. */
larder_code larder_repo_remove(larder_repo *repo, const char *const *names, size_t n, int cascade, larder_error *err);

/* Print the catalog: name, version, size, and who depends on each. */
larder_code larder_repo_list(larder_repo *repo, larder_error *err);

/* Bearer tokens of a private mirror: only their sha256 is stored. add
 * writes the new token (64 hex digits) into token (65 bytes); label NULL
 * picks "token-N". revoke of an unknown label is LARDER_ENOTFOUND. */
larder_code larder_repo_token_add(larder_repo *repo, const char *label, char token[65], char *label_out,
                                  size_t label_size, larder_error *err);
larder_code larder_repo_token_list(larder_repo *repo, larder_error *err);
larder_code larder_repo_token_revoke(larder_repo *repo, const char *label, larder_error *err);

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
