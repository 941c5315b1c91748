/*
 * verify.c - Ed25519 verification and the trust checks of an index
 * (signature, key id, serial, expiry), with libsodium. The same code runs in
 * the wasm loader and in the host tools, so a signature is judged the same
 * way everywhere.
 */
#include "index.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "ed25519:"

/* sodium_init() is idempotent and cheap after the first call. */
static void ensure_sodium(void)
{
    if (sodium_init() < 0)
        abort();  /* only fails when no entropy source exists at all */
}

void larder_pubkey_set_id(larder_pubkey *key)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    ensure_sodium();
    crypto_hash_sha256(digest, key->bytes, sizeof key->bytes);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    memcpy(key->id, hex, LARDER_KEY_ID_HEX);
    key->id[LARDER_KEY_ID_HEX] = '\0';
}

/* Decode base64 text[0..len) (whitespace around it ignored) into exactly
 * want bytes. */
static int decode_exact(const char *text, size_t len, unsigned char *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    while (len && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    if (sodium_base642bin(out, want, text, len, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    return got == want && end == text + len;
}

larder_code larder_pubkey_parse(const char *text, larder_pubkey *key, larder_error *err)
{
    while (isspace((unsigned char)*text))
        text++;
    if (strncmp(text, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
        return larder_fail(err, LARDER_EINVAL,
                           "public key must start with \"" KEY_PREFIX "\" (as `larder-mirror keys "
                           "--public` prints it)");
    text += strlen(KEY_PREFIX);
    if (!decode_exact(text, strlen(text), key->bytes, sizeof key->bytes))
        return larder_fail(err, LARDER_EINVAL,
                           "public key is not base64 of %d bytes after \"" KEY_PREFIX "\"",
                           LARDER_PUBKEY_BYTES);
    larder_pubkey_set_id(key);
    return LARDER_OK;
}

void larder_pubkey_format(const larder_pubkey *key, char out[LARDER_PUBKEY_TEXT])
{
    memcpy(out, KEY_PREFIX, strlen(KEY_PREFIX));
    sodium_bin2base64(out + strlen(KEY_PREFIX), LARDER_PUBKEY_TEXT - strlen(KEY_PREFIX), key->bytes,
                      sizeof key->bytes, sodium_base64_VARIANT_ORIGINAL);
}

larder_code larder_signature_verify(const void *msg, size_t len, const char *sig, size_t sig_len,
                                    const larder_pubkey *key, larder_error *err)
{
    unsigned char raw[LARDER_SIG_BYTES];
    ensure_sodium();
    if (!sig)
        return larder_fail(err, LARDER_ESIGNATURE,
                           "the index has no signature (index.json.sig); sign it with "
                           "`larder-mirror sign`");
    if (!decode_exact(sig, sig_len, raw, sizeof raw))
        return larder_fail(err, LARDER_ESIGNATURE,
                           "index.json.sig is malformed: expected base64 of a %d-byte Ed25519 "
                           "signature", LARDER_SIG_BYTES);
    if (crypto_sign_ed25519_verify_detached(raw, msg, len, key->bytes) != 0)
        return larder_fail(err, LARDER_ESIGNATURE,
                           "index signature does not verify with key %s: the index was altered, "
                           "or it was signed by another key", key->id);
    return LARDER_OK;
}

static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        *out = *out * 10 + (s[i] - '0');
    }
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

larder_code larder_parse_time(const char *text, int64_t *out, larder_error *err)
{
    int y, mo, d, h, mi, s;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(text) != 20 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo)
        || text[7] != '-' || !digits(text + 8, 2, &d) || text[10] != 'T' || !digits(text + 11, 2, &h)
        || text[13] != ':' || !digits(text + 14, 2, &mi) || text[16] != ':'
        || !digits(text + 17, 2, &s) || text[19] != 'Z' || mo < 1 || mo > 12 || d < 1
        || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return larder_fail(err, LARDER_EINVAL, "time \"%.40s\" is not of the form YYYY-MM-DDTHH:MM:SSZ",
                           text);
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return LARDER_OK;
}

static larder_code check_fresh(const larder_index *index, const larder_trust *trust, larder_error *err)
{
    const larder_index_info *info = larder_index_get_info(index);
    if (trust->key && (!info->key_id || strcmp(info->key_id, trust->key->id) != 0))
        return larder_fail(err, LARDER_ESIGNATURE,
                           "the index names key %s but the pinned key is %s",
                           info->key_id ? info->key_id : "(none)", trust->key->id);
    if (info->serial < trust->min_serial)
        return larder_fail(err, LARDER_ESTALE,
                           "index serial %llu is older than serial %llu seen before: refusing a "
                           "rollback (a stale mirror or cache, or an attack)",
                           (unsigned long long)info->serial, (unsigned long long)trust->min_serial);
    if (info->expires) {
        int64_t expires;
        if (larder_parse_time(info->expires, &expires, err) != LARDER_OK)
            return larder_prefix(err, LARDER_EINVAL, "index: bad \"expires\"");
        if (expires <= trust->now)
            return larder_fail(err, LARDER_ESTALE,
                               "the index expired at %s; the mirror must re-sign it "
                               "(`larder-mirror sign`)", info->expires);
    }
    return LARDER_OK;
}

larder_index *larder_index_open(const char *json, size_t len, const char *sig, size_t sig_len,
                                const larder_trust *trust, larder_error *err)
{
    if (!trust->key && !trust->allow_unsigned) {
        larder_fail(err, LARDER_ESIGNATURE, "no public key is pinned and unsigned indexes are not allowed");
        return NULL;
    }
    if (trust->key && larder_signature_verify(json, len, sig, sig_len, trust->key, err) != LARDER_OK)
        return NULL;
    larder_index *index = larder_index_parse(json, len, err);
    if (index && check_fresh(index, trust, err) != LARDER_OK) {
        larder_index_free(index);
        return NULL;
    }
    return index;
}
