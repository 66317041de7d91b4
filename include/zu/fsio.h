/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/fsio.h -- file helpers: no symlinks followed, close-on-exec, durable
 * atomic replacement, capped reads. Never installed. */
#ifndef ZU_FSIO_H
#define ZU_FSIO_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "zu/internal.h"

/* errno -> ZUPD_E_NOSPACE (ENOSPC, EDQUOT), ZUPD_E_PERM (EACCES, EPERM),
 * ZUPD_E_NOTFOUND (ENOENT) or ZUPD_E_IO; errno is left as it was. Same as
 * zu_errno_map(e, 0). */
int zu_errno_to_err(int e);

/* The one errno mapping, with the extra meanings some callers give on purpose
 * (flags, or-ed): */
#define ZU_ERRNO_NO_NOTFOUND 1u   /* ENOENT -> ZUPD_E_IO: a write, fsync or rename */
#define ZU_ERRNO_EXISTS 2u        /* EEXIST -> ZUPD_E_EXISTS */
#define ZU_ERRNO_LOOP_PERM 4u     /* ELOOP (O_NOFOLLOW met a symlink) -> ZUPD_E_PERM */
#define ZU_ERRNO_LOOP_NOTFOUND 8u /* ELOOP -> ZUPD_E_NOTFOUND */
int zu_errno_map(int e, unsigned flags);

/* Write all of buf[0..len) to fd, retrying short writes and EINTR. */
ZU_NODISCARD int zu_write_all(int fd, const void *buf, size_t len);

/* fsync a directory (or any fd). */
ZU_NODISCARD int zu_fsync_fd(int fd);

/* Open dirfd/name read-write, creating it with mode if missing, without
 * following a symlink (O_NOFOLLOW|O_CLOEXEC); it must be a regular file.
 * *fd is -1 and *size 0 on error. */
ZU_NODISCARD int zu_open_rw(int dirfd, const char *name, mode_t mode, int *fd, uint64_t *size);

/* The one way to open a file the tools expect to be a regular file (trusted
 * root, configuration, keys, metadata, manifests): O_RDONLY | O_NONBLOCK |
 * O_NOCTTY | O_CLOEXEC, so that a FIFO or a device cannot block the open,
 * and O_NOFOLLOW unless ZU_READ_FOLLOW; then fstat: not a regular file
 * (FIFO, directory, device, socket) is ZUPD_E_IO with errno EINVAL, more
 * than cap bytes ZUPD_E_TOOBIG, both before a byte is read. With
 * ZU_READ_SAFE the file must also be owned by root or the effective user and
 * not writable by group or others, and a symlink is refused: ZUPD_E_PERM
 * (files that decide what gets installed, zu_check_safe()). When err is not
 * NULL a refusal is explained in err[0..errcap) ("'<name>' is not a regular
 * file"). *fd is -1 on error; st may be NULL. */
#define ZU_READ_FOLLOW 1u /* follow a symlink as the last component (paths a user typed) */
#define ZU_READ_SAFE 2u   /* refuse what others than root and us could have written */
ZU_NODISCARD int zu_open_regular(int dirfd, const char *name, unsigned flags, uint64_t cap, int *fd,
                                 struct stat *st, char *err, size_t errcap);

/* ZUPD_OK when st (of a file or directory that decides what gets installed)
 * is owned by root or the effective user and not writable by group or
 * others; else ZUPD_E_PERM, with why in err[0..errcap) about name. */
ZU_NODISCARD int zu_check_safe(const struct stat *st, const char *name, char *err, size_t errcap);

/* Read all of dirfd/name, opened by zu_open_regular(flags), when it has at
 * most cap bytes. Ownership: *out is new (free()), NUL-terminated.
 * ZUPD_E_TOOBIG over cap, ZUPD_E_NOTFOUND when missing. */
ZU_NODISCARD int zu_read_file(int dirfd, const char *name, unsigned flags, size_t cap,
                              uint8_t **out, size_t *out_len, char *err, size_t errcap);
/* zu_read_file(dirfd, name, 0, cap, out, out_len, NULL, 0) */
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

/* Streaming variant. Ownership: name (and label) are borrowed until
 * commit/abort. The temp file is dirfd/tmp, a hidden name (".zupd-tmp.*"). */
struct zu_atomic {
    int dirfd;
    int fd;
    char tmp[64];
    const char *name;
    uint64_t off;    /* bytes written by zu_atomic_add() */
    uint64_t kicked; /* of those, handed to writeback early */
    /* Optional, set after begin: called before each step of the commit
     * ("fsync", "rename" or "link", "fsync-dir") with label (name when
     * NULL); the publisher's crash tests kill the process there. */
    void (*step)(const char *what, const char *label);
    const char *label;
};
ZU_NODISCARD int zu_atomic_begin(struct zu_atomic *a, int dirfd, const char *name, mode_t mode);
/* Write buf[0..len) to the temp file; every 8 MiB the bytes written so far
 * are handed to writeback (sync_file_range), so that the commit's fsync of a
 * large file does not start from a whole file of dirty pages. */
ZU_NODISCARD int zu_atomic_add(struct zu_atomic *a, const void *buf, size_t len);
ZU_NODISCARD int zu_atomic_commit(struct zu_atomic *a); /* fsync + rename + dir fsync */
/* Like zu_atomic_commit, but never replaces: fsync, link the temp file to
 * name (ZUPD_E_EXISTS, name untouched, when name exists), unlink the temp
 * file, fsync dirfd. For files that must not be overwritten (signing keys). */
ZU_NODISCARD int zu_atomic_commit_noreplace(struct zu_atomic *a);
/* Close the temp file without fsync and leave it in place: the caller now
 * owns dirfd/a->tmp and puts it in place itself, e.g. a batch of files made
 * durable by one syncfs() before their renames. On failure the temp file is
 * removed. */
ZU_NODISCARD int zu_atomic_detach(struct zu_atomic *a);
void zu_atomic_abort(struct zu_atomic *a); /* idempotent */

/* A read-only view of a whole regular file: mapped, or p = "" (not NULL) and
 * len 0 for an empty file (mmap of 0 bytes fails). */
struct zu_map {
    const uint8_t *p;
    size_t len;
    void *map_; /* the mapping, NULL when none */
};
#define ZU_MAP_FOLLOW 1u   /* follow a symlink as the last component (paths a user typed) */
#define ZU_MAP_WILLNEED 2u /* madvise(MADV_WILLNEED): read ahead all of it */
/* Map dirfd/name (O_NOFOLLOW unless ZU_MAP_FOLLOW). Not a regular file:
 * ZUPD_E_IO with errno EINVAL; mmap out of memory: ZUPD_E_NOMEM; else
 * zu_errno_to_err(). errno is kept for the caller's message. On error
 * m is {"", 0, NULL}. Ownership: release with zu_unmap(). */
ZU_NODISCARD int zu_map_file(int dirfd, const char *name, unsigned flags, struct zu_map *m);
void zu_unmap(struct zu_map *m); /* idempotent */

/* mkdir -p path (mode 0755 for what it makes). */
ZU_NODISCARD int zu_mkdir_p(const char *path);

/* True when name is a plain file name: not empty, not "." or "..", no '/'. */
int zu_plain_name(const char *name);

#endif
