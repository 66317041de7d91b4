/* SPDX-License-Identifier: Apache-2.0 */
/* lib/store_int.h -- what lib/store.c and lib/stage.c share. */
#ifndef ZU_STORE_INT_H
#define ZU_STORE_INT_H

#include <zupd/store.h>

#include "zu/internal.h"

#define MANIFEST_MAX_BYTES (64u << 20)
#define STATE_MAX_BYTES (1u << 20)
#define MAX_BAD 256
#define MAX_HISTORY 256
#define COPY_BUF (256u << 10)

struct zupd_store {
    char *dir; /* <state>/components/<name> */
    int fd;    /* that directory */
    int vfd;   /* versions/ */
    int mfd;   /* manifests/ */
};

/* Remove dirfd/name and everything below it; no symlink is followed. */
ZU_NODISCARD int zu_rmtree_at(int dirfd, const char *name, unsigned depth);
/* "<version>.json" into dst; ZUPD_E_MISUSE for an unsafe version. */
ZU_NODISCARD int zu_store_manifest_name(char *dst, size_t cap, const char *version);
/* Hash dirfd/e->path (no symlinks) and compare size and sha256 with e. */
ZU_NODISCARD int zu_check_file_at(int dirfd, const struct zupd_file_entry *e);

#endif
