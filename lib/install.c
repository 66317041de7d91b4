/* SPDX-License-Identifier: Apache-2.0 */
/* lib/install.c -- installing a release with the least download: hard
 * links, direct deltas, chains of deltas (lib/plan.c), full blobs; the blob
 * cache and parallel download windows. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <zstd.h>

#include <zupd/delta.h>
#include <zupd/hash.h>
#include <zupd/update.h>

#include "zu/fsio.h"
#include "zu/internal.h"
#include "abi.h"
#include "fetch_int.h"
#include "plan.h"
#include "stage.h"
#include "store_int.h"
#include "update_int.h"

#define IO_CHUNK (256u << 10)
#define ZSTD_WINDOW_LOG_MAX 27 /* 128 MiB: what a blob may ask of us */
/* Growth caps: entries of one targets document or manifest (the default
 * max_entries of struct zupd_limits) */
#define READY_MAX ((size_t)1 << 20)
#define VERSIONS_MAX ((size_t)1 << 20)

/* ------------------------------------------------------------ blob cache */

static void
blob_name(const uint8_t *sha, char *name, size_t ncap, char *rel, size_t rcap)
{
    zupd_hex_encode(name, ncap, sha, ZUPD_SHA256_LEN);
    snprintf(rel, rcap, "blobs/sha256/%.2s/%s", name, name);
}

static void
note_ready(struct zupd_updater *u, const uint8_t *sha)
{
    /* one per blob of the releases being installed (a manifest has at most
     * max_entries files); a sha not noted is only a download more */
    if (ZU_GROW(&u->ready, &u->cap_ready, u->n_ready + 1, READY_MAX) != ZUPD_OK)
        return;
    memcpy(u->ready[u->n_ready++], sha, ZUPD_SHA256_LEN);
}

/* Was blob sha verified into the cache by this updater, and is it there? */
static bool
is_ready(struct zupd_updater *u, const uint8_t *sha, uint64_t size, const char *name)
{
    struct stat sb;

    for (size_t i = 0; i < u->n_ready; i++)
        if (memcmp(u->ready[i], sha, ZUPD_SHA256_LEN) == 0)
            return fstatat(u->cfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
                   (uint64_t)sb.st_size == size;
    return false;
}

/* Download blob (sha256, size) into the cache (resumable, no fsync: every
 * use of a blob is hash-checked); returns its cache name. */
static int
fetch_blob(struct zupd_updater *u, const uint8_t *sha, uint64_t size, char *name, size_t ncap)
{
    char rel[128];
    struct zupd_fetch_file_req fr;
    int rc;

    blob_name(sha, name, ncap, rel, sizeof(rel));
    if (is_ready(u, sha, size, name))
        return ZUPD_OK;
    fr = (struct zupd_fetch_file_req){
        .path = rel, .name = name, .expected_len = size, .digest = sha, .rc = 0};
    rc = zupd_fetch_files(u->o.ctx, u->o.transport, (const char *const *)u->roots, u->n, u->cfd,
                          ZUPD_HASH_SHA256, &fr, 1, 1, ZUPD_FETCH_NOSYNC);
    if (rc == ZUPD_OK)
        note_ready(u, sha);
    return rc;
}

static int
delta_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct zupd_sink *s = opaque;
    return s->write(s->opaque, buf, len);
}

/* Fetch delta d and apply it to om into sink (len bytes are expected). The
 * delta blob leaves the cache once used, or when it is bad. */
static int
apply_delta(struct zupd_updater *u, const struct zu_map *om, const struct zupd_delta_ref *d,
            uint64_t len, struct zupd_sink *sink)
{
    struct zupd_delta_sink ds = {.opaque = sink, .write = delta_write};
    struct zupd_delta_info info;
    struct zu_map pm = {NULL, 0, NULL};
    char name[65];
    int rc;

    rc = fetch_blob(u, d->sha256, d->size, name, sizeof(name));
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_map_file(u->cfd, name, 0, &pm);
    if (rc == ZUPD_OK)
        /* the output is hash-checked against the signed manifest by the
         * sink (stage or chain step): no second and third SHA-256 pass here */
        rc = zupd_delta_apply_flags(om->p, om->len, pm.p, pm.len, len, ZUPD_DELTA_NO_HASHES, &ds,
                                    &info);
    zu_unmap(&pm);
    if (rc == ZUPD_OK || rc == ZUPD_E_HASH || rc == ZUPD_E_LENGTH || rc == ZUPD_E_FORMAT ||
        rc == ZUPD_E_BASE)
        (void)unlinkat(u->cfd, name, 0);
    return rc;
}

/* An intermediate content of a chain, in the cache: hashed while written,
 * never more than its signed size. */
struct step_file {
    int fd;
    struct zupd_hash *h;
    uint64_t len, max;
};

static int
step_begin(void *opaque, uint64_t start)
{
    (void)opaque;
    return start == 0 ? ZUPD_OK : ZUPD_E_MISUSE;
}

static int
step_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct step_file *f = opaque;
    int rc;

    if (len > f->max - f->len)
        return ZUPD_E_LENGTH;
    rc = zu_write_all(f->fd, buf, len);
    if (rc == ZUPD_OK)
        rc = zupd_hash_update(f->h, buf, len);
    if (rc == ZUPD_OK)
        f->len += len;
    return rc;
}

/* Apply step s of a chain to om into the cache file name; it must give the
 * signed content of that step (size and sha256). */
static int
chain_step(struct zupd_updater *u, const struct zu_map *om, const struct zu_plan_step *s,
           const char *name)
{
    struct step_file f = {.fd = -1, .h = NULL, .len = 0, .max = s->to_size};
    struct zupd_sink sink = {.opaque = &f, .begin = step_begin, .write = step_write};
    uint8_t dg[ZUPD_SHA256_LEN];
    size_t dlen = 0;
    int rc;

    f.fd = openat(u->cfd, name, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f.fd < 0)
        return zu_errno_to_err(errno);
    f.h = zupd_hash_new(ZUPD_HASH_SHA256);
    rc = f.h == NULL ? ZUPD_E_NOMEM : apply_delta(u, om, s->delta, s->to_size, &sink);
    if (rc == ZUPD_OK && f.len != s->to_size)
        rc = ZUPD_E_LENGTH;
    if (rc == ZUPD_OK)
        rc = zupd_hash_final(f.h, dg, sizeof(dg), &dlen);
    if (rc == ZUPD_OK && (dlen != sizeof(dg) || memcmp(dg, s->to_sha256, sizeof(dg)) != 0))
        rc = ZUPD_E_HASH;
    zupd_hash_free(f.h);
    close(f.fd);
    return rc;
}

/* Build file i by its plan: each delta applied to the result of the one
 * before (intermediates in the cache, each checked against its signed size
 * and sha256), the last one into the stage (checked by zu_stage_close). */
static int
run_plan(struct zupd_updater *u, struct zu_stage *st, size_t i, const struct zu_plan *p)
{
    const struct zupd_file_entry *e = &zu_stage_manifest(st)->files[i];
    char old[4096 + ZUPD_PATH_MAX], tmp[2][16] = {"chain.0", "chain.1"};
    struct zu_map om = {NULL, 0, NULL};
    struct zupd_sink sink;
    int rc;

    rc = zu_stage_find_local(st, p->from_sha256, old, sizeof(old));
    if (rc == ZUPD_OK)
        rc = zu_map_file(AT_FDCWD, old, 0, &om);
    for (size_t k = 0; rc == ZUPD_OK && k + 1 < p->n_steps; k++) {
        rc = chain_step(u, &om, &p->steps[k], tmp[k % 2]);
        zu_unmap(&om);
        if (rc == ZUPD_OK)
            rc = zu_map_file(u->cfd, tmp[k % 2], 0, &om);
    }
    if (rc == ZUPD_OK)
        rc = zu_stage_open(st, i, &sink);
    if (rc == ZUPD_OK) {
        int rc2;
        rc = apply_delta(u, &om, p->steps[p->n_steps - 1].delta, e->size, &sink);
        rc2 = zu_stage_close(st); /* checks size and hash; removes a bad file */
        if (rc == ZUPD_OK)
            rc = rc2;
    }
    zu_unmap(&om);
    if (p->n_steps > 1) {
        (void)unlinkat(u->cfd, tmp[0], 0);
        (void)unlinkat(u->cfd, tmp[1], 0);
    }
    if (rc != ZUPD_OK)
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "%s for '%s' failed (%s): using the full blob",
               p->n_steps > 1 ? "delta chain" : "delta", e->path, zupd_strerror(rc));
    return rc;
}

static int
decode_blob(struct zupd_updater *u, const struct zupd_file_entry *e, const char *name,
            struct zupd_sink *sink)
{
    ZSTD_DCtx *dctx = NULL;
    uint8_t *in = NULL, *outb = NULL;
    int fd, rc = ZUPD_OK;

    rc = zu_open_regular(u->cfd, name, 0, UINT64_MAX, &fd, NULL, NULL, 0);
    if (rc != ZUPD_OK)
        return rc;
    in = malloc(IO_CHUNK);
    outb = malloc(IO_CHUNK);
    if (in == NULL || outb == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    if (e->blob_encoding == ZUPD_ENC_ZSTD) {
        dctx = ZSTD_createDCtx();
        if (dctx == NULL ||
            ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX))) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
    }
    for (;;) {
        ssize_t n = read(fd, in, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = zu_errno_to_err(errno);
            goto out;
        }
        if (n == 0)
            break;
        if (dctx == NULL) {
            rc = sink->write(sink->opaque, in, (size_t)n);
            if (rc != ZUPD_OK)
                goto out;
            continue;
        }
        ZSTD_inBuffer ib = {in, (size_t)n, 0};
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = {outb, IO_CHUNK, 0};
            size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(r)) {
                rc = ZUPD_E_FORMAT;
                goto out;
            }
            rc = sink->write(sink->opaque, outb, ob.pos);
            if (rc != ZUPD_OK)
                goto out;
        }
    }
    if (dctx != NULL) { /* flush what the decoder still holds */
        for (;;) {
            ZSTD_inBuffer ib = {in, 0, 0};
            ZSTD_outBuffer ob = {outb, IO_CHUNK, 0};
            size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(r)) {
                rc = ZUPD_E_FORMAT;
                goto out;
            }
            if (ob.pos > 0) {
                rc = sink->write(sink->opaque, outb, ob.pos);
                if (rc != ZUPD_OK)
                    goto out;
            }
            if (ob.pos < IO_CHUNK)
                break;
        }
    }
out:
    ZSTD_freeDCtx(dctx);
    free(in);
    free(outb);
    close(fd);
    return rc;
}

static int
from_blob(struct zupd_updater *u, struct zu_stage *st, size_t i, char *err, size_t cap)
{
    const struct zupd_file_entry *e = &zu_stage_manifest(st)->files[i];
    struct zupd_sink sink;
    char name[65];
    int rc, rc2;

    rc = fetch_blob(u, e->blob_sha256, e->blob_size, name, sizeof(name));
    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "cannot download the blob of '%s': %s", e->path,
                       zupd_strerror(rc));
    }
    rc = zu_stage_open(st, i, &sink);
    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "cannot stage '%s': %s", e->path, zupd_strerror(rc));
    }
    rc = decode_blob(u, e, name, &sink);
    rc2 = zu_stage_close(st);
    if (rc == ZUPD_OK)
        rc = rc2;
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "'%s': the blob does not give the signed content: %s", e->path,
               zupd_strerror(rc));
        if (rc != ZUPD_E_NOSPACE && rc != ZUPD_E_IO)
            (void)unlinkat(u->cfd, name, 0);
        return rc;
    }
    (void)unlinkat(u->cfd, name, 0);
    return ZUPD_OK;
}

/* ------------------------------------------------------------ planning */

static bool
is_local(void *opaque, const uint8_t *sha256)
{
    char path[4096 + ZUPD_PATH_MAX];
    return zu_stage_find_local(opaque, sha256, path, sizeof(path)) == ZUPD_OK;
}

struct between {
    const char *prefix; /* "<role>/<component>/" */
    size_t plen;
    const char *lower, *upper; /* exclusive bounds */
    char **v;
    size_t n, cap;
};

/* Collect the versions of "<prefix><version>/manifest.json" between the bounds. */
static int
collect_version(void *opaque, const char *path, const struct zupd_target *t)
{
    struct between *b = opaque;
    char ver[ZUPD_NAME_MAX + 1];
    const char *v = path + b->plen, *slash;

    (void)t;
    if (strncmp(path, b->prefix, b->plen) != 0)
        return 0;
    slash = strchr(v, '/');
    if (slash == NULL || strcmp(slash, "/manifest.json") != 0 ||
        (size_t)(slash - v) > ZUPD_NAME_MAX)
        return 0;
    memcpy(ver, v, (size_t)(slash - v));
    ver[slash - v] = 0;
    if (!zupd_name_is_safe(ver) || zupd_version_cmp(ver, b->lower) <= 0 ||
        zupd_version_cmp(ver, b->upper) >= 0)
        return 0;
    /* the versions are entries of one targets document */
    if (ZU_GROW(&b->v, &b->cap, b->n + 1, VERSIONS_MAX) != ZUPD_OK)
        return ZUPD_E_NOMEM;
    b->v[b->n] = strdup(ver);
    if (b->v[b->n] == NULL)
        return ZUPD_E_NOMEM;
    b->n++;
    return 0;
}

static int
cmp_version_desc(const void *a, const void *b)
{
    return zupd_version_cmp(*(char *const *)b, *(char *const *)a);
}

/* Keep of an intermediate manifest mm only the entries of the files of m
 * marked in need[] (both sorted by path): the chain planner looks up no
 * other path, and a chain then holds one whole intermediate manifest at a
 * time, not ZUPD_CHAIN_MANIFESTS_MAX of them (issue 14). */
static void
keep_needed(struct zupd_manifest *mm, const struct zupd_manifest *m, const uint8_t *need)
{
    struct zupd_file_entry *smaller;
    size_t j = 0, n = 0;

    for (size_t i = 0; i < mm->n_files; i++) {
        struct zupd_file_entry *e = &mm->files[i];
        int c = -1;

        while (j < m->n_files && (c = strcmp(m->files[j].path, e->path)) < 0)
            j++;
        if (j < m->n_files && c == 0 && need[j]) {
            mm->files[n++] = *e;
        } else {
            free(e->path);
            free(e->deltas);
        }
    }
    mm->n_files = n;
    smaller = realloc(mm->files, (n + 1) * sizeof(*mm->files));
    if (smaller != NULL)
        mm->files = smaller;
}

/* The verified manifests of the releases between the newest installed
 * version older than m and m itself, newest first, at most
 * ZUPD_CHAIN_MANIFESTS_MAX of them: the middle links of delta chains for
 * the files of m marked in need[], each cut down to those files. The
 * versions are those the role that signed m's manifest lists. A manifest
 * that cannot be had is only a link less. Ownership: *out new array of new
 * manifests (free_manifests()). */
static int
load_between(struct zupd_updater *u, struct zupd_store *store, const struct zupd_manifest *m,
             const uint8_t *need, struct zupd_manifest ***out, size_t *n_out)
{
    char path[3 * ZUPD_NAME_MAX + 32], prefix[2 * ZUPD_NAME_MAX + 4], role[ZUPD_ROLE_NAME_MAX];
    char err[256] = "";
    struct between b = {0};
    struct zupd_target t;
    char **inst = NULL;
    size_t n_inst = 0;
    const struct zupd_meta *meta;
    int rc;

    *out = NULL;
    *n_out = 0;
    rc = zupd_store_list(store, &inst, &n_inst); /* sorted, oldest first */
    if (rc != ZUPD_OK)
        return rc;
    for (size_t k = n_inst; k-- > 0 && b.lower == NULL;)
        if (zupd_version_cmp(inst[k], m->version) < 0)
            b.lower = inst[k];
    if (b.lower == NULL)
        goto out; /* nothing older installed: no chain starts here */
    snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", m->role, m->component, m->version);
    rc = zupd_client_find_target(u->client, path, &t, role, sizeof(role), err, sizeof(err));
    if (rc != ZUPD_OK)
        goto out;
    meta = zupd_trusted_get(zupd_client_trusted(u->client), role);
    if (meta == NULL)
        goto out;
    snprintf(prefix, sizeof(prefix), "%s/%s/", m->role, m->component);
    b.prefix = prefix;
    b.plen = strlen(prefix);
    b.upper = m->version;
    rc = zupd_meta_target_foreach(meta, collect_version, &b);
    if (rc != ZUPD_OK)
        goto out;
    if (b.n > 1)
        qsort(b.v, b.n, sizeof(*b.v), cmp_version_desc);
    *out = calloc(ZUPD_CHAIN_MANIFESTS_MAX, sizeof(**out));
    if (*out == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (size_t k = 0; k < b.n && *n_out < ZUPD_CHAIN_MANIFESTS_MAX; k++) {
        struct zupd_manifest *mm = NULL;
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (zupd_updater_manifest(u, m->role, m->component, b.v[k], &bytes, &len, &mm, err,
                                  sizeof(err)) != ZUPD_OK) {
            zu_log(u->o.ctx, ZUPD_LOG_WARN, "no delta chain through %s: %s", b.v[k], err);
            continue;
        }
        free(bytes);
        keep_needed(mm, m, need);
        (*out)[(*n_out)++] = mm;
    }
    zu_trace(u->o.ctx, "%zu releases between %s and %s for delta chains", *n_out, b.lower,
             m->version);
out:
    zupd_strv_free(b.v, b.n);
    zupd_strv_free(inst, n_inst);
    if (rc != ZUPD_OK) {
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "no delta chains: %s", err[0] ? err : zupd_strerror(rc));
        rc = ZUPD_OK; /* planning without them: the blobs */
    }
    return rc;
}

static void
free_manifests(struct zupd_manifest **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        zupd_manifest_free(v[i]);
    free(v);
}

/* ------------------------------------------------------------ install */

#define WINDOW_FILES_PER_DOWNLOAD 4 /* files per window: parallel * this */
#define WINDOW_BYTES (64ull << 20)  /* and at most about this many bytes */

struct want {
    uint8_t sha[ZUPD_SHA256_LEN];
    uint64_t size;
    char name[2 * ZUPD_SHA256_LEN + 1];
    char rel[128];
};

static void
want_add(struct want *w, size_t *n, const uint8_t *sha, uint64_t size)
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(w[i].sha, sha, ZUPD_SHA256_LEN) == 0)
            return;
    memcpy(w[*n].sha, sha, ZUPD_SHA256_LEN);
    w[*n].size = size;
    blob_name(sha, w[*n].name, sizeof(w[*n].name), w[*n].rel, sizeof(w[*n].rel));
    (*n)++;
}

/* Download the blobs files [from, to) need by their plans, `parallel` at a
 * time. A failure here is not one: the file's own fetch tries again. */
static void
prefetch(struct zupd_updater *u, const struct zupd_manifest *m, const uint8_t *todo,
         const struct zu_plan *plan, size_t from, size_t to)
{
    struct zupd_fetch_file_req *fr = NULL;
    struct want *w;
    size_t n = 0, k = 0, files = 0;

    /* the window spans the linked files between those it downloads: room
     * for these only (a window over 20,000 linked files took 38 MB) */
    for (size_t i = from; i < to; i++)
        files += todo[i] ? 1 : 0;
    w = calloc(files * ZU_PLAN_MAX_STEPS + 1, sizeof(*w));
    if (w == NULL)
        return;
    for (size_t i = from; i < to; i++) {
        if (!todo[i])
            continue;
        for (size_t j = 0; j < plan[i].n_steps; j++)
            want_add(w, &n, plan[i].steps[j].delta->sha256, plan[i].steps[j].delta->size);
        if (plan[i].n_steps == 0)
            want_add(w, &n, m->files[i].blob_sha256, m->files[i].blob_size);
    }
    fr = calloc(n + 1, sizeof(*fr));
    for (size_t i = 0; fr != NULL && i < n; i++) {
        if (is_ready(u, w[i].sha, w[i].size, w[i].name))
            continue;
        fr[k++] = (struct zupd_fetch_file_req){
            .path = w[i].rel, .name = w[i].name, .expected_len = w[i].size, .digest = w[i].sha};
    }
    if (k > 1 &&
        zupd_fetch_files(u->o.ctx, u->o.transport, (const char *const *)u->roots, u->n, u->cfd,
                         ZUPD_HASH_SHA256, fr, k, u->o.parallel, ZUPD_FETCH_NOSYNC) != ZUPD_OK)
        zu_log(u->o.ctx, ZUPD_LOG_INFO, "some parallel downloads failed; trying them alone");
    for (size_t i = 0; k > 1 && i < k; i++)
        if (fr[i].rc == ZUPD_OK)
            note_ready(u, fr[i].digest);
    free(fr);
    free(w);
}

/* The end of the window of files that starts at from. */
static size_t
window_end(struct zupd_updater *u, const struct zupd_manifest *m, const uint8_t *todo,
           const struct zu_plan *plan, size_t from)
{
    size_t files = 0, max = (size_t)u->o.parallel * WINDOW_FILES_PER_DOWNLOAD, i;
    uint64_t bytes = 0;

    if (u->o.parallel <= 1)
        return from + 1;
    for (i = from; i < m->n_files && files < max && bytes < WINDOW_BYTES; i++) {
        if (!todo[i])
            continue;
        files++;
        bytes += plan[i].n_steps > 0 ? plan[i].cost : m->files[i].blob_size;
    }
    return i;
}

/* ------------------------------------------------------------ cache size */

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

#define CACHE_ENTRIES_MAX ((size_t)1 << 20)

struct centry {
    struct timespec mtime;
    uint64_t size;
    char name[80]; /* blob names are 64 hex digits, + ".part", "t-" */
};

static int
centry_older(const void *a, const void *b)
{
    const struct centry *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Keep the cache (blobs, deltas, partials, cached targets: all of them
 * fetched again when missing) under max_cache_size: the oldest files
 * (mtime) go first. Best effort: a failure only leaves the cache bigger. */
static void
cache_trim(struct zupd_updater *u)
{
    struct centry *v = NULL;
    size_t n = 0, cap_v = 0;
    uint64_t total = 0, removed = 0;
    struct dirent *e;
    struct stat sb;
    DIR *d;
    int fd = openat(u->cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(v->name) ||
            fstatat(u->cfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (ZU_GROW(&v, &cap_v, n + 1, CACHE_ENTRIES_MAX) != ZUPD_OK)
            break;
        v[n].mtime = sb.st_mtim;
        v[n].size = (uint64_t)sb.st_size;
        memcpy(v[n].name, e->d_name, strlen(e->d_name) + 1);
        total = sat_add(total, v[n].size);
        n++;
    }
    closedir(d);
    if (total > u->o.max_cache_size && n > 0) {
        qsort(v, n, sizeof(*v), centry_older);
        for (size_t i = 0; i < n && total > u->o.max_cache_size; i++) {
            if (unlinkat(u->cfd, v[i].name, 0) != 0)
                continue;
            total -= v[i].size;
            removed += v[i].size;
        }
        zu_log(u->o.ctx, ZUPD_LOG_INFO,
               "cache over max_cache_size (%" PRIu64 " bytes): %" PRIu64 " bytes removed",
               u->o.max_cache_size, removed);
    }
    free(v);
}

/* ------------------------------------------------------------ caps, space */

/* Refuse what a release asks beyond the operator's caps before any byte of
 * it is downloaded: a stolen signing key must not be able to fill the disk
 * (issue 14). Every size the manifest signs counts: content, blob, deltas. */
static int
check_caps(const struct zupd_updater *u, const struct zupd_manifest *m, char *err, size_t cap)
{
    uint64_t total = 0;

    for (size_t i = 0; i < m->n_files; i++) {
        const struct zupd_file_entry *e = &m->files[i];
        uint64_t big = e->size > e->blob_size ? e->size : e->blob_size;

        for (size_t j = 0; j < e->n_deltas; j++)
            if (e->deltas[j].size > big)
                big = e->deltas[j].size;
        if (big > u->o.max_file_size)
            return zu_fail(err, cap, ZUPD_E_TOOBIG,
                           "release %s refused: '%s' is %" PRIu64
                           " bytes, over max_file_size (%" PRIu64 ")",
                           m->version, e->path, big, u->o.max_file_size);
        total = sat_add(total, e->size);
    }
    if (total > u->o.max_release_size)
        return zu_fail(err, cap, ZUPD_E_TOOBIG,
                       "release %s refused: %" PRIu64 " bytes, over max_release_size (%" PRIu64 ")",
                       m->version, total, u->o.max_release_size);
    return ZUPD_OK;
}

/* Bytes the cache already holds of blob sha (whole or partial). */
static uint64_t
cached_bytes(const struct zupd_updater *u, const uint8_t *sha)
{
    char name[2 * ZUPD_SHA256_LEN + 1], part[2 * ZUPD_SHA256_LEN + 8], rel[128];
    struct stat sb;

    blob_name(sha, name, sizeof(name), rel, sizeof(rel));
    snprintf(part, sizeof(part), "%s.part", name);
    if (fstatat(u->cfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
        return (uint64_t)sb.st_size;
    if (fstatat(u->cfd, part, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
        return (uint64_t)sb.st_size;
    return 0;
}

static int
free_bytes(int fd, const char *dir, uint64_t *out, dev_t *dev, char *err, size_t cap)
{
    struct statvfs sv;
    struct stat sb;

    if (fstatvfs(fd, &sv) != 0 || fstat(fd, &sb) != 0)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot read the free space of '%s': %s",
                       dir, strerror(errno));
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    *dev = sb.st_dev;
    return ZUPD_OK;
}

static int
no_space(char *err, size_t cap, const char *what, const char *dir, uint64_t need, uint64_t avail)
{
    return zu_fail(err, cap, ZUPD_E_NOSPACE,
                   "not enough space for %s in '%s': %" PRIu64 " bytes needed, %" PRIu64 " free",
                   what, dir, need, avail);
}

/* Before any download: does the plan fit? The downloads (blobs and deltas
 * not yet in the cache) go to <state>/cache, the new content of the files
 * not linked to <state>/components/<name>; one total when both are on the
 * same file system. Free space is what an unprivileged writer may use. */
static int
check_space(const struct zupd_updater *u, const struct zupd_store *store,
            const struct zupd_manifest *m, const uint8_t *todo, const struct zu_plan *plan,
            char *err, size_t cap)
{
    uint64_t dl = 0, stage = 0, cache_free, store_free;
    dev_t cache_dev, store_dev;
    char cache_dir[4096];
    int rc;

    for (size_t i = 0; i < m->n_files; i++) {
        if (!todo[i])
            continue;
        stage = sat_add(stage, m->files[i].size);
        if (plan[i].n_steps > 0) {
            dl = sat_add(dl, plan[i].cost);
            continue;
        }
        uint64_t have = cached_bytes(u, m->files[i].blob_sha256);
        dl = sat_add(dl, have < m->files[i].blob_size ? m->files[i].blob_size - have : 0);
    }
    snprintf(cache_dir, sizeof(cache_dir), "%s/cache", u->o.state_dir);
    rc = free_bytes(u->cfd, cache_dir, &cache_free, &cache_dev, err, cap);
    if (rc == ZUPD_OK)
        rc = free_bytes(store->fd, store->dir, &store_free, &store_dev, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (cache_dev == store_dev) {
        if (sat_add(dl, stage) > cache_free)
            return no_space(err, cap, "the download and the new version", u->o.state_dir,
                            sat_add(dl, stage), cache_free);
        return ZUPD_OK;
    }
    if (dl > cache_free)
        return no_space(err, cap, "the download", cache_dir, dl, cache_free);
    if (stage > store_free)
        return no_space(err, cap, "the new version", store->dir, stage, store_free);
    return ZUPD_OK;
}

/* Every file not linked: by its planned delta or chain when that works,
 * else from its blob; parallel prefetches a window ahead. Counts into
 * stats, with progress after each file. */
static int
fetch_all(struct zupd_updater *u, struct zu_stage *st, const struct zupd_manifest *m,
          const uint8_t *todo, struct zu_plan *plan, struct zupd_install_stats *stats,
          uint64_t before, zupd_progress_fn progress, void *opaque, char *err, size_t cap)
{
    int rc;

    for (size_t i = 0, end = 0; i < m->n_files; i++) {
        if (i == end) {
            end = window_end(u, m, todo, plan, i);
            if (u->o.parallel > 1)
                prefetch(u, m, todo, plan, i, end);
        }
        if (!todo[i])
            continue;
        if (plan[i].n_steps > 0 && run_plan(u, st, i, &plan[i]) == ZUPD_OK) {
            if (plan[i].n_steps > 1)
                stats->by_chain++;
            else
                stats->by_delta++;
        } else {
            if (plan[i].n_steps > 0)
                stats->delta_failed++;
            rc = from_blob(u, st, i, err, cap);
            if (rc != ZUPD_OK)
                return rc;
            stats->by_blob++;
        }
        stats->downloaded = u->o.transport->stats.bytes - before;
        if (progress != NULL)
            progress(opaque, stats);
    }
    return ZUPD_OK;
}

int
zupd_updater_install(struct zupd_updater *u, struct zupd_store *store, const uint8_t *mbytes,
                     size_t mlen, zupd_progress_fn progress, void *opaque,
                     struct zupd_install_stats *out_stats, char *err, size_t cap)
{
    const size_t stats_v1 = ZU_SIZE_THROUGH(struct zupd_install_stats, by_chain);
    struct zupd_install_stats all;
    struct zupd_install_stats *stats = &all; /* the library's whole struct */
    const struct zupd_manifest *m;
    const struct zupd_manifest **ms = NULL;
    struct zupd_manifest **mid = NULL;
    struct zu_stage *st = NULL;
    struct zu_plan *plan = NULL; /* per file; n_steps 0: the blob */
    uint8_t *todo = NULL;        /* per file: not linked */
    uint64_t before = u->o.transport->stats.bytes;
    size_t n_mid = 0, n_unplanned = 0;
    int rc;

    zupd_install_stats_init(&all);
    zu_say(err, cap, "%s", "");
    if (out_stats != NULL && zu_struct_out(out_stats, &all, sizeof(all), stats_v1) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "install statistics without a size");
    rc = zu_stage_begin(store, mbytes, mlen, &st);
    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "cannot start staging: %s", zupd_strerror(rc));
    }
    u->o.transport->budget = &u->budget; /* until out: */
    m = zu_stage_manifest(st);
    stats->files = m->n_files;
    rc = check_caps(u, m, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    plan = calloc(m->n_files + 1, sizeof(*plan));
    todo = calloc(m->n_files + 1, 1);
    if (plan == NULL || todo == NULL) {
        rc = ZUPD_E_NOMEM;
        zu_say(err, cap, "cannot plan the install: %s", zupd_strerror(rc));
        goto out;
    }
    /* unchanged content: hard links; the rest: a direct delta if any */
    for (size_t i = 0; i < m->n_files; i++) {
        const struct zupd_file_entry *e = &m->files[i];
        stats->release_size += e->size;
        rc = zu_stage_link(st, i);
        if (rc == ZUPD_OK) {
            stats->linked++;
            if (progress != NULL)
                progress(opaque, stats);
            continue;
        }
        if (rc != ZUPD_E_NOTFOUND) {
            zu_say(err, cap, "cannot stage '%s': %s", e->path, zupd_strerror(rc));
            goto out;
        }
        todo[i] = 1;
        stats->full_size += e->blob_size;
        if (zu_plan_chain(&m, 1, e->path, e->sha256, e->blob_size, 1, is_local, st, &plan[i]) !=
            ZUPD_OK)
            n_unplanned++;
    }
    /* chains only for what has no direct delta: then the releases between */
    if (n_unplanned > 0) {
        uint8_t *need = calloc(m->n_files + 1, 1); /* what only a chain may bring */
        if (need == NULL) {
            rc = ZUPD_E_NOMEM;
            zu_say(err, cap, "cannot plan delta chains: %s", zupd_strerror(rc));
            goto out;
        }
        for (size_t i = 0; i < m->n_files; i++)
            need[i] = todo[i] && plan[i].n_steps == 0;
        rc = load_between(u, store, m, need, &mid, &n_mid);
        free(need);
        if (rc != ZUPD_OK) {
            zu_say(err, cap, "cannot plan delta chains: %s", zupd_strerror(rc));
            goto out;
        }
    }
    if (n_mid > 0) {
        ms = calloc(n_mid + 1, sizeof(*ms));
        if (ms == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        ms[0] = m;
        for (size_t k = 0; k < n_mid; k++)
            ms[k + 1] = mid[k];
        for (size_t i = 0; i < m->n_files; i++) {
            const struct zupd_file_entry *e = &m->files[i];
            if (todo[i] && plan[i].n_steps == 0 &&
                zu_plan_chain(ms, n_mid + 1, e->path, e->sha256, e->blob_size, ZU_PLAN_MAX_STEPS,
                              is_local, st, &plan[i]) == ZUPD_OK)
                zu_trace(u->o.ctx, "'%s': a chain of %zu deltas, %llu bytes", e->path,
                         plan[i].n_steps, (unsigned long long)plan[i].cost);
        }
    }
    /* a chain step's delta is signed by an intermediate release: capped too */
    for (size_t i = 0; i < m->n_files; i++)
        for (size_t j = 0; j < plan[i].n_steps; j++)
            if (plan[i].steps[j].delta->size > u->o.max_file_size)
                plan[i].n_steps = 0;
    cache_trim(u); /* room for this download first */
    rc = check_space(u, store, m, todo, plan, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = fetch_all(u, st, m, todo, plan, stats, before, progress, opaque, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_stage_commit(st);
    st = NULL;
    if (rc != ZUPD_OK)
        zu_say(err, cap, "cannot commit the new version: %s", zupd_strerror(rc));
out:
    u->o.transport->budget = NULL;
    cache_trim(u);
    zu_stage_abort(st); /* before the manifests the plans borrow from go */
    free(ms);
    free_manifests(mid, n_mid);
    free(plan);
    free(todo);
    stats->downloaded = u->o.transport->stats.bytes - before;
    if (out_stats != NULL && zu_struct_out(out_stats, &all, sizeof(all), stats_v1) != ZUPD_OK)
        rc = ZUPD_E_MISUSE; /* cannot happen: checked above */
    return rc;
}
