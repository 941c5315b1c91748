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

#define LARDER_SHA256_BYTES 32
#define LARDER_SHA256_HEX (2 * LARDER_SHA256_BYTES + 1)

/* Initialise the crypto library. Call once before anything else; returns
 * LARDER_OK or fills err. Safe to call again. */
larder_code larder_loader_init(larder_error *err);

/* SHA-256 of data[0..len) as lowercase hex into hex (LARDER_SHA256_HEX bytes). */
void larder_sha256_hex(const void *data, size_t len, char hex[LARDER_SHA256_HEX]);

/* Compare data's SHA-256 with expected_hex (64 lowercase hex digits).
 * LARDER_OK when they match, LARDER_EINTEGRITY (message names both digests
 * and `what`) when not, LARDER_EINVAL when expected_hex is malformed. */
larder_code larder_verify_sha256(const void *data, size_t len, const char *expected_hex,
                                 const char *what, larder_error *err);

/* Decompress one complete zstd frame. The frame must declare its content
 * size (larder archives always do) and that size must not exceed max_size.
 * On success *out is a malloc'd buffer of *out_len bytes owned by the caller.
 * Truncated, damaged or oversized input gives LARDER_ECORRUPT or
 * LARDER_ETOOBIG with the reason; *out is then NULL. */
larder_code larder_zstd_decompress(const void *frame, size_t frame_len, size_t max_size,
                                   void **out, size_t *out_len, larder_error *err);

/* Versions of the linked libraries, for diagnostics. */
const char *larder_zstd_version(void);
const char *larder_sodium_version(void);

#endif
