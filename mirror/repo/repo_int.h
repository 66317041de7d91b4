/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/repo_int.h -- the repository core: struct zp_repo and what
 * the modules that build it share (repo.c, repo_commit.c, init.c,
 * publish.c, maint.c, offline.c); never used by programs. Commands that
 * change a repository without being part of its core (the policy
 * repository) use mirror/repo/change.h. */
#ifndef ZP_REPO_INT_H
#define ZP_REPO_INT_H

#include <stdio.h>

#include <jansson.h>
#include <zupd/manifest.h>

#include "repo/fsops.h"
#include "repo/change.h"
#include "repo/repo.h"

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

/* A queued transparency log entry (canonical JSON). */
struct zp_log_entry {
    uint8_t *p;
    size_t len;
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
    struct zp_log_entry *logq; /* entries of this change, logged by the next commit */
    size_t n_logq, cap_logq;
    zupd_log_fn log_fn; /* warnings (zp_repo_opts) */
    void *log_opaque;
};

/* A new zp_repo for o (directory opened, nothing loaded). Ownership: *out
 * new, zp_repo_free(). */
ZU_NODISCARD int zp_repo_alloc(const struct zp_repo_opts *o, struct zp_repo **out);

/* Sign doc as role: clear its signatures, then sign with the unlocked keys
 * until each delegator's threshold for role is met; verified afterwards. */
ZU_NODISCARD int zp_sign_as(struct zp_repo *r, struct zupd_meta *doc, const char *role,
                            const struct zupd_meta *const *delegators, size_t n_delegators,
                            char *err, size_t cap);

/* Sign doc as role with the keys of it this repository holds (up to the
 * threshold delegator gives it): *have signatures made, *threshold needed.
 * Not meeting the threshold is no error here (a staged change waits for
 * the other key holders, mirror/repo/staged.c). */
ZU_NODISCARD int zp_sign_held(struct zp_repo *r, struct zupd_meta *doc, const char *role,
                              const struct zupd_meta *delegator, uint64_t *have,
                              uint64_t *threshold, char *err, size_t cap);

/* Write doc as the metadata file of role (N.role.json; timestamp.json;
 * root also root.json). *bytes (if not NULL) += its length. */
ZU_NODISCARD int zp_write_meta(struct zp_repo *r, enum zp_role role, const struct zupd_meta *doc,
                               uint64_t *bytes, char *err, size_t cap);

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

/* Stage a change of role (mirror/repo/staged.c): flush the deferred files,
 * write targets (NULL: unchanged) and doc, then the descriptor with
 * releases (a JSON array, borrowed; NULL: none). out: the staged directory. */
ZU_NODISCARD int zp_staged_put(struct zp_repo *r, enum zp_role role,
                               const struct zupd_meta *targets, const struct zupd_meta *doc,
                               json_t *releases, char *out, size_t out_cap, char *err, size_t cap);
/* A signature or signed role file for the staged change: ZUPD_E_NOTFOUND
 * (no message) when buf is for none. */
ZU_NODISCARD int zp_staged_import(struct zp_repo *r, const uint8_t *buf, size_t len,
                                  const char *path, struct zp_import_res *res, char *err,
                                  size_t cap);

/* The transparency log (mirror/repo/translog.c, docs/transparency.md).
 * zp_log_create: log/vkey and the signed checkpoint of the empty log, with
 * the key KEYDIR/log.key (made by init). zp_log_release, _channel, _root
 * queue the entry of a target as written (text[0..len)); zp_log_commit
 * appends what is queued, puts the tiles in place and writes the new
 * checkpoint: called before the TUF metadata that names the targets is
 * written (zp_commit2, and root before its file). A repository without
 * log/checkpoint (made before logs) logs nothing. */
ZU_NODISCARD int zp_log_create(struct zp_repo *r, char *err, size_t cap);
bool zp_log_enabled(const struct zp_repo *r);
ZU_NODISCARD int zp_log_release(struct zp_repo *r, enum zp_role role, const char *path,
                                const char *text, size_t len, const struct zupd_manifest *m,
                                char *err, size_t cap);
ZU_NODISCARD int zp_log_channel(struct zp_repo *r, enum zp_role role, const char *path,
                                const char *text, size_t len, const struct zupd_channel *c,
                                char *err, size_t cap);
ZU_NODISCARD int zp_log_root(struct zp_repo *r, uint64_t version, const uint8_t *text, size_t len,
                             char *err, size_t cap);
ZU_NODISCARD int zp_log_commit(struct zp_repo *r, char *err, size_t cap);
/* The log's files in r's tree (DIR/log/PATH): a zu_tlog_reader's read, with
 * opaque the struct zp_repo. */
ZU_NODISCARD int zp_log_read(void *opaque, const char *path, size_t max, uint8_t **data,
                             size_t *len, char *err, size_t cap);
/* Read DIR/log/checkpoint and parse it, not its signatures: *raw its
 * bytes, *n the note, *c the checkpoint, each the caller's to free; on an
 * error err says so and nothing is left to free. */
struct zu_note;
struct zu_checkpoint;
ZU_NODISCARD int zp_log_cp_load(struct zp_repo *r, uint8_t **raw, size_t *raw_len,
                                struct zu_note **n, struct zu_checkpoint *c, char *err, size_t cap);
/* The custom member {"zupd_log":{"index":N}} of the target whose entry is
 * queued next (N: the entry's index once committed) into dst; *len 0 when
 * the repository has no log. */
#define ZP_LOG_CUSTOM_MAX 64
ZU_NODISCARD int zp_log_custom(struct zp_repo *r, char *dst, size_t dst_cap, size_t *len, char *err,
                               size_t cap);
void zp_log_queue_clear(struct zp_repo *r);

/* Write the publisher configuration. */
ZU_NODISCARD int zp_config_write(int dfd, const struct zp_config *c);

#endif
