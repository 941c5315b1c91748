/* digest.c - SHA-256 as the index names packages by it (libsodium). */
#include "common.h"

#include <sodium.h>
#include <string.h>

void larder_sha256_hex(const void *data, size_t len, char hex[LARDER_SHA256_HEX])
{
    unsigned char digest[LARDER_SHA256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(hex, LARDER_SHA256_HEX, digest, sizeof digest);
}

int larder_is_sha256_hex(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 2 * LARDER_SHA256_BYTES;
}

larder_code larder_check_sha256(const char *actual_hex, const char *expected_hex, const char *what,
                                larder_error *err)
{
    if (!expected_hex || !larder_is_sha256_hex(expected_hex))
        return larder_fail(err, LARDER_EINVAL,
                           "%s: expected sha256 is not 64 lowercase hex digits", what);
    if (!actual_hex || !larder_is_sha256_hex(actual_hex))
        return larder_fail(err, LARDER_EINVAL, "%s: the computed sha256 is not 64 lowercase hex digits", what);
    if (strcmp(actual_hex, expected_hex) != 0)
        return larder_fail(err, LARDER_EINTEGRITY,
                           "%s: sha256 mismatch (expected %s, got %s); the data was "
                           "altered or truncated in transit or storage",
                           what, expected_hex, actual_hex);
    return LARDER_OK;
}

larder_code larder_verify_sha256(const void *data, size_t len, const char *expected_hex,
                                 const char *what, larder_error *err)
{
    char actual[LARDER_SHA256_HEX];
    larder_sha256_hex(data, len, actual);
    return larder_check_sha256(actual, expected_hex, what, err);
}
