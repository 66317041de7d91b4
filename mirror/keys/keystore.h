/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/keystore.h -- the publisher's key directory: one file per key,
 * KEYDIR/<name>.key (see docs/keys.md and docs/mirror.md): an encrypted key
 * file, or a reference to a key in a PKCS#11 token (its public key, key id,
 * URI and module; no secret). Public halves are read without a passphrase;
 * secret halves are unlocked on demand through a passphrase (or PIN)
 * callback. */
#ifndef ZP_KEYSTORE_H
#define ZP_KEYSTORE_H

#include <stdbool.h>

#include "keys/signer.h"

#define ZP_KEYNAME_MAX 129

#define ZP_PUBJSON_MAX 512 /* a TUF public key object: ed25519 ~110, P-256 PEM ~260 */

struct zp_keyinfo {
    char name[ZP_KEYNAME_MAX]; /* file name without ".key" */
    char keyid[65];
    char keytype[16];     /* "ed25519" or "ecdsa" (P-256, token keys only) */
    char public_key[256]; /* hex (ed25519) or PEM (ecdsa) */
    char path[4096];
    char pkcs11_uri[ZP_P11_URI_MAX]; /* "" for a key file; never holds a PIN */
    char pkcs11_module[4096];        /* the module recorded with it ("": none) */
};

/* Asks for the passphrase of key_name into buf[0..cap) (NUL-terminated);
 * confirm: a new key (ask twice). Returns ZUPD_OK or an error code
 * (ZUPD_E_PASSPHRASE when none can be had). */
typedef int (*zp_pass_fn)(void *opaque, const char *key_name, bool confirm, char *buf, size_t cap);
struct zp_pass {
    zp_pass_fn fn;
    void *opaque;
    /* PKCS#11: the PIN of token (key_name is the token label) when the URI
     * has none; NULL: no PIN but the URI's */
    zp_pass_fn pin_fn;
    /* the module to load: overrides the URI's module-path and the one the
     * reference file records (--pkcs11-module); NULL: those */
    const char *pkcs11_module;
};

/* The custody layout made by init: offline keys (root, targets, products)
 * in KEYDIR/offline, online keys (snapshot, timestamp, avdb) in
 * KEYDIR/online. Listing and lookups search KEYDIR itself, then these two,
 * so a key directory of the earlier flat layout keeps working. */
#define ZP_KEYS_ONLINE "online"
#define ZP_KEYS_OFFLINE "offline"

/* Every key file of dir (and its online/ and offline/), sorted by name.
 * Ownership: *out new, free(). A missing directory is an empty list. */
ZU_NODISCARD int zp_keys_list(const char *dir, struct zp_keyinfo **out, size_t *n);
/* The key file of dir holding keyid; ZUPD_E_NOTFOUND when none. */
ZU_NODISCARD int zp_key_find(const char *dir, const char *keyid, struct zp_keyinfo *out);
/* The key file dir/<name>.key (else in online/ or offline/);
 * ZUPD_E_NOTFOUND when missing. */
ZU_NODISCARD int zp_key_by_name(const char *dir, const char *name, struct zp_keyinfo *out);
/* The TUF public key object of k (JSON) into buf (ZP_PUBJSON_MAX bytes
 * hold any). */
ZU_NODISCARD int zp_key_pubjson(const struct zp_keyinfo *k, char *buf, size_t cap);
/* Generate dir/<name>.key (ZUPD_E_EXISTS when present). */
ZU_NODISCARD int zp_key_generate(const char *dir, const char *name, const struct zp_pass *p,
                                 const struct zp_kdf_cost *cost, struct zp_keyinfo *out, char *err,
                                 size_t cap);
/* Write dir/<name>.key, a reference to the key the PKCS#11 URI uri names
 * (its pin-value is not kept), with module recorded. generate: make the
 * key pair in the token first (kind), else it must be there. The PIN comes
 * from the URI or p->pin_fn (needed to generate; to reference an existing
 * key only when its public object is private). ZUPD_E_EXISTS when the file
 * exists. */
ZU_NODISCARD int zp_key_pkcs11(const char *dir, const char *name, const char *uri,
                               const char *module, bool generate, enum zp_p11_kind kind,
                               const struct zp_pass *p, struct zp_keyinfo *out, char *err,
                               size_t cap);
/* A signer for the key a PKCS#11 URI names, unlocked with its PIN (the
 * URI's pin-value or pin-source, else p->pin_fn). module: as
 * p->pkcs11_module, else the URI's module-path, else dflt_module. */
ZU_NODISCARD int zp_key_open_uri(const char *uri, const char *dflt_module, const struct zp_pass *p,
                                 struct zp_signer **out, char *err, size_t cap);
/* Unlock k's secret (a token key: open it and log in). err says "wrong
 * passphrase for key 'x'", "wrong PIN for PKCS#11 token 'y'" etc. */
ZU_NODISCARD int zp_key_unlock(const struct zp_keyinfo *k, const struct zp_pass *p,
                               struct zp_signer **out, char *err, size_t cap);

/* KDF cost for new keys: ZUPD_KDF_COST=min in the environment selects the
 * minimum (tests only), otherwise the default. */
void zp_kdf_cost_env(struct zp_kdf_cost *out);

/* KDF cost of a new key: ZUPD_KDF_COST=min (tests) wins; else level, one
 * of libsodium's named levels "interactive" (64 MiB, 2 passes), "moderate"
 * (256 MiB, 3) or "sensitive" (1 GiB, 4); else "interactive" for an online
 * key (a timer unlocks it every hour) and "moderate" for an offline one.
 * ZUPD_E_MISUSE for an unknown level. */
ZU_NODISCARD int zp_kdf_cost_for(bool online, const char *level, struct zp_kdf_cost *out);

#endif
