/* SPDX-License-Identifier: Apache-2.0 */
/* lib/hash.c -- SHA-256/512 through OpenSSL's EVP (uses the CPU's SHA instructions). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include <zupd/hash.h>

#include "zu/internal.h"

struct zupd_hash {
    EVP_MD_CTX *md;
    enum zupd_hash_alg alg;
};

static const EVP_MD *
md_of(enum zupd_hash_alg alg)
{
    switch (alg) {
    case ZUPD_HASH_SHA256:
        return EVP_sha256();
    case ZUPD_HASH_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

size_t
zupd_hash_len(enum zupd_hash_alg alg)
{
    switch (alg) {
    case ZUPD_HASH_SHA256:
        return ZUPD_SHA256_LEN;
    case ZUPD_HASH_SHA512:
        return ZUPD_SHA512_LEN;
    }
    return 0;
}

struct zupd_hash *
zupd_hash_new(enum zupd_hash_alg alg)
{
    const EVP_MD *md = md_of(alg);
    struct zupd_hash *h;

    if (md == NULL)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->alg = alg;
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL || EVP_DigestInit_ex(h->md, md, NULL) != 1) {
        zupd_hash_free(h);
        return NULL;
    }
    return h;
}

void
zupd_hash_free(struct zupd_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->md);
    free(h);
}

int
zupd_hash_update(struct zupd_hash *h, const void *data, size_t len)
{
    if (h == NULL || (data == NULL && len > 0))
        return ZUPD_E_MISUSE;
    if (len == 0)
        return ZUPD_OK;
    return EVP_DigestUpdate(h->md, data, len) == 1 ? ZUPD_OK : ZUPD_E_MISUSE;
}

int
zupd_hash_final(struct zupd_hash *h, uint8_t *out, size_t out_cap, size_t *out_len)
{
    unsigned int n = 0;
    size_t want;

    if (out_len != NULL)
        *out_len = 0;
    if (h == NULL || out == NULL)
        return ZUPD_E_MISUSE;
    want = zupd_hash_len(h->alg);
    if (out_cap < want)
        return ZUPD_E_MISUSE;
    if (EVP_DigestFinal_ex(h->md, out, &n) != 1 || n != want)
        return ZUPD_E_MISUSE;
    if (out_len != NULL)
        *out_len = n;
    return ZUPD_OK;
}

int
zupd_hash_buf(enum zupd_hash_alg alg, const void *data, size_t len, uint8_t *out, size_t out_cap,
              size_t *out_len)
{
    struct zupd_hash *h = zupd_hash_new(alg);
    int rc;

    if (out_len != NULL)
        *out_len = 0;
    if (h == NULL)
        return ZUPD_E_MISUSE;
    rc = zupd_hash_update(h, data, len);
    if (rc == ZUPD_OK)
        rc = zupd_hash_final(h, out, out_cap, out_len);
    zupd_hash_free(h);
    return rc;
}

void
zu_sha256_hex(const void *p, size_t len, char hex[65])
{
    uint8_t d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(d, (const unsigned char *)p, len);
    zupd_hex_encode(hex, 65, d, sizeof(d));
}

int
zupd_hash_alg_from_name(const char *name, enum zupd_hash_alg *out)
{
    if (strcmp(name, "sha256") == 0)
        *out = ZUPD_HASH_SHA256;
    else if (strcmp(name, "sha512") == 0)
        *out = ZUPD_HASH_SHA512;
    else
        return ZUPD_E_NOTFOUND;
    return ZUPD_OK;
}

void
zupd_hex_encode(char *hex, size_t hex_cap, const uint8_t *bin, size_t len)
{
    zu_assert(hex_cap > 0 && (hex_cap - 1) / 2 >= len);
    (void)sodium_bin2hex(hex, hex_cap, bin, len); /* lower case, NUL-terminated */
}

int
zupd_hex_decode(uint8_t *bin, size_t bin_len, const char *hex, size_t hex_len)
{
    size_t n = 0;

    /* Exactly two hex digits (either case) a byte, nothing else: with no
     * ignore set and no hex_end, sodium_hex2bin fails at the first other
     * character, and the length check leaves no room for short input. */
    if (hex_len / 2 != bin_len || hex_len % 2 != 0)
        return ZUPD_E_FORMAT;
    if (sodium_hex2bin(bin, bin_len, hex, hex_len, NULL, &n, NULL) != 0 || n != bin_len)
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}
