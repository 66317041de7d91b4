/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/store.h -- installed versions of a component: staging, atomic switch,
 * rollback, holds, bad releases, pruning (see docs/internals/store.md).
 *
 *   <state>/components/<name>/versions/<version>/     installed trees
 *   <state>/components/<name>/versions/<version>.staging/  being built
 *   <state>/components/<name>/manifests/<version>.json     verified manifests
 *   <state>/components/<name>/current -> versions/<version>
 *   <state>/components/<name>/state.json                   holds, bad, history
 *
 * A version directory only ever appears by rename() of a staging tree whose
 * files and directories were all fsynced, after its manifest was saved; the
 * switch is a rename() of a new symlink over `current`. A crash at any
 * instant leaves `current` naming a whole version. */
#ifndef ZUPD_STORE_H
#define ZUPD_STORE_H

#include <stdbool.h>

#include <zupd/common.h>
#include <zupd/fetch.h>
#include <zupd/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

struct zupd_store;

/* What the store remembers about a component beyond its trees. */
struct zupd_store_state {
    bool held;                            /* no updates until released */
    char held_version[ZUPD_NAME_MAX + 1]; /* what it was held on ("" none) */
    char **bad;                           /* releases whose health check failed */
    size_t n_bad;
    char **history; /* versions switched to, oldest first (deduplicated) */
    size_t n_history;
    char available[ZUPD_NAME_MAX + 1]; /* what the channel named at the last check */
    int64_t last_check;                /* unix time of the last successful check; 0 never */
    char last_error[256];              /* "" when the last run succeeded */
};

/* Open (creating directories as needed) the store of component in
 * state_dir, and remove staging trees a crash left behind. Those may also be
 * the trees of an update running in another process: callers hold the state
 * directory's lock exclusively (zupd: <state_dir>/lock, flock).
 * Ownership: *out new, zupd_store_free(). */
ZUPD_API ZUPD_NODISCARD int zupd_store_open(const char *state_dir, const char *component,
                                            struct zupd_store **out);
ZUPD_API void zupd_store_free(struct zupd_store *s); /* NULL ok */

/* The version `current` names, into ver[0..cap). ZUPD_E_NOTFOUND before the
 * first install. */
ZUPD_API ZUPD_NODISCARD int zupd_store_current(struct zupd_store *s, char *ver, size_t cap);
/* Is version installed (tree and manifest present)? */
ZUPD_API bool zupd_store_has(struct zupd_store *s, const char *version);
/* The saved manifest of an installed version. Ownership: *out new. */
ZUPD_API ZUPD_NODISCARD int zupd_store_manifest(struct zupd_store *s, const char *version,
                                                struct zupd_manifest **out);
/* Installed versions, sorted by zupd_version_cmp. Ownership: *out is a new
 * array of new strings; free with zupd_strv_free(). */
ZUPD_API ZUPD_NODISCARD int zupd_store_list(struct zupd_store *s, char ***out, size_t *n);
ZUPD_API void zupd_strv_free(char **v, size_t n);
/* Absolute path of the component directory (borrowed). */
ZUPD_API const char *zupd_store_dir(const struct zupd_store *s);

/* Point `current` at an installed version: a new symlink renamed over the
 * old one, then the directory fsynced; the version is appended to the
 * history. If link_path is not NULL it is made a symlink to `current` when
 * missing; when it exists and is something else (a directory, a file,
 * another symlink) the call returns ZUPD_E_EXISTS before `current` moves.
 * If making link_path fails after `current` moved, `current` is moved back. */
ZUPD_API ZUPD_NODISCARD int zupd_store_switch(struct zupd_store *s, const char *version,
                                              const char *link_path);

/* Remove installed versions beyond the keep most recent of the history,
 * never `current` nor the version before it. */
ZUPD_API ZUPD_NODISCARD int zupd_store_prune(struct zupd_store *s, unsigned keep);

/* Re-hash every file of an installed version against its manifest. On a
 * mismatch, bad_path (if not NULL) receives the file's path. Returns
 * ZUPD_OK, ZUPD_E_HASH, ZUPD_E_LENGTH, ZUPD_E_NOTFOUND (a file missing). */
ZUPD_API ZUPD_NODISCARD int zupd_store_verify(struct zupd_store *s, const char *version,
                                              char *bad_path, size_t bad_cap);

/* State (state.json, written atomically). Ownership: release with
 * zupd_store_state_release(). */
ZUPD_API ZUPD_NODISCARD int zupd_store_state_load(struct zupd_store *s,
                                                  struct zupd_store_state *st);
ZUPD_API ZUPD_NODISCARD int zupd_store_state_save(struct zupd_store *s,
                                                  const struct zupd_store_state *st);
ZUPD_API void zupd_store_state_release(struct zupd_store_state *st);
ZUPD_API bool zupd_store_state_is_bad(const struct zupd_store_state *st, const char *version);
ZUPD_API ZUPD_NODISCARD int zupd_store_state_mark_bad(struct zupd_store_state *st,
                                                      const char *version);

#ifdef __cplusplus
}
#endif
#endif
