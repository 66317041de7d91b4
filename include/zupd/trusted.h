/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/trusted.h -- the TUF trusted metadata set: a pure state machine fed
 * bytes that decides, as TUF 1.0 section 5 says, what metadata to trust.
 * No files, no network; the time is fixed when the set is made. */
#ifndef ZUPD_TRUSTED_H
#define ZUPD_TRUSTED_H

#include <zupd/common.h>
#include <zupd/meta.h>

#ifdef __cplusplus
extern "C" {
#endif

struct zupd_trusted;

/* Start from a trusted root (the one shipped, or the last one trusted):
 * parsed and verified against its own root role (threshold of its own
 * keys). Its expiry is not checked here (a client may walk forward from an
 * expired root); the final root's expiry is checked before timestamp.
 * now is the update start time used for every expiry check.
 * Ownership: *out new, zupd_trusted_free(). err names the role and reason.
 * Returns ZUPD_OK, the errors of zupd_meta_parse(), ZUPD_E_THRESHOLD. */
ZUPD_API ZUPD_NODISCARD int zupd_trusted_new(const uint8_t *root, size_t len, int64_t now,
                                             const struct zupd_limits *lim,
                                             struct zupd_trusted **out, char *err, size_t err_cap);
ZUPD_API void zupd_trusted_free(struct zupd_trusted *t); /* NULL ok */

/* 5.3: a new root N+1, signed by a threshold of the trusted root's root
 * keys AND of its own, version exactly trusted + 1 (ZUPD_E_ROLLBACK
 * otherwise). Only before timestamp is loaded (ZUPD_E_MISUSE). */
ZUPD_API ZUPD_NODISCARD int zupd_trusted_update_root(struct zupd_trusted *t, const uint8_t *buf,
                                                     size_t len, char *err, size_t err_cap);

/* 5.4: timestamp. The final root must not be expired (ZUPD_E_EXPIRED).
 * Signed by the root's timestamp keys; if a timestamp is trusted, its
 * version must not go back (ZUPD_E_ROLLBACK), an equal version returns
 * ZUPD_E_EXISTS and changes nothing (keep using the old one), and the
 * snapshot version it names must not go back (ZUPD_E_ROLLBACK). The new
 * timestamp is then trusted even when expired (so it still protects against
 * rollback), and ZUPD_E_EXPIRED is returned. */
ZUPD_API ZUPD_NODISCARD int zupd_trusted_update_timestamp(struct zupd_trusted *t,
                                                          const uint8_t *buf, size_t len, char *err,
                                                          size_t err_cap);

/* 5.5: snapshot. The trusted timestamp must be valid as final (not
 * expired). Unless from_cache (bytes verified before), length and hashes
 * must match the timestamp's entry (ZUPD_E_LENGTH, ZUPD_E_HASH). Signed by
 * the snapshot keys. If a snapshot is trusted, no targets role it lists may
 * disappear or go back in version (ZUPD_E_ROLLBACK). Then trusted, and
 * checked as final: not expired (ZUPD_E_EXPIRED) and its version equal to
 * the one timestamp names (ZUPD_E_MISMATCH). */
ZUPD_API ZUPD_NODISCARD int zupd_trusted_update_snapshot(struct zupd_trusted *t, const uint8_t *buf,
                                                         size_t len, bool from_cache, char *err,
                                                         size_t err_cap);

/* 5.6/5.7: targets ("targets") or a delegated targets role, delegated by
 * the trusted role delegator ("root" for "targets"). The snapshot must be
 * valid as final; length/hashes as snapshot lists them; signed by a
 * threshold of the delegator's keys for role; version equal to the one in
 * snapshot (ZUPD_E_MISMATCH); not expired (ZUPD_E_EXPIRED). ZUPD_E_NOTFOUND
 * when snapshot does not list role. ZUPD_E_MISUSE for a top-level role other
 * than "targets", "targets" delegated by anything but "root", or another
 * role delegated by "root", "snapshot" or "timestamp". */
ZUPD_API ZUPD_NODISCARD int zupd_trusted_update_targets(struct zupd_trusted *t, const char *role,
                                                        const char *delegator, const uint8_t *buf,
                                                        size_t len, char *err, size_t err_cap);

/* The trusted document of a role ("root", "timestamp", "snapshot",
 * "targets" or a delegated name), borrowed; NULL when not loaded. */
ZUPD_API const struct zupd_meta *zupd_trusted_get(const struct zupd_trusted *t, const char *role);
/* The update start time. */
ZUPD_API int64_t zupd_trusted_now(const struct zupd_trusted *t);

/* Check data[0..len) against a signed length and hashes: length when
 * has_length, and every listed hash, whose algorithms must all be known
 * (ZUPD_E_HASH when one is unknown or malformed). */
ZUPD_API ZUPD_NODISCARD int zupd_check_length_hashes(const uint8_t *data, size_t len,
                                                     bool has_length, uint64_t length,
                                                     const struct zupd_hashes *h);

#ifdef __cplusplus
}
#endif
#endif
