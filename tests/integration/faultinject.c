/* SPDX-License-Identifier: Apache-2.0 */
/* tests/integration/faultinject.c -- LD_PRELOAD shim for crash tests: counts
 * the calls that change the file system (write, fsync, fdatasync, rename,
 * renameat, link, linkat, symlink, symlinkat, unlink, unlinkat, mkdir,
 * mkdirat, ftruncate) and SIGKILLs the process at the Nth one, before it
 * happens: a crash between any two steps.
 *   ZUPD_FAULT_AT=N        kill at call N (1-based); unset or 0: never
 *   ZUPD_FAULT_COUNT=FILE  append the number of calls made to FILE at exit
 * Writes to fds 0-2 are not counted (they do not change the state).
 * Also makes statvfs lie, for the free-space checks:
 *   ZUPD_FAKE_FREE=N       fstatvfs/statvfs report N bytes available */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

static unsigned long calls, kill_at;
static int ready;

static void
setup(void)
{
    const char *s;

    if (ready)
        return;
    ready = 1;
    s = getenv("ZUPD_FAULT_AT");
    kill_at = s != NULL ? strtoul(s, NULL, 10) : 0;
}

static void
step(void)
{
    setup();
    calls++;
    if (kill_at != 0 && calls == kill_at)
        kill(getpid(), SIGKILL);
}

__attribute__((destructor)) static void
report(void)
{
    const char *path = getenv("ZUPD_FAULT_COUNT");
    FILE *f;

    if (path == NULL || (f = fopen(path, "a")) == NULL)
        return;
    fprintf(f, "%lu\n", calls);
    fclose(f);
}

#define REAL(ret, name, ...)                                                    \
    static ret (*real_##name)(__VA_ARGS__);                                     \
    if (real_##name == NULL)                                                    \
        real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name);

ssize_t write(int fd, const void *buf, size_t n);
ssize_t
write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    if (fd > 2) {
        struct stat st;
        /* sockets and pipes are not the file system */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            step();
    }
    return real_write(fd, buf, n);
}

int fsync(int fd);
int
fsync(int fd)
{
    REAL(int, fsync, int);
    step();
    return real_fsync(fd);
}

int fdatasync(int fd);
int
fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    step();
    return real_fdatasync(fd);
}

int
rename(const char *a, const char *b)
{
    REAL(int, rename, const char *, const char *);
    step();
    return real_rename(a, b);
}

int
renameat(int fa, const char *a, int fb, const char *b)
{
    REAL(int, renameat, int, const char *, int, const char *);
    step();
    return real_renameat(fa, a, fb, b);
}

int
link(const char *a, const char *b)
{
    REAL(int, link, const char *, const char *);
    step();
    return real_link(a, b);
}

int
linkat(int fa, const char *a, int fb, const char *b, int flags)
{
    REAL(int, linkat, int, const char *, int, const char *, int);
    step();
    return real_linkat(fa, a, fb, b, flags);
}

int
symlink(const char *a, const char *b)
{
    REAL(int, symlink, const char *, const char *);
    step();
    return real_symlink(a, b);
}

int
symlinkat(const char *a, int fd, const char *b)
{
    REAL(int, symlinkat, const char *, int, const char *);
    step();
    return real_symlinkat(a, fd, b);
}

int
unlink(const char *a)
{
    REAL(int, unlink, const char *);
    step();
    return real_unlink(a);
}

int
unlinkat(int fd, const char *a, int flags)
{
    REAL(int, unlinkat, int, const char *, int);
    step();
    return real_unlinkat(fd, a, flags);
}

int
mkdir(const char *a, mode_t m)
{
    REAL(int, mkdir, const char *, mode_t);
    step();
    return real_mkdir(a, m);
}

int
mkdirat(int fd, const char *a, mode_t m)
{
    REAL(int, mkdirat, int, const char *, mode_t);
    step();
    return real_mkdirat(fd, a, m);
}

int
ftruncate(int fd, off_t len)
{
    REAL(int, ftruncate, int, off_t);
    step();
    return real_ftruncate(fd, len);
}

/* ZUPD_FAKE_FREE: the free space reported, whatever the disk has. Both
 * names of each call are replaced (with _FILE_OFFSET_BITS=64 a caller may
 * link either); on LP64 struct statvfs64 is struct statvfs. */
static int
fake_free(int rc, struct statvfs *sv)
{
    const char *s = getenv("ZUPD_FAKE_FREE");

    if (rc == 0 && s != NULL && sv->f_frsize > 0) {
        unsigned long long n = strtoull(s, NULL, 10) / sv->f_frsize;
        sv->f_bavail = (fsblkcnt_t)n;
        if (sv->f_bfree < sv->f_bavail)
            sv->f_bfree = sv->f_bavail;
    }
    return rc;
}

#define FAKE_STATVFS(cname, sym, argt)                                          \
    int cname(argt a, struct statvfs *sv) __asm__(sym);                         \
    int cname(argt a, struct statvfs *sv)                                       \
    {                                                                           \
        static int (*real)(argt, struct statvfs *);                             \
        if (real == NULL)                                                       \
            real = (int (*)(argt, struct statvfs *))dlsym(RTLD_NEXT, sym);      \
        return fake_free(real(a, sv), sv);                                      \
    }

FAKE_STATVFS(shim_fstatvfs, "fstatvfs", int)
FAKE_STATVFS(shim_fstatvfs64, "fstatvfs64", int)
FAKE_STATVFS(shim_statvfs, "statvfs", const char *)
FAKE_STATVFS(shim_statvfs64, "statvfs64", const char *)
