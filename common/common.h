/*
 * common.h - the one public header of common/: what every component of
 * larder shares, compiled from the same sources for the wasm loader and the
 * host tools. It depends on nothing of ours (index/ builds on it; the
 * loader, builder and mirror reach it through index/index.h):
 *   - the error type every failure is reported with (error.c);
 *   - SHA-256 as the index names archives by it (digest.c, libsodium);
 *   - the path rule for files inside packages (path.c);
 *   - file helpers: read a whole file, write one atomically, mkdir -p,
 *     rm -rf, a temporary directory (file.c);
 *   - the target's constants: the runtime's CPython, emscripten and layout.
 */
#ifndef LARDER_COMMON_H
#define LARDER_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------
 * The target: what the runtime is. The builder builds for it, the mirror
 * writes it into index.json's info, the loader checks an index against it
 * (loader/python/larder.py reads these from _larder, not copies).
 * ------------------------------------------------------------------------ */

#define LARDER_PYTHON_VERSION "3.11.2"    /* the runtime's CPython */
#define LARDER_PYTHON_MINOR "3.11"        /* its bytecode and ABI line */
#define LARDER_EMSCRIPTEN_VERSION "3.1.6" /* Debian 12's emscripten */
#define LARDER_PLATFORM "emscripten_3_1_6"
#define LARDER_ARCH "wasm32"
/* The archive format and install rules the loader reads (index "abi_version"). */
#define LARDER_ABI_VERSION "larder-1"
/* The runtime's filesystem: CPython's prefix, its stdlib and site-packages. */
#define LARDER_TARGET_PREFIX "/usr/local"
#define LARDER_TARGET_STDLIB_DIR LARDER_TARGET_PREFIX "/lib/python" LARDER_PYTHON_MINOR
#define LARDER_TARGET_SITE_DIR LARDER_TARGET_STDLIB_DIR "/site-packages"
/* The host CPython whose bytecode matches the runtime's. */
#define LARDER_HOST_PYTHON "/usr/bin/python" LARDER_PYTHON_MINOR

/* ------------------------------------------------------------------------
 * Errors (error.c)
 * ------------------------------------------------------------------------ */

/* Error codes. Each failure carries one of these and a message that names
 * the cause and what to do; the message is shown to the user as is. */
typedef enum larder_code {
    LARDER_OK = 0,
    LARDER_ENOMEM,      /* out of memory */
    LARDER_EINVAL,      /* bad argument or malformed input */
    LARDER_EINTEGRITY,  /* a digest or signature did not match */
    LARDER_ECORRUPT,    /* compressed or archived data is damaged */
    LARDER_ETOOBIG,     /* data exceeds a declared or configured limit */
    LARDER_EIO,         /* reading or writing a file failed */
    LARDER_EFETCH,      /* a download failed */
    LARDER_ENOTFOUND,   /* a package or dependency is not in the index; a file that does not exist */
    LARDER_ESIGNATURE,  /* an index signature is missing, malformed or wrong */
    LARDER_ESTALE,      /* an index is older than one seen before, or expired */
    LARDER_EBUSY        /* another process holds what this one needs (a repository lock) */
} larder_code;

typedef struct larder_error {
    larder_code code;
    char message[512];
} larder_error;

/* Record a failure in err (which may be NULL) and return code. The message
 * is printf-formatted and truncated to fit. */
larder_code larder_fail(larder_error *err, larder_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Put context before the message already in err ("CONTEXT: message") and
 * set its code; returns code. For a failure passed up from a callee. */
larder_code larder_prefix(larder_error *err, larder_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ------------------------------------------------------------------------
 * Digests (digest.c, libsodium): what the index names packages by
 * ------------------------------------------------------------------------ */

#define LARDER_SHA256_BYTES 32
#define LARDER_SHA256_HEX (2 * LARDER_SHA256_BYTES + 1)

/* SHA-256 of data[0..len) as lowercase hex into hex (LARDER_SHA256_HEX bytes).
 * libsodium must be initialised (sodium_init, larder_loader_init). */
void larder_sha256_hex(const void *data, size_t len, char hex[LARDER_SHA256_HEX]);

/* 1 when s is 64 lowercase hex digits, the form the index uses; else 0. */
int larder_is_sha256_hex(const char *s);

/* Compare data's SHA-256 with expected_hex (64 lowercase hex digits).
 * LARDER_OK when they match, LARDER_EINTEGRITY (message names both digests
 * and `what`) when not, LARDER_EINVAL when expected_hex is malformed. */
larder_code larder_verify_sha256(const void *data, size_t len, const char *expected_hex,
                                 const char *what, larder_error *err);

/* The same check of a digest computed elsewhere (actual_hex: the SHA-256 of
 * the data as 64 lowercase hex digits): LARDER_EINTEGRITY when it
 * differs from expected_hex, LARDER_EINVAL when either is malformed. */
larder_code larder_check_sha256(const char *actual_hex, const char *expected_hex, const char *what,
                                larder_error *err);

/* ------------------------------------------------------------------------
 * Paths (path.c)
 * ------------------------------------------------------------------------ */

/* 1 when path (inside a package) is relative, at most 4000 bytes, without
 * backslashes and without empty, "." or ".." components: the rule the
 * builder writes archives by and the loader unpacks them by. */
int larder_path_is_safe(const char *path);

/* 1 if s ends with suffix. */
int larder_ends_with(const char *s, const char *suffix);

/* ------------------------------------------------------------------------
 * Files (file.c). Each names the path and the system's reason on failure.
 * ------------------------------------------------------------------------ */

/* Read a whole regular file of at most max bytes into *data (malloc'd, with
 * a NUL after the last byte, so text can be used as a string) and its size
 * into *size. LARDER_ENOTFOUND when it does not exist, LARDER_ETOOBIG over
 * max, LARDER_EIO otherwise. */
larder_code larder_read_file(const char *path, uint64_t max, unsigned char **data, size_t *size,
                             larder_error *err);

/* Flags of larder_write_file. */
#define LARDER_WRITE_EXCLUSIVE 1  /* fail with LARDER_EIO (EEXIST) if path exists: never replace */
#define LARDER_WRITE_NOSYNC 2     /* no fsync: scratch files a crash throws away anyway */

/* Write data to path atomically: into a temporary file beside it (mode
 * `mode`), flushed to disk (fsync, unless LARDER_WRITE_NOSYNC), then renamed over path (or, with
 * LARDER_WRITE_EXCLUSIVE, linked to path, which must not exist). Readers
 * see the old file or the new one, never a part; on failure nothing is
 * left behind. */
larder_code larder_write_file(const char *path, const void *data, size_t len, mode_t mode, int flags,
                              larder_error *err);

/* Copy the file src to dest the same way (streamed, not read whole). */
larder_code larder_copy_file(const char *src, const char *dest, larder_error *err);

/* Create dir and its missing parents (mode 0755); existing ones are fine. */
larder_code larder_mkdir_p(const char *dir, larder_error *err);

/* Remove path and, if it is a directory, everything under it, not
 * following symbolic links. A path that does not exist is fine. */
larder_code larder_rm_rf(const char *path, larder_error *err);

/* Create a new private directory named PARENT/PREFIX-XXXXXX into out. */
larder_code larder_mkdtemp(const char *parent, const char *prefix, char *out, size_t size, larder_error *err);

/* Make room for one more element in *items (*n used of *cap, each size
 * bytes), doubling; 0 when out of memory (the array is unchanged). */
static inline int larder_grow_array(void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 1;
    size_t more = *cap ? *cap * 2 : 32;
    void *p = realloc(*(void **)items, more * size);
    if (!p)
        return 0;
    *(void **)items = p;
    *cap = more;
    return 1;
}

#endif
