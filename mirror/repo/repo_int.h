/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/repo_int.h -- what the repository modules (repo.c, repo_commit.c,
 * publish.c, maint.c, offline.c) share; never used by programs. */
#ifndef ZP_REPO_INT_H
#define ZP_REPO_INT_H

#include <stdio.h>

#include <jansson.h>
#include <zupd/manifest.h>

#include "repo/fsops.h"
#include "repo/repo.h"

#define ZP_META_CAP (64u << 20) /* any metadata or manifest file we read back */
#define ZP_STATE_DIR ".zupd"

struct zp_unlocked {
    char keyid[65];
    struct zp_signer *s;
};

/* A hash bin of a succinct delegation (TAP 15) of avdb. */
struct zp_bin {
    char name[64];
    struct zupd_meta *m;
    bool dirty; /* renew at the next commit */
};

struct zp_repo {
    char *dir;
    char *keys_dir;
    int dfd;
    int lockfd;
    struct zp_pass pass;
    int64_t now;
    struct zp_config cfg;
    struct zupd_meta *m[ZP_R__N];
    struct zp_unlocked *keys;
    size_t n_keys;
    struct zp_bin *bins; /* avdb's hash bins, when it has them */
    size_t n_bins;
};

/* The targets document that lists (or would list) path for role: the
 * role's own, or the hash bin of avdb that path falls in. */
struct zupd_meta *zp_tdoc(struct zp_repo *r, enum zp_role role, const char *path);
/* Note that zp_tdoc(r, role, path) changed: its bin is renewed at the next
 * commit, or role is added to *mask. */
void zp_tdoc_changed(struct zp_repo *r, enum zp_role role, const char *path, unsigned *mask);
/* zupd_meta_target_foreach over every targets document of role. */
int zp_tdoc_foreach(struct zp_repo *r, enum zp_role role, zupd_meta_target_fn fn, void *opaque);

/* Sign doc as role: clear its signatures, then sign with the unlocked keys
 * until each delegator's threshold for role is met; verified afterwards. */
ZU_NODISCARD int zp_sign_as(struct zp_repo *r, struct zupd_meta *doc, const char *role,
                            const struct zupd_meta *const *delegators, size_t n_delegators,
                            char *err, size_t cap);

/* Write doc as the metadata file of role (N.role.json; timestamp.json;
 * root also root.json). *bytes (if not NULL) += its length. */
ZU_NODISCARD int zp_write_meta(struct zp_repo *r, enum zp_role role, const struct zupd_meta *doc,
                               uint64_t *bytes, char *err, size_t cap);

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

/* The snapshot (or, with hashes, timestamp) entry describing r->m[role]. */
ZU_NODISCARD int zp_meta_entry(struct zp_repo *r, enum zp_role role, bool hashes,
                               struct zupd_meta_file *f);
/* The same entry describing doc (a hash bin of avdb, say). */
ZU_NODISCARD int zp_doc_entry(const struct zupd_meta *doc, bool hashes, struct zupd_meta_file *f);

/* Write doc as metadata/<version>.<name>.json, deferred until the flush
 * before the timestamp (see zp_commit). *bytes (if not NULL) += its
 * length. */
ZU_NODISCARD int zp_write_doc(struct zp_repo *r, const char *name, const struct zupd_meta *doc,
                              uint64_t *bytes, char *err, size_t cap);

/* A deep copy of m. */
ZU_NODISCARD int zp_meta_copy(const struct zupd_meta *m, struct zupd_meta **out);

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

/* "<role>/<component>/<version>/manifest.json" and the hash-prefixed file
 * name of a target in targets/ for content of sha256 hex. */
ZU_NODISCARD int zp_target_file(char *dst, size_t cap, const char *target_path,
                                const char *sha256_hex);
void zp_blob_path(char *dst, size_t cap, const uint8_t sha256[32]);

/* Read a target file by its TUF path as the current role lists it. */
ZU_NODISCARD int zp_read_target(struct zp_repo *r, enum zp_role role, const char *path,
                                uint8_t **out, size_t *out_len, char *err, size_t cap);

/* Write the publisher configuration. */
ZU_NODISCARD int zp_config_write(int dfd, const struct zp_config *c);

#endif
