/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/fsops.c -- durable, crash-testable file writes of the publisher. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zu/fsio.h"
#include "repo/fsops.h"

/* Deferred files of one commit: a blob and deltas per published file
 * (WALK_FILES_MAX files) plus metadata. */
#define PENDING_MAX ((size_t)1 << 24)

static unsigned long steps;
static long crash_at = -1; /* -1: not read yet */
static int trace = -1;

struct pend {
    char *tmp;
    char *rel;
};
static struct pend *pending;
static size_t n_pending, cap_pending;

unsigned long
zp_steps(void)
{
    return steps;
}

void
zp_step(const char *what, const char *name)
{
    if (crash_at < 0) {
        const char *s = getenv("ZUPD_MIRROR_CRASH_AT");
        const char *t = getenv("ZUPD_MIRROR_CRASH_TRACE");
        char *end = NULL;
        long v = s != NULL ? strtol(s, &end, 10) : 0;

        crash_at = (s != NULL && end != s && *end == '\0' && v > 0) ? v : 0;
        trace = t != NULL && strcmp(t, "1") == 0;
    }
    steps++;
    if (trace > 0)
        fprintf(stderr, "zupd-mirror: step %lu: %s '%s'\n", steps, what, name);
    if (crash_at > 0 && steps == (unsigned long)crash_at) {
        fflush(NULL);
        raise(SIGKILL);
    }
}

int
zp_mkdirs(int dirfd, const char *relpath)
{
    char buf[4096];
    size_t len = strlen(relpath);

    if (len >= sizeof(buf))
        return ZUPD_E_TOOBIG;
    memcpy(buf, relpath, len + 1);
    for (char *p = buf; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (buf[0] != '\0' && mkdirat(dirfd, buf, 0755) != 0 && errno != EEXIST)
            return zu_errno_to_err(errno);
        *p = '/';
    }
    return ZUPD_OK;
}

/* Split relpath into its directory ("." when none) and base name. */
static int
split(const char *relpath, char *dir, size_t dcap, const char **base)
{
    const char *slash = strrchr(relpath, '/');

    if (slash == NULL) {
        snprintf(dir, dcap, ".");
        *base = relpath;
        return ZUPD_OK;
    }
    if ((size_t)(slash - relpath) >= dcap)
        return ZUPD_E_TOOBIG;
    memcpy(dir, relpath, (size_t)(slash - relpath));
    dir[slash - relpath] = '\0';
    *base = slash + 1;
    return ZUPD_OK;
}

bool
zp_pending(const char *relpath)
{
    for (size_t i = 0; i < n_pending; i++)
        if (strcmp(pending[i].rel, relpath) == 0)
            return true;
    return false;
}

static int
note_pending(const char *tmp, const char *rel)
{
    /* a publish defers a blob or delta per file, and its metadata */
    int rc = ZU_GROW(&pending, &cap_pending, n_pending + 1, PENDING_MAX);

    if (rc != ZUPD_OK)
        return rc;
    pending[n_pending].tmp = strdup(tmp);
    pending[n_pending].rel = strdup(rel);
    if (pending[n_pending].tmp == NULL || pending[n_pending].rel == NULL) {
        free(pending[n_pending].tmp);
        free(pending[n_pending].rel);
        return ZUPD_E_NOMEM;
    }
    n_pending++;
    return ZUPD_OK;
}

static void
clear_pending(int dirfd, bool unlink_tmp)
{
    for (size_t i = 0; i < n_pending; i++) {
        if (unlink_tmp)
            (void)unlinkat(dirfd, pending[i].tmp, 0);
        free(pending[i].tmp);
        free(pending[i].rel);
    }
    n_pending = 0;
}

void
zp_discard(int dirfd)
{
    clear_pending(dirfd, true);
}

static int
sync_fs(int dirfd)
{
    zp_step("syncfs", ".");
    return syncfs(dirfd) == 0 ? ZUPD_OK : zu_errno_to_err(errno);
}

int
zp_flush(int dirfd)
{
    int rc;

    if (n_pending == 0)
        return ZUPD_OK;
    rc = sync_fs(dirfd); /* every deferred file's bytes on disk ... */
    for (size_t i = 0; rc == ZUPD_OK && i < n_pending; i++) {
        zp_step("rename", pending[i].rel);
        if (renameat(dirfd, pending[i].tmp, dirfd, pending[i].rel) != 0)
            rc = zu_errno_to_err(errno);
    }
    if (rc == ZUPD_OK)
        rc = sync_fs(dirfd); /* ... then their names */
    clear_pending(dirfd, rc != ZUPD_OK);
    return rc;
}

/* A file replaced in place (timestamp.json) must look changed to HTTP
 * caches: Last-Modified and nginx's ETag use whole seconds of the mtime, so
 * a timestamp rewritten within the second the old one was fetched would be
 * answered 304 to a conditional GET. Give the new file an mtime at least
 * one second after the old one's. */
static void
newer_mtime(int dirfd, const char *relpath, int fd)
{
    struct timespec now, t[2];
    struct stat st;

    if (fstatat(dirfd, relpath, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        clock_gettime(CLOCK_REALTIME, &now) != 0 || now.tv_sec > st.st_mtim.tv_sec)
        return;
    t[0].tv_sec = 0;
    t[0].tv_nsec = UTIME_OMIT;
    t[1].tv_sec = st.st_mtim.tv_sec + 1;
    t[1].tv_nsec = 0;
    (void)futimens(fd, t);
}

int
zp_put(int dirfd, const char *relpath, const void *buf, size_t len, mode_t mode, bool defer)
{
    struct zu_atomic a = {.fd = -1};
    char dir[4096], tmp[4096 + sizeof(a.tmp)];
    const char *base;
    int dfd, rc;

    if (defer && zp_pending(relpath))
        return ZUPD_OK;
    rc = split(relpath, dir, sizeof(dir), &base);
    if (rc == ZUPD_OK)
        rc = zp_mkdirs(dirfd, relpath);
    if (rc != ZUPD_OK)
        return rc;
    dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_atomic_begin(&a, dfd, base, mode);
    if (rc != ZUPD_OK)
        goto out;
    a.step = zp_step; /* the commit's fsync, rename and directory fsync */
    a.label = relpath;
    zp_step("write", relpath);
    rc = zu_write_all(a.fd, buf, len);
    if (rc == ZUPD_OK && fchmod(a.fd, mode) != 0)
        rc = ZUPD_E_IO;
    if (rc != ZUPD_OK)
        goto out;
    if (defer) {
        /* no fsync: zp_flush() syncs the whole batch, then renames */
        rc = zu_atomic_detach(&a);
        if (rc == ZUPD_OK && (size_t)snprintf(tmp, sizeof(tmp), "%s/%s", dir, a.tmp) >= sizeof(tmp))
            rc = ZUPD_E_TOOBIG;
        if (rc == ZUPD_OK)
            rc = note_pending(tmp, relpath);
        if (rc == ZUPD_OK)
            a.tmp[0] = '\0'; /* the pending list has it now */
        goto out;
    }
    newer_mtime(dirfd, relpath, a.fd);
    rc = zu_atomic_commit(&a);
out:
    zu_atomic_abort(&a);
    close(dfd);
    return rc;
}

int
zp_get(int dirfd, const char *relpath, size_t cap, uint8_t **out, size_t *out_len)
{
    char dir[4096];
    const char *base;
    int dfd, rc;

    *out = NULL;
    *out_len = 0;
    rc = split(relpath, dir, sizeof(dir), &base);
    if (rc != ZUPD_OK)
        return rc;
    dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_read_capped(dfd, base, cap, out, out_len);
    close(dfd);
    return rc;
}

bool
zp_exists_size(int dirfd, const char *relpath, uint64_t size)
{
    struct stat st;

    return fstatat(dirfd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           (uint64_t)st.st_size == size;
}

int
zp_remove(int dirfd, const char *relpath)
{
    zp_step("unlink", relpath);
    if (unlinkat(dirfd, relpath, 0) != 0 && errno != ENOENT)
        return zu_errno_to_err(errno);
    return ZUPD_OK;
}
