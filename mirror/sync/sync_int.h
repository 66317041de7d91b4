/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync_int.h -- what the parts of zupd-mirror sync share (sync.c:
 * fetch and verify; sync_commit.c: the switch and retention); never used
 * by programs. */
#ifndef ZP_SYNC_INT_H
#define ZP_SYNC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zupd/client.h>
#include <zupd/fetch.h>

#include "zu/internal.h"
#include "repo/fsops.h"
#include "repo/layout.h"
#include "sync/sync.h"
#include "repo/select.h"
#include "repo/upstream.h"

#define SYNC_META_DIR ZP_STATE_DIR "/sync-metadata"
#define SYNC_STAGE_DIR ZP_STATE_DIR "/sync-staging"
#define SYNC_POLICY_DIR ZP_STATE_DIR "/sync-policy"

struct tgt {
    char *path;  /* TUF target path */
    char *rel;   /* "targets/<dir>/<hash>.<base>" in DIR */
    bool staged; /* verified bytes in the staging directory as "target.<index>" */
    struct zp_sel sel;
};

struct blob {
    uint8_t sha[32];
    uint64_t size;
    bool staged; /* fetched into the staging directory by this run */
};

struct sync {
    const struct zp_sync_opts *o;
    struct zp_sync_res *res;
    char *err;
    size_t cap;
    int dfd, mfd, sfd, lockfd;
    char *base;  /* upstream, ending in '/' */
    char *mbase; /* base + "metadata/" */
    char *tbase; /* base + "targets/" */
    struct zupd_transport *tr;
    struct zupd_client *c;
    struct zp_upstream_opts uo;
    struct zp_roles roles; /* every targets role, in the order a client reaches them */
    struct tgt *t;
    size_t n_t, cap_t;
    struct blob *b;
    size_t n_b, cap_b;
    uint8_t **roots; /* roots[k - 1]: bytes of k.root.json */
    size_t *root_len;
    uint64_t n_roots;
    struct zp_pins pins;          /* the policy repository's pointers (--policy) */
    enum zp_pin_state *pin_state; /* pin_state[i]: of pins.v[i] */
    /* the transparency log (sync_log.c) */
    struct zp_logsrc *log; /* the upstream's log/ */
    struct logfile *lf;    /* tiles and bundles fetched, written by the commit */
    size_t n_lf, cap_lf;
    uint8_t *log_note; /* the upstream's verified checkpoint, written last */
    size_t log_note_len;
    char *log_vkey;       /* the log's vkey, written when DIR has none */
    struct logfile *snap; /* the trusted metadata as this run found it */
    size_t n_snap, cap_snap;
};

struct logfile {
    char *path; /* relative to log/ */
    uint8_t *data;
    size_t len;
};

/* zp_sync's steps, shared with `log verify URL` (sync_log.c): the
 * upstream's metadata refreshed by lib's client from the pinned root
 * (s->mfd: the trusted metadata directory; s->base, mbase, tbase set;
 * then zp_upstream_roles() for every targets role), the chain of roots
 * fetched and verified;
 * zp_sync_free releases what they hold. */
ZU_NODISCARD int zp_sync_open_upstream(struct sync *s, const uint8_t *pinned, size_t pinned_len);
ZU_NODISCARD int zp_sync_roots(struct sync *s, const uint8_t *pinned, size_t pinned_len);
void zp_sync_free(struct sync *s);

/* The upstream's transparency log (docs/transparency.md): its checkpoint
 * under the log key (o->log_vkey, else DIR's log/vkey from an earlier
 * sync, else the upstream's, first seen), consistent with the checkpoint
 * DIR holds (a fork or a rollback is refused), every tile and bundle
 * hashing to its root (those DIR has are read from DIR, the others
 * fetched and kept in memory), and every target and root version of the
 * verified metadata logged. ZUPD_OK with nothing to do when neither the
 * upstream nor DIR has a log. */
ZU_NODISCARD int zp_sync_log(struct sync *s);
/* At the commit, before the metadata: the new tiles and bundles (deferred,
 * flushed), then DIR's log/vkey if new, then log/checkpoint. */
ZU_NODISCARD int zp_sync_log_commit(struct sync *s);
void zp_sync_log_free(struct sync *s);
/* The verified metadata of s as the log's cross-check reads it (its
 * targets and root versions); for sync_log.c and log_url.c. */
struct zp_tuf_view;
void zp_sync_log_view(struct sync *s, struct zp_tuf_view *tv);
/* The trusted metadata directory (s->mfd) as this run found it, kept in
 * memory; put back when the upstream's log is refused, so that metadata
 * signed for a forked or unlogged history does not become the mirror's
 * trusted state (the next sync of the real upstream would see a rollback). */
ZU_NODISCARD int zp_sync_meta_save(struct sync *s);
void zp_sync_meta_restore(struct sync *s);

/* Refuse (ZUPD_E_ROLLBACK) when the timestamp the client trusts is older
 * than the one DIR serves; ZUPD_OK when DIR has none. */
ZU_NODISCARD int zp_sync_check_timestamp(struct sync *s);

/* Is dirfd/rel a regular file holding exactly buf[0..len)? (sync_commit.c;
 * the commit and the log's checkpoint skip a write that changes nothing) */
bool zp_sync_same_file(int dirfd, const char *rel, const uint8_t *buf, size_t len);

/* Write DIR's served tree from what s fetched and verified: staged blobs,
 * then staged targets, then the versioned metadata and the selection, then
 * root.json and timestamp.json (the switch). On failure the deferred
 * writes are discarded and err names the refusal. */
ZU_NODISCARD int zp_sync_commit(struct sync *s);

/* Read the policy repository's pins (o->policy), verified, into s->pins;
 * fails closed with an error naming the policy repository. No-op without
 * o->policy. (sync_pins.c) */
ZU_NODISCARD int zp_sync_pins_load(struct sync *s);

/* Mark kept, in sel[0..s->n_t) (the targets' selection, index for index),
 * the manifest of every release a pin names, and note each pin's state. */
void zp_sync_pins_keep(struct sync *s, struct zp_sel *sel);

/* Retention, after the switch: remove every target file and blob of DIR
 * that the selection does not need; counts go to s->res. */
ZU_NODISCARD int zp_sync_sweep(struct sync *s);

#endif
