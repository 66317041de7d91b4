/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/logaudit.h -- a transparency log read as an auditor reads it
 * (docs/transparency.md): from a repository tree (DIR/log/) or over HTTP
 * (URL/log/); its checkpoint opened under a trust (log key, witnesses,
 * quorum); its entries verified against the checkpoint's root; one
 * checkpoint checked to extend another (fork, rollback); and the
 * cross-check with a TUF repository seen through a view. Used by `log
 * verify|show|monitor` and by `sync`. */
#ifndef ZP_LOGAUDIT_H
#define ZP_LOGAUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <zupd/meta.h>

#include "zu/internal.h"
#include "zu/note.h"
#include "zu/tlog.h"
#include "repo/repo.h"

#define ZP_LOG_WITNESS_MAX 32

struct zupd_ctx;

/* Is s an http://, https:// or file:// URL (read with libcurl, as sync
 * reads its upstream), else a directory? */
bool zp_is_url(const char *s);

/* Where a log is read from: where is a directory (its log/) or a URL (its
 * log/, over libcurl; ca_file for https, NULL: the system's store). Paths
 * given to the reader are relative to log/ ("checkpoint", "vkey",
 * "tile/0/000"). Ownership: *out new, zp_logsrc_free(). */
struct zp_logsrc;
ZU_NODISCARD int zp_logsrc_open(const char *where, const char *ca_file, struct zupd_ctx *ctx,
                                struct zp_logsrc **out, char *err, size_t cap);
void zp_logsrc_free(struct zp_logsrc *s); /* NULL ok */
const struct zu_tlog_reader *zp_logsrc_reader(const struct zp_logsrc *s);
/* HTTP requests made so far (0 for a directory). */
uint64_t zp_logsrc_requests(const struct zp_logsrc *s);

/* What an auditor trusts of a log. */
struct zp_log_trust {
    const char *vkey;             /* the log's vkey; NULL: the source's log/vkey */
    const char *const *witnesses; /* cosignature/v1 vkeys */
    size_t n_witnesses;
    size_t quorum;
};

/* The log's vkeys, one a line (two during a key rotation, the same name:
 * docs/transparency.md), into trust's log_key, more_log_keys and origin. */
ZU_NODISCARD int zp_log_vkeys_parse(const char *text, size_t len, struct zu_tlog_trust *trust,
                                    char *err, size_t cap);

/* A checkpoint opened under a trust. keys[0] is the log key, keys[1..]
 * the witnesses; ok[i] tells whether keys[i] signed. */
struct zp_log_cp {
    struct zu_checkpoint c;
    uint8_t *note; /* the signed note as read */
    size_t note_len;
    struct zu_note_key keys[1 + ZP_LOG_WITNESS_MAX];
    bool ok[1 + ZP_LOG_WITNESS_MAX];
    size_t nkeys;
    size_t cosigners;
};

/* Open the signed checkpoint note[0..len) (copied) under t (t->vkey must
 * be set): the log key's signature, its origin, the witnesses' quorum.
 * Ownership: release out with zp_log_cp_release() (also on failure).
 * Returns zu_checkpoint_open()'s codes; ZUPD_E_FORMAT for a bad vkey. */
ZU_NODISCARD int zp_log_cp_open(const uint8_t *note, size_t len, const struct zp_log_trust *t,
                                struct zp_log_cp *out, char *err, size_t cap);
/* Read src's checkpoint and open it under t (t->vkey NULL: src's vkey). */
ZU_NODISCARD int zp_log_cp_read(struct zp_logsrc *src, const struct zp_log_trust *t,
                                struct zp_log_cp *out, char *err, size_t cap);
void zp_log_cp_release(struct zp_log_cp *cp);
/* The checkpoint as JSON: origin, size, root_hash (base64), signers
 * (names of the keys that signed). Ownership: new reference. */
json_t *zp_log_cp_json(const struct zp_log_cp *cp);

/* Check that checkpoint cur extends old, with the consistency proof
 * computed from the tiles of cur's tree (rd): ZUPD_OK; ZUPD_E_ROLLBACK
 * (cur is a smaller tree); ZUPD_E_MISMATCH (a fork: another origin, the
 * same size with another root, or no valid consistency proof between the
 * two roots); ZUPD_E_HASH (cur's tiles do not give cur's root: a damaged
 * tile, not a proof of a fork); the reader's errors. */
ZU_NODISCARD int zp_log_extends(const struct zu_tlog_reader *rd, const struct zu_checkpoint *old,
                                const struct zu_checkpoint *cur, char *err, size_t cap);

/* The entries of c's tree with index >= from, each verified against c's
 * root, as a JSON array of the entries' documents with "index" added.
 * whole: every tile of the tree is checked (zu_tlog_verify_tree); else
 * only the entries from `from` on, each by an inclusion proof (what a
 * monitor reads after a consistency proof). Ownership: *out new. */
ZU_NODISCARD int zp_log_entries(const struct zu_tlog_reader *rd, const struct zu_checkpoint *c,
                                uint64_t from, bool whole, json_t **out, char *err, size_t cap);
/* "INDEX TYPE ROLE COMPONENT VERSION SHA256" of an entry of zp_log_entries
 * ("-" for what it has not). */
void zp_log_entry_line(const json_t *e, char *dst, size_t cap);

/* A TUF repository as the cross-check sees it (verified by its reader:
 * the repository on disk, or lib's TUF client). */
struct zp_tuf_view {
    void *opaque;
    /* every signed target of the repository, through fn */
    int (*targets)(void *opaque, zupd_meta_target_fn fn, void *arg);
    uint64_t root_version; /* the newest root */
    /* the bytes of root version v, 1 <= v <= root_version (malloc'd) */
    int (*root)(void *opaque, uint64_t v, uint8_t **data, size_t *len, char *err, size_t cap);
};

/* The whole-log check and the cross-check: every tile and entry bundle of
 * c's tree hashes up to c's root, and every target and every root version
 * of tv is logged with its sha256 and length (entries no longer signed are
 * counted in res->not_current). res is filled (origin, size, root, counts).
 * Returns ZUPD_OK, ZUPD_E_NOTFOUND (signed, not logged), ZUPD_E_HASH,
 * ZUPD_E_FORMAT, the reader's and the view's errors. */
ZU_NODISCARD int zp_log_crosscheck(const struct zu_tlog_reader *rd, const struct zu_checkpoint *c,
                                   const struct zp_tuf_view *tv, struct zp_log_res *res, char *err,
                                   size_t cap);

/* `log monitor`: the checkpoint remembered in state (a file holding the
 * signed note of the last checkpoint verified; missing: a first run) and
 * the source's current one, opened under t (t->vkey required). A first
 * run verifies the whole tree; later runs check the current checkpoint
 * extends the remembered one (zp_log_extends: ZUPD_E_ROLLBACK and
 * ZUPD_E_MISMATCH are the alarms) and verify only the new entries by
 * inclusion proofs. Nothing is written: zp_log_monitor_store() remembers
 * cur once the caller reported the entries.
 * Ownership: cur (release with zp_log_cp_release(), also on failure),
 * *entries new. *prev_size is the remembered size, *first true when no
 * state existed. */
ZU_NODISCARD int zp_log_monitor(struct zp_logsrc *src, const struct zp_log_trust *t,
                                const char *state, struct zp_log_cp *cur, uint64_t *prev_size,
                                bool *first, json_t **entries, char *err, size_t cap);
/* Replace state by cur's signed note, durably (temp file, fsync, rename,
 * directory fsync), unless it holds exactly that already. */
ZU_NODISCARD int zp_log_monitor_store(const char *state, const struct zp_log_cp *cur, char *err,
                                      size_t cap);

#endif
