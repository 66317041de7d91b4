/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/select.h -- what a filtered sync mirrors (--channel, --keep):
 * the choice of releases (pure), the selection file that tells `verify`
 * which targets a filtered mirror holds, and the removal of what is no
 * longer selected. Used by mirror/sync/sync.c, mirror/sync/sync_commit.c and
 * mirror/repo/verify.c. */
#ifndef ZP_SYNC_SELECT_H
#define ZP_SYNC_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zupd/manifest.h>

#include "zu/internal.h"

/* The list of target paths the last sync mirrored, in DIR. */
#define ZP_SYNC_SELECTION ".zupd/sync-selection"

enum zp_sel_kind {
    ZP_SEL_OTHER = 0, /* not a release: always mirrored */
    ZP_SEL_MANIFEST,  /* <role>/<component>/<version>/manifest.json */
    ZP_SEL_CHANNEL,   /* <role>/<component>/channels/<channel>.json */
};

struct zp_sel {
    enum zp_sel_kind kind;
    size_t group_len;                /* path[0..group_len) is "<role>/<component>" */
    char version[ZUPD_NAME_MAX + 1]; /* manifest: its version; channel: the version it
                                        names (set by the caller once fetched) */
    char channel[ZUPD_NAME_MAX + 1]; /* channel: its name */
    bool keep;                       /* chosen (output of zp_sel_choose) */
};

/* Classify a target path (no I/O). */
void zp_sel_classify(struct zp_sel *s, const char *path);

/* Is a channel pointer of this channel mirrored? Every channel when
 * n_channels is 0. */
bool zp_sel_channel_wanted(const char *channel, const char *const *channels, size_t n_channels);

/* Choose the targets to mirror: every non-release target; every channel
 * pointer zp_sel_channel_wanted() accepts; per "<role>/<component>", the
 * newest keep manifests (zupd_version_cmp order) and every manifest a
 * mirrored channel pointer names. keep 0 with no channels: everything.
 * paths[i] is the path of v[i]. Sets v[i].keep. Returns ZUPD_OK or
 * ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_sel_choose(struct zp_sel *v, const char *const *paths, size_t n,
                               const char *const *channels, size_t n_channels, unsigned keep);

/* The selection file: "# zupd-mirror sync selection 1" then one target
 * path per line, sorted. zp_sel_file_make builds its bytes from the
 * sorted paths. Ownership: *out is new (free()). */
ZU_NODISCARD int zp_sel_file_make(const char *const *paths, size_t n, uint8_t **out,
                                  size_t *out_len);

/* A loaded selection: sorted paths. */
struct zp_sel_set {
    char **v;
    size_t n;
};

/* Parse the bytes of a selection file (no I/O; fuzzed by
 * tests/fuzz/fuzz_sync_select.c): the header line, then one path per line;
 * empty lines are skipped; the file must end in '\n' and hold no NUL.
 * ZUPD_E_FORMAT when malformed. set is sorted (strcmp); parsing
 * zp_sel_file_make(set) gives set back. Ownership: release with
 * zp_sel_set_release(). */
ZU_NODISCARD int zp_sel_set_parse(const uint8_t *buf, size_t len, struct zp_sel_set *set);

/* Load dirfd/ZP_SYNC_SELECTION (zp_sel_set_parse). ZUPD_E_NOTFOUND when there is none (a
 * repository that is not a filtered mirror); ZUPD_E_FORMAT when malformed.
 * Ownership: release with zp_sel_set_release(). */
ZU_NODISCARD int zp_sel_set_load(int dirfd, struct zp_sel_set *set);
bool zp_sel_set_has(const struct zp_sel_set *set, const char *path);
void zp_sel_set_release(struct zp_sel_set *set);

/* What zp_sel_sweep removed. */
struct zp_sweep_res {
    uint64_t targets, blobs, bytes;
};

/* Remove from dirfd every file under targets/ whose name is not in
 * keep_rels (sorted "targets/..." names) and every blob under
 * blobs/sha256/ whose hash is not in keep_blobs (sorted, n_blobs x 32
 * bytes); names starting with '.' are left alone; directories left empty
 * under targets/ are removed. on_removed (NULL ok) gets the target path
 * (hash prefix dropped) of each removed target file. Each unlink is a crash
 * step (zp_step). Returns ZUPD_OK or the first error. */
ZU_NODISCARD int zp_sel_sweep(int dirfd, const char *const *keep_rels, size_t n_rels,
                              const uint8_t *keep_blobs, size_t n_blobs,
                              void (*on_removed)(void *opaque, const char *path), void *opaque,
                              struct zp_sweep_res *res);

#endif
