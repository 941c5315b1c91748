/*
 * index.h - the larder index library: the one public header of index/.
 *
 * index/ is shared by every other component (the loader in wasm; builder and
 * mirror on the host) and is compiled from the same sources for both:
 *   - the index model: index.json (a superset of Pyodide's pyodide-lock.json)
 *     parsed into packages, looked up by name or by import name;
 *   - dependency resolution (closure over "depends", dependencies first);
 *   - Ed25519 signatures: verification everywhere (libsodium), signing and
 *     key generation on the host only (OpenSSL, sign.c).
 * It builds on common/ (common.h: errors, digests, paths, files, the
 * target's constants), which every component reaches through this header.
 * Formats are specified in docs/design.md ("Formats").
 */
#ifndef LARDER_INDEX_H
#define LARDER_INDEX_H

#include "../common/common.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * The index model
 * ------------------------------------------------------------------------ */

typedef struct larder_index larder_index;

/* Longest package or import name the index accepts. */
#define LARDER_NAME_MAX 200

/* One package entry. Strings point into the index and live as long as it.
 * Absent optional fields are NULL (strings) or 0 (sizes); install_dir
 * defaults to "site" and package_type to "package". */
typedef struct larder_package {
    const char *name;          /* as written in the index */
    const char *key;           /* normalised name (PEP 503): lookup key */
    const char *version;
    const char *file_name;     /* archive name, relative to the index URL */
    const char *install_dir;   /* "site", "stdlib", "dynlib", ... */
    const char *sha256;        /* 64 lowercase hex digits */
    const char *package_type;  /* "package", "cpython_module", "shared_library" */
    uint64_t size;             /* archive bytes (0: not declared) */
    uint64_t unpacked_size;    /* bytes of its files once unpacked (0: not declared) */
    uint64_t entries;          /* files and directories in its tar (0: not declared) */
    const char **imports;      /* top-level import names */
    size_t n_imports;
    const char **depends;      /* names of packages this one needs */
    size_t n_depends;
    const char **shared_libraries;
    size_t n_shared_libraries;
} larder_package;

/* The "info" object. serial is 0 and the strings NULL when absent (a plain
 * pyodide-lock.json has no serial, expires or key_id). */
typedef struct larder_index_info {
    const char *arch, *platform, *python, *abi_version;
    const char *generated, *expires, *key_id;
    uint64_t serial;
} larder_index_info;

/* Parse index.json or pyodide-lock.json bytes (need not be NUL-terminated).
 * Unknown fields are accepted and ignored; a malformed document or entry
 * (missing name/version/file_name/sha256, a file_name with a path, a bad
 * digest, duplicate names) is an LARDER_EINVAL error naming the entry and
 * the field. Returns NULL on error. */
larder_index *larder_index_parse(const char *json, size_t len, larder_error *err);
void larder_index_free(larder_index *index);

const larder_index_info *larder_index_get_info(const larder_index *index);

/* Packages, sorted by key; i < larder_index_count(). */
size_t larder_index_count(const larder_index *index);
const larder_package *larder_index_at(const larder_index *index, size_t i);

/* Look a package up by name (normalised first); NULL if absent. */
const larder_package *larder_index_find(const larder_index *index, const char *name);

/* The package that provides top-level module `module` (a dotted name's first
 * part is used), or NULL. When several do, the one whose key equals the
 * normalised module name wins, then the first by key. */
const larder_package *larder_index_find_import(const larder_index *index, const char *module);

/* Normalise a project name (PEP 503: lowercase, runs of -_. become "-")
 * into out (size outsize); returns out, truncated to fit. */
char *larder_normalize_name(const char *name, char *out, size_t outsize);

/* Dependency closure of names[0..n): every package they need, transitively,
 * each once, dependencies before their dependents, in a stable order (a
 * depth-first walk in the order names and "depends" lists are written).
 * Cycles are allowed and broken where they close. *out is a malloc'd array
 * of *n_out pointers (free() it). A name missing from the index is a
 * LARDER_ENOTFOUND error naming the chain that needs it
 * ("matplotlib -> kiwisolver"). */
larder_code larder_index_resolve(const larder_index *index, const char *const *names, size_t n,
                                 const larder_package ***out, size_t *n_out, larder_error *err);

/* ------------------------------------------------------------------------
 * Signatures and trust (verify.c: libsodium, host and wasm)
 * ------------------------------------------------------------------------ */

#define LARDER_PUBKEY_BYTES 32
#define LARDER_SIG_BYTES 64
#define LARDER_KEY_ID_HEX 16
/* "ed25519:" + base64 of 32 bytes, NUL-terminated */
#define LARDER_PUBKEY_TEXT 53
/* base64 of 64 bytes, NUL-terminated */
#define LARDER_SIG_TEXT 89

typedef struct larder_pubkey {
    unsigned char bytes[LARDER_PUBKEY_BYTES];
    char id[LARDER_KEY_ID_HEX + 1];  /* first 16 hex digits of sha256(bytes) */
} larder_pubkey;

/* Parse a public key written as "ed25519:BASE64" (surrounding whitespace is
 * ignored), as `larder-mirror keys --public` prints it. */
larder_code larder_pubkey_parse(const char *text, larder_pubkey *key, larder_error *err);
/* Format a key as "ed25519:BASE64" into out (LARDER_PUBKEY_TEXT bytes). */
void larder_pubkey_format(const larder_pubkey *key, char out[LARDER_PUBKEY_TEXT]);
/* Set key->id from key->bytes. */
void larder_pubkey_set_id(larder_pubkey *key);

/* Verify sig (the contents of index.json.sig: base64 of a 64-byte Ed25519
 * signature, trailing whitespace allowed) over the exact bytes msg[0..len). */
larder_code larder_signature_verify(const void *msg, size_t len, const char *sig, size_t sig_len,
                                    const larder_pubkey *key, larder_error *err);

/* What a client trusts when it opens an index. */
typedef struct larder_trust {
    const larder_pubkey *key;  /* the pinned key; NULL only with allow_unsigned */
    int allow_unsigned;        /* accept an index without a (valid) key: tests, local dev */
    uint64_t min_serial;       /* highest serial seen before: older is a rollback */
    int64_t now;               /* seconds since the epoch, for "expires" */
} larder_trust;

/* Verify and parse an index the way a client must: the signature over the
 * exact bytes with the pinned key (LARDER_ESIGNATURE when sig is NULL,
 * malformed or wrong, unless allow_unsigned and no key), the index's key_id
 * equal to the key's (LARDER_ESIGNATURE), serial >= min_serial and expires
 * (when present) in the future (LARDER_ESTALE), then larder_index_parse. */
larder_index *larder_index_open(const char *json, size_t len, const char *sig, size_t sig_len,
                                const larder_trust *trust, larder_error *err);

/* Parse an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" into *out seconds. */
larder_code larder_parse_time(const char *text, int64_t *out, larder_error *err);

/* ------------------------------------------------------------------------
 * Signing keys (sign.c: OpenSSL libcrypto, host only)
 * ------------------------------------------------------------------------ */

typedef struct larder_signing_key larder_signing_key;

/* Generate an Ed25519 key and write it to path as PKCS#8 PEM, created with
 * mode 0600 (an existing file is an error: keys are never overwritten). */
larder_code larder_key_generate(const char *path, larder_error *err);
/* Load a private key written by larder_key_generate. */
larder_signing_key *larder_key_load(const char *path, larder_error *err);
void larder_key_free(larder_signing_key *key);
/* The public half of a signing key, with its id. */
larder_code larder_key_public(const larder_signing_key *key, larder_pubkey *pub, larder_error *err);
/* Sign msg[0..len) into sig as base64 text (LARDER_SIG_TEXT bytes). */
larder_code larder_sign(const larder_signing_key *key, const void *msg, size_t len,
                        char sig[LARDER_SIG_TEXT], larder_error *err);

#endif
