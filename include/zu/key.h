/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/key.h -- TUF public keys and signature verification (ed25519 through
 * libsodium; ECDSA P-256 and RSA-PSS through OpenSSL's libcrypto). */
#ifndef ZU_KEY_H
#define ZU_KEY_H

#include <jansson.h>

#include "zu/internal.h"

#define ZU_KEYID_HEX_LEN 64 /* sha256 key ids; metadata may name others */

enum zu_key_type {
    ZU_KEY_UNKNOWN = 0, /* parsed, kept, but can never verify */
    ZU_KEY_ED25519,     /* keytype ed25519, scheme ed25519, hex public key */
    ZU_KEY_ECDSA_P256,  /* keytype ecdsa or ecdsa-sha2-nistp256, scheme ecdsa-sha2-nistp256, PEM */
    ZU_KEY_RSA_PSS      /* keytype rsa, scheme rsassa-pss-sha256, PEM */
};

struct zu_key; /* opaque */

/* Parse a TUF key object {"keytype","scheme","keyval":{"public":...}}.
 * A well-formed object of an unknown keytype/scheme gives a key of type
 * ZU_KEY_UNKNOWN (TUF clients ignore keys they cannot use; they just never
 * count toward a threshold). A supported type whose public key does not
 * decode gives ZUPD_E_FORMAT. Ownership: *out new, zu_key_free(). */
ZU_NODISCARD int zu_key_from_json(const json_t *obj, struct zu_key **out);
void zu_key_free(struct zu_key *k); /* NULL ok */
enum zu_key_type zu_key_type(const struct zu_key *k);

/* Verify sig_hex (hex of the signature bytes, as TUF stores it) over
 * msg[0..len). Returns ZUPD_OK, ZUPD_E_SIG for a bad or malformed
 * signature, ZUPD_E_KEYTYPE for a key of unknown type. Constant work per
 * call; never logs. */
ZU_NODISCARD int zu_key_verify(const struct zu_key *k, const uint8_t *msg, size_t len,
                               const char *sig_hex);

/* Whether a and b are the same public key (same type and key material),
 * whatever key ids name them: a threshold counts keys, not key ids. */
bool zu_key_equal(const struct zu_key *a, const struct zu_key *b);

/* The TUF key id of a key object: lower-case hex sha256 of its canonical
 * JSON. Used when zupd makes keys; verification takes ids as the metadata
 * names them and never recomputes them. hex must hold 65 bytes. */
ZU_NODISCARD int zu_keyid_compute(const json_t *obj, char *hex, size_t hex_cap);

#endif
