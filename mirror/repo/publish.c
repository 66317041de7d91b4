/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/publish.c -- publish a release: walk the input (no path may leave
 * it), store content-addressed blobs (zstd when smaller), deltas from the
 * last K releases through zp_make_delta(), the release manifest, then the
 * role, snapshot and timestamp: every file in place before what names it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "repo/repo_int.h"
#include "serve/serve_http.h"

/* Versions of a component: entries of one targets document (the default
 * max_entries of struct zupd_limits). */

#define WALK_DEPTH_MAX 64
#define WALK_FILES_MAX 1000000
#define BLOB_MAX ((uint64_t)1 << 34) /* 16 GiB per file */

struct in_file {
    char *rel; /* manifest path */
    char *abs; /* where to read it */
    uint32_t mode;
    uint64_t size;
};

struct walk {
    char root_real[PATH_MAX];
    struct in_file *v;
    size_t n, cap;
    char *err;
    size_t err_cap;
};

static void
walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].rel);
        free(w->v[i].abs);
    }
    free(w->v);
}

static int
walk_add(struct walk *w, const char *rel, const char *abs, const struct stat *st)
{
    int rc;

    if (!zupd_path_is_safe(rel, strlen(rel)))
        return zu_fail(w->err, w->err_cap, ZUPD_E_MISUSE, "'%s': not a valid manifest path", abs);
    if (!zu_utf8_valid(rel)) {
        char shown[PATH_MAX];
        size_t at = 0;

        zu_log_escape(shown, sizeof(shown), &at, abs); /* the bad bytes as \xHH */
        return zu_fail(w->err, w->err_cap, ZUPD_E_MISUSE,
                       "'%s': file name is not valid UTF-8 (manifest paths are JSON strings)",
                       shown);
    }
    if ((uint64_t)st->st_size > BLOB_MAX)
        return zu_fail(w->err, w->err_cap, ZUPD_E_TOOBIG, "'%s': too large", abs);
    rc = ZU_GROW(&w->v, &w->cap, w->n + 1, WALK_FILES_MAX);
    if (rc == ZUPD_E_TOOBIG)
        return zu_fail(w->err, w->err_cap, rc, "more than %d files", WALK_FILES_MAX);
    if (rc != ZUPD_OK)
        return rc;
    w->v[w->n].rel = strdup(rel);
    w->v[w->n].abs = strdup(abs);
    w->v[w->n].mode = (uint32_t)(st->st_mode & 0777);
    w->v[w->n].size = (uint64_t)st->st_size;
    w->n++;
    return w->v[w->n - 1].rel && w->v[w->n - 1].abs ? ZUPD_OK : ZUPD_E_NOMEM;
}

/* A symlink is followed only when it resolves to a regular file inside the
 * input tree. */
static int
walk_link(struct walk *w, const char *rel, const char *abs)
{
    char real[PATH_MAX];
    size_t rl = strlen(w->root_real);
    struct stat st;

    if (realpath(abs, real) == NULL)
        return zu_fail(w->err, w->err_cap, ZUPD_E_NOTFOUND, "'%s': dangling symlink", abs);
    if (strncmp(real, w->root_real, rl) != 0 || real[rl] != '/')
        return zu_fail(w->err, w->err_cap, ZUPD_E_PERM,
                       "'%s': symlink to '%s', outside the tree '%s'", abs, real, w->root_real);
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return zu_fail(w->err, w->err_cap, ZUPD_E_PERM,
                       "'%s': symlink to something that is not a regular file", abs);
    return walk_add(w, rel, real, &st);
}

static int
walk_dir(struct walk *w, const char *abs, const char *rel, unsigned depth)
{
    struct dirent **names = NULL;
    int n, rc = ZUPD_OK;

    if (depth > WALK_DEPTH_MAX)
        return zu_fail(w->err, w->err_cap, ZUPD_E_TOOBIG, "'%s': nested too deep", abs);
    n = scandir(abs, &names, NULL, alphasort);
    if (n < 0)
        return zu_fail(w->err, w->err_cap, zu_errno_to_err(errno), "cannot read '%s': %s", abs,
                       strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char cabs[PATH_MAX], crel[PATH_MAX];
        struct stat st;

        if (rc != ZUPD_OK || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            goto next;
        if ((size_t)snprintf(cabs, sizeof(cabs), "%s/%s", abs, name) >= sizeof(cabs) ||
            (size_t)snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", name) >=
                sizeof(crel)) {
            rc = zu_fail(w->err, w->err_cap, ZUPD_E_TOOBIG, "'%s/%s': path too long", abs, name);
            goto next;
        }
        if (lstat(cabs, &st) != 0) {
            rc = zu_fail(w->err, w->err_cap, zu_errno_to_err(errno), "cannot stat '%s': %s", cabs,
                         strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, cabs, crel, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            rc = walk_add(w, crel, cabs, &st);
        } else if (S_ISLNK(st.st_mode)) {
            rc = walk_link(w, crel, cabs);
        } else {
            rc = zu_fail(w->err, w->err_cap, ZUPD_E_PERM, "'%s': not a regular file", cabs);
        }
    next:
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
cmp_in(const void *a, const void *b)
{
    return strcmp(((const struct in_file *)a)->rel, ((const struct in_file *)b)->rel);
}

static int
walk_input(struct walk *w, const char *path)
{
    struct stat st;
    const char *base;

    /* PATH itself may be a symlink (the caller named it); inside it, only
     * symlinks that stay in the tree are followed */
    if (stat(path, &st) != 0)
        return zu_fail(w->err, w->err_cap, zu_errno_to_err(errno), "cannot read '%s': %s", path,
                       strerror(errno));
    if (realpath(path, w->root_real) == NULL)
        return zu_fail(w->err, w->err_cap, ZUPD_E_IO, "cannot resolve '%s'", path);
    if (S_ISDIR(st.st_mode)) {
        int rc = walk_dir(w, w->root_real, "", 0);
        if (rc == ZUPD_OK && w->n == 0)
            return zu_fail(w->err, w->err_cap, ZUPD_E_MISUSE, "'%s' holds no files", path);
        if (rc == ZUPD_OK)
            qsort(w->v, w->n, sizeof(*w->v), cmp_in); /* byte order, as manifests need */
        return rc;
    }
    if (!S_ISREG(st.st_mode))
        return zu_fail(w->err, w->err_cap, ZUPD_E_PERM, "'%s': not a regular file or directory",
                       path);
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return walk_add(w, base, path, &st);
}

/* ------------------------------------------------------------ content */

/* Store data as blob dir/blobs/sha256/..; skip when present with that size. */
static int
put_blob(struct zp_repo *r, const uint8_t *data, size_t len, uint8_t sha[32], bool *wrote)
{
    char rel[128];
    size_t hl;
    int rc;

    *wrote = false;
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, data, len, sha, 32, &hl);
    if (rc != ZUPD_OK)
        return rc;
    zp_blob_path(rel, sizeof(rel), sha);
    if (zp_exists_size(r->dfd, rel, len) || zp_pending(rel))
        return ZUPD_OK;
    *wrote = true;
    return zp_put(r->dfd, rel, data, len, 0644, true);
}

/* The content of an earlier release's file, from its blob. */
static int
old_content(struct zp_repo *r, const struct zupd_file_entry *e, uint8_t **out, size_t *out_len)
{
    char rel[128];
    uint8_t *blob = NULL, *raw = NULL;
    size_t blen = 0, hl;
    uint8_t sha[32];
    int rc;

    *out = NULL;
    *out_len = 0;
    if (e->size > BLOB_MAX)
        return ZUPD_E_TOOBIG;
    zp_blob_path(rel, sizeof(rel), e->blob_sha256);
    rc = zp_get(r->dfd, rel, (size_t)e->blob_size, &blob, &blen);
    if (rc != ZUPD_OK)
        return rc;
    if (e->blob_encoding == ZUPD_ENC_RAW) {
        raw = blob;
        blob = NULL;
    } else {
        raw = malloc((size_t)e->size + 1);
        if (raw == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        size_t n = ZSTD_decompress(raw, (size_t)e->size, blob, blen);
        if (ZSTD_isError(n) || n != e->size) {
            rc = ZUPD_E_FORMAT;
            goto out;
        }
    }
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, raw, (size_t)e->size, sha, 32, &hl);
    if (rc == ZUPD_OK && memcmp(sha, e->sha256, 32) != 0)
        rc = ZUPD_E_HASH;
    if (rc == ZUPD_OK) {
        *out = raw;
        *out_len = (size_t)e->size;
        raw = NULL;
    }
out:
    free(blob);
    free(raw);
    return rc;
}

static int
load_manifest(struct zp_repo *r, enum zp_role role, const char *component, const char *version,
              struct zupd_manifest **out, char *err, size_t cap)
{
    char path[512], why[256] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", zp_role_name(role), component, version);
    rc = zp_read_target(r, role, path, &buf, &len, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_manifest_parse(buf, len, NULL, out, why, sizeof(why));
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "'%s': %s", path, why);
    return ZUPD_OK;
}

/* ------------------------------------------------------------ manifest */

static json_t *
hexstr(const uint8_t *b)
{
    char hex[65];

    zupd_hex_encode(hex, sizeof(hex), b, 32);
    return json_string(hex);
}

struct out_delta {
    uint8_t from[32];
    char method[16];
    uint8_t sha[32];
    uint64_t size;
};

static json_t *
file_json(const struct in_file *f, const uint8_t sha[32], const uint8_t bsha[32], uint64_t bsize,
          bool zstd, const struct out_delta *d, size_t nd)
{
    json_t *deltas = json_array(), *o;

    for (size_t i = 0; deltas != NULL && i < nd; i++)
        json_array_append_new(deltas, json_pack("{s:o,s:s,s:o,s:I}", "from_sha256",
                                                hexstr(d[i].from), "method", d[i].method, "sha256",
                                                hexstr(d[i].sha), "size", (json_int_t)d[i].size));
    o = json_pack("{s:s,s:i,s:I,s:o,s:{s:o,s:I,s:s},s:o}", "path", f->rel, "mode", (int)f->mode,
                  "size", (json_int_t)f->size, "sha256", hexstr(sha), "blob", "sha256",
                  hexstr(bsha), "size", (json_int_t)bsize, "encoding", zstd ? "zstd" : "raw",
                  "deltas", deltas);
    return o;
}

/* ------------------------------------------------------------ publish */

struct pub {
    struct zp_repo *r;
    const struct zp_publish_opts *p;
    struct zp_publish_res *res;
    struct zupd_manifest **prev; /* last K releases, newest last */
    size_t n_prev;
    unsigned k;      /* deltas from the last k of them */
    int delta_level; /* 0: the engine's default */
    bool no_lzma;    /* deltas without LZMA2 streams */
    ZSTD_CCtx *cctx;
    char *err;
    size_t cap;
};

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deltas to content new_[0..len) (sha) of path from the last K releases. */
static int
make_deltas(struct pub *b, const char *path, const uint8_t *new_, size_t len, const uint8_t sha[32],
            uint64_t full_size, struct out_delta **out, size_t *n_out)
{
    struct out_delta *v = NULL;
    size_t n = 0, cap = 0;
    int rc = ZUPD_OK;

    *out = NULL;
    *n_out = 0;
    for (size_t i = b->n_prev; rc == ZUPD_OK && i-- > 0 && i + b->k >= b->n_prev;) {
        const struct zupd_file_entry *e = zupd_manifest_find(b->prev[i], path);
        uint8_t *old = NULL, *patch = NULL;
        size_t old_len = 0, patch_len = 0;
        char method[16] = "";
        bool dup = false, wrote;
        double t0;

        if (e == NULL || memcmp(e->sha256, sha, 32) == 0)
            continue;
        for (size_t j = 0; j < n; j++)
            dup = dup || memcmp(v[j].from, e->sha256, 32) == 0;
        if (dup)
            continue;
        t0 = mono();
        rc = old_content(b->r, e, &old, &old_len);
        if (rc != ZUPD_OK) {
            rc = zu_fail(b->err, b->cap, rc, "cannot read the content of '%s' in release %s: %s",
                         path, b->prev[i]->version, zupd_strerror(rc));
            break;
        }
        rc = zp_make_delta(old, old_len, new_, len, b->delta_level, b->no_lzma, &patch, &patch_len,
                           method, sizeof(method));
        free(old);
        b->res->delta_seconds += mono() - t0;
        if (rc == ZUPD_E_NOTFOUND) {
            rc = ZUPD_OK;
            continue;
        }
        if (rc != ZUPD_OK) {
            rc = zu_fail(b->err, b->cap, rc, "cannot make a delta of '%s': %s", path,
                         zupd_strerror(rc));
            break;
        }
        if (patch_len < full_size) { /* a delta that does not beat the blob is dropped */
            /* one delta from each of the last K releases at most */
            rc = ZU_GROW(&v, &cap, n + 1, (size_t)b->k);
            if (rc != ZUPD_OK) {
                free(patch);
                break;
            }
            memcpy(v[n].from, e->sha256, 32);
            snprintf(v[n].method, sizeof(v[n].method), "%s", method);
            v[n].size = patch_len;
            rc = put_blob(b->r, patch, patch_len, v[n].sha, &wrote);
            if (rc == ZUPD_OK && wrote) {
                b->res->deltas++;
                b->res->blob_bytes += patch_len;
            }
            n++;
        }
        free(patch);
    }
    if (rc != ZUPD_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return ZUPD_OK;
}

static int
one_file(struct pub *b, const struct in_file *f, json_t *files)
{
    const struct zupd_file_entry *same = NULL;
    struct out_delta *deltas = NULL;
    size_t nd = 0, hl;
    struct zu_map m;
    uint8_t sha[32], bsha[32];
    uint64_t bsize;
    bool zstd = false, wrote = false;
    void *z = NULL;
    json_t *o;
    int rc;

    rc = zu_map_file(AT_FDCWD, f->abs, ZU_MAP_FOLLOW, &m);
    if (rc != ZUPD_OK)
        return zu_fail(b->err, b->cap, rc, "cannot read '%s': %s", f->abs, strerror(errno));
    if (m.len != f->size) {
        zu_unmap(&m);
        return zu_fail(b->err, b->cap, ZUPD_E_IO, "'%s' changed while it was published", f->abs);
    }
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, m.p, m.len, sha, 32, &hl);
    if (rc != ZUPD_OK)
        goto out;
    /* unchanged since the last release: same blob, same deltas */
    if (b->n_prev > 0) {
        same = zupd_manifest_find(b->prev[b->n_prev - 1], f->rel);
        if (same != NULL && memcmp(same->sha256, sha, 32) != 0)
            same = NULL;
    }
    if (same != NULL) {
        char rel[128];
        zp_blob_path(rel, sizeof(rel), same->blob_sha256);
        if (!zp_exists_size(b->r->dfd, rel, same->blob_size))
            same = NULL; /* pruned or lost: store it again */
    }
    if (same != NULL) {
        memcpy(bsha, same->blob_sha256, 32);
        bsize = same->blob_size;
        zstd = same->blob_encoding == ZUPD_ENC_ZSTD;
        deltas = calloc(same->n_deltas + 1, sizeof(*deltas));
        if (deltas == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < same->n_deltas; i++) {
            char rel[128];
            zp_blob_path(rel, sizeof(rel), same->deltas[i].sha256);
            if (!zp_exists_size(b->r->dfd, rel, same->deltas[i].size))
                continue;
            memcpy(deltas[nd].from, same->deltas[i].from_sha256, 32);
            memcpy(deltas[nd].sha, same->deltas[i].sha256, 32);
            snprintf(deltas[nd].method, sizeof(deltas[nd].method), "%s", same->deltas[i].method);
            deltas[nd].size = same->deltas[i].size;
            nd++;
        }
        b->res->reused_blobs++;
    } else {
        size_t zcap = ZSTD_compressBound(m.len), zlen;
        const uint8_t *blob = m.p;
        size_t blen = m.len;

        if (m.len > 0) {
            z = malloc(zcap);
            if (z == NULL) {
                rc = ZUPD_E_NOMEM;
                goto out;
            }
            zlen = ZSTD_compressCCtx(b->cctx, z, zcap, m.p, m.len, b->r->cfg.zstd_level);
            if (!ZSTD_isError(zlen) && zlen < m.len) {
                blob = z;
                blen = zlen;
                zstd = true;
            }
        }
        rc = put_blob(b->r, blob, blen, bsha, &wrote);
        if (rc != ZUPD_OK) {
            rc = zu_fail(b->err, b->cap, rc, "cannot store the blob of '%s': %s", f->rel,
                         zupd_strerror(rc));
            goto out;
        }
        bsize = blen;
        if (wrote) {
            b->res->new_blobs++;
            b->res->blob_bytes += blen;
        } else {
            b->res->reused_blobs++;
        }
        rc = make_deltas(b, f->rel, m.p, m.len, sha, bsize, &deltas, &nd);
        if (rc != ZUPD_OK)
            goto out;
    }
    o = file_json(f, sha, bsha, bsize, zstd, deltas, nd);
    if (o == NULL || json_array_append_new(files, o) != 0)
        rc = ZUPD_E_NOMEM;
out:
    free(z);
    free(deltas);
    zu_unmap(&m);
    return rc;
}

static int
check_args(struct zp_repo *r, const struct zp_publish_opts *p, char *err, size_t cap)
{
    if (p->role != ZP_R_PRODUCTS && p->role != ZP_R_AVDB)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "role must be 'products' or 'avdb', not '%s'",
                       zp_role_name(p->role));
    if (!zupd_name_is_safe(p->component))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component name '%s'", p->component);
    if (!zupd_name_is_safe(p->version))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid version '%s'", p->version);
    /* signed as given or not at all: JSON strings are UTF-8 */
    if (p->source_revision != NULL && !zu_utf8_valid(p->source_revision))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "--source-revision is not valid UTF-8");
    if (p->builder != NULL && !zu_utf8_valid(p->builder))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "--builder is not valid UTF-8");
    (void)r;
    return ZUPD_OK;
}

/* The manifest text of tpath: checked by the client's own parser (what we
 * sign must be what every client parses), written under its hash, and
 * listed in the role's targets document (signed by the next commit). */
static int
add_manifest(struct zp_repo *r, const struct zp_publish_opts *p, const char *tpath,
             const char *text, struct zp_publish_res *res, unsigned *mask, char *err, size_t cap)
{
    struct zupd_manifest *check = NULL;
    struct zupd_hashes h;
    char hex[65], rel[1024], custom[ZP_LOG_CUSTOM_MAX];
    size_t hl, clen = 0;
    int rc;

    res->manifest_bytes += strlen(text);
    /* what we sign must be what every client parses */
    rc = zupd_manifest_parse((const uint8_t *)text, strlen(text), NULL, &check, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    memset(&h, 0, sizeof(h));
    h.count = 1;
    h.has_sha256 = true;
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, text, strlen(text), h.sha256, 32, &hl);
    if (rc != ZUPD_OK)
        goto out;
    zupd_hex_encode(hex, sizeof(hex), h.sha256, 32);
    rc = zp_target_file(rel, sizeof(rel), tpath, hex);
    if (rc == ZUPD_OK)
        rc = zp_put(r->dfd, rel, text, strlen(text), 0644, true); /* flushed by the commit */
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
        goto out;
    }
    rc = zp_log_custom(r, custom, sizeof(custom), &clen, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zupd_meta_set_target(zp_tdoc(r, p->role, tpath), tpath, strlen(text), &h,
                              clen > 0 ? (const uint8_t *)custom : NULL, clen);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot add '%s' to '%s': %s", tpath, zp_role_name(p->role),
                zupd_strerror(rc));
        goto out;
    }
    zp_tdoc_changed(r, p->role, tpath, mask);
    rc = zp_log_release(r, p->role, tpath, text, strlen(text), check, err, cap);
out:
    zupd_manifest_free(check);
    return rc;
}

/* Everything of a publish but the commit: blobs, deltas and the manifest
 * written (deferred), the target added to the role in memory. Adds to res. */
static int
publish_one(struct zp_repo *r, const struct zp_publish_opts *p, struct zp_publish_res *res,
            unsigned *mask, char *err, size_t cap)
{
    struct walk w;
    struct pub b;
    char tpath[512], **vers = NULL, when[32], probe[ZP_LOG_CUSTOM_MAX];
    size_t n_vers = 0;
    json_t *files = NULL, *doc = NULL, *prov = NULL;
    char *text = NULL;
    unsigned k = p->deltas >= 0 ? (unsigned)p->deltas : r->cfg.deltas;
    int rc;

    memset(&w, 0, sizeof(w));
    memset(&b, 0, sizeof(b));
    w.err = err;
    w.err_cap = cap;
    b.r = r;
    b.p = p;
    b.res = res;
    b.err = err;
    b.cap = cap;
    rc = check_args(r, p, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_vendor(r, "publish", err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, "publish", err, cap);
    /* the log's checkpoint is read before a blob or delta is written: a
     * publish that the log would stop leaves nothing behind */
    if (rc == ZUPD_OK)
        rc = zp_log_custom(r, probe, sizeof(probe), &(size_t){0}, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    snprintf(tpath, sizeof(tpath), "%s/%s/%s/manifest.json", zp_role_name(p->role), p->component,
             p->version);
    if (zupd_meta_target(zp_tdoc(r, p->role, tpath), tpath, &(struct zupd_target){0}) == ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_EXISTS, "version %s of '%s' is already published",
                       p->version, p->component);
    rc = walk_input(&w, p->path);
    if (rc != ZUPD_OK)
        goto out;
    res->files += w.n;
    /* the last K releases, for unchanged files and deltas */
    rc = zp_versions(r, p->role, p->component, &vers, &n_vers);
    if (rc != ZUPD_OK)
        goto out;
    b.k = k;
    b.delta_level = p->delta_level > 0 ? p->delta_level : r->cfg.delta_level;
    b.no_lzma = p->delta_no_lzma || r->cfg.delta_no_lzma;
    if (k == 0 && n_vers > 0)
        k = 1; /* the newest is still needed to reuse unchanged blobs */
    b.n_prev = n_vers < k ? n_vers : k;
    b.prev = calloc(b.n_prev + 1, sizeof(*b.prev));
    if (b.prev == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < b.n_prev; i++) {
        rc = load_manifest(r, p->role, p->component, vers[n_vers - b.n_prev + i], &b.prev[i], err,
                           cap);
        if (rc != ZUPD_OK)
            goto out;
    }
    b.cctx = ZSTD_createCCtx();
    files = json_array();
    if (b.cctx == NULL || files == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; rc == ZUPD_OK && i < w.n; i++)
        rc = one_file(&b, &w.v[i], files);
    if (rc != ZUPD_OK)
        goto out;
    rc = zupd_time_format(r->now, when, sizeof(when));
    if (rc != ZUPD_OK)
        goto out;
    prov = json_object();
    /* a member json_string() refuses is an error, never a silent omission */
    if (prov != NULL && p->source_revision != NULL &&
        json_object_set_new(prov, "source_revision", json_string(p->source_revision)) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_MISUSE, "cannot record --source-revision");
        goto out;
    }
    if (prov != NULL && p->builder != NULL &&
        json_object_set_new(prov, "builder", json_string(p->builder)) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_MISUSE, "cannot record --builder");
        goto out;
    }
    doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:o,s:o}", "zupd_manifest", ZUPD_MANIFEST_FORMAT,
                    "component", p->component, "role", zp_role_name(p->role), "version", p->version,
                    "created", when, "provenance", prov, "files", files);
    prov = NULL;
    files = NULL;
    text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (text == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = add_manifest(r, p, tpath, text, res, mask, err, cap);
out:
    for (size_t i = 0; b.prev != NULL && i < b.n_prev; i++)
        zupd_manifest_free(b.prev[i]);
    free(b.prev);
    ZSTD_freeCCtx(b.cctx);
    zp_strv_free(vers, n_vers);
    json_decref(files);
    json_decref(prov);
    json_decref(doc);
    free(text);
    walk_free(&w);
    return rc;
}

int
zp_publish(struct zp_repo *r, const struct zp_publish_opts *p, struct zp_publish_res *res,
           char *err, size_t cap)
{
    return zp_publish_many(r, p, 1, res, err, cap);
}

int
zp_publish_many(struct zp_repo *r, const struct zp_publish_opts *p, size_t n,
                struct zp_publish_res *res, char *err, size_t cap)
{
    unsigned mask = 0;
    int rc = ZUPD_OK;

    memset(res, 0, sizeof(*res));
    if (n == 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "nothing to publish");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (p[i].role == p[j].role && strcmp(p[i].component, p[j].component) == 0)
                return zu_fail(err, cap, ZUPD_E_MISUSE,
                               "component '%s' appears twice in one publish", p[i].component);
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        char why[1024] = "";
        rc = publish_one(r, &p[i], res, &mask, why, sizeof(why));
        if (rc != ZUPD_OK && n > 1)
            zu_fail(err, cap, rc, "'%s %s': %s", p[i].component, p[i].version, why);
        else if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "%s", why);
    }
    if (rc == ZUPD_OK)
        rc = zp_commit(r, mask, &res->meta_bytes, err, cap);
    return rc;
}

/* The channel pointer of a staged release, checked as promote checks it;
 * rollback is written into the pointer when it moves the channel back. */
static int
stage_channel(struct zp_repo *r, const struct zp_publish_opts *p, const struct zp_stage_opts *so,
              json_t *rel, unsigned *mask, char *err, size_t cap)
{
    char cur[ZUPD_NAME_MAX + 1], floor[ZUPD_NAME_MAX + 1];
    bool back = false;
    json_t *doc;
    int rc;

    if (!zupd_name_is_safe(so->channel))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid channel name '%s'", so->channel);
    rc = zp_channel_get(r, p->role, p->component, so->channel, cur, sizeof(cur));
    if (rc == ZUPD_OK && zupd_version_cmp(p->version, cur) < 0) {
        if (!so->rollback)
            return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                           "version %s sorts lower than %s, the current version of channel '%s'; "
                           "moving it back needs --rollback",
                           p->version, cur, so->channel);
        back = true;
    } else if (rc != ZUPD_OK && rc != ZUPD_E_NOTFOUND) {
        return zu_fail(err, cap, rc, "cannot read channel '%s': %s", so->channel,
                       zupd_strerror(rc));
    }
    doc = json_pack("{s:i,s:s,s:s,s:s}", "zupd_channel", 1, "component", p->component, "channel",
                    so->channel, "version", p->version);
    if (doc != NULL && zp_floor_get(r, p->role, p->component, floor, sizeof(floor)) == ZUPD_OK)
        json_object_set_new(doc, "floor", json_string(floor));
    if (doc != NULL && back)
        json_object_set_new(doc, "rollback", json_true());
    rc = doc != NULL ? zp_channel_put(r, p->role, doc, mask, err, cap)
                     : zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    json_decref(doc);
    if (rc == ZUPD_OK) {
        json_object_set_new(rel, "channel", json_string(so->channel));
        if (back)
            json_object_set_new(rel, "rollback", json_true());
    }
    return rc;
}

int
zp_publish_stage(struct zp_repo *r, const struct zp_publish_opts *p, size_t n,
                 const struct zp_stage_opts *so, struct zp_publish_res *res, char *dir,
                 size_t dir_cap, uint64_t *have, uint64_t *threshold, char *err, size_t cap)
{
    enum zp_role role = n > 0 ? p[0].role : ZP_R_PRODUCTS;
    struct zupd_meta *nd = NULL;
    json_t *releases = json_array();
    unsigned mask = 0;
    int rc = ZUPD_OK;

    memset(res, 0, sizeof(*res));
    *have = *threshold = 0;
    if (releases == NULL)
        return ZUPD_E_NOMEM;
    if (n == 0)
        rc = zu_fail(err, cap, ZUPD_E_MISUSE, "nothing to publish");
    else if ((role != ZP_R_PRODUCTS && role != ZP_R_AVDB) || (role == ZP_R_AVDB && r->n_bins > 0))
        rc = zu_fail(err, cap, ZUPD_E_MISUSE,
                     "publish --stage is for products (and avdb without hash bins)");
    else if (zp_staged_pending(r, role))
        rc = zu_fail(err, cap, ZUPD_E_EXISTS,
                     "a change of '%s' is already staged: import its signatures or unstage it",
                     zp_role_name(role));
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        char why[1024] = "", tpath[512];
        json_t *rel;

        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i].component, p[j].component) == 0)
                rc = zu_fail(err, cap, ZUPD_E_MISUSE, "component '%s' appears twice",
                             p[i].component);
        if (rc == ZUPD_OK && p[i].role != role)
            rc = zu_fail(err, cap, ZUPD_E_MISUSE, "one role per staged publish");
        if (rc == ZUPD_OK)
            rc = publish_one(r, &p[i], res, &mask, why, sizeof(why));
        if (rc != ZUPD_OK) {
            if (why[0] != '\0')
                zu_fail(err, cap, rc, "'%s %s': %s", p[i].component, p[i].version, why);
            break;
        }
        snprintf(tpath, sizeof(tpath), "%s/%s/%s/manifest.json", zp_role_name(role), p[i].component,
                 p[i].version);
        rel = json_pack("{s:s,s:s,s:s}", "component", p[i].component, "version", p[i].version,
                        "manifest", tpath);
        if (rel == NULL || json_array_append_new(releases, rel) != 0) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        if (so->channel != NULL)
            rc = stage_channel(r, &p[i], so, rel, &mask, err, cap);
    }
    /* logged now, before any key holder is asked to sign: the auditor sees
     * the release in the log, and it goes live through a commit that has
     * nothing left to log (a release logged but never put live is harmless) */
    if (rc == ZUPD_OK)
        rc = zp_flush(r->dfd);
    if (rc == ZUPD_OK)
        rc = zp_log_commit(r, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_meta_copy(r->m[role], &nd);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_version(nd, zupd_meta_version(r->m[role]) + 1);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_expires(nd, r->now + r->cfg.expiry[role]);
    if (rc == ZUPD_OK)
        rc = zp_sign_held(r, nd, zp_role_name(role), r->m[ZP_R_TARGETS], have, threshold, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_staged_put(r, role, NULL, nd, releases, dir, dir_cap, err, cap);
    if (rc != ZUPD_OK) {
        zp_discard(r->dfd);
        if (err != NULL && err[0] == '\0')
            zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    }
    zupd_meta_free(nd);
    json_decref(releases);
    return rc;
}
