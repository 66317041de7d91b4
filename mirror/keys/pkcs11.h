/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/pkcs11.h -- signing keys held in a PKCS#11 token (an HSM, a
 * smart card, SoftHSM2): RFC 7512 URIs, the module loaded with dlopen(3),
 * Ed25519 (CKM_EDDSA) and ECDSA P-256 (CKM_ECDSA over SHA-256) keys. The
 * secret never leaves the token; the PIN lives in sodium_malloc memory.
 * Names use zp_p11_. */
#ifndef ZP_PKCS11_H
#define ZP_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "zu/internal.h"

#define ZP_P11_URI_MAX 2048
#define ZP_P11_LABEL_MAX 129 /* token labels are 32 bytes; object labels are free */

enum zp_p11_kind {
    ZP_P11_ED25519 = 1, /* CKK_EC_EDWARDS on edwards25519, CKM_EDDSA */
    ZP_P11_P256         /* CKK_EC on prime256v1, CKM_ECDSA over a SHA-256 digest */
};

/* A parsed pkcs11: URI. Every attribute is percent-decoded; empty means
 * absent. pin_value is sodium_malloc memory (or NULL). */
struct zp_p11_uri {
    char token[ZP_P11_LABEL_MAX];
    char manufacturer[ZP_P11_LABEL_MAX];
    char model[ZP_P11_LABEL_MAX];
    char serial[ZP_P11_LABEL_MAX];
    char object[ZP_P11_LABEL_MAX];
    uint8_t id[64];
    size_t id_len;
    char module_path[4096];
    char pin_source[4096]; /* a file name (file: scheme stripped) */
    char *pin_value;
};

/* Whether s starts with "pkcs11:" (a URI rather than a key file name). */
bool zp_p11_is_uri(const char *s);

/* Parse an RFC 7512 URI. Path attributes token, manufacturer, model,
 * serial, object, id, type (must be private or public when given) and
 * library-* / slot-* (ignored); query attributes module-path, pin-value,
 * pin-source. Anything else is refused, so a typo does not silently select
 * another key. Ownership: release u with zp_p11_uri_release() whatever the
 * result. Returns ZUPD_OK or ZUPD_E_MISUSE (err says why). */
ZU_NODISCARD int zp_p11_uri_parse(const char *uri, struct zp_p11_uri *u, char *err, size_t cap);
void zp_p11_uri_release(struct zp_p11_uri *u); /* wipes the PIN */

/* uri without its pin-value attribute into out[0..out_cap): what a key
 * reference file may keep. */
ZU_NODISCARD int zp_p11_uri_strip_pin(const char *uri, char *out, size_t out_cap);

/* A key found in a token. */
struct zp_p11_key;

/* Open the key u names in the token of module (a path; dlopen). pin NULL:
 * no login (enough to read a public key object). Errors name what was
 * asked: the module not loadable (ZUPD_E_NOTFOUND), the token not found
 * (ZUPD_E_NOTFOUND), a wrong PIN (ZUPD_E_PASSPHRASE), a locked PIN
 * (ZUPD_E_PERM), the object missing (ZUPD_E_NOTFOUND), a key type or
 * mechanism the token or zupd does not support (ZUPD_E_KEYTYPE).
 * Ownership: *out new, zp_p11_key_free(). */
ZU_NODISCARD int zp_p11_key_open(const char *module, const struct zp_p11_uri *u, const char *pin,
                                 struct zp_p11_key **out, char *err, size_t cap);
void zp_p11_key_free(struct zp_p11_key *k); /* NULL ok; closes the session */

/* Make a key pair inside the token (CKA_SENSITIVE, not extractable, on the
 * token) labelled u->object (and u->id when given), then open it as
 * zp_p11_key_open does. ZUPD_E_EXISTS when the label is taken. */
ZU_NODISCARD int zp_p11_key_generate(const char *module, const struct zp_p11_uri *u,
                                     const char *pin, enum zp_p11_kind kind,
                                     struct zp_p11_key **out, char *err, size_t cap);

enum zp_p11_kind zp_p11_key_kind(const struct zp_p11_key *k);

/* The TUF public key object of k: ed25519 (hex) or ecdsa (PEM), as
 * include/zu/key.h parses them. Ownership: a new reference. */
json_t *zp_p11_key_pubjson(const struct zp_p11_key *k);

/* Sign msg[0..len) in the token: Ed25519 gives the 64-byte signature,
 * P-256 the DER ECDSA-Sig-Value the TUF ecdsa-sha2-nistp256 scheme
 * verifies (lib/key.c). *sig_len receives the length (sig_cap >= 72). The
 * key must have been opened with a PIN. */
ZU_NODISCARD int zp_p11_key_sign(struct zp_p11_key *k, const uint8_t *msg, size_t len, uint8_t *sig,
                                 size_t sig_cap, size_t *sig_len, char *err, size_t cap);

/* The label of the token and the key (for messages). */
const char *zp_p11_key_token(const struct zp_p11_key *k);
const char *zp_p11_key_object(const struct zp_p11_key *k);

#endif
