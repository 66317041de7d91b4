/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/meta.h -- the TUF 1.0 metadata model: parse, validate, query, verify
 * and build signed root, timestamp, snapshot and targets documents. Pure
 * code: no files, no network, no clock (callers pass the time). */
#ifndef ZUPD_META_H
#define ZUPD_META_H

#include <stdbool.h>

#include <zupd/common.h>
#include <zupd/hash.h>

#ifdef __cplusplus
extern "C" {
#endif

enum zupd_meta_type {
    ZUPD_META_ANY = 0, /* only as the "expected type" of zupd_meta_parse() */
    ZUPD_META_ROOT = 1,
    ZUPD_META_TIMESTAMP = 2,
    ZUPD_META_SNAPSHOT = 3,
    ZUPD_META_TARGETS = 4
};

/* Longest role name zupd handles (delegated names, succinct bin names),
 * including the terminating NUL. Longer names are refused (ZUPD_E_TOOBIG). */
#define ZUPD_ROLE_NAME_MAX 1024

/* A parsed (and possibly modified) metadata document; opaque. It keeps the
 * whole JSON document, unknown fields included, so that serializing it gives
 * back every field that was signed. */
struct zupd_meta;

/* Hashes of a file as the metadata lists them. count is the number of
 * entries of the "hashes" object, whatever their algorithm; the known ones
 * are decoded. A known algorithm whose value is not the lower-case hex of a
 * digest of the right size sets malformed: no content can ever match it. */
struct zupd_hashes {
    size_t count;
    bool has_sha256;
    bool has_sha512;
    bool malformed;
    uint8_t sha256[ZUPD_SHA256_LEN];
    uint8_t sha512[ZUPD_SHA512_LEN];
};

/* An entry of a timestamp or snapshot "meta" dictionary (a MetaFile). */
struct zupd_meta_file {
    uint64_t version; /* >= 1 */
    bool has_length;
    uint64_t length;
    bool has_hashes;
    struct zupd_hashes hashes;
};

/* An entry of a targets "targets" dictionary (a TargetFile). */
struct zupd_target {
    uint64_t length;
    struct zupd_hashes hashes; /* count >= 1 */
    bool has_custom;
};

/* One delegated role that is responsible for a target path. */
struct zupd_meta_child {
    char name[ZUPD_ROLE_NAME_MAX];
    bool terminating;
};

/* ---------------------------------------------------------------- parsing */

/* Parse and validate one signed metadata envelope
 * {"signed":{...},"signatures":[{"keyid":..,"sig":..},...]} from buf[0..len).
 * Validation follows TUF 1.0 and python-tuf (see docs/internals/meta.md):
 * _type, spec_version (major 1), version >= 1, expires "YYYY-MM-DDTHH:MM:SSZ",
 * each type's fields, delegations; duplicate signature key ids are refused.
 * Does NOT verify signatures or expiry. expect is ZUPD_META_ANY or the type
 * the caller needs (another type gives ZUPD_E_ROLE). Counts are capped by lim
 * (NULL: defaults). Ownership: on ZUPD_OK *out is new, zupd_meta_free(); buf
 * is not retained. On error *out is NULL and err (if not NULL) receives a
 * message naming the role and field, at most err_cap bytes.
 * Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_TOOBIG, ZUPD_E_SPEC, ZUPD_E_ROLE,
 * ZUPD_E_NOMEM. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_parse(const uint8_t *buf, size_t len,
                                            const struct zupd_limits *lim,
                                            enum zupd_meta_type expect, struct zupd_meta **out,
                                            char *err, size_t err_cap);
ZUPD_API void zupd_meta_free(struct zupd_meta *m); /* NULL ok */

/* "root", "timestamp", "snapshot", "targets"; "unknown" otherwise. */
ZUPD_API const char *zupd_meta_type_name(enum zupd_meta_type t);

/* ---------------------------------------------------------------- common fields */

ZUPD_API enum zupd_meta_type zupd_meta_type(const struct zupd_meta *m);
ZUPD_API uint64_t zupd_meta_version(const struct zupd_meta *m);
/* Expiry as seconds since the epoch (UTC). */
ZUPD_API int64_t zupd_meta_expires(const struct zupd_meta *m);
/* As python-tuf: expired when now >= expires. */
ZUPD_API bool zupd_meta_is_expired(const struct zupd_meta *m, int64_t now);
/* Borrowed from m. */
ZUPD_API const char *zupd_meta_spec_version(const struct zupd_meta *m);
/* root: the consistent_snapshot flag (false when absent); others: false. */
ZUPD_API bool zupd_meta_consistent_snapshot(const struct zupd_meta *m);
ZUPD_API size_t zupd_meta_signature_count(const struct zupd_meta *m);

/* Parse an RFC 3339 time "YYYY-MM-DDTHH:MM:SSZ" (exactly that form) to
 * seconds since the epoch, without the local time zone; and back (buf of at
 * least 21 bytes). Return ZUPD_OK or ZUPD_E_FORMAT. */
ZUPD_API ZUPD_NODISCARD int zupd_time_parse(const char *s, size_t len, int64_t *out);
ZUPD_API ZUPD_NODISCARD int zupd_time_format(int64_t t, char *buf, size_t cap);

/* ---------------------------------------------------------------- roles and keys */

/* Threshold and number of key ids of a role as delegator m names it: for a
 * root, one of the top-level roles; for targets, a delegated role by name or
 * a bin of its succinct hash-bin delegation. ZUPD_E_NOTFOUND when m does not
 * delegate to role. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_role(const struct zupd_meta *m, const char *role,
                                           uint64_t *threshold, size_t *n_keyids);
/* The i-th key id of role (borrowed from m), NULL when out of range. */
ZUPD_API const char *zupd_meta_role_keyid(const struct zupd_meta *m, const char *role, size_t i);
/* Whether the key table of m (root keys, or delegations keys) has keyid. */
ZUPD_API bool zupd_meta_has_key(const struct zupd_meta *m, const char *keyid);
/* The key object of keyid in m's key table as canonical JSON (a TUF key
 * object, as `zupd_meta_add_key` takes it). Ownership: *out new, free().
 * ZUPD_E_NOTFOUND when m has no such key. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_key_json(const struct zupd_meta *m, const char *keyid,
                                               uint8_t **out, size_t *out_len);

/* Verify that signed_meta carries valid signatures by a threshold of the
 * keys that delegator gives to role. The message is the canonical JSON of
 * the parsed "signed" object. Each key id counts at most once; signatures by
 * key ids outside the role or the key table, by keys of unknown type, and
 * bad signatures are ignored. A root delegator only verifies the top-level
 * role of that name and the type must agree; a targets delegator only
 * targets documents. err (if not NULL) gets e.g. "snapshot: 0 of 1 required
 * signatures". Returns ZUPD_OK, ZUPD_E_THRESHOLD, ZUPD_E_ROLE (not
 * delegated, or wrong type), ZUPD_E_TOOBIG, ZUPD_E_NOMEM. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_verify_role(const struct zupd_meta *delegator,
                                                  const char *role,
                                                  const struct zupd_meta *signed_meta, char *err,
                                                  size_t err_cap);

/* ---------------------------------------------------------------- meta files */

/* Entry name (e.g. "snapshot.json", "targets.json", "role1.json") of a
 * timestamp or snapshot. ZUPD_E_NOTFOUND when absent or m has no meta. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_file(const struct zupd_meta *m, const char *name,
                                           struct zupd_meta_file *out);
ZUPD_API size_t zupd_meta_file_count(const struct zupd_meta *m);
/* Calls fn for every meta entry until fn returns non-zero, which is returned. */
typedef int (*zupd_meta_file_fn)(void *opaque, const char *name, const struct zupd_meta_file *f);
ZUPD_API int zupd_meta_file_foreach(const struct zupd_meta *m, zupd_meta_file_fn fn, void *opaque);

/* ---------------------------------------------------------------- targets */

ZUPD_API ZUPD_NODISCARD int zupd_meta_target(const struct zupd_meta *m, const char *path,
                                             struct zupd_target *out);
ZUPD_API size_t zupd_meta_target_count(const struct zupd_meta *m);
typedef int (*zupd_meta_target_fn)(void *opaque, const char *path, const struct zupd_target *t);
ZUPD_API int zupd_meta_target_foreach(const struct zupd_meta *m, zupd_meta_target_fn fn,
                                      void *opaque);
/* The target's "custom" value as canonical JSON. Ownership: *out new,
 * free(). ZUPD_E_NOTFOUND when there is no such target or no custom. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_target_custom(const struct zupd_meta *m, const char *path,
                                                    uint8_t **out, size_t *out_len);

/* ---------------------------------------------------------------- delegations */

ZUPD_API bool zupd_meta_has_delegations(const struct zupd_meta *m);
/* Explicit delegated roles ("roles" list), in order; 0 with succinct roles. */
ZUPD_API size_t zupd_meta_delegation_count(const struct zupd_meta *m);
ZUPD_API const char *zupd_meta_delegation_name(const struct zupd_meta *m, size_t i);

/* The delegated roles responsible for target path, in delegation order, as
 * python-tuf's Delegations.get_roles_for_target: roles whose "paths"
 * patterns or "path_hash_prefixes" match, or the one succinct bin (always
 * terminating). Start with *cursor = 0; each ZUPD_OK fills out and advances
 * *cursor; ZUPD_E_NOTFOUND when there are no more. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_child_next(const struct zupd_meta *m, const char *path,
                                                 size_t *cursor, struct zupd_meta_child *out);

/* Succinct hash-bin delegation: bit length and name prefix (borrowed);
 * ZUPD_E_NOTFOUND when m has none. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_succinct(const struct zupd_meta *m, unsigned *bit_length,
                                               const char **name_prefix);
/* Name of bin index of m's succinct delegation: "<prefix>-<hex, zero padded
 * to the width of the largest bin>". */
ZUPD_API ZUPD_NODISCARD int zupd_meta_succinct_bin_name(const struct zupd_meta *m, uint32_t index,
                                                        char *buf, size_t cap);

/* ---------------------------------------------------------------- building (mirror side) */

/* A new document of type t with version, expires, spec_version "1.0.31" and
 * empty type fields: root gets the four top-level roles with no keys and
 * threshold 1 and consistent_snapshot true; timestamp gets snapshot.json
 * version 1; snapshot gets targets.json version 1; targets no targets.
 * Ownership: *out new, zupd_meta_free(). */
ZUPD_API ZUPD_NODISCARD int zupd_meta_new(enum zupd_meta_type t, uint64_t version, int64_t expires,
                                          struct zupd_meta **out);
/* Setters. Each keeps the document valid or changes nothing (ZUPD_E_MISUSE
 * for values the model refuses, ZUPD_E_ROLE for a wrong document type).
 * Signatures are NOT dropped: re-sign after changes. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_version(struct zupd_meta *m, uint64_t version);
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_expires(struct zupd_meta *m, int64_t expires);
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_consistent_snapshot(struct zupd_meta *m, bool on);
/* Add the TUF key object key_json[0..len) to m's key table under its
 * computed key id (written to keyid, 65 bytes) and to role's key ids (root:
 * a top-level role; targets: a delegated role, or NULL for the succinct
 * roles). Adding a key a role already has is a no-op. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_add_key(struct zupd_meta *m, const char *role,
                                              const uint8_t *key_json, size_t len, char *keyid,
                                              size_t keyid_cap);
/* Remove keyid from role; the key leaves the table when no role uses it.
 * ZUPD_E_NOTFOUND when role does not have it. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_revoke_key(struct zupd_meta *m, const char *role,
                                                 const char *keyid);
/* Threshold (>= 1) of a role (NULL: the succinct roles). */
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_threshold(struct zupd_meta *m, const char *role,
                                                    uint64_t threshold);
/* Append a delegated role to a targets document (no keys yet, threshold 1).
 * Exactly one of paths / path_hash_prefixes is non-NULL (an empty list is
 * allowed). Refused when m has succinct roles or the name exists. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_add_delegation(struct zupd_meta *m, const char *name,
                                                     bool terminating, const char *const *paths,
                                                     size_t n_paths,
                                                     const char *const *path_hash_prefixes,
                                                     size_t n_prefixes);
/* Remove the delegated role name from a targets document, and the keys no
 * other role uses. ZUPD_E_NOTFOUND when there is no such role. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_remove_delegation(struct zupd_meta *m, const char *name);
/* Make the delegations of a targets document a succinct hash-bin
 * delegation (TAP 15) with 2^bit_length bins (1..32), no keys, threshold 1.
 * Refused when m has explicit delegated roles. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_succinct(struct zupd_meta *m, unsigned bit_length,
                                                   const char *name_prefix);
/* Set (add or replace) a meta entry of a timestamp (only "snapshot.json")
 * or snapshot. Hashes: the known ones set in f->hashes are written. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_file(struct zupd_meta *m, const char *name,
                                               const struct zupd_meta_file *f);
ZUPD_API ZUPD_NODISCARD int zupd_meta_remove_file(struct zupd_meta *m, const char *name);
/* Set (add or replace) a target. At least one hash must be set. custom is
 * JSON text (loaded strictly) or NULL for none. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_set_target(struct zupd_meta *m, const char *path,
                                                 uint64_t length, const struct zupd_hashes *h,
                                                 const uint8_t *custom, size_t custom_len);
ZUPD_API ZUPD_NODISCARD int zupd_meta_remove_target(struct zupd_meta *m, const char *path);

/* The bytes to sign: canonical JSON of the "signed" object. Ownership: *out
 * new, free(). */
ZUPD_API ZUPD_NODISCARD int zupd_meta_signed_bytes(const struct zupd_meta *m, uint8_t **out,
                                                   size_t *out_len);
/* Add a signature (hex) by keyid, replacing one by the same keyid. */
ZUPD_API ZUPD_NODISCARD int zupd_meta_add_signature(struct zupd_meta *m, const char *keyid,
                                                    const char *sig_hex);
ZUPD_API void zupd_meta_clear_signatures(struct zupd_meta *m);

#define ZUPD_META_PRETTY 1u /* indented, keys sorted: for files people read */
/* The whole envelope as JSON (compact canonical form unless
 * ZUPD_META_PRETTY). Ownership: *out new NUL-terminated, free(). */
ZUPD_API ZUPD_NODISCARD int zupd_meta_serialize(const struct zupd_meta *m, unsigned flags,
                                                uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
