/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/change.h -- changing a repository: the targets documents, the
 * checks a command makes first, channel pointers, and the commit that signs
 * and writes new versions in order (mirror/repo/repo_commit.c). For the
 * commands (publish, promote, policy, ...); the state behind struct zp_repo
 * stays in mirror/repo/repo_int.h. */
#ifndef ZP_CHANGE_H
#define ZP_CHANGE_H

#include <stdint.h>

#include <jansson.h>
#include <zupd/manifest.h>

#include "repo/repo.h"

/* When this run started (the clock every expiry of the change is based on)
 * and the repository directory's descriptor. */
int64_t zp_repo_now(const struct zp_repo *r);
int zp_repo_dfd(const struct zp_repo *r);

/* The targets document that lists (or would list) path for role: the
 * role's own, or the hash bin of avdb that path falls in. */
struct zupd_meta *zp_tdoc(struct zp_repo *r, enum zp_role role, const char *path);
/* Note that zp_tdoc(r, role, path) changed: its bin is renewed at the next
 * commit, or role is added to *mask. */
void zp_tdoc_changed(struct zp_repo *r, enum zp_role role, const char *path, unsigned *mask);
/* zupd_meta_target_foreach over every targets document of role. */
int zp_tdoc_foreach(struct zp_repo *r, enum zp_role role, zupd_meta_target_fn fn, void *opaque);

/* New versions of the targets-type roles in mask (bit 1u << role), each
 * with a fresh expiry, signed and written; then a new snapshot naming them
 * and a new timestamp: in that order. *bytes += the metadata written. */
ZU_NODISCARD int zp_commit(struct zp_repo *r, unsigned mask, uint64_t *bytes, char *err,
                           size_t cap);

/* zp_commit with the roles to renew and the roles whose (already written)
 * current document snapshot must list. */
ZU_NODISCARD int zp_commit2(struct zp_repo *r, unsigned renew_mask, unsigned list_mask,
                            uint64_t *bytes, char *err, size_t cap);

/* Bump version and expiry of r->m[role], sign it as its delegator says,
 * write it. */
ZU_NODISCARD int zp_renew(struct zp_repo *r, enum zp_role role, uint64_t *bytes, char *err,
                          size_t cap);

/* Refuse when root or targets (offline: this run can not re-sign them)
 * has expired. */
ZU_NODISCARD int zp_check_offline_live(struct zp_repo *r, const char *what, char *err, size_t cap);
/* Refuse (ZUPD_E_MISUSE) what is not for a policy repository, or only for
 * one, with a message naming the command. */
ZU_NODISCARD int zp_check_vendor(struct zp_repo *r, const char *what, char *err, size_t cap);
ZU_NODISCARD int zp_check_policy(struct zp_repo *r, const char *what, char *err, size_t cap);

/* The channel pointer of component's channel (parsed); ZUPD_E_NOTFOUND
 * when there is none. Ownership: *out new, zupd_channel_free(). */
ZU_NODISCARD int zp_channel_read(struct zp_repo *r, enum zp_role role, const char *component,
                                 const char *channel, struct zupd_channel **out);
/* Write the channel pointer doc (checked by zupd_channel_parse) as a target
 * of role, deferred until the next commit; the role is added to *mask. */
ZU_NODISCARD int zp_channel_put(struct zp_repo *r, enum zp_role role, json_t *doc, unsigned *mask,
                                char *err, size_t cap);
/* ZUPD_E_NOTFOUND (with a message) unless version of component is a
 * release published in role. */
ZU_NODISCARD int zp_check_published(struct zp_repo *r, enum zp_role role, const char *component,
                                    const char *version, char *err, size_t cap);
/* The highest security floor any channel pointer of component carries;
 * ZUPD_E_NOTFOUND when none does. */
ZU_NODISCARD int zp_floor_get(struct zp_repo *r, enum zp_role role, const char *component,
                              char *floor, size_t cap);

/* Read a target file by its TUF path as the current role lists it. */
ZU_NODISCARD int zp_read_target(struct zp_repo *r, enum zp_role role, const char *path,
                                uint8_t **out, size_t *out_len, char *err, size_t cap);

#endif
