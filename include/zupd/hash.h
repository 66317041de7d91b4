/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/hash.h -- SHA-256 / SHA-512 of payloads and metadata (OpenSSL). */
#ifndef ZUPD_HASH_H
#define ZUPD_HASH_H

#include <zupd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum zupd_hash_alg { ZUPD_HASH_SHA256 = 0, ZUPD_HASH_SHA512 = 1 };
#define ZUPD_SHA256_LEN 32
#define ZUPD_SHA512_LEN 64
#define ZUPD_HASH_MAX_LEN 64

/* Streaming hash state; opaque. */
struct zupd_hash;

/* Ownership: zupd_hash_new() returns a new state, release with
 * zupd_hash_free() (NULL ok). Returns NULL on an unknown algorithm or no memory. */
ZUPD_API struct zupd_hash *zupd_hash_new(enum zupd_hash_alg alg);
ZUPD_API void zupd_hash_free(struct zupd_hash *h);
ZUPD_API ZUPD_NODISCARD int zupd_hash_update(struct zupd_hash *h, const void *data, size_t len);
/* Write the digest to out[0..out_cap) (out_cap >= the digest length) and set
 * *out_len. The state can not be updated afterwards. */
ZUPD_API ZUPD_NODISCARD int zupd_hash_final(struct zupd_hash *h, uint8_t *out, size_t out_cap,
                                            size_t *out_len);
/* One-shot digest of data[0..len). */
ZUPD_API ZUPD_NODISCARD int zupd_hash_buf(enum zupd_hash_alg alg, const void *data, size_t len,
                                          uint8_t *out, size_t out_cap, size_t *out_len);
/* Digest length of alg in bytes, 0 for an unknown algorithm. */
ZUPD_API size_t zupd_hash_len(enum zupd_hash_alg alg);
/* The algorithm named by a TUF "hashes" key ("sha256", "sha512");
 * ZUPD_E_NOTFOUND for any other name. */
ZUPD_API ZUPD_NODISCARD int zupd_hash_alg_from_name(const char *name, enum zupd_hash_alg *out);

/* Lower-case hex of bin[0..len) into hex (2*len+1 bytes, NUL-terminated). */
ZUPD_API void zupd_hex_encode(char *hex, size_t hex_cap, const uint8_t *bin, size_t len);
/* Parse exactly 2*bin_len hex digits (either case) into bin. ZUPD_E_FORMAT otherwise. */
ZUPD_API ZUPD_NODISCARD int zupd_hex_decode(uint8_t *bin, size_t bin_len, const char *hex,
                                            size_t hex_len);

#ifdef __cplusplus
}
#endif
#endif
