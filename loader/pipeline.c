/* pipeline.c - libsodium's initialisation and decompression (libzstd); the
 * digests are the index's (index/digest.c). */
#include "loader.h"

#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_d_forceIgnoreChecksum (libzstd >= 1.4.7) */
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

larder_code larder_zstd_decompress(const void *frame, size_t frame_len, size_t max_size, int verified,
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
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!buf || !dctx) {
        free(buf);
        ZSTD_freeDCtx(dctx);
        return larder_fail(err, LARDER_ENOMEM, "cannot allocate %llu bytes to decompress", size);
    }
    size_t got = ZSTD_DCtx_setParameter(dctx, ZSTD_d_forceIgnoreChecksum,
                                        verified ? ZSTD_d_ignoreChecksum : ZSTD_d_validateChecksum);
    if (!ZSTD_isError(got))
        got = ZSTD_decompressDCtx(dctx, buf, (size_t)size, frame, frame_len);
    ZSTD_freeDCtx(dctx);
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
