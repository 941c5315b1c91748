/* test_pipeline.c - loader/pipeline.c on the host: SHA-256 and zstd, with
 * the failure paths (mismatch, malformed digest, truncation, limits). */
#include <stdlib.h>
#include <zstd.h>

#include "../../loader/loader.h"
#include "tap.h"

static void test_sha256(void)
{
    char hex[LARDER_SHA256_HEX];
    larder_error err = {0};
    larder_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256('abc') is the FIPS 180-2 test vector");
    CHECK(larder_verify_sha256("abc", 3, hex, "abc", &err) == LARDER_OK, "matching digest verifies");
    CHECK(larder_verify_sha256("abd", 3, hex, "pkg.tar.zst", &err) == LARDER_EINTEGRITY,
          "altered data is an integrity error");
    CHECK_STR_HAS(err.message, "pkg.tar.zst: sha256 mismatch (expected ba7816bf", "message names what and both digests");
    CHECK(larder_verify_sha256("abc", 3, "BA7816BF", "x", &err) == LARDER_EINVAL,
          "a malformed expected digest is refused");
    CHECK(larder_verify_sha256("abc", 3, NULL, "x", &err) == LARDER_EINVAL, "a missing digest is refused");

    /* a digest the platform computed (the fetch helper's WebCrypto) is compared the same way */
    CHECK(larder_check_sha256(hex, hex, "archive", &err) == LARDER_OK, "an equal computed digest checks");
    char other[LARDER_SHA256_HEX];
    larder_sha256_hex("abd", 3, other);
    CHECK(larder_check_sha256(other, hex, "archive", &err) == LARDER_EINTEGRITY,
          "a computed digest that differs is an integrity error");
    CHECK_STR_HAS(err.message, "archive: sha256 mismatch (expected ba7816bf", "message names what and both digests");
    CHECK(larder_check_sha256("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", hex, "archive", &err)
              == LARDER_EINVAL && larder_check_sha256(hex, "ba78", "archive", &err) == LARDER_EINVAL
              && larder_check_sha256(NULL, hex, "archive", &err) == LARDER_EINVAL,
          "a computed or expected digest that is not 64 lowercase hex digits is refused, never taken as a match");
    CHECK_STR_HAS(err.message, "computed sha256 is not 64 lowercase hex digits", "the malformed one is named");
}

static void test_zstd(void)
{
    size_t n = 100000, bound = ZSTD_compressBound(n);
    char *data = malloc(n), *frame = malloc(bound + 8);
    void *out;
    size_t out_len;
    larder_error err = {0};
    for (size_t i = 0; i < n; i++)
        data[i] = (char)("larder"[i % 6] + (i % 97 == 0));
    size_t flen = ZSTD_compress(frame, bound, data, n, 3);
    CHECK(!ZSTD_isError(flen), "host zstd compresses the sample");

    CHECK(larder_zstd_decompress(frame, flen, n, 0, &out, &out_len, &err) == LARDER_OK && out_len == n
              && memcmp(out, data, n) == 0, "a frame decompresses to the original");
    free(out);
    CHECK(larder_zstd_decompress(frame, flen, n - 1, 0, &out, &out_len, &err) == LARDER_ETOOBIG && !out,
          "a frame above the size limit is refused before decompressing");
    CHECK(larder_zstd_decompress(frame, flen - 5, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT && !out,
          "a truncated frame is corrupt");
    CHECK_STR_HAS(err.message, "truncated", "truncation is named");
    memcpy(frame + flen, "junk", 4);
    CHECK(larder_zstd_decompress(frame, flen + 4, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT,
          "trailing bytes after the frame are refused");
    CHECK(larder_zstd_decompress("hello, world", 12, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT,
          "data that is not zstd is refused");

    /* with a content checksum (as larder-build writes archives), damage in
     * the middle of the frame is detected by zstd itself */
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    flen = ZSTD_compress2(cctx, frame, bound, data, n);
    frame[flen / 2] ^= 0x55;
    CHECK(larder_zstd_decompress(frame, flen, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT && !out,
          "a damaged checksummed frame never yields output");
    /* only the checksum wrong: refused, unless the caller verified the bytes
     * whole (an archive's sha256): then it is not checked again */
    frame[flen / 2] ^= 0x55;
    frame[flen - 1] ^= 0x01;
    CHECK(larder_zstd_decompress(frame, flen, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT && !out,
          "a wrong frame checksum is refused");
    CHECK(larder_zstd_decompress(frame, flen, n, 1, &out, &out_len, &err) == LARDER_OK && out_len == n
              && memcmp(out, data, n) == 0,
          "verified by the caller: the frame's checksum is not checked again");
    free(out);

    /* a frame made by the streaming API without a pledged size has no
     * content size: larder archives must always declare it */
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_inBuffer in = {data, n, 0};
    ZSTD_outBuffer ob = {frame, bound, 0};
    size_t rc = ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue);
    ZSTD_inBuffer none = {NULL, 0, 0};
    if (!ZSTD_isError(rc))
        rc = ZSTD_compressStream2(cctx, &ob, &none, ZSTD_e_end);
    ZSTD_freeCCtx(cctx);
    CHECK(rc == 0, "streaming compression finished");
    CHECK(larder_zstd_decompress(frame, ob.pos, n, 0, &out, &out_len, &err) == LARDER_ECORRUPT,
          "a frame without a declared content size is refused");
    free(out);
    CHECK_STR_HAS(err.message, "does not declare its content size", "the cause is named");
    free(data);
    free(frame);
}

int main(void)
{
    larder_error err;
    if (larder_loader_init(&err) != LARDER_OK) {
        printf("Bail out! %s\n", err.message);
        return 1;
    }
    test_sha256();
    test_zstd();
    return tap_done();
}
