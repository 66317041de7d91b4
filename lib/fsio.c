/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fsio.c -- file helpers: O_NOFOLLOW|O_CLOEXEC opens, durable atomic
 * replacement (write, fsync, rename, fsync dir), capped reads. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "zu/fsio.h"

int
zu_errno_map(int e, unsigned flags)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return ZUPD_E_NOSPACE;
    case EACCES:
    case EPERM:
        return ZUPD_E_PERM; /* "permission denied", not "input/output error" */
    case ENOENT:
        return (flags & ZU_ERRNO_NO_NOTFOUND) != 0 ? ZUPD_E_IO : ZUPD_E_NOTFOUND;
    case EEXIST:
        return (flags & ZU_ERRNO_EXISTS) != 0 ? ZUPD_E_EXISTS : ZUPD_E_IO;
    case ELOOP:
        if ((flags & ZU_ERRNO_LOOP_PERM) != 0)
            return ZUPD_E_PERM;
        return (flags & ZU_ERRNO_LOOP_NOTFOUND) != 0 ? ZUPD_E_NOTFOUND : ZUPD_E_IO;
    default:
        return ZUPD_E_IO;
    }
}

int
zu_errno_to_err(int e)
{
    return zu_errno_map(e, 0);
}

int
zu_plain_name(const char *name)
{
    return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

int
zu_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
        }
        if (n == 0) {
            errno = ENOSPC;
            return ZUPD_E_NOSPACE;
        }
        p += n;
        len -= (size_t)n;
    }
    return ZUPD_OK;
}

int
zu_fsync_fd(int fd)
{
    if (fsync(fd) != 0)
        return zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
    return ZUPD_OK;
}

int
zu_open_rw(int dirfd, const char *name, mode_t mode, int *fd, uint64_t *size)
{
    struct stat st;
    int f, e;

    *fd = -1;
    *size = 0;
    f = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f < 0)
        return zu_errno_to_err(errno);
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        e = S_ISREG(st.st_mode) ? errno : EINVAL;
        close(f);
        errno = e;
        return ZUPD_E_IO;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return ZUPD_OK;
}

int
zu_check_safe(const struct stat *st, const char *name, char *err, size_t errcap)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return zu_fail(err, errcap, ZUPD_E_PERM,
                       "'%s' is owned by uid %lu (neither root nor this user): refused", name,
                       (unsigned long)st->st_uid);
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return zu_fail(err, errcap, ZUPD_E_PERM,
                       "'%s' is writable by group or others (mode %04o): refused", name,
                       (unsigned)(st->st_mode & 07777));
    return ZUPD_OK;
}

int
zu_open_regular(int dirfd, const char *name, unsigned flags, uint64_t cap, int *fd, struct stat *st,
                char *err, size_t errcap)
{
    struct stat st0;
    int f, rc = ZUPD_OK, e;

    *fd = -1;
    if (st == NULL)
        st = &st0;
    f = openat(dirfd, name,
               O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                   ((flags & ZU_READ_FOLLOW) != 0 ? 0 : O_NOFOLLOW));
    if (f < 0) {
        e = errno;
        if (e == ELOOP && (flags & (ZU_READ_FOLLOW | ZU_READ_SAFE)) == ZU_READ_SAFE)
            rc = zu_fail(err, errcap, ZUPD_E_PERM, "'%s' is a symbolic link: refused", name);
        else
            rc =
                zu_fail(err, errcap, zu_errno_to_err(e), "cannot open '%s': %s", name, strerror(e));
        errno = e;
        return rc;
    }
    if (fstat(f, st) != 0) {
        e = errno;
        rc = zu_fail(err, errcap, zu_errno_to_err(e), "cannot stat '%s': %s", name, strerror(e));
    } else if (!S_ISREG(st->st_mode)) {
        e = EINVAL;
        rc = zu_fail(err, errcap, ZUPD_E_IO, "'%s' is not a regular file", name);
    } else if ((uint64_t)st->st_size > cap) {
        e = EFBIG;
        rc = zu_fail(err, errcap, ZUPD_E_TOOBIG, "'%s' is too big (%llu bytes, at most %llu)", name,
                     (unsigned long long)st->st_size, (unsigned long long)cap);
    } else if ((flags & ZU_READ_SAFE) != 0) {
        e = EPERM;
        rc = zu_check_safe(st, name, err, errcap);
    }
    if (rc != ZUPD_OK) {
        close(f);
        errno = e;
        return rc;
    }
    *fd = f;
    return ZUPD_OK;
}

int
zu_read_file(int dirfd, const char *name, unsigned flags, size_t cap, uint8_t **out,
             size_t *out_len, char *err, size_t errcap)
{
    struct zu_buf b;
    uint8_t chunk[65536];
    ssize_t n;
    int fd = -1, rc;

    *out = NULL;
    *out_len = 0;
    zu_buf_init(&b, cap == 0 ? 1 : cap);
    rc = zu_open_regular(dirfd, name, flags, cap, &fd, NULL, err, errcap);
    if (rc != ZUPD_OK)
        goto out;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = zu_fail(err, errcap, ZUPD_E_IO, "cannot read '%s': %s", name, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        rc = zu_buf_add(&b, chunk, (size_t)n); /* the cap holds when the file grows */
        if (rc != ZUPD_OK) {
            zu_say(err, errcap, "cannot read '%s': %s", name, zupd_strerror(rc));
            goto out;
        }
    }
    rc = zu_buf_detach(&b, out, out_len);
out:
    if (fd >= 0)
        close(fd);
    zu_buf_release(&b);
    return rc;
}

int
zu_read_capped(int dirfd, const char *name, size_t cap, uint8_t **out, size_t *out_len)
{
    return zu_read_file(dirfd, name, 0, cap, out, out_len, NULL, 0);
}

int
zu_rename_durable(int dirfd, const char *from, const char *to)
{
    if (renameat(dirfd, from, dirfd, to) != 0)
        return ZUPD_E_IO;
    return zu_fsync_fd(dirfd);
}

int
zu_atomic_begin(struct zu_atomic *a, int dirfd, const char *name, mode_t mode)
{
    a->dirfd = dirfd;
    a->fd = -1;
    a->name = name;
    a->tmp[0] = '\0';
    a->off = a->kicked = 0;
    a->step = NULL;
    a->label = NULL;
    if (!zu_plain_name(name))
        return ZUPD_E_MISUSE;
    for (int tries = 0; tries < 16; tries++) {
        snprintf(a->tmp, sizeof(a->tmp), ".zupd-tmp.%08x%08x", randombytes_random(),
                 randombytes_random());
        a->fd = openat(dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (a->fd >= 0)
            return ZUPD_OK;
        if (errno != EEXIST)
            break;
    }
    a->tmp[0] = '\0';
    return zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
}

void
zu_atomic_abort(struct zu_atomic *a)
{
    int e = errno;

    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    if (a->tmp[0] != '\0')
        unlinkat(a->dirfd, a->tmp, 0);
    a->tmp[0] = '\0';
    errno = e;
}

/* Start writeback every this many bytes, so that the fsync at the end finds
 * the disk busy already instead of the whole file still dirty (turbo, 34 MB:
 * fsync ~15 ms of waiting, now overlapped with the delta apply). */
#define WRITEBACK_EVERY (8u << 20)

int
zu_atomic_add(struct zu_atomic *a, const void *buf, size_t len)
{
    int rc;

    zu_assert(a->fd >= 0);
    rc = zu_write_all(a->fd, buf, len);
    if (rc != ZUPD_OK)
        return rc;
    a->off += len;
#ifdef SYNC_FILE_RANGE_WRITE
    if (a->off - a->kicked >= WRITEBACK_EVERY) {
        /* a hint: errors show at fsync */
        (void)sync_file_range(a->fd, (off_t)a->kicked, (off_t)(a->off - a->kicked),
                              SYNC_FILE_RANGE_WRITE);
        a->kicked = a->off;
    }
#endif
    return ZUPD_OK;
}

static void
atomic_step(const struct zu_atomic *a, const char *what)
{
    if (a->step != NULL)
        a->step(what, a->label != NULL ? a->label : a->name);
}

/* fsync and close the temp file. */
static int
atomic_sync_close(struct zu_atomic *a)
{
    int rc;

    zu_assert(a->fd >= 0 && a->tmp[0] != '\0');
    atomic_step(a, "fsync");
    rc = zu_fsync_fd(a->fd);
    if (rc != ZUPD_OK)
        return rc;
    rc = close(a->fd) == 0 ? ZUPD_OK : ZUPD_E_IO;
    a->fd = -1;
    return rc;
}

/* Put the temp file in place: renamed over name, or linked to it (never
 * replacing it) and unlinked; then the directory fsynced. */
static int
atomic_finish(struct zu_atomic *a, bool replace)
{
    int rc;

    rc = atomic_sync_close(a);
    if (rc != ZUPD_OK)
        goto out;
    atomic_step(a, replace ? "rename" : "link");
    /* linkat(), unlike renameat(), refuses to replace an existing name */
    if ((replace ? renameat(a->dirfd, a->tmp, a->dirfd, a->name)
                 : linkat(a->dirfd, a->tmp, a->dirfd, a->name, 0)) != 0) {
        rc = zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND | (replace ? 0 : ZU_ERRNO_EXISTS));
        goto out;
    }
    if (!replace)
        (void)unlinkat(a->dirfd, a->tmp, 0); /* made durable by the fsync below too */
    a->tmp[0] = '\0';                        /* in place: nothing to unlink */
    atomic_step(a, "fsync-dir");
    rc = zu_fsync_fd(a->dirfd);
out:
    if (rc != ZUPD_OK)
        zu_atomic_abort(a);
    return rc;
}

int
zu_atomic_commit(struct zu_atomic *a)
{
    return atomic_finish(a, true);
}

int
zu_atomic_commit_noreplace(struct zu_atomic *a)
{
    return atomic_finish(a, false);
}

int
zu_atomic_detach(struct zu_atomic *a)
{
    int rc = ZUPD_OK;

    zu_assert(a->fd >= 0 && a->tmp[0] != '\0');
    if (close(a->fd) != 0)
        rc = zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
    a->fd = -1;
    if (rc != ZUPD_OK)
        zu_atomic_abort(a);
    return rc;
}

int
zu_atomic_write(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
    struct zu_atomic a;
    int rc;

    rc = zu_atomic_begin(&a, dirfd, name, mode);
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_write_all(a.fd, buf, len);
    if (rc != ZUPD_OK) {
        zu_atomic_abort(&a);
        return rc;
    }
    return zu_atomic_commit(&a);
}

int
zu_cache_write(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
    struct zu_atomic a;
    int rc;

    rc = zu_atomic_begin(&a, dirfd, name, mode);
    if (rc == ZUPD_OK)
        rc = zu_write_all(a.fd, buf, len);
    if (rc == ZUPD_OK)
        rc = zu_atomic_detach(&a);
    if (rc == ZUPD_OK && renameat(a.dirfd, a.tmp, a.dirfd, a.name) != 0)
        rc = zu_errno_to_err(errno);
    if (rc == ZUPD_OK)
        a.tmp[0] = '\0';
    zu_atomic_abort(&a);
    return rc;
}

int
zu_map_file(int dirfd, const char *name, unsigned flags, struct zu_map *m)
{
    struct stat st;
    int fd, rc = ZUPD_OK, e;

    m->p = (const uint8_t *)"";
    m->len = 0;
    m->map_ = NULL;
    rc = zu_open_regular(dirfd, name, (flags & ZU_MAP_FOLLOW) != 0 ? ZU_READ_FOLLOW : 0,
                         (uint64_t)SIZE_MAX, &fd, &st, NULL, 0);
    if (rc == ZUPD_E_TOOBIG) {
        errno = EFBIG;
        return ZUPD_E_NOMEM;
    }
    if (rc != ZUPD_OK)
        return rc;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

        if (p == MAP_FAILED) {
            rc = errno == ENOMEM ? ZUPD_E_NOMEM : zu_errno_to_err(errno);
        } else {
            if ((flags & ZU_MAP_WILLNEED) != 0)
                (void)madvise(p, (size_t)st.st_size, MADV_WILLNEED);
            m->map_ = p;
            m->p = p;
            m->len = (size_t)st.st_size;
        }
    }
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

void
zu_unmap(struct zu_map *m)
{
    if (m->map_ != NULL)
        munmap(m->map_, m->len);
    m->p = (const uint8_t *)"";
    m->len = 0;
    m->map_ = NULL;
}

int
zu_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return ZUPD_E_MISUSE;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return zu_errno_to_err(errno);
        buf[i] = path[i];
    }
    return ZUPD_OK;
}
