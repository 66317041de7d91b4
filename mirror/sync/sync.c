/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync.c -- zupd-mirror sync: pull an upstream repository into DIR,
 * verified with lib's TUF client against a pinned root. Everything is
 * fetched and checked here first (metadata into DIR/.zupd/sync-metadata,
 * blobs into DIR/.zupd/sync-staging, targets in memory); only then does
 * mirror/sync/sync_commit.c write the served tree: blobs, targets, the vendor's
 * metadata byte for byte, and timestamp.json last, each by rename. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/client.h>
#include <zupd/fetch.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>
#include <zupd/trusted.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/layout.h"
#include "sync/sync.h"
#include "sync/sync_int.h"
#include "repo/select.h"

/* Targets and blobs one sync collects: entries of the upstream's targets
 * documents and what their manifests name. */
#define SYNC_LIST_MAX ((size_t)1 << 24)

#define ROOT_CAP (512u << 10)

/* ------------------------------------------------------------ lists */

static char *
cat2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);

    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static int
blob_add(struct sync *s, const uint8_t sha[32], uint64_t size)
{
    /* blobs and deltas named by the manifests synced */
    int rc = ZU_GROW(&s->b, &s->cap_b, s->n_b + 1, SYNC_LIST_MAX);

    if (rc != ZUPD_OK)
        return rc;
    memset(&s->b[s->n_b], 0, sizeof(s->b[0]));
    memcpy(s->b[s->n_b].sha, sha, 32);
    s->b[s->n_b].size = size;
    s->n_b++;
    return ZUPD_OK;
}

static int
cmp_blob(const void *a, const void *b)
{
    const struct blob *x = a, *y = b;
    int c = memcmp(x->sha, y->sha, 32);
    return c != 0 ? c : (x->size > y->size) - (x->size < y->size);
}

/* ------------------------------------------------------------ files */

static int
mkdir_at(int dfd, const char *rel)
{
    if (mkdirat(dfd, rel, 0755) != 0 && errno != EEXIST)
        return zu_errno_to_err(errno);
    return ZUPD_OK;
}

/* The consistent-snapshot name of a target, as lib's client asks for it:
 * "targets/<dir>/<hex>.<base>", hex of sha256 (else sha512). */
static int
target_rel(const char *path, const struct zupd_target *t, char **out)
{
    char hex[2 * ZUPD_SHA512_LEN + 1];
    const char *slash = strrchr(path, '/');
    size_t cap = strlen(path) + sizeof(hex) + 16;
    char *rel = malloc(cap);

    if (rel == NULL)
        return ZUPD_E_NOMEM;
    if (t->hashes.has_sha256)
        zupd_hex_encode(hex, sizeof(hex), t->hashes.sha256, ZUPD_SHA256_LEN);
    else
        zupd_hex_encode(hex, sizeof(hex), t->hashes.sha512, ZUPD_SHA512_LEN);
    if (slash == NULL)
        snprintf(rel, cap, "targets/%s.%s", hex, path);
    else
        snprintf(rel, cap, "targets/%.*s/%s.%s", (int)(slash - path), path, hex, slash + 1);
    *out = rel;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ targets */

static bool
component_wanted(const struct sync *s, const char *path)
{
    const char *a = strchr(path, '/'), *b;

    if (s->o->n_components == 0)
        return true;
    if (a == NULL)
        return false;
    a++;
    b = strchr(a, '/');
    if (b == NULL)
        return false;
    for (size_t i = 0; i < s->o->n_components; i++)
        if (strlen(s->o->components[i]) == (size_t)(b - a) &&
            memcmp(s->o->components[i], a, (size_t)(b - a)) == 0)
            return true;
    return false;
}

struct collect {
    struct sync *s;
    int rc;
};

static int
collect_target(void *opaque, const char *path, const struct zupd_target *t)
{
    struct collect *cl = opaque;
    struct sync *s = cl->s;

    (void)t;
    if (!component_wanted(s, path))
        return 0;
    cl->rc = ZU_GROW(&s->t, &s->cap_t, s->n_t + 1, SYNC_LIST_MAX);
    if (cl->rc != ZUPD_OK)
        return 1;
    memset(&s->t[s->n_t], 0, sizeof(s->t[0]));
    s->t[s->n_t].path = strdup(path);
    if (s->t[s->n_t].path == NULL) {
        cl->rc = ZUPD_E_NOMEM;
        return 1;
    }
    s->n_t++;
    return 0;
}

static int
cmp_tgt(const void *a, const void *b)
{
    return strcmp(((const struct tgt *)a)->path, ((const struct tgt *)b)->path);
}

/* Find, fetch (unless DIR has it) and parse one target; note the blobs of
 * a manifest. */
static int
sync_target(struct sync *s, size_t idx)
{
    struct tgt *g = &s->t[idx];
    const char *urls[1] = {s->tbase};
    struct zupd_target t;
    char role[ZUPD_ROLE_NAME_MAX], why[512] = "";
    uint8_t *buf = NULL;
    size_t len = 0, plen = strlen(g->path);
    int rc;

    if (!zupd_path_is_safe(g->path, plen))
        return zu_fail(s->err, s->cap, ZUPD_E_FORMAT, "target '%s': unsafe path", g->path);
    rc = zupd_client_find_target(s->c, g->path, &t, role, sizeof(role), why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "target '%s': %s", g->path, why);
    rc = target_rel(g->path, &t, &g->rel);
    if (rc != ZUPD_OK)
        return rc;
    if (zp_get(s->dfd, g->rel, t.length + 1, &buf, &len) == ZUPD_OK &&
        zupd_check_length_hashes(buf, len, true, t.length, &t.hashes) == ZUPD_OK) {
        /* DIR has it already */
    } else {
        free(buf);
        buf = NULL;
        rc = zupd_client_fetch_target(s->c, g->path, &t, urls, 1, ZP_META_CAP, &buf, &len, why,
                                      sizeof(why));
        if (rc != ZUPD_OK)
            return zu_fail(s->err, s->cap, rc, "target '%s' refused: %s", g->path, why);
        {
            char name[64];
            snprintf(name, sizeof(name), "target.%zu", idx);
            /* no fsync: the commit's syncfs makes the staged files durable
             * before anything names them */
            rc = zu_cache_write(s->sfd, name, buf, len, 0644);
            if (rc != ZUPD_OK) {
                free(buf);
                return zu_fail(s->err, s->cap, rc, "%s/%s: %s", SYNC_STAGE_DIR, name,
                               zupd_strerror(rc));
            }
        }
        g->staged = true;
        s->res->targets_fetched++;
    }
    s->res->targets++;
    if (g->sel.kind == ZP_SEL_CHANNEL) {
        struct zupd_channel *ch = NULL;

        if (zupd_channel_parse(buf, len, &ch) == ZUPD_OK) {
            snprintf(g->sel.version, sizeof(g->sel.version), "%s", ch->version);
            zupd_channel_free(ch);
        } else if (s->o->keep > 0 || s->o->n_channels > 0) {
            rc = zu_fail(s->err, s->cap, ZUPD_E_FORMAT, "target '%s': not a channel pointer",
                         g->path);
        }
    }
    if (rc == ZUPD_OK && plen > 14 && strcmp(g->path + plen - 14, "/manifest.json") == 0) {
        struct zupd_manifest *m = NULL;

        rc = zupd_manifest_parse(buf, len, NULL, &m, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(s->err, s->cap, rc, "target '%s': %s", g->path, why);
        } else if (strncmp(g->path, m->role, strlen(m->role)) != 0 ||
                   g->path[strlen(m->role)] != '/') {
            /* the delegations (checked by the client) tie the path's first
             * segment to its role (a hash bin of it signs it with bins);
             * the manifest must say the same, as endpoints check */
            rc = zu_fail(s->err, s->cap, ZUPD_E_MISMATCH,
                         "target '%s': manifest of role '%s' under another role's path (signed "
                         "by '%s')",
                         g->path, m->role, role);
        } else {
            for (size_t i = 0; rc == ZUPD_OK && i < m->n_files; i++) {
                const struct zupd_file_entry *f = &m->files[i];
                rc = blob_add(s, f->blob_sha256, f->blob_size);
                for (size_t d = 0; rc == ZUPD_OK && d < f->n_deltas; d++)
                    rc = blob_add(s, f->deltas[d].sha256, f->deltas[d].size);
            }
        }
        zupd_manifest_free(m);
    }
    free(buf);
    return rc;
}

/* The targets to mirror: channel pointers (and other targets) first, as
 * their versions decide which releases are kept; then the chosen
 * manifests. Nothing is fetched for a target that is not chosen. */
static int
sync_targets(struct sync *s)
{
    const char **paths = calloc(s->n_t > 0 ? s->n_t : 1, sizeof(*paths));
    struct zp_sel *sel = calloc(s->n_t > 0 ? s->n_t : 1, sizeof(*sel));
    int rc = ZUPD_OK;

    if (paths == NULL || sel == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->n_t; i++)
        zp_sel_classify(&s->t[i].sel, s->t[i].path);
    for (size_t i = 0; rc == ZUPD_OK && i < s->n_t; i++) {
        const struct zp_sel *g = &s->t[i].sel;
        if (g->kind == ZP_SEL_OTHER ||
            (g->kind == ZP_SEL_CHANNEL &&
             zp_sel_channel_wanted(g->channel, s->o->channels, s->o->n_channels)))
            rc = sync_target(s, i);
    }
    if (rc != ZUPD_OK)
        goto out;
    for (size_t i = 0; i < s->n_t; i++) {
        paths[i] = s->t[i].path;
        sel[i] = s->t[i].sel;
    }
    rc = zp_sel_choose(sel, paths, s->n_t, s->o->channels, s->o->n_channels, s->o->keep);
    if (rc == ZUPD_OK)
        zp_sync_pins_keep(s, sel); /* what the policy pins, whatever keep and channels say */
    for (size_t i = 0; rc == ZUPD_OK && i < s->n_t; i++) {
        s->t[i].sel.keep = sel[i].keep;
        if (!sel[i].keep)
            s->res->targets_skipped++;
        else if (sel[i].kind == ZP_SEL_MANIFEST)
            rc = sync_target(s, i);
    }
out:
    free(paths);
    free(sel);
    return rc;
}

/* ------------------------------------------------------------ blobs */

/* Does the staging directory hold the complete blob (a finished download
 * of an earlier run that stopped before its commit)? */
static bool
staged_ok(int sfd, const char *hex, const struct blob *b)
{
    struct zupd_hash *h = NULL;
    uint8_t buf[65536], dig[32];
    uint64_t got = 0;
    size_t dl = 0;
    struct stat st;
    bool ok = false;
    int fd = -1;

    if (zu_open_regular(sfd, hex, 0, b->size, &fd, &st, NULL, 0) != ZUPD_OK)
        return false;
    if ((uint64_t)st.st_size != b->size)
        goto out;
    h = zupd_hash_new(ZUPD_HASH_SHA256);
    if (h == NULL)
        goto out;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        got += (uint64_t)n;
        if (zupd_hash_update(h, buf, (size_t)n) != ZUPD_OK)
            goto out;
    }
    ok = got == b->size && zupd_hash_final(h, dig, sizeof(dig), &dl) == ZUPD_OK &&
         memcmp(dig, b->sha, 32) == 0;
out:
    zupd_hash_free(h);
    close(fd);
    return ok;
}

/* Body bytes downloaded through t so far. */
static uint64_t
tr_bytes(const struct zupd_transport *t)
{
    struct zupd_fetch_stats fs;

    zupd_fetch_stats_init(&fs);
    return zupd_transport_stats(t, &fs) == ZUPD_OK ? fs.bytes : 0;
}

static int
sync_blob(struct sync *s, struct blob *b)
{
    char hex[65], rel[128];
    struct zupd_fetch_req req;
    struct zupd_fetch_res fres;
    const char *bases[1] = {s->base};
    uint64_t before = tr_bytes(s->tr);
    int rc;

    zp_blob_path(rel, sizeof(rel), b->sha);
    if (zp_exists_size(s->dfd, rel, b->size))
        return ZUPD_OK;
    zupd_hex_encode(hex, sizeof(hex), b->sha, 32);
    if (staged_ok(s->sfd, hex, b)) {
        b->staged = true; /* fetched by an earlier run */
        return ZUPD_OK;
    }
    memset(&req, 0, sizeof(req));
    req.bases = bases;
    req.n_bases = 1;
    req.path = rel;
    req.max_bytes = b->size > 0 ? b->size : 1;
    rc = zupd_fetch_file(s->o->ctx, s->tr, &req, s->sfd, hex, b->size, ZUPD_HASH_SHA256, b->sha,
                         &fres);
    if (rc == ZUPD_E_HASH) /* maybe a bad partial of an earlier run: now removed */
        rc = zupd_fetch_file(s->o->ctx, s->tr, &req, s->sfd, hex, b->size, ZUPD_HASH_SHA256, b->sha,
                             &fres);
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "%s%s (%llu bytes): %s", s->base, rel,
                       (unsigned long long)b->size, zupd_strerror(rc));
    b->staged = true;
    s->res->blobs_fetched++;
    s->res->blob_bytes_fetched += tr_bytes(s->tr) - before;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ roots */

/* Bytes of k.root.json for k = 1 .. the trusted root's version: DIR's copy
 * when it has one, else the upstream's; the whole chain is then verified
 * (each root signed by its predecessor's root keys and its own) and must
 * end in the root the client trusts and pass through the pinned root. */
int
zp_sync_roots(struct sync *s, const uint8_t *pinned, size_t pinned_len)
{
    const struct zupd_meta *tr = zupd_trusted_get(zupd_client_trusted(s->c), "root");
    struct zupd_trusted *chain = NULL;
    uint64_t n = zupd_meta_version(tr), pv = 0;
    uint8_t *last = NULL;
    size_t last_len = 0;
    char why[512] = "";
    int rc;

    if (n == 0 || n > 100000)
        return zu_fail(s->err, s->cap, ZUPD_E_FORMAT, "root version %llu", (unsigned long long)n);
    rc = zu_read_capped(s->mfd, "root.json", ROOT_CAP, &last, &last_len);
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "%s/root.json: %s", SYNC_META_DIR, zupd_strerror(rc));
    if (pinned != NULL) {
        struct zupd_meta *pm = NULL;
        rc = zupd_meta_parse(pinned, pinned_len, NULL, ZUPD_META_ROOT, &pm, why, sizeof(why));
        if (rc != ZUPD_OK) {
            free(last);
            return zu_fail(s->err, s->cap, rc, "pinned root: %s", why);
        }
        pv = zupd_meta_version(pm);
        zupd_meta_free(pm);
        if (pv > n) {
            free(last);
            return zu_fail(s->err, s->cap, ZUPD_E_ROLLBACK,
                           "the pinned root is version %llu, the upstream's newest is %llu",
                           (unsigned long long)pv, (unsigned long long)n);
        }
    }
    s->roots = calloc(n, sizeof(*s->roots));
    s->root_len = calloc(n, sizeof(*s->root_len));
    if (s->roots == NULL || s->root_len == NULL) {
        free(last);
        return ZUPD_E_NOMEM;
    }
    s->n_roots = n;
    s->roots[n - 1] = last;
    s->root_len[n - 1] = last_len;
    for (uint64_t k = 1; k < n; k++) {
        char rel[64];
        uint8_t *buf = NULL;
        size_t len = 0;

        snprintf(rel, sizeof(rel), "metadata/%llu.root.json", (unsigned long long)k);
        if (zp_get(s->dfd, rel, ROOT_CAP, &buf, &len) != ZUPD_OK) {
            const char *bases[1] = {s->base};
            struct zupd_fetch_req req = {
                .bases = bases, .n_bases = 1, .path = rel, .max_bytes = ROOT_CAP};
            struct zupd_fetch_res fres;
            rc = zupd_fetch_mem(s->o->ctx, s->tr, &req, &buf, &len, &fres);
            if (rc != ZUPD_OK)
                return zu_fail(s->err, s->cap, rc, "%s%s: %s", s->base, rel, zupd_strerror(rc));
        }
        s->roots[k - 1] = buf;
        s->root_len[k - 1] = len;
    }
    rc = zupd_trusted_new(s->roots[0], s->root_len[0], s->o->now, NULL, &chain, why, sizeof(why));
    for (uint64_t k = 2; rc == ZUPD_OK && k <= n; k++)
        rc = zupd_trusted_update_root(chain, s->roots[k - 1], s->root_len[k - 1], why, sizeof(why));
    zupd_trusted_free(chain);
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "root chain 1..%llu refused: %s", (unsigned long long)n,
                       why);
    if (pinned != NULL &&
        (s->root_len[pv - 1] != pinned_len || memcmp(s->roots[pv - 1], pinned, pinned_len) != 0))
        return zu_fail(s->err, s->cap, ZUPD_E_MISMATCH,
                       "%llu.root.json is not the pinned root of that version",
                       (unsigned long long)pv);
    s->res->root_version = n;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ setup */

static int
open_dirs(struct sync *s)
{
    const char *d = s->o->dir;
    int rc;

    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        return zu_fail(s->err, s->cap, zu_errno_to_err(errno), "%s: %s", d, strerror(errno));
    s->dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dfd < 0)
        return zu_fail(s->err, s->cap, zu_errno_to_err(errno), "%s: %s", d, strerror(errno));
    if (faccessat(s->dfd, ZP_STATE_DIR "/config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return zu_fail(s->err, s->cap, ZUPD_E_MISUSE,
                       "%s is a publishing repository (it has %s/config.json); sync into "
                       "another directory",
                       d, ZP_STATE_DIR);
    rc = mkdir_at(s->dfd, ZP_STATE_DIR);
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->dfd, SYNC_META_DIR);
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->dfd, SYNC_STAGE_DIR);
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->dfd, "metadata");
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->dfd, "targets");
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->dfd, "blobs");
    if (rc != ZUPD_OK)
        return zu_fail(s->err, s->cap, rc, "%s: cannot create its directories: %s", d,
                       strerror(errno));
    s->lockfd =
        openat(s->dfd, ZP_STATE_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (s->lockfd < 0)
        return zu_fail(s->err, s->cap, ZUPD_E_IO, "%s/%s/lock: %s", d, ZP_STATE_DIR,
                       strerror(errno));
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0)
        return zu_fail(s->err, s->cap, ZUPD_E_BUSY,
                       "%s is busy (another zupd-mirror holds %s/lock)", d, ZP_STATE_DIR);
    s->mfd = openat(s->dfd, SYNC_META_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    s->sfd = openat(s->dfd, SYNC_STAGE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (s->mfd < 0 || s->sfd < 0)
        return zu_fail(s->err, s->cap, ZUPD_E_IO, "%s/%s: %s", d, ZP_STATE_DIR, strerror(errno));
    return ZUPD_OK;
}

/* After a commit: drop what is left in the staging directory (partials of
 * blobs no longer named, of refused content). */
static void
clean_staging(struct sync *s)
{
    int fd = dup(s->sfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            (void)unlinkat(s->sfd, e->d_name, 0);
    closedir(d);
}

void
zp_sync_free(struct sync *s)
{
    zp_sync_log_free(s);
    zupd_client_free(s->c);
    zupd_transport_free(s->tr);
    zp_roles_free(&s->roles);
    for (size_t i = 0; i < s->n_t; i++) {
        free(s->t[i].path);
        free(s->t[i].rel);
    }
    free(s->t);
    free(s->b);
    for (uint64_t k = 0; k < s->n_roots; k++)
        free(s->roots[k]);
    free(s->roots);
    free(s->root_len);
    zp_pins_release(&s->pins);
    free(s->pin_state);
    free(s->base);
    free(s->mbase);
    free(s->tbase);
    if (s->mfd >= 0)
        close(s->mfd);
    if (s->sfd >= 0)
        close(s->sfd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the lock */
    if (s->dfd >= 0)
        close(s->dfd);
}

/* The upstream as a TUF client sees it: the trusted metadata directory
 * started from the pinned root on the first sync, then refreshed over
 * libcurl; consistent snapshots required (every file has a name of its own). */
int
zp_sync_open_upstream(struct sync *s, const uint8_t *pinned, size_t pinned_len)
{
    char why[512] = "";
    int rc;

    if (faccessat(s->mfd, "root.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
        if (pinned == NULL)
            return zu_fail(s->err, s->cap, ZUPD_E_MISUSE,
                           "the first sync of %s needs the pinned root (--root ROOT.json)",
                           s->o->dir);
        rc = zupd_client_init_dir(s->mfd, pinned, pinned_len, why, sizeof(why));
        if (rc != ZUPD_OK)
            return zu_fail(s->err, s->cap, rc, "pinned root %s: %s", s->o->root_path, why);
    }
    s->uo = (struct zp_upstream_opts){.mbase = s->mbase,
                                      .mfd = s->mfd,
                                      .ca_file = s->o->ca_file,
                                      .now = s->o->now,
                                      .ctx = s->o->ctx,
                                      .what = "upstream metadata",
                                      .tag = "sync"};
    rc = zp_upstream_open(&s->uo, &s->tr, &s->c, s->err, s->cap);
    if (rc != ZUPD_OK)
        return rc;
    if (!zupd_meta_consistent_snapshot(zupd_trusted_get(zupd_client_trusted(s->c), "root")))
        return zu_fail(s->err, s->cap, ZUPD_E_FORMAT,
                       "the upstream does not use consistent snapshots");
    return ZUPD_OK;
}

/* Every target of every loaded role, once: a path listed by two roles is
 * kept as the first the sort meets (the search decides which). */
static int
collect_targets(struct sync *s)
{
    size_t w = 0;

    for (size_t i = 0; i < s->roles.n; i++) {
        struct collect cl = {s, ZUPD_OK};
        const struct zupd_meta *m = zupd_trusted_get(zupd_client_trusted(s->c), s->roles.v[i]);
        if (zupd_meta_target_foreach(m, collect_target, &cl) != 0)
            return cl.rc != ZUPD_OK ? cl.rc : ZUPD_E_NOMEM;
    }
    if (s->n_t > 1)
        qsort(s->t, s->n_t, sizeof(*s->t), cmp_tgt);
    for (size_t i = 0; i < s->n_t; i++) {
        if (w > 0 && strcmp(s->t[w - 1].path, s->t[i].path) == 0) {
            free(s->t[i].path);
            continue;
        }
        s->t[w++] = s->t[i];
    }
    s->n_t = w;
    return ZUPD_OK;
}

/* The blobs the targets name, sorted, each once. */
static void
unique_blobs(struct sync *s)
{
    size_t w = 0;

    if (s->n_b > 1)
        qsort(s->b, s->n_b, sizeof(*s->b), cmp_blob);
    for (size_t i = 0; i < s->n_b; i++)
        if (w == 0 || cmp_blob(&s->b[w - 1], &s->b[i]) != 0)
            s->b[w++] = s->b[i];
    s->n_b = w;
}

int
zp_sync(const struct zp_sync_opts *o, struct zp_sync_res *res, char *err, size_t cap)
{
    struct sync s;
    uint8_t *pinned = NULL;
    size_t pinned_len = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.res = res;
    s.err = err;
    s.cap = cap;
    s.dfd = s.mfd = s.sfd = s.lockfd = -1;
    if (err != NULL && cap > 0)
        err[0] = '\0';
    if (o->upstream == NULL || o->dir == NULL || o->upstream[0] == '\0')
        return zu_fail(err, cap, ZUPD_E_MISUSE, "sync needs an upstream URL and a directory");
    s.base =
        o->upstream[strlen(o->upstream) - 1] == '/' ? strdup(o->upstream) : cat2(o->upstream, "/");
    s.mbase = s.base != NULL ? cat2(s.base, "metadata/") : NULL;
    s.tbase = s.base != NULL ? cat2(s.base, "targets/") : NULL;
    if (s.tbase == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    if (o->root_path != NULL) {
        rc = zp_get(AT_FDCWD, o->root_path, ROOT_CAP, &pinned, &pinned_len);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "%s: %s", o->root_path, zupd_strerror(rc));
            goto out;
        }
    }
    rc = open_dirs(&s);
    if (rc == ZUPD_OK)
        rc = zp_sync_pins_load(&s); /* fails closed before anything is fetched */
    if (rc != ZUPD_OK)
        goto out;
    rc = zp_sync_meta_save(&s);
    if (rc == ZUPD_OK)
        rc = zp_sync_open_upstream(&s, pinned, pinned_len);
    if (rc != ZUPD_OK)
        goto out;
    rc = zp_sync_check_timestamp(&s);
    if (rc == ZUPD_OK)
        rc = zp_upstream_roles(s.c, &s.uo, &s.roles, s.err, s.cap);
    if (rc == ZUPD_OK)
        s.res->roles = s.roles.n;
    if (rc != ZUPD_OK)
        goto out;
    rc = collect_targets(&s);
    if (rc != ZUPD_OK)
        goto out;
    rc = sync_targets(&s);
    if (rc != ZUPD_OK)
        goto out;
    unique_blobs(&s);
    res->blobs = s.n_b;
    for (size_t i = 0; rc == ZUPD_OK && i < s.n_b; i++)
        rc = sync_blob(&s, &s.b[i]);
    if (rc == ZUPD_OK)
        rc = zp_sync_roots(&s, pinned, pinned_len);
    if (rc == ZUPD_OK) {
        rc = zp_sync_log(&s); /* the upstream's log checked before anything is written */
        if (rc != ZUPD_OK)
            zp_sync_meta_restore(&s);
    }
    if (rc == ZUPD_OK)
        rc = zp_sync_commit(&s);
    if (rc == ZUPD_OK) {
        clean_staging(&s);
        for (size_t i = 0; o->on_new_target != NULL && i < s.n_t; i++)
            if (s.t[i].staged)
                o->on_new_target(o->opaque, s.t[i].path);
        for (size_t i = 0; o->on_pin != NULL && i < s.pins.n; i++)
            o->on_pin(o->opaque, &s.pins.v[i], s.pin_state[i]);
        /* DIR serves the new state; a failed removal leaves files that
         * the next sync removes */
        if (o->keep > 0 || o->n_channels > 0)
            rc = zp_sync_sweep(&s);
    }
out:
    if (s.tr != NULL) {
        struct zupd_fetch_stats fs;

        zupd_fetch_stats_init(&fs);
        if (zupd_transport_stats(s.tr, &fs) == ZUPD_OK) {
            res->requests = fs.requests;
            res->bytes_fetched = fs.bytes;
        }
    }
    if (rc != ZUPD_OK && err != NULL && err[0] == '\0')
        zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    zp_sync_free(&s);
    free(pinned);
    return rc;
}
