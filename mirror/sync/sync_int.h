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
};

/* Refuse (ZUPD_E_ROLLBACK) when the timestamp the client trusts is older
 * than the one DIR serves; ZUPD_OK when DIR has none. */
ZU_NODISCARD int zp_sync_check_timestamp(struct sync *s);

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
