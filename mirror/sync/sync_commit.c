/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync_commit.c -- zupd-mirror sync, the switch: once mirror/sync/sync.c
 * has fetched and verified everything, write DIR's served tree (blobs,
 * targets, the vendor's metadata byte for byte, the selection, and
 * timestamp.json last, each by rename), then remove what retention no
 * longer keeps. Also the check that DIR's timestamp is not rolled back. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zupd/client.h>
#include <zupd/hash.h>
#include <zupd/trusted.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/layout.h"
#include "sync/sync.h"
#include "sync/sync_int.h"
#include "repo/select.h"

/* ------------------------------------------------------------ files */

bool
zp_sync_same_file(int dirfd, const char *rel, const uint8_t *buf, size_t len)
{
    uint8_t *old = NULL;
    size_t olen = 0;
    bool same;

    if (zp_get(dirfd, rel, len + 1, &old, &olen) != ZUPD_OK)
        return false;
    same = olen == len && memcmp(old, buf, len) == 0;
    free(old);
    return same;
}

/* ------------------------------------------------------------ commit */

/* Queue rel = buf (deferred) unless DIR holds exactly that already. */
static int
put_meta(struct sync *s, const char *rel, const uint8_t *buf, size_t len, bool defer)
{
    if (zp_sync_same_file(s->dfd, rel, buf, len))
        return ZUPD_OK;
    s->res->meta_written++;
    s->res->changed = true;
    return zp_put(s->dfd, rel, buf, len, 0644, defer);
}

/* Read back what the client persisted for a role and check it is the
 * document the client trusts (same type and version). */
static int
role_bytes(struct sync *s, const char *role, uint8_t **buf, size_t *len, uint64_t *version)
{
    const struct zupd_meta *tm = zupd_trusted_get(zupd_client_trusted(s->c), role);
    struct zupd_meta *m = NULL;
    char q[ZUPD_ROLE_NAME_MAX * 3 + 8];
    int rc;

    if (tm == NULL)
        return zu_fail(s->err, s->cap, ZUPD_E_NOTFOUND, "role '%s' not loaded", role);
    rc = zupd_url_quote(q, sizeof(q) - 5, role);
    if (rc != ZUPD_OK)
        return rc;
    memcpy(q + strlen(q), ".json", 6);
    rc = zu_read_capped(s->mfd, q, ZP_META_CAP, buf, len);
    if (rc == ZUPD_OK)
        rc = zupd_meta_parse(*buf, *len, NULL, zupd_meta_type(tm), &m, NULL, 0);
    if (rc == ZUPD_OK && zupd_meta_version(m) != zupd_meta_version(tm))
        rc = ZUPD_E_MISMATCH;
    zupd_meta_free(m);
    if (rc != ZUPD_OK) {
        free(*buf);
        *buf = NULL;
        return zu_fail(s->err, s->cap, rc, "%s/%s is not the verified '%s'", SYNC_META_DIR, q,
                       role);
    }
    *version = zupd_meta_version(tm);
    return ZUPD_OK;
}

/* Queue DIR's list of mirrored targets (read by `verify`), unless it holds
 * that list already. It goes in with the versioned metadata, before the
 * switch: every target it names is in place by then, and what it drops is
 * removed only after the switch. */
static int
put_selection(struct sync *s)
{
    const char **v = calloc(s->n_t > 0 ? s->n_t : 1, sizeof(*v));
    uint8_t *buf = NULL;
    size_t n = 0, len = 0;
    int rc;

    if (v == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; i < s->n_t; i++)
        if (s->t[i].sel.keep)
            v[n++] = s->t[i].path;
    rc = zp_sel_file_make(v, n, &buf, &len);
    if (rc == ZUPD_OK && !zp_sync_same_file(s->dfd, ZP_SYNC_SELECTION, buf, len))
        rc = zp_put(s->dfd, ZP_SYNC_SELECTION, buf, len, 0644, true);
    if (rc != ZUPD_OK)
        zu_fail(s->err, s->cap, rc, "%s/%s: %s", s->o->dir, ZP_SYNC_SELECTION, zupd_strerror(rc));
    free(buf);
    free(v);
    return rc;
}

static int
cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Retention, after the switch: remove every target file and blob of DIR
 * that the selection does not need. */
int
zp_sync_sweep(struct sync *s)
{
    const char **rels = calloc(s->n_t > 0 ? s->n_t : 1, sizeof(*rels));
    uint8_t *shas = malloc(s->n_b > 0 ? s->n_b * 32 : 1);
    struct zp_sweep_res sw;
    size_t nr = 0;
    int rc = ZUPD_E_NOMEM;

    memset(&sw, 0, sizeof(sw));
    if (rels == NULL || shas == NULL)
        goto out;
    for (size_t i = 0; i < s->n_t; i++)
        if (s->t[i].sel.keep && s->t[i].rel != NULL)
            rels[nr++] = s->t[i].rel;
    if (nr > 1)
        qsort(rels, nr, sizeof(*rels), cmp_strp);
    for (size_t i = 0; i < s->n_b; i++)
        memcpy(shas + 32 * i, s->b[i].sha, 32); /* s->b is sorted by hash */
    rc = zp_sel_sweep(s->dfd, rels, nr, shas, s->n_b, s->o->on_removed_target, s->o->opaque, &sw);
    if (rc != ZUPD_OK)
        zu_fail(s->err, s->cap, rc, "removing what %s no longer mirrors: %s", s->o->dir,
                zupd_strerror(rc));
out:
    s->res->targets_removed = sw.targets;
    s->res->blobs_removed = sw.blobs;
    s->res->bytes_removed = sw.bytes;
    if (sw.targets > 0 || sw.blobs > 0)
        s->res->changed = true;
    free(rels);
    free(shas);
    return rc;
}

int
zp_sync_commit(struct sync *s)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t v = 0;
    char rel[ZUPD_ROLE_NAME_MAX * 3 + 64], q[ZUPD_ROLE_NAME_MAX * 3 + 8];
    int rc = ZUPD_OK;

    /* 0. every staged file on disk */
    if (s->res->targets_fetched > 0 || s->res->blobs_fetched > 0) {
        zp_step("syncfs", SYNC_STAGE_DIR);
        if (syncfs(s->sfd) != 0)
            rc = zu_fail(s->err, s->cap, ZUPD_E_IO, "syncfs: %s", strerror(errno));
    }
    /* 1. blobs renamed in place */
    for (size_t i = 0; rc == ZUPD_OK && i < s->n_b; i++) {
        char hex[65], brel[128];
        if (!s->b[i].staged)
            continue;
        zupd_hex_encode(hex, sizeof(hex), s->b[i].sha, 32);
        zp_blob_path(brel, sizeof(brel), s->b[i].sha);
        rc = zp_mkdirs(s->dfd, brel);
        zp_step("rename", brel);
        if (rc == ZUPD_OK && renameat(s->sfd, hex, s->dfd, brel) != 0)
            rc = zu_fail(s->err, s->cap, zu_errno_to_err(errno), "%s: %s", brel, strerror(errno));
        s->res->changed = true;
    }
    /* 2. targets (new names: nothing names them before the metadata) */
    for (size_t i = 0; rc == ZUPD_OK && i < s->n_t; i++) {
        char name[64];
        if (!s->t[i].staged)
            continue;
        snprintf(name, sizeof(name), "target.%zu", i);
        rc = zp_mkdirs(s->dfd, s->t[i].rel);
        zp_step("rename", s->t[i].rel);
        if (rc == ZUPD_OK && renameat(s->sfd, name, s->dfd, s->t[i].rel) != 0)
            rc = zu_fail(s->err, s->cap, zu_errno_to_err(errno), "%s: %s", s->t[i].rel,
                         strerror(errno));
        s->res->changed = true;
    }
    if (rc == ZUPD_OK && s->res->changed) {
        zp_step("syncfs", "blobs and targets");
        if (syncfs(s->dfd) != 0)
            rc = zu_fail(s->err, s->cap, ZUPD_E_IO, "syncfs: %s", strerror(errno));
    }
    /* 2b. the transparency log: new tiles, then its checkpoint, before the
     * metadata that makes what it logs reachable */
    if (rc == ZUPD_OK)
        rc = zp_sync_log_commit(s);
    /* 3. versioned metadata: every root, delegated roles, targets, snapshot */
    for (uint64_t k = 1; rc == ZUPD_OK && k <= s->n_roots; k++) {
        snprintf(rel, sizeof(rel), "metadata/%llu.root.json", (unsigned long long)k);
        rc = put_meta(s, rel, s->roots[k - 1], s->root_len[k - 1], true);
    }
    for (size_t i = s->roles.n; rc == ZUPD_OK && i-- > 0;) {
        rc = role_bytes(s, s->roles.v[i], &buf, &len, &v);
        if (rc == ZUPD_OK)
            rc = zupd_url_quote(q, sizeof(q), s->roles.v[i]);
        if (rc == ZUPD_OK) {
            snprintf(rel, sizeof(rel), "metadata/%llu.%s.json", (unsigned long long)v, q);
            rc = put_meta(s, rel, buf, len, true);
        }
        free(buf);
        buf = NULL;
    }
    if (rc == ZUPD_OK)
        rc = role_bytes(s, "snapshot", &buf, &len, &v);
    if (rc == ZUPD_OK) {
        s->res->snapshot_version = v;
        snprintf(rel, sizeof(rel), "metadata/%llu.snapshot.json", (unsigned long long)v);
        rc = put_meta(s, rel, buf, len, true);
    }
    free(buf);
    buf = NULL;
    if (rc == ZUPD_OK)
        rc = put_selection(s);
    if (rc == ZUPD_OK)
        rc = zp_flush(s->dfd);
    /* 4. the convenience root.json, then timestamp.json: the switch */
    if (rc == ZUPD_OK)
        rc = put_meta(s, "metadata/root.json", s->roots[s->n_roots - 1],
                      s->root_len[s->n_roots - 1], false);
    if (rc == ZUPD_OK)
        rc = role_bytes(s, "timestamp", &buf, &len, &v);
    if (rc == ZUPD_OK) {
        s->res->timestamp_version = v;
        rc = put_meta(s, "metadata/timestamp.json", buf, len, false);
    }
    free(buf);
    if (rc != ZUPD_OK) {
        zp_discard(s->dfd);
        if (s->err != NULL && s->err[0] == '\0')
            zu_fail(s->err, s->cap, rc, "writing '%s': %s", s->o->dir, zupd_strerror(rc));
    }
    return rc;
}

/* Refuse to replace DIR's timestamp by an older one (a mirror whose
 * private metadata was lost must not be rolled back by its upstream). */
int
zp_sync_check_timestamp(struct sync *s)
{
    const struct zupd_meta *tm = zupd_trusted_get(zupd_client_trusted(s->c), "timestamp");
    struct zupd_meta *m = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ZUPD_OK;

    if (zp_get(s->dfd, "metadata/timestamp.json", 1u << 20, &buf, &len) != ZUPD_OK)
        return ZUPD_OK; /* a new mirror */
    if (zupd_meta_parse(buf, len, NULL, ZUPD_META_TIMESTAMP, &m, NULL, 0) == ZUPD_OK &&
        zupd_meta_version(m) > zupd_meta_version(tm))
        rc = zu_fail(s->err, s->cap, ZUPD_E_ROLLBACK,
                     "upstream timestamp version %llu is older than the mirror's %llu",
                     (unsigned long long)zupd_meta_version(tm),
                     (unsigned long long)zupd_meta_version(m));
    zupd_meta_free(m);
    free(buf);
    return rc;
}
