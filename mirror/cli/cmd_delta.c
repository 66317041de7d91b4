/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_delta.c -- `zupd-mirror delta create|apply`: files, options, messages. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta/create.h"
#include "pub.h"

/* A read-only view of a whole file (mapped; empty files have p == NULL). */
struct fmap {
    const uint8_t *p;
    size_t len;
};

static int
fmap_open(const char *path, struct fmap *m)
{
    struct stat st;
    int fd, rc = ZUPD_OK;

    m->p = NULL;
    m->len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ZUPD_E_NOTFOUND : ZUPD_E_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ZUPD_E_IO;
        goto out;
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = errno == ENOMEM ? ZUPD_E_NOMEM : ZUPD_E_IO;
            goto out;
        }
        (void)madvise(p, (size_t)st.st_size, MADV_WILLNEED);
        m->p = p;
        m->len = (size_t)st.st_size;
    }
out:
    close(fd);
    return rc;
}

static void
fmap_close(struct fmap *m)
{
    if (m->p != NULL)
        munmap((void *)(uintptr_t)m->p, m->len);
    m->p = NULL;
    m->len = 0;
}

/* Atomic replacement of a file: temp file beside it, fsync, rename, fsync dir. */
struct atomic_file {
    int fd;
    char tmp[4096];
    const char *path;
    uint64_t off;    /* bytes written */
    uint64_t kicked; /* bytes handed to writeback early */
};

/* Start writeback every this many bytes, so that the fsync at the end finds
 * the disk busy already instead of the whole file still dirty (turbo, 34 MB:
 * fsync ~15 ms of waiting, now overlapped with apply). */
#define WRITEBACK_EVERY (8u << 20)

static int
err_of_errno(int e)
{
    return e == ENOSPC || e == EDQUOT ? ZUPD_E_NOSPACE : ZUPD_E_IO;
}

static int
atomic_begin(struct atomic_file *a, const char *path)
{
    a->fd = -1;
    a->path = path;
    a->off = a->kicked = 0;
    for (unsigned i = 0; i < 100; i++) {
        if ((size_t)snprintf(a->tmp, sizeof(a->tmp), "%s.tmp%ld.%u", path, (long)getpid(), i) >=
            sizeof(a->tmp))
            return ZUPD_E_MISUSE;
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (a->fd >= 0)
            return ZUPD_OK;
        if (errno != EEXIST)
            return err_of_errno(errno);
    }
    return ZUPD_E_EXISTS;
}

static int
atomic_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct atomic_file *a = opaque;
    while (len > 0) {
        ssize_t w = write(a->fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return err_of_errno(errno);
        }
        buf += w;
        len -= (size_t)w;
        a->off += (uint64_t)w;
    }
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
atomic_abort(struct atomic_file *a)
{
    if (a->fd >= 0) {
        close(a->fd);
        unlink(a->tmp);
        a->fd = -1;
    }
}

static int
atomic_commit(struct atomic_file *a)
{
    char dir[4096];
    int dfd, rc = ZUPD_OK;

    if (fsync(a->fd) != 0) {
        rc = err_of_errno(errno);
        atomic_abort(a);
        return rc;
    }
    if (close(a->fd) != 0) {
        rc = err_of_errno(errno);
        a->fd = -1;
        unlink(a->tmp);
        return rc;
    }
    a->fd = -1;
    if (rename(a->tmp, a->path) != 0) {
        rc = err_of_errno(errno);
        unlink(a->tmp);
        return rc;
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s", a->path) < sizeof(dir)) {
        dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) != 0)
                rc = ZUPD_E_IO;
            close(dfd);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ commands */

static const char *
apply_reason(int rc)
{
    switch (rc) {
    case ZUPD_E_FORMAT:
        return "corrupt or truncated delta";
    case ZUPD_E_HASH:
        return "result does not match the hash in the delta";
    default:
        return zupd_strerror(rc);
    }
}

static int
delta_apply(const char *oldp, const char *patchp, const char *newp)
{
    struct fmap old = {NULL, 0}, patch = {NULL, 0};
    struct atomic_file af = {-1, "", NULL, 0, 0};
    struct zupd_delta_info info;
    struct zupd_delta_sink sink = {&af, atomic_write};
    int rc;

    rc = fmap_open(oldp, &old);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot read '%s': %s\n", oldp, strerror(errno));
        goto out;
    }
    rc = fmap_open(patchp, &patch);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot read '%s': %s\n", patchp, strerror(errno));
        goto out;
    }
    rc = zupd_delta_info(patch.p, patch.len, &info);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': %s\n", patchp,
                rc == ZUPD_E_FORMAT ? "not a delta, or truncated header" : zupd_strerror(rc));
        goto out;
    }
    rc = atomic_begin(&af, newp);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot create '%s': %s\n", newp, strerror(errno));
        goto out;
    }
    rc = zupd_delta_apply(old.p, old.len, patch.p, patch.len, 0, &sink, NULL);
    if (rc == ZUPD_E_BASE) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': delta base does not match '%s'\n", patchp,
                oldp);
        goto out;
    }
    if (rc == ZUPD_E_IO || rc == ZUPD_E_NOSPACE) {
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", newp, zupd_strerror(rc));
        goto out;
    }
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': %s\n", patchp, apply_reason(rc));
        goto out;
    }
    rc = atomic_commit(&af);
    if (rc != ZUPD_OK)
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", newp, zupd_strerror(rc));
out:
    atomic_abort(&af);
    fmap_close(&old);
    fmap_close(&patch);
    return rc;
}

static int
delta_create(const char *oldp, const char *newp, const char *patchp, const struct zp_delta_opts *o,
             int verbose)
{
    struct fmap old = {NULL, 0}, nw = {NULL, 0};
    struct atomic_file af = {-1, "", NULL, 0, 0};
    struct zp_delta_report rep;
    uint8_t *patch = NULL;
    size_t plen = 0;
    int rc;

    rc = fmap_open(oldp, &old);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot read '%s': %s\n", oldp, strerror(errno));
        goto out;
    }
    rc = fmap_open(newp, &nw);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot read '%s': %s\n", newp, strerror(errno));
        goto out;
    }
    rc = zp_delta_create(old.p, old.len, nw.p, nw.len, o, &patch, &plen, &rep);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot create a delta from '%s' to '%s': %s\n", oldp, newp,
                zupd_strerror(rc));
        goto out;
    }
    rc = atomic_begin(&af, patchp);
    if (rc == ZUPD_OK)
        rc = atomic_write(&af, patch, plen);
    if (rc == ZUPD_OK)
        rc = atomic_commit(&af);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", patchp, zupd_strerror(rc));
        goto out;
    }
    if (verbose) {
        struct zupd_delta_info info;
        if (zupd_delta_info(patch, plen, &info) == ZUPD_OK)
            fprintf(stderr,
                    "zupd-mirror: '%s': %zu bytes, method %s (bsdiff %zu, zstd %zu, "
                    "bsdiff40 %zu)\n",
                    patchp, plen, zupd_delta_method_name(info.method), rep.bsdiff, rep.zstd,
                    rep.bsdiff40);
    }
out:
    atomic_abort(&af);
    free(patch);
    fmap_close(&old);
    fmap_close(&nw);
    return rc;
}

static void
delta_usage(FILE *f)
{
    fputs("usage: zupd-mirror delta create OLD NEW PATCH [--method auto|bsdiff|zstd|bsdiff40]\n"
          "                                [--level N] [-v]\n"
          "       zupd-mirror delta apply OLD PATCH NEW\n"
          "exit status: 0 ok, 64 usage, else the zupd error code (20: wrong base,\n"
          "1: corrupt or truncated delta, 22: no space left, 9: I/O error)\n",
          f);
}

#define EXIT_USAGE 64

int
zu_cmd_delta(int argc, char **argv)
{
    struct zp_delta_opts o = {ZP_DELTA_AUTO, 0};
    const char *pos[3];
    int npos = 0, verbose = 0;

    if (argc < 2) {
        delta_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        delta_usage(stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) {
            if (zp_delta_method_parse(argv[++i], &o.method) != ZUPD_OK) {
                fprintf(stderr, "zupd-mirror: unknown delta method '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || v < 1 || v > ZP_DELTA_LEVEL_MAX) {
                fprintf(stderr, "zupd-mirror: level must be 1..%d, not '%s'\n", ZP_DELTA_LEVEL_MAX,
                        argv[i]);
                return EXIT_USAGE;
            }
            o.level = (int)v;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "zupd-mirror: unknown option '%s'\n", argv[i]);
            delta_usage(stderr);
            return EXIT_USAGE;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            delta_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (npos != 3) {
        delta_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "create") == 0)
        return delta_create(pos[0], pos[1], pos[2], &o, verbose);
    if (strcmp(argv[1], "apply") == 0) {
        if (o.method != ZP_DELTA_AUTO || o.level != 0) {
            fprintf(stderr, "zupd-mirror: apply takes no --method or --level\n");
            return EXIT_USAGE;
        }
        return delta_apply(pos[0], pos[1], pos[2]);
    }
    fprintf(stderr, "zupd-mirror: unknown delta command '%s'\n", argv[1]);
    delta_usage(stderr);
    return EXIT_USAGE;
}
