/*
 * sign.c - Ed25519 signing keys with OpenSSL's libcrypto (host only: the
 * mirror signs, clients only verify, see verify.c). Private keys are PKCS#8
 * PEM files readable by their owner only.
 */
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

struct larder_signing_key {
    EVP_PKEY *pkey;
};

static larder_code ssl_fail(larder_error *err, larder_code code, const char *what)
{
    char reason[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    return larder_fail(err, code, "%s: %s", what, e ? reason : "unknown OpenSSL error");
}

larder_code larder_key_generate(const char *path, larder_error *err)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey)
        return ssl_fail(err, LARDER_EINVAL, "cannot generate an Ed25519 key");
    BIO *mem = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long len = 0;
    int ok = mem && PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) == 1
             && (len = BIO_get_mem_data(mem, &pem)) > 0;
    EVP_PKEY_free(pkey);
    larder_code rc = ok ? larder_write_file(path, pem, (size_t)len, 0600, LARDER_WRITE_EXCLUSIVE, err)
                        : ssl_fail(err, LARDER_EINVAL, "cannot encode the new key");
    /* the private key's text is not left in freed memory */
    if (pem && len > 0)
        OPENSSL_cleanse(pem, (size_t)len);
    BIO_free(mem);
    if (rc != LARDER_OK)
        larder_prefix(err, rc, "key file %s", path);
    return rc;
}

larder_signing_key *larder_key_load(const char *path, larder_error *err)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f) {
        larder_fail(err, LARDER_EIO, "cannot open key file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fclose(f);
        larder_fail(err, LARDER_EINVAL, "key file %s is readable by others (mode %03o); "
                    "run chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey) {
        ssl_fail(err, LARDER_EINVAL, "key file is not a PEM private key");
        return NULL;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        larder_fail(err, LARDER_EINVAL, "key file %s does not hold an Ed25519 key", path);
        return NULL;
    }
    larder_signing_key *key = malloc(sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        larder_fail(err, LARDER_ENOMEM, "out of memory");
        return NULL;
    }
    key->pkey = pkey;
    return key;
}

void larder_key_free(larder_signing_key *key)
{
    if (key) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

larder_code larder_key_public(const larder_signing_key *key, larder_pubkey *pub, larder_error *err)
{
    size_t len = sizeof pub->bytes;
    if (EVP_PKEY_get_raw_public_key(key->pkey, pub->bytes, &len) != 1 || len != sizeof pub->bytes)
        return ssl_fail(err, LARDER_EINVAL, "cannot read the public key");
    larder_pubkey_set_id(pub);
    return LARDER_OK;
}

larder_code larder_sign(const larder_signing_key *key, const void *msg, size_t len,
                        char sig[LARDER_SIG_TEXT], larder_error *err)
{
    unsigned char raw[LARDER_SIG_BYTES];
    size_t raw_len = sizeof raw;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1
             && EVP_DigestSign(ctx, raw, &raw_len, msg, len) == 1 && raw_len == sizeof raw;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ssl_fail(err, LARDER_EINVAL, "signing failed");
    if (EVP_EncodeBlock((unsigned char *)sig, raw, (int)sizeof raw) != LARDER_SIG_TEXT - 1)
        return larder_fail(err, LARDER_EINVAL, "signature encoding failed");
    return LARDER_OK;
}
