/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fsio.c -- file helpers: O_NOFOLLOW|O_CLOEXEC opens, durable atomic
 * replacement (write, fsync, rename, fsync dir), capped reads. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "zu/fsio.h"

int
zu_errno_to_err(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return ZUPD_E_NOSPACE;
    case ENOENT:
        return ZUPD_E_NOTFOUND;
    default:
        return ZUPD_E_IO;
    }
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
            return zu_errno_to_err(errno) == ZUPD_E_NOSPACE ? ZUPD_E_NOSPACE : ZUPD_E_IO;
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
        return zu_errno_to_err(errno) == ZUPD_E_NOSPACE ? ZUPD_E_NOSPACE : ZUPD_E_IO;
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
zu_read_capped(int dirfd, const char *name, size_t cap, uint8_t **out, size_t *out_len)
{
    struct zu_buf b;
    uint8_t chunk[65536];
    ssize_t n;
    int fd = -1, rc = ZUPD_OK;

    *out = NULL;
    *out_len = 0;
    zu_buf_init(&b, cap == 0 ? 1 : cap);
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = zu_errno_to_err(errno);
        goto out;
    }
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ZUPD_E_IO;
            goto out;
        }
        if (n == 0)
            break;
        rc = zu_buf_add(&b, chunk, (size_t)n);
        if (rc != ZUPD_OK)
            goto out;
    }
    rc = zu_buf_detach(&b, out, out_len);
out:
    if (fd >= 0)
        close(fd);
    zu_buf_release(&b);
    return rc;
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
    return zu_errno_to_err(errno) == ZUPD_E_NOSPACE ? ZUPD_E_NOSPACE : ZUPD_E_IO;
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

int
zu_atomic_commit(struct zu_atomic *a)
{
    int rc;

    zu_assert(a->fd >= 0 && a->tmp[0] != '\0');
    rc = zu_fsync_fd(a->fd);
    if (rc != ZUPD_OK)
        goto out;
    if (close(a->fd) != 0) {
        a->fd = -1;
        rc = ZUPD_E_IO;
        goto out;
    }
    a->fd = -1;
    if (renameat(a->dirfd, a->tmp, a->dirfd, a->name) != 0) {
        rc = ZUPD_E_IO;
        goto out;
    }
    a->tmp[0] = '\0'; /* renamed: nothing to unlink */
    rc = zu_fsync_fd(a->dirfd);
out:
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
    if (rc == ZUPD_OK && close(a.fd) != 0)
        rc = zu_errno_to_err(errno);
    a.fd = -1;
    if (rc == ZUPD_OK && renameat(a.dirfd, a.tmp, a.dirfd, a.name) != 0)
        rc = zu_errno_to_err(errno);
    if (rc == ZUPD_OK)
        a.tmp[0] = '\0';
    zu_atomic_abort(&a);
    return rc;
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
