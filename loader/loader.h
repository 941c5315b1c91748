/*
 * loader.h - the larder loader: the one public header of loader/.
 *
 * The loader is linked into the wasm runtime as the builtin module _larder.
 * This first cut provides the verification and decompression steps of the
 * load pipeline (sha256 -> zstd); fetching, unpacking and caching build on
 * them. All functions report failures through larder_error (index/index.h).
 */
#ifndef LARDER_LOADER_H
#define LARDER_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "../index/index.h"

/* Initialise the crypto library. Call once before anything else; returns
 * LARDER_OK or fills err. Safe to call again. */
larder_code larder_loader_init(larder_error *err);

/* Decompress one complete zstd frame. The frame must declare its content
 * size (larder archives always do) and that size must not exceed max_size.
 * On success *out is a malloc'd buffer of *out_len bytes owned by the caller.
 * Truncated, damaged or oversized input gives LARDER_ECORRUPT or
 * LARDER_ETOOBIG with the reason; *out is then NULL. verified: the caller
 * has checked the frame's bytes whole (an archive's sha256 against the
 * signed index), so the frame's own checksum, when it has one, is not
 * checked again (7% of the time); otherwise it is, and a damaged frame
 * that carries one never yields output. */
larder_code larder_zstd_decompress(const void *frame, size_t frame_len, size_t max_size, int verified,
                                   void **out, size_t *out_len, larder_error *err);

/* One entry of a tar archive. data points into the archive buffer. */
typedef struct larder_tar_entry {
    char *path;       /* relative, checked; no trailing '/' */
    int is_dir;
    unsigned mode;    /* 0644 or 0755 */
    const unsigned char *data;
    size_t size;
} larder_tar_entry;

/* Parse a whole POSIX tar held in memory, strictly (see untar.c): only
 * regular files and directories with safe, unique paths, whose sizes add up
 * to at most max_file_bytes. *out is a malloc'd array (larder_tar_free). */
larder_code larder_tar_parse(const unsigned char *tar, size_t len, uint64_t max_file_bytes,
                             larder_tar_entry **out, size_t *n_out, larder_error *err);
void larder_tar_free(larder_tar_entry *entries, size_t n);

/* ------------------------------------------------------------------------
 * The archive cache (cache.c)
 * ------------------------------------------------------------------------ */

typedef struct larder_cache larder_cache;

/* Open (creating) a cache directory holding at most cap bytes. */
larder_cache *larder_cache_open(const char *dir, uint64_t cap, larder_error *err);
void larder_cache_close(larder_cache *cache);
/* 1 and a malloc'd copy when an entry with that sha256 is cached and its
 * bytes still hash to it; a damaged entry is dropped and 0 returned. With
 * known (the SHA-256 the platform computed of the entry's file, whose path
 * larder_cache_file gives, over the bytes the file holds now), the bytes
 * are not hashed again: known is compared with sha instead. */
int larder_cache_get(larder_cache *cache, const char *sha, const char *known, unsigned char **data, size_t *len);
/* The path of the file that holds (or would hold) the entry for sha. */
void larder_cache_file(const larder_cache *cache, const char *sha, char *out, size_t size);
/* Write the cache's list if larder_cache_get changed which entries were
 * used last (a get does not write it, so that an install of many archives
 * writes it once; larder_loader_install calls this at its end). */
larder_code larder_cache_sync(larder_cache *cache, larder_error *err);
/* 1 when the cache lists an entry for sha (not re-verified: a cheap look). */
int larder_cache_has(const larder_cache *cache, const char *sha);
/* Store an archive (already verified) and evict the least recently used
 * entries beyond the cap. */
larder_code larder_cache_put(larder_cache *cache, const char *sha, const unsigned char *data, size_t len,
                             larder_error *err);
uint64_t larder_cache_bytes(const larder_cache *cache);

/* ------------------------------------------------------------------------
 * The loader (install.c)
 * ------------------------------------------------------------------------ */

/* What to fetch: the URL; the size the index declares (0: unknown), which
 * is the most the platform reads (it stops a larger response before it
 * fills memory; unknown sizes get a fixed cap) and lets it show progress;
 * and the sha256 the index gives (NULL: none), under which a platform with
 * an archive store of its own (IndexedDB in a browser) keeps and finds it;
 * refresh is 1 when the bytes that store gave did not match that sha256:
 * the platform drops its copy and downloads the archive. */
typedef struct larder_fetch_request {
    const char *url;
    uint64_t size;
    const char *sha256;
    int refresh;
} larder_fetch_request;

/* What the platform says of the bytes it fetched: whether its own archive
 * store had them, and their SHA-256 when it
 * computed it itself, off the interpreter's thread (the fetch helper, with
 * the browser's or Node's native SHA-256, over the exact bytes it hands
 * over); "" when it did not, and the loader hashes them. Either way the
 * loader compares the digest with the signed index's, and asks again with
 * refresh when a copy from the store does not match. ahead: the platform had
 * handed the bytes over before they were asked for (an archive a prefetch
 * announced), so the loader did not wait for them. */
typedef struct larder_fetch_result {
    int from_store;
    int ahead;
    char sha256[LARDER_SHA256_HEX];
} larder_fetch_result;

/* Fetch a request into a malloc'd buffer, saying in *result where the bytes
 * came from and (optionally) their digest.
 * Failures are LARDER_EFETCH with the cause (HTTP status, network error,
 * too large). This is the one platform hook: the wasm runtime fetches
 * through JS (loader/fetch.c), host tests read files. */
typedef larder_code (*larder_fetch_fn)(void *ctx, const larder_fetch_request *req, unsigned char **data,
                                       size_t *len, larder_fetch_result *result, larder_error *err);

typedef struct larder_loader_config {
    const char *base_url;     /* archives are base_url/file_name */
    const char *cache_dir;    /* NULL: no cache (the platform may keep archives itself) */
    uint64_t cache_cap;       /* bytes; 0: no cache, as with cache_dir NULL */
    const char *site_dir;     /* install_dir "site" */
    const char *stdlib_dir;   /* install_dir "stdlib" */
    const char *dynlib_dir;   /* install_dir "dynlib" */
    larder_fetch_fn fetch;
    void *fetch_ctx;
    /* optional hooks, called with hook_ctx */
    void *hook_ctx;
    void (*progress)(void *ctx, const char *package, uint64_t done, uint64_t total);
    void (*persist)(void *ctx);                   /* after packages were installed */
    /* the archives an install is about to fetch, before the first fetch */
    void (*prefetch)(void *ctx, const larder_fetch_request *reqs, size_t n);
    void (*warn)(void *ctx, const char *message); /* a non-fatal problem (cache write) */
    void (*installed)(void *ctx, const larder_package *package, int from_cache);  /* after each package */
    /* Write the entries (checked: safe paths the package owns) under root
     * at once, all or nothing, with the same rules as the loader's own
     * writes (directories made as needed, never through a link, never over
     * an existing file). *handled = 0 (and LARDER_OK): the hook cannot
     * write there, and the loader writes the files one system call at a
     * time. The wasm runtime's hook writes its in-memory file system
     * directly (fetch.c). */
    larder_code (*write_files)(void *ctx, const char *root, const larder_tar_entry *entries, size_t n,
                               int *handled, larder_error *err);
    /* The SHA-256 of a file of the cache (larder_cache_file) that the
     * platform computed itself and that has not changed since, as 64
     * lowercase hex digits into out; 0 when it has none, and the loader
     * hashes the file's bytes. The wasm runtime's hook answers for the
     * IDBFS cache, which it hashes with WebCrypto, off the interpreter's
     * thread, once IndexedDB has given it (larder-runtime.js). */
    int (*file_sha256)(void *ctx, const char *path, char out[LARDER_SHA256_HEX]);
} larder_loader_config;

typedef struct larder_loader larder_loader;

#define LARDER_REPORT_MAX 256
typedef struct larder_install_report {
    size_t n;                                   /* packages installed by the call */
    const larder_package *packages[LARDER_REPORT_MAX];
    int from_cache[LARDER_REPORT_MAX];
} larder_install_report;

/* Where the loader's time went, summed over its life: milliseconds of the
 * monotonic clock per step of an install, and what the steps handled. */
typedef struct larder_loader_stats {
    uint64_t packages;        /* installed */
    uint64_t from_cache;      /* of which the archive came from the cache */
    uint64_t files;           /* regular files unpacked (in wasm, a big directory's when first looked into) */
    uint64_t archive_bytes;   /* compressed, fetched or cached */
    uint64_t unpacked_bytes;  /* file bytes written */
    uint64_t prefetched;      /* archives announced ahead by larder_loader_prefetch */
    uint64_t hashed_by_platform; /* archives (fetched or cached) whose sha256 the platform computed (compared only) */
    uint64_t handed_ahead;    /* archives the platform had handed over before they were asked for */
    double resolve_ms;        /* dependency closure, prefetch announcement */
    double fetch_ms;          /* archives fetched (waiting for the network) */
    double cache_read_ms;     /* archives read from the cache */
    double verify_ms;         /* size and sha256 of what the fetch hook brought (network or store) */
    double decompress_ms;     /* zstd */
    double unpack_ms;         /* tar parsed, checked, files and directories written */
    double cache_write_ms;    /* fetched archives put in the cache */
} larder_loader_stats;

/* A loader over index (borrowed: it must outlive the loader). */
larder_loader *larder_loader_new(const larder_loader_config *cfg, const larder_index *index,
                                 larder_error *err);
void larder_loader_free(larder_loader *loader);
/* Install names and their dependency closure, dependencies first; packages
 * already installed are skipped. Stops at the first failure, whose message
 * names the package, the URL and the cause; that package leaves no file
 * behind (those before it stay installed). */
larder_code larder_loader_install(larder_loader *loader, const char *const *names, size_t n,
                                  larder_install_report *report, larder_error *err);
/* Announce to the platform (cfg.prefetch) the archives that installing
 * names would fetch, without installing anything: a download started now
 * is ready when an install asks for it. */
larder_code larder_loader_prefetch(larder_loader *loader, const char *const *names, size_t n,
                                   larder_error *err);
int larder_loader_is_installed(const larder_loader *loader, const char *key);
size_t larder_loader_installed(const larder_loader *loader, const char *const **names);
larder_cache *larder_loader_cache(larder_loader *loader);
const larder_loader_stats *larder_loader_get_stats(const larder_loader *loader);

/* Versions of the linked libraries, for diagnostics. */
const char *larder_zstd_version(void);
const char *larder_sodium_version(void);

#endif
