/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/fsops.h -- the publisher's file writes: every file durable (write,
 * fsync, rename, directory fsync) before anything names it, with a crash
 * hook for tests. Names use zp_ (publisher-internal). */
#ifndef ZP_FSOPS_H
#define ZP_FSOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* Crash hook for tests: when the environment variable ZUPD_MIRROR_CRASH_AT
 * is N > 0, the N-th step (write, fsync, rename, directory fsync) of this
 * process kills it with SIGKILL before the step. ZUPD_MIRROR_CRASH_TRACE=1
 * prints each step to stderr ("zupd-mirror: step N: rename 'x'"). */
void zp_step(const char *what, const char *name);
/* Number of steps taken so far. */
unsigned long zp_steps(void);

/* Create the directories of relpath's parent under dirfd (mkdir -p, mode
 * 0755). relpath itself is not created. */
ZU_NODISCARD int zp_mkdirs(int dirfd, const char *relpath);

/* Write buf[0..len) to dirfd/relpath durably: temp file in the same
 * directory (O_EXCL|O_NOFOLLOW), write, fsync, rename over relpath, and
 * fsync the directory unless defer_dirsync (then the caller must call
 * zp_sync_dirs() before anything names the file). Parent directories are
 * created. */
ZU_NODISCARD int zp_put(int dirfd, const char *relpath, const void *buf, size_t len, mode_t mode,
                        bool defer_dirsync);

/* fsync every directory whose files were written with defer_dirsync since
 * the last call. */
ZU_NODISCARD int zp_sync_dirs(int dirfd);

/* Read all of dirfd/relpath (no symlink as the last component), at most cap
 * bytes. Ownership: *out new (free()), NUL-terminated. */
ZU_NODISCARD int zp_get(int dirfd, const char *relpath, size_t cap, uint8_t **out,
                        size_t *out_len);

/* Does dirfd/relpath exist as a regular file of size bytes? */
bool zp_exists_size(int dirfd, const char *relpath, uint64_t size);

/* Remove dirfd/relpath (a file); missing is fine. */
ZU_NODISCARD int zp_remove(int dirfd, const char *relpath);

#endif
