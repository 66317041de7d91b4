/* SPDX-License-Identifier: Apache-2.0 */
/* lib/stage.c -- building a new version in versions/<v>.staging: hard links
 * for content already installed, hashed writes for the rest, then one batch
 * of fsyncs (files, then each directory once) and the rename into place. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <zupd/hash.h>

#include "zu/fsio.h"
#include "store_int.h"
#include "stage.h"

/* Directories made for one release: its files are at most max_entries
 * (1 << 20), each path making a few new levels at most. */
#define STAGE_DIRS_MAX ((size_t)1 << 22)

enum { F_MISSING = 0, F_LINKED = 1, F_WRITTEN = 2 };

struct zu_stage {
    struct zupd_store *s;
    struct zupd_manifest *m;
    uint8_t *mbytes;
    size_t mlen;
    char name[ZUPD_NAME_MAX + 16]; /* "<version>.staging" */
    int fd;                        /* the staging directory */
    uint8_t *done;                 /* per file: F_* */
    char **dirs;                   /* directories made (relative), for fsync */
    size_t n_dirs, cap_dirs;
    /* installed manifests, for content lookup (current first) */
    struct zupd_manifest **local;
    char **local_ver;
    size_t n_local;
    bool local_loaded;
    /* the open file */
    size_t open_i;
    int open_fd;
    uint64_t open_len;
    struct zupd_hash *open_hash;
};

void
zu_stage_abort(struct zu_stage *st)
{
    if (st == NULL)
        return;
    if (st->open_fd >= 0)
        close(st->open_fd);
    zupd_hash_free(st->open_hash);
    if (st->fd >= 0) {
        close(st->fd);
        if (zu_rmtree_at(st->s->vfd, st->name, 0) != ZUPD_OK)
            zu_trace(NULL, "staging tree left for the next open to remove");
    }
    for (size_t i = 0; i < st->n_local; i++) {
        zupd_manifest_free(st->local[i]);
        free(st->local_ver[i]);
    }
    free(st->local);
    free(st->local_ver);
    zupd_strv_free(st->dirs, st->n_dirs);
    zupd_manifest_free(st->m);
    free(st->mbytes);
    free(st->done);
    free(st);
}

const struct zupd_manifest *
zu_stage_manifest(const struct zu_stage *st)
{
    return st->m;
}

int
zu_stage_begin(struct zupd_store *s, const uint8_t *mbytes, size_t len, struct zu_stage **out)
{
    struct zu_stage *st = NULL;
    int rc;

    *out = NULL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return ZUPD_E_NOMEM;
    st->s = s;
    st->fd = -1;
    st->open_fd = -1;
    rc = zupd_manifest_parse(mbytes, len, NULL, &st->m, NULL, 0);
    if (rc != ZUPD_OK)
        goto out;
    if (zupd_store_has(s, st->m->version)) {
        rc = ZUPD_E_EXISTS;
        goto out;
    }
    rc = ZUPD_E_NOMEM;
    st->mbytes = malloc(len + 1);
    st->done = calloc(st->m->n_files + 1, 1);
    if (st->mbytes == NULL || st->done == NULL)
        goto out;
    memcpy(st->mbytes, mbytes, len);
    st->mlen = len;
    snprintf(st->name, sizeof(st->name), "%s.staging", st->m->version);
    /* a version tree without its manifest (an interrupted prune) goes too */
    rc = zu_rmtree_at(s->vfd, st->name, 0);
    if (rc == ZUPD_OK)
        rc = zu_rmtree_at(s->vfd, st->m->version, 0);
    if (rc != ZUPD_OK)
        goto out;
    if (mkdirat(s->vfd, st->name, 0755) != 0) {
        rc = zu_errno_to_err(errno);
        goto out;
    }
    st->fd = openat(s->vfd, st->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (st->fd < 0) {
        rc = zu_errno_to_err(errno);
        (void)unlinkat(s->vfd, st->name, AT_REMOVEDIR);
        goto out;
    }
    *out = st;
    st = NULL;
    rc = ZUPD_OK;
out:
    zu_stage_abort(st);
    return rc;
}

static int
load_local(struct zu_stage *st)
{
    char cur[ZUPD_NAME_MAX + 1] = "";
    char **v = NULL;
    size_t n = 0;
    int rc;

    if (st->local_loaded)
        return ZUPD_OK;
    st->local_loaded = true;
    rc = zupd_store_list(st->s, &v, &n);
    if (rc != ZUPD_OK)
        return rc;
    if (zupd_store_current(st->s, cur, sizeof(cur)) != ZUPD_OK)
        cur[0] = 0;
    st->local = calloc(n + 1, sizeof(*st->local));
    st->local_ver = calloc(n + 1, sizeof(*st->local_ver));
    if (st->local == NULL || st->local_ver == NULL) {
        zupd_strv_free(v, n);
        return ZUPD_E_NOMEM;
    }
    /* current first, then newest first */
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = n; i-- > 0;) {
            struct zupd_manifest *m = NULL;
            if (v[i] == NULL || (pass == 0) != (strcmp(v[i], cur) == 0))
                continue;
            if (zupd_store_manifest(st->s, v[i], &m) != ZUPD_OK)
                continue; /* unreadable: just not a source */
            st->local[st->n_local] = m;
            st->local_ver[st->n_local] = v[i];
            v[i] = NULL;
            st->n_local++;
        }
    zupd_strv_free(v, n);
    return ZUPD_OK;
}

int
zu_stage_find_local(struct zu_stage *st, const uint8_t *sha256, char *path, size_t cap)
{
    struct stat sb;
    int rc;

    rc = load_local(st);
    if (rc != ZUPD_OK)
        return rc;
    for (size_t k = 0; k < st->n_local; k++) {
        const struct zupd_manifest *m = st->local[k];
        for (size_t i = 0; i < m->n_files; i++) {
            const struct zupd_file_entry *e = &m->files[i];
            if (memcmp(e->sha256, sha256, 32) != 0)
                continue;
            if ((size_t)snprintf(path, cap, "%s/versions/%s/%s", zupd_store_dir(st->s),
                                 st->local_ver[k], e->path) >= cap)
                continue;
            /* cheap sanity check; `zupd verify` re-hashes trees */
            if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == e->size)
                return ZUPD_OK;
        }
    }
    if (cap > 0)
        path[0] = 0;
    return ZUPD_E_NOTFOUND;
}

/* Make the parent directories of path inside the staging tree. */
static int
make_parents(struct zu_stage *st, const char *path)
{
    char buf[ZUPD_PATH_MAX + 1];
    size_t n = strlen(path);

    memcpy(buf, path, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = 0;
        if (mkdirat(st->fd, buf, 0755) == 0) {
            /* each directory is made once, the first time a file of the
             * manifest is in it */
            int rc = ZU_GROW(&st->dirs, &st->cap_dirs, st->n_dirs + 1, STAGE_DIRS_MAX);
            if (rc != ZUPD_OK)
                return rc;
            st->dirs[st->n_dirs] = strdup(buf);
            if (st->dirs[st->n_dirs] == NULL)
                return ZUPD_E_NOMEM;
            st->n_dirs++;
        } else if (errno != EEXIST) {
            return zu_errno_to_err(errno);
        } else {
            struct stat sb;
            /* a file of the manifest where a directory is needed */
            if (fstatat(st->fd, buf, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode))
                return ZUPD_E_FORMAT;
        }
        buf[i] = '/';
    }
    return ZUPD_OK;
}

static int
sink_begin(void *opaque, uint64_t start)
{
    struct zu_stage *st = opaque;

    if (start != 0)
        return ZUPD_E_MISUSE; /* staged files are written in one pass */
    if (st->open_len == 0)
        return ZUPD_OK;
    /* a restart: drop what was written */
    if (ftruncate(st->open_fd, 0) != 0 || lseek(st->open_fd, 0, SEEK_SET) != 0)
        return zu_errno_to_err(errno);
    zupd_hash_free(st->open_hash);
    st->open_hash = zupd_hash_new(ZUPD_HASH_SHA256);
    st->open_len = 0;
    return st->open_hash == NULL ? ZUPD_E_NOMEM : ZUPD_OK;
}

static int
sink_write(void *opaque, const uint8_t *data, size_t len)
{
    struct zu_stage *st = opaque;
    const struct zupd_file_entry *e = &st->m->files[st->open_i];
    int rc;

    if (len > e->size - st->open_len)
        return ZUPD_E_LENGTH; /* more than the signed size */
    rc = zu_write_all(st->open_fd, data, len);
    if (rc != ZUPD_OK)
        return rc;
    st->open_len += len;
    return zupd_hash_update(st->open_hash, data, len);
}

int
zu_stage_open(struct zu_stage *st, size_t i, struct zupd_sink *sink)
{
    const struct zupd_file_entry *e;
    int rc;

    if (i >= st->m->n_files || st->open_fd >= 0 || st->done[i] != F_MISSING)
        return ZUPD_E_MISUSE;
    e = &st->m->files[i];
    rc = make_parents(st, e->path);
    if (rc != ZUPD_OK)
        return rc;
    st->open_hash = zupd_hash_new(ZUPD_HASH_SHA256);
    if (st->open_hash == NULL)
        return ZUPD_E_NOMEM;
    st->open_fd =
        openat(st->fd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (st->open_fd < 0) {
        rc = errno == EEXIST ? ZUPD_E_FORMAT : zu_errno_to_err(errno);
        zupd_hash_free(st->open_hash);
        st->open_hash = NULL;
        return rc;
    }
    st->open_i = i;
    st->open_len = 0;
    sink->opaque = st;
    sink->begin = sink_begin;
    sink->write = sink_write;
    return ZUPD_OK;
}

int
zu_stage_close(struct zu_stage *st)
{
    const struct zupd_file_entry *e;
    uint8_t dg[ZUPD_SHA256_LEN];
    size_t dlen;
    int rc;

    if (st->open_fd < 0)
        return ZUPD_E_MISUSE;
    e = &st->m->files[st->open_i];
    rc = ZUPD_E_LENGTH;
    if (st->open_len == e->size) {
        rc = zupd_hash_final(st->open_hash, dg, sizeof(dg), &dlen);
        if (rc == ZUPD_OK && sodium_memcmp(dg, e->sha256, sizeof(dg)) != 0)
            rc = ZUPD_E_HASH;
    }
    if (rc == ZUPD_OK && fchmod(st->open_fd, (mode_t)e->mode) != 0)
        rc = zu_errno_to_err(errno);
    if (close(st->open_fd) != 0 && rc == ZUPD_OK)
        rc = zu_errno_to_err(errno);
    st->open_fd = -1;
    zupd_hash_free(st->open_hash);
    st->open_hash = NULL;
    if (rc != ZUPD_OK) {
        (void)unlinkat(st->fd, e->path, 0);
        return rc;
    }
    st->done[st->open_i] = F_WRITTEN;
    return ZUPD_OK;
}

/* Copy a local file into the stage (when a hard link is not possible). */
static int
stage_copy(struct zu_stage *st, size_t i, const char *src)
{
    struct zupd_sink sink;
    uint8_t *buf = NULL;
    int fd, rc;

    rc = zu_open_regular(AT_FDCWD, src, 0, UINT64_MAX, &fd, NULL, NULL, 0);
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_stage_open(st, i, &sink);
    if (rc != ZUPD_OK)
        goto out;
    buf = malloc(COPY_BUF);
    if (buf == NULL)
        rc = ZUPD_E_NOMEM;
    while (rc == ZUPD_OK) {
        ssize_t n = read(fd, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = zu_errno_to_err(errno);
        if (n <= 0)
            break;
        rc = sink.write(sink.opaque, buf, (size_t)n);
    }
    if (rc == ZUPD_OK) {
        rc = zu_stage_close(st);
    } else if (st->open_fd >= 0 && zu_stage_close(st) != ZUPD_OK) {
        /* expected: the partial file fails its checks and is removed */
    }
out:
    free(buf);
    close(fd);
    return rc;
}

int
zu_stage_link(struct zu_stage *st, size_t i)
{
    const struct zupd_file_entry *e;
    char src[4096 + ZUPD_PATH_MAX];
    struct stat sb;
    int rc;

    if (i >= st->m->n_files || st->done[i] != F_MISSING || st->open_fd >= 0)
        return ZUPD_E_MISUSE;
    e = &st->m->files[i];
    rc = zu_stage_find_local(st, e->sha256, src, sizeof(src));
    if (rc != ZUPD_OK)
        return rc;
    rc = make_parents(st, e->path);
    if (rc != ZUPD_OK)
        return rc;
    /* a hard link shares the mode: link only when it is the same */
    if (lstat(src, &sb) == 0 && (sb.st_mode & 07777) == e->mode &&
        linkat(AT_FDCWD, src, st->fd, e->path, 0) == 0) {
        st->done[i] = F_LINKED;
        return ZUPD_OK;
    }
    return stage_copy(st, i, src);
}

static int
fsync_at(int dirfd, const char *name, int flags)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags), rc;

    if (fd < 0)
        return zu_errno_to_err(errno);
    rc = zu_fsync_fd(fd);
    close(fd);
    return rc;
}

int
zu_stage_commit(struct zu_stage *st)
{
    char mname[ZUPD_NAME_MAX + 8];
    int rc = ZUPD_OK;

    if (st->open_fd >= 0) {
        rc = ZUPD_E_MISUSE;
        goto out;
    }
    for (size_t i = 0; i < st->m->n_files; i++)
        if (st->done[i] == F_MISSING) {
            rc = ZUPD_E_MISUSE;
            goto out;
        }
    /* every written file, then every directory once, deepest first */
    for (size_t i = 0; rc == ZUPD_OK && i < st->m->n_files; i++)
        if (st->done[i] == F_WRITTEN)
            rc = fsync_at(st->fd, st->m->files[i].path, 0);
    for (size_t i = st->n_dirs; rc == ZUPD_OK && i-- > 0;)
        rc = fsync_at(st->fd, st->dirs[i], O_DIRECTORY);
    if (rc == ZUPD_OK)
        rc = zu_fsync_fd(st->fd);
    if (rc == ZUPD_OK)
        rc = zu_store_manifest_name(mname, sizeof(mname), st->m->version);
    if (rc == ZUPD_OK)
        rc = zu_atomic_write(st->s->mfd, mname, st->mbytes, st->mlen, 0644);
    if (rc == ZUPD_OK)
        rc = zu_rename_durable(st->s->vfd, st->name, st->m->version);
    if (rc == ZUPD_OK) {
        close(st->fd);
        st->fd = -1; /* nothing to remove any more */
    }
out:
    zu_stage_abort(st);
    return rc;
}
