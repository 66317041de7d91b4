/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/update.h -- the endpoint's update engine: trusted metadata in a state
 * directory, channel pointers, release manifests, and installing a release
 * into a store with the least download (hard links for content already
 * installed, deltas from installed content, full blobs otherwise). */
#ifndef ZUPD_UPDATE_H
#define ZUPD_UPDATE_H

#include <zupd/client.h>
#include <zupd/common.h>
#include <zupd/fetch.h>
#include <zupd/manifest.h>
#include <zupd/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Growable (docs/api.md): start from zupd_updater_opts_init(), which sets
 * size and zeroes the rest; then fill the fields. */
struct zupd_updater_opts {
    size_t size;                /* sizeof(struct zupd_updater_opts) of the caller */
    const char *const *mirrors; /* repository roots (metadata/, targets/, blobs/) */
    size_t n_mirrors;
    const char *state_dir;            /* metadata/, cache/, components/, fetch-state */
    const char *trusted_root;         /* root.json to start from when state has none */
    struct zupd_transport *transport; /* borrowed */
    struct zupd_ctx *ctx;             /* borrowed; NULL ok */
    const struct zupd_limits *lim;    /* NULL: defaults */
    int64_t now;                      /* 0: the clock */
    unsigned parallel;                /* downloads at once during an install; 0, 1: one */
    /* An enterprise policy repository (optional): a TUF repository of its
     * own that holds channel pointers only; state in <state_dir>/policy. */
    const char *const *policy_mirrors;
    size_t n_policy_mirrors;
    const char *policy_root; /* its root.json to start from */
    /* Caps on what signed metadata may ask for (a stolen key must not fill
     * the disk): a release with a file (content, blob or delta) over
     * max_file_size or a total content over max_release_size is refused
     * before any download (ZUPD_E_TOOBIG). 0: the default below;
     * UINT64_MAX: no cap. */
    uint64_t max_file_size;
    uint64_t max_release_size;
    /* The time (seconds) one mirror may cost the installs of this updater
     * before the next mirror is asked instead (a slow mirror is not waited
     * for file after file). 0: the default below. */
    uint32_t mirror_time_budget;
    /* The blob cache (<state_dir>/cache) is kept under this many bytes
     * before and after each install, oldest files first. 0: the default. */
    uint64_t max_cache_size;
};

#define ZUPD_DEFAULT_MAX_FILE_SIZE (4ull << 30)     /* 4 GiB */
#define ZUPD_DEFAULT_MAX_RELEASE_SIZE (16ull << 30) /* 16 GiB */
#define ZUPD_DEFAULT_MIRROR_TIME_BUDGET 300u        /* 5 min */
#define ZUPD_DEFAULT_MAX_CACHE_SIZE (2ull << 30)    /* 2 GiB */

static inline void
zupd_updater_opts_init(struct zupd_updater_opts *o)
{
    *o = (struct zupd_updater_opts){.size = sizeof(*o),
                                    .max_file_size = ZUPD_DEFAULT_MAX_FILE_SIZE,
                                    .max_release_size = ZUPD_DEFAULT_MAX_RELEASE_SIZE,
                                    .mirror_time_budget = ZUPD_DEFAULT_MIRROR_TIME_BUDGET,
                                    .max_cache_size = ZUPD_DEFAULT_MAX_CACHE_SIZE};
}

struct zupd_updater;

/* Open the state directory (creating it), initialising the trusted metadata
 * from opts->trusted_root the first time. No request is made.
 * Ownership: *out new, zupd_updater_free(). */
ZUPD_API ZUPD_NODISCARD int zupd_updater_new(const struct zupd_updater_opts *o,
                                             struct zupd_updater **out, char *err, size_t err_cap);
ZUPD_API void zupd_updater_free(struct zupd_updater *u); /* NULL ok */

/* Refresh the TUF metadata (once per updater). Honours a cool-down a server
 * asked for with Retry-After in an earlier run (ZUPD_E_BUSY without any
 * request), sends the timestamp validators of the last run (an idle check
 * costs a 304), and persists both. *changed: a new timestamp. */
ZUPD_API ZUPD_NODISCARD int zupd_updater_refresh(struct zupd_updater *u, bool *changed, char *err,
                                                 size_t err_cap);

/* Where the version to install came from. */
enum zupd_source { ZUPD_SOURCE_VENDOR = 0, ZUPD_SOURCE_POLICY = 1 };

/* What the channel pointers of a component say (zupd_updater_resolve). */
struct zupd_resolved {
    char version[ZUPD_NAME_MAX + 1]; /* the version to install */
    enum zupd_source source;
    char vendor_version[ZUPD_NAME_MAX + 1]; /* the vendor's channel pointer */
    char floor[ZUPD_NAME_MAX + 1];          /* the vendor's security floor, "" none */
    char policy_version[ZUPD_NAME_MAX + 1]; /* the policy's pointer, "" none */
    int64_t policy_expires;                 /* when the pin lapses, 0 never */
    bool policy_rollback;                   /* set by 'policy rollback' */
    char note[ZUPD_CHANNEL_NOTE_MAX + 1];   /* the administrator's reason */
    char why[256];                          /* why a policy pointer is not followed, "" otherwise */
};

/* Decide between a vendor channel pointer and the enterprise policy's
 * pointer for the same channel (NULL: none) at time now: the policy's
 * version unless its pin expired or it is below the vendor's floor. */
ZUPD_API void zupd_channel_decide(const struct zupd_channel *vendor,
                                  const struct zupd_channel *policy, int64_t now,
                                  struct zupd_resolved *out);

/* Resolve the version to install for a component: the vendor's signed
 * channel pointer <role>/<component>/channels/<channel>.json and, with a
 * policy repository, the policy's pointer at the same path, decided by
 * zupd_channel_decide(). A policy version the vendor never signed (no
 * release manifest in the vendor repository) is refused: ZUPD_E_NOTFOUND
 * with a message naming it. Each pointer must name this component and
 * channel. */
ZUPD_API ZUPD_NODISCARD int zupd_updater_resolve(struct zupd_updater *u, const char *role,
                                                 const char *component, const char *channel,
                                                 struct zupd_resolved *out, char *err,
                                                 size_t err_cap);

/* zupd_updater_resolve()'s version, into ver[0..cap). */
ZUPD_API ZUPD_NODISCARD int zupd_updater_channel(struct zupd_updater *u, const char *role,
                                                 const char *component, const char *channel,
                                                 char *ver, size_t cap, char *err, size_t err_cap);

/* The verified manifest <role>/<component>/<version>/manifest.json: its exact
 * bytes (to keep with the installed version) and parsed; it must name this
 * role, component and version. Ownership: *bytes (free()) and *m new. */
ZUPD_API ZUPD_NODISCARD int zupd_updater_manifest(struct zupd_updater *u, const char *role,
                                                  const char *component, const char *version,
                                                  uint8_t **bytes, size_t *len,
                                                  struct zupd_manifest **m, char *err,
                                                  size_t err_cap);

/* What an install did. Growable (docs/api.md): the caller's struct gets
 * zupd_install_stats_init() (size), the library fills what that size
 * holds. A progress callback gets the library's struct: its size says which
 * fields are there. */
struct zupd_install_stats {
    size_t size;           /* sizeof(struct zupd_install_stats) */
    size_t files;          /* files in the release */
    size_t linked;         /* unchanged: hard links (or local copies) */
    size_t by_delta;       /* built from a delta */
    size_t by_blob;        /* downloaded whole */
    size_t delta_failed;   /* deltas that failed and fell back to the blob */
    uint64_t downloaded;   /* bytes fetched for this install */
    uint64_t full_size;    /* bytes a full download of the changed files would cost */
    uint64_t release_size; /* total content bytes of the release */
    size_t by_chain;       /* built from a chain of deltas through releases in between */
};

static inline void
zupd_install_stats_init(struct zupd_install_stats *st)
{
    *st = (struct zupd_install_stats){.size = sizeof(*st)};
}

/* Releases between the installed one and the new one whose manifests an
 * install may fetch to plan chains of deltas (the newest ones). */
#define ZUPD_CHAIN_MANIFESTS_MAX 8

/* Progress callback: called after each file with the counts so far. */
typedef void (*zupd_progress_fn)(void *opaque, const struct zupd_install_stats *st);

/* Install a release whose verified manifest bytes are given into store
 * (not switched: call zupd_store_switch()). Per file: link installed
 * content, else the smallest delta from installed content that beats the
 * full blob, else the cheapest chain of deltas through the releases
 * between the newest installed older version and this one (their signed
 * manifests are fetched only when some file has neither a link nor a
 * direct delta; at most ZUPD_CHAIN_MANIFESTS_MAX) when the sum of its
 * signed sizes beats the blob, else the full blob. Every result, and every
 * intermediate of a chain, is hash-checked; a failed delta or chain falls
 * back to the blob. Blobs are downloaded to <state>/cache (resumable across
 * runs, not fsynced: every use is hash-checked), opts->parallel at a time, in
 * windows of 4 x parallel files that are then built.
 * A failure leaves no trace in the store. */
ZUPD_API ZUPD_NODISCARD int zupd_updater_install(struct zupd_updater *u, struct zupd_store *store,
                                                 const uint8_t *manifest, size_t len,
                                                 zupd_progress_fn progress, void *opaque,
                                                 struct zupd_install_stats *stats, char *err,
                                                 size_t err_cap);

/* Expiry of the trusted timestamp (0 when none) and the client (borrowed). */
ZUPD_API int64_t zupd_updater_expires(const struct zupd_updater *u);
ZUPD_API struct zupd_client *zupd_updater_client(struct zupd_updater *u);
/* Requests and bytes of this updater's transport so far, into *st (size
 * set by zupd_fetch_stats_init()): zupd_transport_stats() of
 * opts->transport. Returns ZUPD_OK or ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_updater_stats(const struct zupd_updater *u,
                                               struct zupd_fetch_stats *st);

#ifdef __cplusplus
}
#endif
#endif
