/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/fsio.h -- file helpers: no symlinks followed, close-on-exec, durable
 * atomic replacement, capped reads. Never installed. */
#ifndef ZU_FSIO_H
#define ZU_FSIO_H

#include <stdint.h>
#include <sys/types.h>

#include "zu/internal.h"

/* errno -> ZUPD_E_NOSPACE (ENOSPC, EDQUOT), ZUPD_E_NOTFOUND (ENOENT) or
 * ZUPD_E_IO; errno is left as it was. */
int zu_errno_to_err(int e);

/* Write all of buf[0..len) to fd, retrying short writes and EINTR. */
ZU_NODISCARD int zu_write_all(int fd, const void *buf, size_t len);

/* fsync a directory (or any fd). */
ZU_NODISCARD int zu_fsync_fd(int fd);

/* Open dirfd/name read-write, creating it with mode if missing, without
 * following a symlink (O_NOFOLLOW|O_CLOEXEC); it must be a regular file.
 * *fd is -1 and *size 0 on error. */
ZU_NODISCARD int zu_open_rw(int dirfd, const char *name, mode_t mode, int *fd, uint64_t *size);

/* Read all of dirfd/name (O_NOFOLLOW) when it has at most cap bytes.
 * Ownership: *out is new (free()), NUL-terminated. ZUPD_E_TOOBIG over cap,
 * ZUPD_E_NOTFOUND when missing. */
ZU_NODISCARD int zu_read_capped(int dirfd, const char *name, size_t cap, uint8_t **out,
                                size_t *out_len);

/* Rename dirfd/from over dirfd/to and fsync dirfd. */
ZU_NODISCARD int zu_rename_durable(int dirfd, const char *from, const char *to);

/* Replace dirfd/name with buf[0..len): a unique temp file opened with
 * O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, written, fsynced, renamed over
 * name, then dirfd fsynced. On failure the temp file is unlinked and the old
 * file is untouched. */
ZU_NODISCARD int zu_atomic_write(int dirfd, const char *name, const void *buf, size_t len,
                                 mode_t mode);

/* The same without any fsync, for caches whose content is checked (by a
 * signed hash) every time it is read: a crash may leave the old file, the
 * new one, or a damaged one, never a partial under name before the rename. */
ZU_NODISCARD int zu_cache_write(int dirfd, const char *name, const void *buf, size_t len,
                                mode_t mode);

/* Streaming variant. Ownership: name is borrowed until commit/abort. */
struct zu_atomic {
    int dirfd;
    int fd;
    char tmp[64];
    const char *name;
};
ZU_NODISCARD int zu_atomic_begin(struct zu_atomic *a, int dirfd, const char *name, mode_t mode);
ZU_NODISCARD int zu_atomic_commit(struct zu_atomic *a); /* fsync + rename + dir fsync */
void zu_atomic_abort(struct zu_atomic *a);              /* idempotent */

/* mkdir -p path (mode 0755 for what it makes). */
ZU_NODISCARD int zu_mkdir_p(const char *path);

/* True when name is a plain file name: not empty, not "." or "..", no '/'. */
int zu_plain_name(const char *name);

#endif
