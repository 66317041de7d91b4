/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync.h -- zupd-mirror sync: make DIR an enterprise mirror of an
 * upstream repository, verified exactly as a client verifies it against a
 * pinned root, written so that DIR is consistent at every instant. */
#ifndef ZP_SYNC_H
#define ZP_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <zupd/common.h>

#include "zu/internal.h"
#include "repo/pins.h"

/* What a sync did with one pin of the policy repository (--policy). */
enum zp_pin_state {
    ZP_PIN_KEPT = 0,    /* the pinned release is mirrored */
    ZP_PIN_UNSIGNED,    /* the vendor's metadata lists no such release */
    ZP_PIN_NOT_MIRRORED /* a component --component leaves out */
};

struct zp_sync_opts {
    const char *upstream;          /* base URL of the upstream tree (metadata/, targets/, blobs/) */
    const char *dir;               /* the mirror tree; created when missing */
    const char *root_path;         /* pinned root; NULL: the root trusted by an earlier sync */
    const char *const *components; /* only these components' targets; n 0: all */
    size_t n_components;
    /* retention: with n_channels > 0 only the channel pointers of these
     * channels; with keep > 0 the newest keep releases of each component;
     * and the releases the mirrored channel pointers name. When either is
     * set, what DIR holds beyond that is removed after the switch. */
    const char *const *channels;
    size_t n_channels;
    unsigned keep;
    /* the enterprise policy repository (URL or directory) and its trusted
     * root: every release one of its channel pointers pins is kept,
     * whatever channels and keep say; NULL: none. Its trusted metadata is
     * kept in DIR/.zupd/sync-policy (started from policy_root). */
    const char *policy;
    const char *policy_root;
    const char *ca_file; /* for https upstreams; NULL: the system's store */
    /* the upstream's transparency log key (a vkey); NULL: the one DIR
     * holds from an earlier sync, else the upstream's log/vkey */
    const char *log_vkey;
    int64_t now;          /* 0: the clock */
    struct zupd_ctx *ctx; /* logging; NULL ok */
    /* after a successful commit, called with each target path this run
     * added to DIR (new manifests and channel pointers); NULL ok */
    void (*on_new_target)(void *opaque, const char *path);
    /* after the switch, called with each target path removed from DIR
     * (retention); NULL ok */
    void (*on_removed_target)(void *opaque, const char *path);
    /* after a successful commit, called with each pin of the policy
     * repository and what the sync did with it; NULL ok */
    void (*on_pin)(void *opaque, const struct zp_pin_ref *pin, enum zp_pin_state st);
    void *opaque;
};

struct zp_sync_res {
    bool changed; /* the served tree changed */
    uint64_t root_version, timestamp_version, snapshot_version;
    uint64_t roles;           /* targets roles mirrored (targets + delegations) */
    uint64_t targets;         /* targets mirrored (manifests, channel pointers) */
    uint64_t targets_skipped; /* targets the metadata lists that are not mirrored */
    uint64_t targets_fetched; /* ... of them downloaded by this run */
    uint64_t blobs;           /* blobs and deltas the mirrored manifests name */
    uint64_t blobs_fetched;   /* ... downloaded by this run */
    uint64_t blob_bytes_fetched;
    uint64_t meta_written;  /* metadata files new or replaced in DIR/metadata */
    uint64_t requests;      /* HTTP requests to the upstream */
    uint64_t bytes_fetched; /* body bytes received from the upstream */
    uint64_t targets_removed, blobs_removed, bytes_removed; /* retention */
    uint64_t pins, pins_kept;   /* pointers of the policy repository; those whose release is kept */
    bool log;                   /* the upstream has a transparency log, checked and mirrored */
    uint64_t log_size;          /* its checkpoint's size */
    uint64_t log_files_fetched; /* tiles and bundles DIR did not have */
};

/* Sync dir from the upstream (see docs/mirror.md, "Sync"): the upstream's
 * metadata is refreshed with libzupd's client into dir/.zupd/sync-metadata
 * (starting from root_path on the first run); every target of the verified
 * roles is fetched with its signed length and hashes, every blob and delta
 * the manifests name with its sha256 and size, into dir/.zupd/sync-staging;
 * only when everything verified is dir changed: blobs, then targets, then the
 * vendor's metadata files byte for byte, then root.json and timestamp.json,
 * each by rename; the list of mirrored targets (ZP_SYNC_SELECTION) goes in
 * just before timestamp.json. With retention options, what is no longer
 * selected is removed after the switch. On any failure before the switch
 * dir's served tree is unchanged.
 * Returns ZUPD_OK or the error of the first refusal; err names it. */
ZU_NODISCARD int zp_sync(const struct zp_sync_opts *o, struct zp_sync_res *res, char *err,
                         size_t cap);

/* `zupd-mirror log verify URL`: the upstream's TUF metadata verified as
 * zp_sync verifies it (o->upstream, o->root_path required, o->ca_file,
 * o->now, o->ctx; the trusted metadata in a temporary directory removed
 * afterwards), then its transparency log (URL/log/, checkpoint signed by
 * vkey, NULL: the URL's log/vkey) checked and cross-checked with it as
 * zp_log_verify does for a directory. */
struct zp_log_res;
ZU_NODISCARD int zp_log_verify_url(const struct zp_sync_opts *o, const char *vkey,
                                   struct zp_log_res *res, char *err, size_t cap);

#endif
