/* pipeline.c - verification (SHA-256, libsodium) and decompression (libzstd). */
#include "loader.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

larder_code larder_loader_init(larder_error *err)
{
    if (sodium_init() < 0)
        return larder_fail(err, LARDER_EINVAL, "libsodium failed to initialise");
    return LARDER_OK;
}

void larder_sha256_hex(const void *data, size_t len, char hex[LARDER_SHA256_HEX])
{
    unsigned char digest[LARDER_SHA256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(hex, LARDER_SHA256_HEX, digest, sizeof digest);
}

static int is_sha256_hex(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 2 * LARDER_SHA256_BYTES;
}

larder_code larder_verify_sha256(const void *data, size_t len, const char *expected_hex,
                                 const char *what, larder_error *err)
{
    char actual[LARDER_SHA256_HEX];
    if (!expected_hex || !is_sha256_hex(expected_hex))
        return larder_fail(err, LARDER_EINVAL,
                           "%s: expected sha256 is not 64 lowercase hex digits", what);
    larder_sha256_hex(data, len, actual);
    if (strcmp(actual, expected_hex) != 0)
        return larder_fail(err, LARDER_EINTEGRITY,
                           "%s: sha256 mismatch (expected %s, got %s); the data was "
                           "altered or truncated in transit or storage",
                           what, expected_hex, actual);
    return LARDER_OK;
}

larder_code larder_zstd_decompress(const void *frame, size_t frame_len, size_t max_size,
                                   void **out, size_t *out_len, larder_error *err)
{
    *out = NULL;
    *out_len = 0;
    unsigned long long size = ZSTD_getFrameContentSize(frame, frame_len);
    if (size == ZSTD_CONTENTSIZE_ERROR)
        return larder_fail(err, LARDER_ECORRUPT,
                           "not a zstd frame (%zu bytes; bad magic or truncated header)", frame_len);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN)
        return larder_fail(err, LARDER_ECORRUPT,
                           "zstd frame does not declare its content size; "
                           "rebuild the archive with larder-build");
    if (size > max_size)
        return larder_fail(err, LARDER_ETOOBIG,
                           "zstd frame declares %llu bytes, above the limit of %zu", size, max_size);
    size_t compressed = ZSTD_findFrameCompressedSize(frame, frame_len);
    if (ZSTD_isError(compressed))
        return larder_fail(err, LARDER_ECORRUPT, "zstd frame is damaged or truncated: %s",
                           ZSTD_getErrorName(compressed));
    if (compressed != frame_len)
        return larder_fail(err, LARDER_ECORRUPT,
                           "%zu bytes of trailing data after the zstd frame", frame_len - compressed);
    void *buf = malloc(size ? (size_t)size : 1);
    if (!buf)
        return larder_fail(err, LARDER_ENOMEM, "cannot allocate %llu bytes to decompress", size);
    size_t got = ZSTD_decompress(buf, (size_t)size, frame, frame_len);
    if (ZSTD_isError(got) || got != size) {
        free(buf);
        return larder_fail(err, LARDER_ECORRUPT, "zstd decompression failed: %s",
                           ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size differs from header");
    }
    *out = buf;
    *out_len = got;
    return LARDER_OK;
}

const char *larder_zstd_version(void) { return ZSTD_versionString(); }
const char *larder_sodium_version(void) { return sodium_version_string(); }
