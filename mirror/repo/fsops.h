/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/fsops.h -- the publisher's file writes: every file durable (write,
 * fsync, rename, directory fsync) before anything names it, with a crash
 * hook for tests. Names use zp_ (publisher-internal). */
#ifndef ZP_FSOPS_H
#define ZP_FSOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "zu/internal.h"

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
 * directory (O_EXCL|O_NOFOLLOW), write, fsync, rename over relpath, fsync
 * the directory. Parent directories are created.
 * With defer, the temp file is only written: zp_flush() makes every
 * deferred file durable at once (syncfs), renames them into place and
 * makes the renames durable (syncfs), so a batch of N files costs two
 * syncs instead of 2N fsyncs. Nothing may name a deferred file before
 * zp_flush() returned. Deferring a relpath already pending is a no-op (for
 * content-addressed files). */
ZU_NODISCARD int zp_put(int dirfd, const char *relpath, const void *buf, size_t len, mode_t mode,
                        bool defer);

/* Make the deferred files durable and put them in place (see zp_put). */
ZU_NODISCARD int zp_flush(int dirfd);

/* Drop the deferred files (temp files unlinked), e.g. after a failure. */
void zp_discard(int dirfd);

/* Is relpath deferred and not yet flushed? */
bool zp_pending(const char *relpath);

/* Read all of dirfd/relpath (no symlink as the last component), at most cap
 * bytes. Ownership: *out new (free()), NUL-terminated. */
ZU_NODISCARD int zp_get(int dirfd, const char *relpath, size_t cap, uint8_t **out, size_t *out_len);

/* Does dirfd/relpath exist as a regular file of size bytes? */
bool zp_exists_size(int dirfd, const char *relpath, uint64_t size);

/* Remove dirfd/relpath (a file); missing is fine. */
ZU_NODISCARD int zp_remove(int dirfd, const char *relpath);

#endif
