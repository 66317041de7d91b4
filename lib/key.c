/* SPDX-License-Identifier: Apache-2.0 */
/* lib/key.c -- TUF public keys: parse key objects, verify signatures
 * (ed25519 with libsodium; ECDSA P-256/SHA-256 and RSA-PSS/SHA-256 with
 * OpenSSL), compute key ids. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <zupd/hash.h>

#include "zu/json.h"
#include "zu/key.h"

#define MAX_PEM_LEN 16384  /* an RSA-16384 public key PEM is ~2.8 KiB */
#define MAX_SIG_BYTES 2048 /* RSA-16384 */

struct zu_key {
    enum zu_key_type type;
    uint8_t ed25519[crypto_sign_PUBLICKEYBYTES];
    EVP_PKEY *pkey; /* ECDSA, RSA */
};

enum zu_key_type
zu_key_type(const struct zu_key *k)
{
    return k->type;
}

void
zu_key_free(struct zu_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

bool
zu_key_equal(const struct zu_key *a, const struct zu_key *b)
{
    if (a == NULL || b == NULL || a->type != b->type || a->type == ZU_KEY_UNKNOWN)
        return false;
    if (a->type == ZU_KEY_ED25519)
        return sodium_memcmp(a->ed25519, b->ed25519, sizeof(a->ed25519)) == 0;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return a->pkey != NULL && b->pkey != NULL && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
#else
    return a->pkey != NULL && b->pkey != NULL && EVP_PKEY_cmp(a->pkey, b->pkey) == 1;
#endif
}

static EVP_PKEY *
pem_pubkey(const char *pem, size_t len)
{
    BIO *bio;
    EVP_PKEY *pk;

    if (len == 0 || len > MAX_PEM_LEN)
        return NULL;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return NULL;
    pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pk;
}

static bool
is_p256(EVP_PKEY *pk)
{
    char curve[64];
    size_t n = 0;

    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
        return false;
    if (EVP_PKEY_get_utf8_string_param(pk, "group", curve, sizeof(curve), &n) != 1)
        return false;
    return strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0;
}

int
zu_key_from_json(const json_t *obj, struct zu_key **out)
{
    struct zu_key *k = NULL;
    const char *keytype, *scheme, *pub;
    json_t *keyval;
    size_t publen;
    int rc = ZUPD_E_FORMAT;

    *out = NULL;
    if (!json_is_object(obj) || zu_json_get_str(obj, "keytype", &keytype) != ZUPD_OK ||
        zu_json_get_str(obj, "scheme", &scheme) != ZUPD_OK ||
        zu_json_get_obj(obj, "keyval", &keyval) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ZUPD_E_NOMEM;
    k->type = ZU_KEY_UNKNOWN;
    if (strcmp(keytype, "ed25519") == 0 && strcmp(scheme, "ed25519") == 0)
        k->type = ZU_KEY_ED25519;
    else if ((strcmp(keytype, "ecdsa") == 0 || strcmp(keytype, "ecdsa-sha2-nistp256") == 0) &&
             strcmp(scheme, "ecdsa-sha2-nistp256") == 0)
        k->type = ZU_KEY_ECDSA_P256;
    else if (strcmp(keytype, "rsa") == 0 && strcmp(scheme, "rsassa-pss-sha256") == 0)
        k->type = ZU_KEY_RSA_PSS;
    if (k->type == ZU_KEY_UNKNOWN) {
        /* kept so the key table is complete; never verifies anything */
        *out = k;
        return ZUPD_OK;
    }
    if (zu_json_get_str(keyval, "public", &pub) != ZUPD_OK)
        goto out;
    publen = json_string_length(json_object_get(keyval, "public"));
    switch (k->type) {
    case ZU_KEY_ED25519:
        if (zupd_hex_decode(k->ed25519, sizeof(k->ed25519), pub, publen) != ZUPD_OK)
            goto out;
        break;
    case ZU_KEY_ECDSA_P256:
        k->pkey = pem_pubkey(pub, publen);
        if (k->pkey == NULL || !is_p256(k->pkey))
            goto out;
        break;
    case ZU_KEY_RSA_PSS:
        k->pkey = pem_pubkey(pub, publen);
        if (k->pkey == NULL || EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA ||
            EVP_PKEY_get_bits(k->pkey) < 2048)
            goto out;
        break;
    case ZU_KEY_UNKNOWN:
        break;
    }
    *out = k;
    k = NULL;
    rc = ZUPD_OK;
out:
    zu_key_free(k);
    return rc;
}

static int
verify_evp(const struct zu_key *k, const uint8_t *msg, size_t len, const uint8_t *sig,
           size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int rc = ZUPD_E_SIG;

    if (md == NULL)
        return ZUPD_E_NOMEM;
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k->pkey) != 1)
        goto out;
    if (k->type == ZU_KEY_RSA_PSS) {
        /* any salt length: securesystemslib signs with the maximum, others
         * with the digest length */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)
            goto out;
    }
    if (EVP_DigestVerify(md, sig, siglen, msg, len) == 1)
        rc = ZUPD_OK;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

int
zu_key_verify(const struct zu_key *k, const uint8_t *msg, size_t len, const char *sig_hex)
{
    uint8_t *sig = NULL;
    size_t hexlen, siglen;
    int rc = ZUPD_E_SIG;

    if (k == NULL || sig_hex == NULL || (msg == NULL && len > 0))
        return ZUPD_E_MISUSE;
    if (k->type == ZU_KEY_UNKNOWN)
        return ZUPD_E_KEYTYPE;
    hexlen = strlen(sig_hex);
    siglen = hexlen / 2;
    if (hexlen % 2 != 0 || siglen == 0 || siglen > MAX_SIG_BYTES)
        return ZUPD_E_SIG;
    sig = malloc(siglen);
    if (sig == NULL)
        return ZUPD_E_NOMEM;
    if (zupd_hex_decode(sig, siglen, sig_hex, hexlen) != ZUPD_OK)
        goto out;
    switch (k->type) {
    case ZU_KEY_ED25519:
        if (siglen == crypto_sign_BYTES &&
            crypto_sign_verify_detached(sig, msg, len, k->ed25519) == 0)
            rc = ZUPD_OK;
        break;
    case ZU_KEY_ECDSA_P256:
    case ZU_KEY_RSA_PSS:
        ERR_clear_error();
        rc = verify_evp(k, msg, len, sig, siglen);
        ERR_clear_error();
        break;
    case ZU_KEY_UNKNOWN:
        rc = ZUPD_E_KEYTYPE;
        break;
    }
out:
    free(sig);
    return rc;
}

int
zu_keyid_compute(const json_t *obj, char *hex, size_t hex_cap)
{
    uint8_t *canon = NULL, digest[ZUPD_SHA256_LEN];
    size_t len = 0, dlen = 0;
    int rc;

    if (hex_cap < 2 * ZUPD_SHA256_LEN + 1)
        return ZUPD_E_MISUSE;
    hex[0] = 0;
    rc = zu_cjson_dump(obj, 1u << 20, &canon, &len);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, canon, len, digest, sizeof(digest), &dlen);
    if (rc == ZUPD_OK)
        zupd_hex_encode(hex, hex_cap, digest, dlen);
    free(canon);
    return rc;
}
