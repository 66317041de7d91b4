/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync_log.c -- zupd-mirror sync carries the upstream's
 * transparency log (log/checkpoint, log/vkey, log/tile/...) and checks it
 * first: consistent with the log DIR holds (no fork, no rollback), every
 * tile hashing to the signed root, every target and root version of the
 * verified metadata logged (docs/transparency.md, docs/mirror.md). The same
 * check without a mirror, `log verify URL`, is log_url.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zupd/client.h>
#include <zupd/trusted.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/logaudit.h"
#include "sync/sync.h"
#include "sync/sync_int.h"

#define LOG_FILES_MAX ((size_t)1 << 20)
#define VKEY_MAX 4096

/* ------------------------------------------------------------ the TUF side */

static int
view_targets(void *opaque, zupd_meta_target_fn fn, void *arg)
{
    struct sync *s = opaque;
    const struct zupd_trusted *ts = zupd_client_trusted(s->c);

    for (size_t i = 0; i < s->roles.n; i++) {
        const struct zupd_meta *m = zupd_trusted_get(ts, s->roles.v[i]);
        int rc = m != NULL ? zupd_meta_target_foreach(m, fn, arg) : ZUPD_OK;
        if (rc != ZUPD_OK)
            return rc;
    }
    return ZUPD_OK;
}

static int
view_root(void *opaque, uint64_t v, uint8_t **data, size_t *len, char *err, size_t cap)
{
    struct sync *s = opaque;

    if (v == 0 || v > s->n_roots)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "root version %llu", (unsigned long long)v);
    *data = malloc(s->root_len[v - 1] + 1);
    if (*data == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    memcpy(*data, s->roots[v - 1], s->root_len[v - 1]);
    *len = s->root_len[v - 1];
    return ZUPD_OK;
}

void
zp_sync_log_view(struct sync *s, struct zp_tuf_view *tv)
{
    memset(tv, 0, sizeof(*tv));
    tv->opaque = s;
    tv->targets = view_targets;
    tv->root_version = s->n_roots;
    tv->root = view_root;
}

/* ------------------------------------------------------------ reader */

/* Tiles and bundles: DIR's copy (write-once, verified by the sync that
 * wrote it), else one fetched by this run, else the upstream's (kept for
 * the commit). Everything is still checked against the signed root. */
static int
sync_log_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
              size_t cap)
{
    struct sync *s = opaque;
    const struct zu_tlog_reader *up = zp_logsrc_reader(s->log);
    bool tile = strncmp(path, "tile/", 5) == 0;
    char rel[ZU_TLOG_PATH_MAX + 8];
    int rc;

    if (tile) {
        snprintf(rel, sizeof(rel), "log/%s", path);
        if (s->dfd >= 0 && zp_get(s->dfd, rel, max, data, len) == ZUPD_OK)
            return ZUPD_OK;
        for (size_t i = 0; i < s->n_lf; i++) {
            if (strcmp(s->lf[i].path, path) != 0)
                continue;
            *data = malloc(s->lf[i].len > 0 ? s->lf[i].len : 1);
            if (*data == NULL)
                return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
            memcpy(*data, s->lf[i].data, s->lf[i].len);
            *len = s->lf[i].len;
            return ZUPD_OK;
        }
    }
    rc = up->read(up->opaque, path, max, data, len, err, cap);
    if (rc != ZUPD_OK || !tile || s->dfd < 0)
        return rc;
    rc = ZU_GROW(&s->lf, &s->cap_lf, s->n_lf + 1, LOG_FILES_MAX);
    if (rc == ZUPD_OK) {
        struct logfile *f = &s->lf[s->n_lf];
        f->path = strdup(path);
        f->data = malloc(*len > 0 ? *len : 1);
        if (f->path == NULL || f->data == NULL) {
            free(f->path);
            free(f->data);
            rc = ZUPD_E_NOMEM;
        } else {
            memcpy(f->data, *data, *len);
            f->len = *len;
            s->n_lf++;
            s->res->log_files_fetched++;
        }
    }
    if (rc != ZUPD_OK) {
        free(*data);
        *data = NULL;
        return zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------ sync */

static char *
trim_vkey(uint8_t *buf, size_t len)
{
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    return (char *)buf;
}

int
zp_sync_log(struct sync *s)
{
    struct zu_tlog_reader rd = {s, sync_log_read};
    const struct zu_tlog_reader *up;
    struct zp_log_trust trust = {0};
    struct zp_log_cp cur, old;
    struct zp_tuf_view tv;
    struct zp_log_res lres;
    uint8_t *note = NULL, *oldnote = NULL, *dvk = NULL, *uvk = NULL;
    size_t note_len = 0, oldnote_len = 0, dvk_len = 0, uvk_len = 0;
    char why[1024] = "";
    int rc;

    memset(&cur, 0, sizeof(cur));
    memset(&old, 0, sizeof(old));
    rc = zp_logsrc_open(s->base, s->o->ca_file, s->o->ctx, &s->log, why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "the upstream's log: %s", why);
    up = zp_logsrc_reader(s->log);
    /* the mirror's own log, if it has one yet (else both stay NULL) */
    if (zp_get(s->dfd, "log/checkpoint", ZU_NOTE_MAX_BYTES, &oldnote, &oldnote_len) != ZUPD_OK)
        oldnote = NULL;
    if (zp_get(s->dfd, "log/vkey", VKEY_MAX, &dvk, &dvk_len) != ZUPD_OK)
        dvk = NULL;
    rc = up->read(up->opaque, "checkpoint", ZU_NOTE_MAX_BYTES, &note, &note_len, why, sizeof(why));
    if (rc == ZUPD_E_NOTFOUND && oldnote == NULL && s->o->log_vkey == NULL) {
        rc = ZUPD_OK; /* an upstream without a log, and none expected */
        goto out;
    }
    if (rc == ZUPD_E_NOTFOUND) {
        rc = zu_fail(s->err, s->cap, ZUPD_E_NOTFOUND,
                     "the upstream serves no transparency log (%slog/checkpoint), but %s", s->base,
                     oldnote != NULL ? "the mirror holds one" : "--log-vkey names one");
        goto out;
    }
    if (rc != ZUPD_OK) {
        zu_fail(s->err, s->cap, rc, "the upstream's log: %s", why);
        goto out;
    }
    /* the log key: given, else the one DIR holds, else the upstream's */
    if (s->o->log_vkey != NULL) {
        trust.vkey = s->o->log_vkey;
    } else if (dvk != NULL) {
        trust.vkey = trim_vkey(dvk, dvk_len);
    } else {
        rc = up->read(up->opaque, "vkey", VKEY_MAX, &uvk, &uvk_len, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(s->err, s->cap, rc, "the upstream's log: %s", why);
            goto out;
        }
        trust.vkey = trim_vkey(uvk, uvk_len);
    }
    rc = zp_log_cp_open(note, note_len, &trust, &cur, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_fail(s->err, s->cap, rc, "the upstream's log checkpoint refused: %s", why);
        goto out;
    }
    if (oldnote != NULL) {
        rc = zp_log_cp_open(oldnote, oldnote_len, &trust, &old, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(s->err, s->cap, rc, "the mirror's log/checkpoint refused: %s", why);
            goto out;
        }
        rc = zp_log_extends(&rd, &old.c, &cur.c, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(s->err, s->cap, rc,
                    "the upstream's log is not consistent with the log the mirror holds: %s", why);
            goto out;
        }
    }
    zp_sync_log_view(s, &tv);
    rc = zp_log_crosscheck(&rd, &cur.c, &tv, &lres, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_fail(s->err, s->cap, rc, "the upstream's log refused: %s", why);
        goto out;
    }
    s->res->log = true;
    s->res->log_size = cur.c.size;
    s->log_note = note;
    s->log_note_len = note_len;
    note = NULL;
    if (dvk == NULL) {
        s->log_vkey = strdup(trust.vkey);
        if (s->log_vkey == NULL)
            rc = ZUPD_E_NOMEM;
    }
out:
    zp_log_cp_release(&cur);
    zp_log_cp_release(&old);
    free(note);
    free(oldnote);
    free(dvk);
    free(uvk);
    return rc;
}

int
zp_sync_log_commit(struct sync *s)
{
    char rel[ZU_TLOG_PATH_MAX + 8];
    int rc = ZUPD_OK;

    if (s->log_note == NULL)
        return ZUPD_OK;
    /* tiles and bundles (new paths only: nothing names them yet) */
    for (size_t i = 0; rc == ZUPD_OK && i < s->n_lf; i++) {
        snprintf(rel, sizeof(rel), "log/%s", s->lf[i].path);
        rc = zp_put(s->dfd, rel, s->lf[i].data, s->lf[i].len, 0644, true);
    }
    if (rc == ZUPD_OK && s->n_lf > 0)
        rc = zp_flush(s->dfd);
    if (rc == ZUPD_OK && s->log_vkey != NULL) {
        size_t n = strlen(s->log_vkey);
        char *line = malloc(n + 2);
        rc = line != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
        if (rc == ZUPD_OK) {
            memcpy(line, s->log_vkey, n);
            line[n] = '\n';
            rc = zp_put(s->dfd, "log/vkey", line, n + 1, 0644, false);
        }
        free(line);
    }
    /* the checkpoint last: it names the tiles, and comes before the
     * metadata that makes what it logs reachable */
    if (rc == ZUPD_OK &&
        !zp_sync_same_file(s->dfd, "log/checkpoint", s->log_note, s->log_note_len)) {
        rc = zp_put(s->dfd, "log/checkpoint", s->log_note, s->log_note_len, 0644, false);
        s->res->changed = true;
    }
    if (rc != ZUPD_OK)
        zu_fail(s->err, s->cap, rc, "writing '%s/log': %s", s->o->dir, zupd_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------ trusted state */

#define SNAP_MAX 65536

int
zp_sync_meta_save(struct sync *s)
{
    int fd = dup(s->mfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    int rc = ZUPD_OK;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return zu_fail(s->err, s->cap, ZUPD_E_IO, "%s: %s", SYNC_META_DIR, strerror(errno));
    }
    while (rc == ZUPD_OK && (e = readdir(d)) != NULL) {
        struct logfile *f;
        if (e->d_name[0] == '.')
            continue;
        rc = ZU_GROW(&s->snap, &s->cap_snap, s->n_snap + 1, SNAP_MAX);
        if (rc != ZUPD_OK)
            break;
        f = &s->snap[s->n_snap];
        memset(f, 0, sizeof(*f));
        rc = zu_read_capped(s->mfd, e->d_name, ZP_META_CAP, &f->data, &f->len);
        if (rc == ZUPD_E_NOTFOUND) { /* not a regular file */
            rc = ZUPD_OK;
            continue;
        }
        f->path = strdup(e->d_name);
        if (rc == ZUPD_OK && f->path == NULL)
            rc = ZUPD_E_NOMEM;
        if (rc != ZUPD_OK) {
            free(f->data);
            free(f->path);
            break;
        }
        s->n_snap++;
    }
    closedir(d);
    if (rc != ZUPD_OK)
        zu_fail(s->err, s->cap, rc, "%s: %s", SYNC_META_DIR, zupd_strerror(rc));
    return rc;
}

void
zp_sync_meta_restore(struct sync *s)
{
    int fd = dup(s->mfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            bool kept = e->d_name[0] == '.';
            for (size_t i = 0; !kept && i < s->n_snap; i++)
                kept = strcmp(s->snap[i].path, e->d_name) == 0;
            if (!kept)
                (void)unlinkat(s->mfd, e->d_name, 0);
        }
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    for (size_t i = 0; i < s->n_snap; i++) {
        uint8_t *now = NULL;
        size_t len = 0;
        bool same = zu_read_capped(s->mfd, s->snap[i].path, ZP_META_CAP, &now, &len) == ZUPD_OK &&
                    len == s->snap[i].len && memcmp(now, s->snap[i].data, len) == 0;
        free(now);
        if (!same && zu_atomic_write(s->mfd, s->snap[i].path, s->snap[i].data, s->snap[i].len,
                                     0644) != ZUPD_OK)
            fprintf(stderr, "zupd-mirror: warning: cannot put back %s/" SYNC_META_DIR "/%s\n",
                    s->o->dir, s->snap[i].path);
    }
}

void
zp_sync_log_free(struct sync *s)
{
    for (size_t i = 0; i < s->n_snap; i++) {
        free(s->snap[i].path);
        free(s->snap[i].data);
    }
    free(s->snap);
    s->snap = NULL;
    s->n_snap = s->cap_snap = 0;
    for (size_t i = 0; i < s->n_lf; i++) {
        free(s->lf[i].path);
        free(s->lf[i].data);
    }
    free(s->lf);
    s->lf = NULL;
    s->n_lf = s->cap_lf = 0;
    free(s->log_note);
    s->log_note = NULL;
    free(s->log_vkey);
    s->log_vkey = NULL;
    zp_logsrc_free(s->log);
    s->log = NULL;
}
