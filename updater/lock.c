/* SPDX-License-Identifier: Apache-2.0 */
/* updater/lock.c -- one zupd at a time: the state directory's lock (shared
 * for commands that only read, exclusive for those that change it), and the
 * checks that nobody but root and us could have written the state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zupd/zupd.h>

#include "zu/fsio.h"
#include "zupd.h"

/* The state directory must be a real directory (not a symlink) that only
 * root or we can write: whoever can write it decides what gets installed
 * (components/, hooks run on the trees in it). */
static int
state_dir_open(const char *dir, int *dfd, char *err, size_t cap)
{
    struct stat st;
    int rc, e;

    *dfd = -1;
    rc = zu_mkdir_p(dir);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot create state directory '%s': %s", dir,
                       strerror(errno));
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*dfd < 0) {
        e = errno;
        if (e == ELOOP || (e == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
            return zu_fail(err, cap, ZUPD_E_PERM,
                           "state directory '%s' is a symbolic link: refused", dir);
        return zu_fail(err, cap, zu_errno_to_err(e), "cannot open state directory '%s': %s", dir,
                       strerror(e));
    }
    if (fstat(*dfd, &st) != 0)
        rc = zu_fail(err, cap, ZUPD_E_IO, "cannot stat '%s': %s", dir, strerror(errno));
    else
        rc = zu_check_safe(&st, dir, err, cap);
    if (rc != ZUPD_OK) {
        close(*dfd);
        *dfd = -1;
    }
    return rc;
}

/* The exclusive holder's "pid N: zupd COMMAND", so that a run it blocks can
 * say which run holds the lock (a shared holder writes nothing: it would
 * overwrite the others'). */
static void
holder_write(const struct zupd_cli *cli, int fd)
{
    char line[128];
    int n;

    n = snprintf(line, sizeof(line), "pid %ld: zupd %s\n", (long)getpid(),
                 cli->command != NULL ? cli->command : "");
    if (n <= 0 || ftruncate(fd, 0) != 0)
        return;
    (void)!pwrite(fd, line, strlen(line), 0);
}

/* What the lock file says of its holder, if that process still runs; "" when
 * the holders are readers (status, verify) or the line is stale. */
static void
holder_read(int fd, char *buf, size_t cap)
{
    ssize_t n;
    long pid;

    buf[0] = 0;
    n = pread(fd, buf, cap - 1, 0);
    if (n <= 0) {
        buf[0] = 0;
        return;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    if (sscanf(buf, "pid %ld:", &pid) != 1 || pid <= 0 ||
        (kill((pid_t)pid, 0) != 0 && errno != EPERM))
        buf[0] = 0;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* flock, waiting up to cli->wait seconds (-1 forever, 0 not at all) */
static int
lock_wait(const struct zupd_cli *cli, int fd, bool exclusive)
{
    const char *dir = cli->conf.state_dir;
    double deadline = now_s() + (double)cli->wait;
    bool said = false;
    char who[128];

    for (;;) {
        if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return zupd_fail(ZUPD_E_IO, "cannot lock '%s/lock': %s", dir, strerror(errno));
        holder_read(fd, who, sizeof(who));
        if (cli->wait == 0 || (cli->wait > 0 && now_s() >= deadline))
            return zupd_fail(ZUPD_E_BUSY,
                             "another zupd is %s '%s' (lock '%s/lock' is held)%s%s; try again "
                             "later",
                             exclusive ? "using" : "changing", dir, dir, who[0] ? " by " : "", who);
        if (!said && !cli->quiet)
            fprintf(stderr, "zupd: waiting for the lock '%s/lock'%s%s\n", dir,
                    who[0] ? ", held by " : "", who);
        said = true;
        usleep(100 * 1000);
    }
}

int
zupd_lock(struct zupd_cli *cli, bool exclusive)
{
    const char *dir = cli->conf.state_dir;
    char err[1024];
    int dfd, fd, rc;

    cli->lockfd = -1;
    rc = state_dir_open(dir, &dfd, err, sizeof(err));
    if (rc != ZUPD_OK)
        return zupd_fail(rc, "%s", err);
    /* 0600: anyone who can open the lock can hold it, and so stop every
     * update (a shared lock blocks the exclusive one) */
    fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EACCES && !exclusive) {
        /* a user who may read the state but not the lock (status as an
         * unprivileged user): read without it, never removing anything */
        close(dfd);
        cli->exclusive = false;
        return 0;
    }
    if (fd < 0) {
        rc = zupd_fail(zu_errno_map(errno, ZU_ERRNO_LOOP_PERM), "cannot open lock '%s/lock': %s",
                       dir, strerror(errno));
        close(dfd);
        return rc;
    }
    close(dfd);
    rc = lock_wait(cli, fd, exclusive);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    if (exclusive)
        holder_write(cli, fd);
    cli->lockfd = fd;
    cli->exclusive = exclusive;
    return 0;
}

void
zupd_unlock(struct zupd_cli *cli)
{
    /* the holder's line goes with the exclusive lock: a reader that takes
     * the lock next must not be named as this run */
    if (cli->lockfd >= 0 && cli->exclusive)
        (void)!ftruncate(cli->lockfd, 0);
    if (cli->lockfd >= 0)
        close(cli->lockfd); /* releases the flock */
    cli->lockfd = -1;
}

int
zupd_store_open_locked(const struct zupd_cli *cli, const char *component, struct zupd_store **out)
{
    /* leftovers are removed only by the holder of the exclusive lock: under
     * the shared one they may be the running update's staging trees */
    return zu_store_open(cli->conf.state_dir, component, cli->exclusive ? 0 : ZU_STORE_NO_RECOVER,
                         out);
}
