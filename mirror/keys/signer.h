/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/signer.h -- signing keys of the publisher: ed25519 keys made
 * here, kept in key files encrypted at rest with a passphrase (libsodium
 * crypto_pwhash Argon2id + crypto_secretbox), and keys held in a PKCS#11
 * token (mirror/keys/pkcs11.h: Ed25519 or ECDSA P-256), behind one
 * interface. Never linked into the endpoint client. Names use zp_
 * (publisher-internal). */
#ifndef ZP_SIGNER_H
#define ZP_SIGNER_H

#include <jansson.h>
#include <sodium.h>

#include "zu/internal.h"
#include "keys/pkcs11.h"

/* the longest signature, hex: a DER ECDSA P-256 signature is at most 72
 * bytes (ed25519's are 64) */
#define ZP_SIG_HEX_LEN 144

/* A signing key. The secret half lives in sodium_malloc memory (guarded,
 * locked, wiped on free), or in a PKCS#11 token. */
struct zp_signer;

/* A signer over a key opened in a token (zp_p11_key_open with a PIN).
 * Ownership: k moves into *out whatever the result; *out new,
 * zp_signer_free(). */
ZU_NODISCARD int zp_signer_from_pkcs11(struct zp_p11_key *k, struct zp_signer **out);

/* Whether s is a token key (zp_signer_encode refuses it). */
bool zp_signer_is_pkcs11(const struct zp_signer *s);

/* What the last failed zp_signer_sign said ("" when nothing): a token's
 * errors are more than a code. Borrowed, valid until the next call. */
const char *zp_signer_error(const struct zp_signer *s);

/* New random ed25519 key. Ownership: *out new, zp_signer_free(). */
ZU_NODISCARD int zp_signer_generate(struct zp_signer **out);
void zp_signer_free(struct zp_signer *s); /* NULL ok; wipes the secret */

/* The TUF key id (sha256 of the canonical public key object), 64 hex. */
const char *zp_signer_keyid(const struct zp_signer *s);

/* A new reference to the TUF public key object
 * {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":hex}} (or, for
 * a P-256 token key, keytype ecdsa, scheme ecdsa-sha2-nistp256, PEM). */
json_t *zp_signer_pubkey(const struct zp_signer *s);

/* Sign msg[0..len); sig_hex receives the hex signature (128 digits for
 * ed25519, at most ZP_SIG_HEX_LEN) and a NUL; sig_cap >= ZP_SIG_HEX_LEN + 1. */
ZU_NODISCARD int zp_signer_sign(const struct zp_signer *s, const uint8_t *msg, size_t len,
                                char *sig_hex, size_t sig_cap);

/* Cost of the passphrase hash; tests use the minimum. */
struct zp_kdf_cost {
    unsigned long long opslimit;
    size_t memlimit;
};
#define ZP_KDF_COST_DEFAULT                                                                        \
    {                                                                                              \
        crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE                           \
    }
#define ZP_KDF_COST_MIN                                                                            \
    {                                                                                              \
        crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN                                     \
    }

/* Encode the key as a key file (JSON, see docs/keys.md): public key, key id,
 * Argon2id parameters and salt, and the seed sealed with secretbox under the
 * passphrase-derived key. An empty passphrase is refused (ZUPD_E_MISUSE).
 * Ownership: *out is new (free()); it holds no secret in the clear. */
ZU_NODISCARD int zp_signer_encode(const struct zp_signer *s, const char *passphrase,
                                  const struct zp_kdf_cost *cost, uint8_t **out, size_t *out_len);

/* Decode a key file made by zp_signer_encode. ZUPD_E_PASSPHRASE when the
 * passphrase is wrong or the sealed part was tampered with; ZUPD_E_FORMAT
 * for a malformed file; ZUPD_E_MISMATCH when the stored public key or key
 * id does not belong to the sealed secret. KDF costs in the file are capped
 * so a hostile file can not make us allocate gigabytes. */
ZU_NODISCARD int zp_signer_decode(const uint8_t *buf, size_t len, const char *passphrase,
                                  struct zp_signer **out);

/* zp_signer_decode with a lower cap on the KDF cost a file may ask for
 * (the fuzz target uses the minimum). */
ZU_NODISCARD int zp_signer_decode_capped(const uint8_t *buf, size_t len, const char *passphrase,
                                         const struct zp_kdf_cost *max, struct zp_signer **out);

/* Write a key file atomically with mode 0600 (O_EXCL temp, fsync, rename,
 * directory fsync); refuses to overwrite an existing file (ZUPD_E_EXISTS). */
ZU_NODISCARD int zp_signer_save(const struct zp_signer *s, const char *path, const char *passphrase,
                                const struct zp_kdf_cost *cost);

/* Read a key file. It must be a regular file (not a symlink), owned by the
 * caller, and not readable or writable by group or others: ZUPD_E_PERM
 * otherwise. */
ZU_NODISCARD int zp_signer_load(const char *path, const char *passphrase, struct zp_signer **out);

#endif
