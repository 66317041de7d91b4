/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/keystore.h -- the publisher's key directory: one encrypted key file
 * per key, KEYDIR/<name>.key (see docs/keys.md and docs/mirror.md). Public
 * halves are read without a passphrase; secret halves are unlocked on
 * demand through a passphrase callback. */
#ifndef ZP_KEYSTORE_H
#define ZP_KEYSTORE_H

#include <stdbool.h>

#include "keys/signer.h"

#define ZP_KEYNAME_MAX 129

struct zp_keyinfo {
    char name[ZP_KEYNAME_MAX]; /* file name without ".key" */
    char keyid[65];
    char public_hex[65];
    char path[4096];
};

/* Asks for the passphrase of key_name into buf[0..cap) (NUL-terminated);
 * confirm: a new key (ask twice). Returns ZUPD_OK or an error code
 * (ZUPD_E_PASSPHRASE when none can be had). */
typedef int (*zp_pass_fn)(void *opaque, const char *key_name, bool confirm, char *buf, size_t cap);
struct zp_pass {
    zp_pass_fn fn;
    void *opaque;
};

/* Every key file of dir, sorted by name. Ownership: *out new, free().
 * A missing directory is an empty list. */
ZU_NODISCARD int zp_keys_list(const char *dir, struct zp_keyinfo **out, size_t *n);
/* The key file of dir holding keyid; ZUPD_E_NOTFOUND when none. */
ZU_NODISCARD int zp_key_find(const char *dir, const char *keyid, struct zp_keyinfo *out);
/* The key file dir/<name>.key; ZUPD_E_NOTFOUND when missing. */
ZU_NODISCARD int zp_key_by_name(const char *dir, const char *name, struct zp_keyinfo *out);
/* The TUF public key object of k (canonical JSON) into buf. */
ZU_NODISCARD int zp_key_pubjson(const struct zp_keyinfo *k, char *buf, size_t cap);
/* Generate dir/<name>.key (ZUPD_E_EXISTS when present). */
ZU_NODISCARD int zp_key_generate(const char *dir, const char *name, const struct zp_pass *p,
                                 const struct zp_kdf_cost *cost, struct zp_keyinfo *out, char *err,
                                 size_t cap);
/* Unlock k's secret. err says "wrong passphrase for key 'x'" etc. */
ZU_NODISCARD int zp_key_unlock(const struct zp_keyinfo *k, const struct zp_pass *p,
                               struct zp_signer **out, char *err, size_t cap);

/* KDF cost for new keys: ZUPD_KDF_COST=min in the environment selects the
 * minimum (tests only), otherwise the default. */
void zp_kdf_cost_env(struct zp_kdf_cost *out);

#endif
