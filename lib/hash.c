/* SPDX-License-Identifier: Apache-2.0 */
/* lib/hash.c -- SHA-256/512 through OpenSSL's EVP (uses the CPU's SHA instructions). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
    static const char digits[] = "0123456789abcdef";
    size_t i;

    zu_assert(hex_cap > 0 && (hex_cap - 1) / 2 >= len);
    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[bin[i] >> 4];
        hex[2 * i + 1] = digits[bin[i] & 15];
    }
    hex[2 * len] = 0;
}

int
zu_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
zupd_hex_decode(uint8_t *bin, size_t bin_len, const char *hex, size_t hex_len)
{
    size_t i;

    if (hex_len / 2 != bin_len || hex_len % 2 != 0)
        return ZUPD_E_FORMAT;
    for (i = 0; i < bin_len; i++) {
        int hi = zu_hexval(hex[2 * i]), lo = zu_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ZUPD_E_FORMAT;
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    return ZUPD_OK;
}
