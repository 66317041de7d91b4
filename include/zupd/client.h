/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/client.h -- the TUF client workflow (TUF 1.0 section 5) over a
 * transport: root rotation walk, timestamp, snapshot, targets, delegation
 * search, verified target downloads, and the trusted metadata kept on disk.
 * Every mirror is untrusted: a file a mirror serves that fails a check is
 * fetched from the next mirror; what is trusted never changes on failure. */
#ifndef ZUPD_CLIENT_H
#define ZUPD_CLIENT_H

#include <zupd/common.h>
#include <zupd/fetch.h>
#include <zupd/meta.h>
#include <zupd/trusted.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Growable (docs/api.md): start from zupd_client_opts_init(), which sets
 * size, zeroes the rest and metadata_dirfd to -1; then fill the fields. */
struct zupd_client_opts {
    size_t size;                      /* sizeof(struct zupd_client_opts) of the caller */
    const char *const *metadata_urls; /* base URLs of the metadata, in order */
    size_t n_metadata_urls;
    int metadata_dirfd;               /* trusted metadata: root.json, timestamp.json, ... */
    struct zupd_transport *transport; /* borrowed */
    struct zupd_ctx *ctx;             /* borrowed, for logging; NULL ok */
    const struct zupd_limits *lim;    /* NULL: defaults */
    int64_t now;                      /* update start time; 0: the clock, read once */
    /* in/out: HTTP validators of the trusted timestamp, for a conditional
     * GET (an idle check then costs a 304); NULL: never conditional */
    struct zupd_validators *timestamp_validators;
    /* in/out (optional): the signed-time floor, the newest time this client
     * has verified a signature for in earlier runs (0: none), kept by the
     * caller (zupd keeps it in <state_dir>/time-floor). now is never earlier
     * than *time_floor: when the clock is behind it, a warning names both
     * and expiry is checked at the floor. Each verified timestamp raises
     * *time_floor (and now) to its expiry minus ZUPD_TIMESTAMP_LIFETIME_MAX,
     * a time the timestamp cannot have been signed before; only verified
     * metadata moves it. NULL: no floor, now alone (a TUF conformance client
     * whose harness sets its own times). */
    int64_t *time_floor;
};

/* The longest a timestamp is assumed to be valid after it is signed: a
 * month (zupd-mirror and python-tuf sign for 1 day, the test repositories of
 * this tree for 30): verified expiry minus this is a lower bound of the real
 * time. A repository signing timestamps for longer would make its clients
 * believe it is later than it is. */
#define ZUPD_TIMESTAMP_LIFETIME_MAX (31 * (int64_t)86400)

static inline void
zupd_client_opts_init(struct zupd_client_opts *o)
{
    *o = (struct zupd_client_opts){.size = sizeof(*o), .metadata_dirfd = -1};
}

struct zupd_client;

/* Load the trusted root from metadata_dirfd/root.json (verified against
 * itself). No request is made. Ownership: *out new, zupd_client_free().
 * err receives a one-line reason naming the file. */
ZUPD_API ZUPD_NODISCARD int zupd_client_new(const struct zupd_client_opts *o,
                                            struct zupd_client **out, char *err, size_t err_cap);
ZUPD_API void zupd_client_free(struct zupd_client *c); /* NULL ok */

/* Initialise a metadata directory with a trusted root (the exact bytes are
 * verified against themselves first, then written atomically as root.json).
 * No request is made. */
ZUPD_API ZUPD_NODISCARD int zupd_client_init_dir(int metadata_dirfd, const uint8_t *root,
                                                 size_t len, char *err, size_t err_cap);

/* Refresh top-level metadata: walk root versions N+1, N+2, ... (up to
 * lim->max_root_rotations), then timestamp, snapshot and targets; each
 * verified file is persisted (exact bytes, unversioned name) at once.
 * Returns ZUPD_OK or the error of the first refusal (ZUPD_E_THRESHOLD,
 * _EXPIRED, _ROLLBACK, _HASH, _LENGTH, _TOOBIG, _MISMATCH, network errors).
 * *changed (if not NULL) tells whether a new timestamp was trusted. */
ZUPD_API ZUPD_NODISCARD int zupd_client_refresh(struct zupd_client *c, bool *changed, char *err,
                                                size_t err_cap);

/* Find the target path by pre-order depth-first search of the delegations
 * (terminating roles, path patterns, hash prefixes, at most
 * lim->max_delegations roles visited), loading delegated roles as needed.
 * Refreshes first when that was not done. ZUPD_E_NOTFOUND when no trusted
 * role lists it. role (if not NULL) receives the name of the role that
 * signed it. */
ZUPD_API ZUPD_NODISCARD int zupd_client_find_target(struct zupd_client *c, const char *path,
                                                    struct zupd_target *out, char *role,
                                                    size_t role_cap, char *err, size_t err_cap);

/* Download target path (found by zupd_client_find_target, info t) from
 * the target base URLs into dirfd/name: length and every hash checked,
 * atomically renamed into place; nothing but verified bytes ever appears
 * under name. A file already there with the right length and hashes is
 * kept and nothing is downloaded (*cached set). Consistent snapshot
 * repositories are asked for "<dir>/<hash>.<basename>". */
ZUPD_API ZUPD_NODISCARD int
zupd_client_download_target(struct zupd_client *c, const char *path, const struct zupd_target *t,
                            const char *const *target_urls, size_t n_target_urls, int dirfd,
                            const char *name, bool *cached, char *err, size_t err_cap);

/* Verified bytes of a target into memory (for manifests and channel
 * pointers); at most max_len bytes (the signed length must fit). */
ZUPD_API ZUPD_NODISCARD int
zupd_client_fetch_target(struct zupd_client *c, const char *path, const struct zupd_target *t,
                         const char *const *target_urls, size_t n_target_urls, size_t max_len,
                         uint8_t **out, size_t *out_len, char *err, size_t err_cap);

/* The longest Retry-After (seconds) a server asked for so far; 0: none. */
ZUPD_API uint32_t zupd_client_retry_after(const struct zupd_client *c);

/* The trusted metadata set (borrowed). */
ZUPD_API const struct zupd_trusted *zupd_client_trusted(const struct zupd_client *c);

/* Percent-encode s as python's urllib.parse.quote(s, safe=""): every byte
 * but A-Z a-z 0-9 _ . - ~ becomes %XX. The file name of a role's metadata is
 * its encoding + ".json". ZUPD_E_TOOBIG when dst is too small. */
ZUPD_API ZUPD_NODISCARD int zupd_url_quote(char *dst, size_t dst_cap, const char *s);

#ifdef __cplusplus
}
#endif
#endif
