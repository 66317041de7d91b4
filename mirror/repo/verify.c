/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/verify.c -- verify a repository tree exactly as a client does:
 * lib's TUF client (root walk, timestamp, snapshot, targets, delegations,
 * consistent-snapshot target names) over a transport that reads the tree's
 * files, then every manifest's blobs and deltas by hash and length. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>
#include <zupd/client.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/layout.h"
#include "repo/pins.h"
#include "repo/repo.h"
#include "repo/select.h"
#include "repo/upstream.h"

/* Blob references and target paths collected over every role: growth cap. */
#define VERIFY_LIST_MAX ((size_t)1 << 24)

#define CHUNK (1u << 20)

/* ------------------------------------------------------------ file:// transport */

static int
file_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
         struct zupd_get_res *res)
{
    uint8_t *buf = NULL;
    struct stat st;
    uint64_t off = g->offset;
    int fd, rc;

    (void)opaque;
    memset(res, 0, sizeof(*res));
    if (strncmp(g->url, "file://", 7) != 0)
        return ZUPD_E_NET;
    rc = zu_open_regular(AT_FDCWD, g->url + 7, 0, UINT64_MAX, &fd, &st, NULL, 0);
    if (rc != ZUPD_OK)
        return errno == ENOENT || errno == ENOTDIR || errno == EINVAL ? ZUPD_E_NOTFOUND
                                                                      : ZUPD_E_NET;
    if ((uint64_t)st.st_size > g->max_bytes) {
        close(fd);
        return ZUPD_E_TOOBIG;
    }
    if (off > (uint64_t)st.st_size)
        off = 0;
    res->status = off ? 206 : 200;
    res->start = off;
    res->new_conns = 1;
    rc = sink->begin(sink->opaque, off);
    buf = rc == ZUPD_OK ? malloc(CHUNK) : NULL;
    if (rc == ZUPD_OK && buf == NULL)
        rc = ZUPD_E_NOMEM;
    while (rc == ZUPD_OK) {
        ssize_t n = pread(fd, buf, CHUNK, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ZUPD_E_NET;
            break;
        }
        if (n == 0)
            break;
        rc = sink->write(sink->opaque, buf, (size_t)n);
        off += (uint64_t)n;
        res->received += (uint64_t)n;
    }
    free(buf);
    close(fd);
    return rc;
}

static void
file_free(void *opaque)
{
    (void)opaque;
}

/* ------------------------------------------------------------ blobs */

struct ref {
    uint8_t sha[32]; /* the blob */
    uint64_t size;
    int enc;             /* 0 raw, 1 zstd, 2 delta */
    uint8_t content[32]; /* for raw and zstd */
    uint64_t content_size;
    const char *manifest; /* borrowed: the paths array */
    char *file;
};

struct refs {
    struct ref *v;
    size_t n, cap;
};

static int
ref_add(struct refs *rs, const uint8_t sha[32], uint64_t size, int enc, const uint8_t *content,
        uint64_t csize, const char *manifest, const char *file)
{
    int rc = ZU_GROW(&rs->v, &rs->cap, rs->n + 1, VERIFY_LIST_MAX);

    if (rc != ZUPD_OK)
        return rc;
    memset(&rs->v[rs->n], 0, sizeof(rs->v[0]));
    memcpy(rs->v[rs->n].sha, sha, 32);
    rs->v[rs->n].size = size;
    rs->v[rs->n].enc = enc;
    if (content != NULL)
        memcpy(rs->v[rs->n].content, content, 32);
    rs->v[rs->n].content_size = csize;
    rs->v[rs->n].manifest = manifest;
    rs->v[rs->n].file = strdup(file);
    if (rs->v[rs->n].file == NULL)
        return ZUPD_E_NOMEM;
    rs->n++;
    return ZUPD_OK;
}

static int
cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = memcmp(x->sha, y->sha, 32);
    return c != 0 ? c : x->enc - y->enc;
}

/* Check one blob: its length and hash; for a full blob also the content. */
static int
check_blob(int dfd, const struct ref *b, char *err, size_t cap)
{
    char rel[128];
    struct zupd_hash *hb = NULL, *hc = NULL;
    ZSTD_DStream *ds = NULL;
    uint8_t *in = NULL, *out = NULL, dig[32];
    uint64_t got = 0, content = 0;
    struct stat st;
    size_t dl, outcap = ZSTD_DStreamOutSize();
    int fd = -1, rc = ZUPD_OK;

    zp_blob_path(rel, sizeof(rel), b->sha);
    if (zu_open_regular(dfd, rel, 0, UINT64_MAX, &fd, &st, NULL, 0) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND, "%s: missing (named by '%s' for '%s')", rel,
                     b->manifest, b->file);
        goto out;
    }
    if ((uint64_t)st.st_size != b->size) {
        rc = zu_fail(err, cap, ZUPD_E_LENGTH,
                     "%s: %llu bytes, the manifest says %llu (named by '%s' for '%s')", rel,
                     (unsigned long long)st.st_size, (unsigned long long)b->size, b->manifest,
                     b->file);
        goto out;
    }
    hb = zupd_hash_new(ZUPD_HASH_SHA256);
    hc = zupd_hash_new(ZUPD_HASH_SHA256);
    in = malloc(CHUNK);
    out = malloc(outcap);
    ds = b->enc == 1 ? ZSTD_createDStream() : NULL;
    if (hb == NULL || hc == NULL || in == NULL || out == NULL || (b->enc == 1 && ds == NULL)) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, in, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = zu_fail(err, cap, ZUPD_E_IO, "%s: %s", rel, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (uint64_t)n;
        rc = zupd_hash_update(hb, in, (size_t)n);
        if (rc == ZUPD_OK && b->enc == 0)
            rc = zupd_hash_update(hc, in, (size_t)n);
        if (rc == ZUPD_OK && b->enc == 1) {
            ZSTD_inBuffer zi = {in, (size_t)n, 0};
            while (rc == ZUPD_OK && zi.pos < zi.size) {
                ZSTD_outBuffer zo = {out, outcap, 0};
                size_t z = ZSTD_decompressStream(ds, &zo, &zi);
                if (ZSTD_isError(z)) {
                    rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: bad zstd data: %s", rel,
                                 ZSTD_getErrorName(z));
                    goto out;
                }
                content += zo.pos;
                if (content > b->content_size) {
                    rc =
                        zu_fail(err, cap, ZUPD_E_LENGTH, "%s: decompresses to more than %llu bytes",
                                rel, (unsigned long long)b->content_size);
                    goto out;
                }
                rc = zupd_hash_update(hc, out, zo.pos);
            }
        }
        if (rc != ZUPD_OK)
            goto out;
    }
    if (b->enc == 0)
        content = got;
    rc = zupd_hash_final(hb, dig, sizeof(dig), &dl);
    if (rc == ZUPD_OK && memcmp(dig, b->sha, 32) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_HASH,
                     "%s: sha256 differs from its name (named by '%s' for '%s')", rel, b->manifest,
                     b->file);
        goto out;
    }
    if (rc == ZUPD_OK && b->enc != 2) {
        rc = zupd_hash_final(hc, dig, sizeof(dig), &dl);
        if (rc == ZUPD_OK && (content != b->content_size || memcmp(dig, b->content, 32) != 0))
            rc = zu_fail(err, cap, ZUPD_E_HASH,
                         "%s: content is not '%s' of '%s' (size or sha256 differ)", rel, b->file,
                         b->manifest);
    }
out:
    if (fd >= 0)
        close(fd);
    ZSTD_freeDStream(ds);
    zupd_hash_free(hb);
    zupd_hash_free(hc);
    free(in);
    free(out);
    return rc;
}

/* ------------------------------------------------------------ verify */

struct paths {
    char **v;
    size_t n, cap;
};

static int
collect_path(void *opaque, const char *path, const struct zupd_target *t)
{
    struct paths *p = opaque;

    (void)t;
    if (ZU_GROW(&p->v, &p->cap, p->n + 1, VERIFY_LIST_MAX) != ZUPD_OK)
        return 1;
    p->v[p->n] = strdup(path);
    if (p->v[p->n] == NULL)
        return 1;
    p->n++;
    return 0;
}

static int
make_tmpdir(char *out, size_t cap)
{
    const char *t = getenv("TMPDIR");

    if ((size_t)snprintf(out, cap, "%s/zupd-verify.XXXXXX", t != NULL && *t ? t : "/tmp") >= cap)
        return ZUPD_E_TOOBIG;
    return mkdtemp(out) != NULL ? ZUPD_OK : ZUPD_E_IO;
}

static void
rm_tmpdir(const char *dir)
{
    static const char *const names[] = {"root.json",    "timestamp.json", "snapshot.json",
                                        "targets.json", "products.json",  "avdb.json"};
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        for (size_t i = 0; i < ZU_ARRAY_LEN(names); i++)
            (void)unlinkat(fd, names[i], 0);
        close(fd);
    }
    (void)rmdir(dir);
}

static int
check_target(struct zupd_client *c, int dfd, const char *tbase, const char *path, struct refs *refs,
             unsigned flags, struct zp_verify_res *res, char *err, size_t cap)
{
    struct zupd_target t;
    char role[ZUPD_ROLE_NAME_MAX], why[512] = "";
    const char *urls[1] = {tbase};
    uint8_t *buf = NULL;
    size_t len = 0, plen = strlen(path);
    int rc;

    (void)dfd;
    rc = zupd_client_find_target(c, path, &t, role, sizeof(role), why, sizeof(why));
    if (rc == ZUPD_OK)
        rc = zupd_client_fetch_target(c, path, &t, urls, 1, ZP_META_CAP, &buf, &len, why,
                                      sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "targets/%s: %s", path, why);
    res->targets++;
    if (plen > 14 && strcmp(path + plen - 14, "/manifest.json") == 0) {
        struct zupd_manifest *m = NULL;
        rc = zupd_manifest_parse(buf, len, NULL, &m, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "targets/%s: %s", path, why);
        } else if (strncmp(path, m->role, strlen(m->role)) != 0 || path[strlen(m->role)] != '/') {
            /* the delegations (checked by the client) tie the path's first
             * segment to its role; the manifest must say the same */
            rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                         "targets/%s: manifest of role '%s' under another role's path (signed "
                         "by '%s')",
                         path, m->role, role);
        } else {
            res->manifests++;
            for (size_t i = 0; rc == ZUPD_OK && i < m->n_files; i++) {
                const struct zupd_file_entry *f = &m->files[i];
                rc = ref_add(refs, f->blob_sha256, f->blob_size,
                             f->blob_encoding == ZUPD_ENC_ZSTD ? 1 : 0, f->sha256, f->size, path,
                             f->path);
                for (size_t d = 0; rc == ZUPD_OK && d < f->n_deltas; d++)
                    rc = ref_add(refs, f->deltas[d].sha256, f->deltas[d].size, 2, NULL, 0, path,
                                 f->path);
            }
        }
        zupd_manifest_free(m);
    } else if (strstr(path, "/channels/") != NULL) {
        struct zupd_channel *ch = NULL;
        rc = zupd_channel_parse(buf, len, &ch);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "targets/%s: not a channel pointer", path);
        } else if ((flags & ZP_VERIFY_POLICY) == 0) {
            char mpath[ZUPD_ROLE_NAME_MAX + 2 * ZUPD_NAME_MAX + 64];
            struct zupd_target mt;
            snprintf(mpath, sizeof(mpath), "%.*s/%s/%s/manifest.json", (int)strcspn(path, "/"),
                     path, ch->component, ch->version);
            rc = zupd_client_find_target(c, mpath, &mt, NULL, 0, why, sizeof(why));
            if (rc != ZUPD_OK)
                zu_fail(err, cap, rc, "targets/%s: points at version %s, which is not published",
                        path, ch->version);
        }
        zupd_channel_free(ch);
    }
    free(buf);
    return rc;
}

/* The targets of every role a client reaches (repo/upstream.c's walk), and
 * how many roles there are with root, snapshot and timestamp. */
static int
collect_roles(struct zupd_client *c, struct paths *paths, struct zp_verify_res *res, char *err,
              size_t cap)
{
    const struct zp_upstream_opts uo = {.what = "metadata/", .tag = "verify"};
    const struct zupd_trusted *ts = zupd_client_trusted(c);
    struct zp_roles roles = {0};
    int rc = zp_upstream_roles(c, &uo, &roles, err, cap);

    for (size_t i = 0; rc == ZUPD_OK && i < roles.n; i++)
        if (zupd_meta_target_foreach(zupd_trusted_get(ts, roles.v[i]), collect_path, paths) != 0)
            rc = ZUPD_E_NOMEM;
    res->roles = 3 + roles.n;
    zp_roles_free(&roles);
    return rc;
}

/* Each distinct blob the targets name, hashed once. */
static int
check_blobs(int dfd, struct refs *refs, struct zp_verify_res *res, char *err, size_t cap)
{
    int rc = ZUPD_OK;

    if (refs->n > 1)
        qsort(refs->v, refs->n, sizeof(*refs->v), cmp_ref);
    for (size_t i = 0; rc == ZUPD_OK && i < refs->n; i++) {
        if (i > 0 && cmp_ref(&refs->v[i - 1], &refs->v[i]) == 0 &&
            refs->v[i - 1].size == refs->v[i].size &&
            memcmp(refs->v[i - 1].content, refs->v[i].content, 32) == 0)
            continue; /* the same blob, already checked */
        rc = check_blob(dfd, &refs->v[i], err, cap);
        if (rc == ZUPD_OK) {
            res->blobs++;
            res->blob_bytes += refs->v[i].size;
        }
    }
    return rc;
}

/* Can the tree serve the release pin names? The vendor signs its manifest
 * (found through the delegations), the tree holds it (in its selection,
 * when filtered) with the signed length and hashes, and every full blob it
 * names, checked as check_blob does. Reported through p->on_pin. */
static void
check_pin(struct zupd_client *c, int dfd, const char *tbase, const struct zp_pin_ref *pin,
          const struct zp_sel_set *sel, const struct zp_verify_pins *p, struct zp_verify_res *res)
{
    struct zp_verify_res scratch = {0};
    struct refs refs = {0};
    struct zupd_target t;
    char why[1024] = "";
    int rc;

    rc = zupd_client_find_target(c, pin->manifest, &t, NULL, 0, why, sizeof(why));
    if (rc == ZUPD_E_NOTFOUND)
        zu_say(why, sizeof(why), "the vendor's metadata lists no release %s of '%s'", pin->version,
               pin->component);
    else if (rc == ZUPD_OK && sel != NULL && !zp_sel_set_has(sel, pin->manifest))
        rc = zu_fail(why, sizeof(why), ZUPD_E_NOTFOUND,
                     "not mirrored (the selection of zupd-mirror sync dropped it)");
    if (rc == ZUPD_OK)
        rc = check_target(c, dfd, tbase, pin->manifest, &refs, 0, &scratch, why, sizeof(why));
    for (size_t i = 0; rc == ZUPD_OK && i < refs.n; i++)
        if (refs.v[i].enc != 2)
            rc = check_blob(dfd, &refs.v[i], why, sizeof(why));
    res->pins++;
    if (rc != ZUPD_OK)
        res->pins_unservable++;
    if (p->on_pin != NULL)
        p->on_pin(p->opaque, pin->pointer, pin->manifest, rc, why);
    for (size_t i = 0; i < refs.n; i++)
        free(refs.v[i].file);
    free(refs.v);
}

/* A client reading the tree at dfd as an endpoint would, trusting
 * root_path (else the tree's 1.root.json), its state in a temporary
 * directory. */
struct vclient {
    char tmp[PATH_MAX];
    bool have_tmp;
    int mfd;
    struct zupd_transport *tr;
    struct zupd_client *c;
};

static int
open_client(struct vclient *v, int dfd, const char *root_path, const char *mbase, int64_t now,
            char *err, size_t cap)
{
    const char *rname = root_path != NULL ? root_path : "metadata/1.root.json";
    struct zupd_transport_ops ops;
    struct zupd_client_opts o;
    const char *mb[1] = {mbase};
    char why[512] = "";
    uint8_t *root = NULL;
    size_t rlen = 0;
    int rc = zp_get(root_path != NULL ? AT_FDCWD : dfd, rname, 512u << 10, &root, &rlen);

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s: %s", rname, zupd_strerror(rc));
    rc = make_tmpdir(v->tmp, sizeof(v->tmp));
    if (rc != ZUPD_OK) {
        free(root);
        return zu_fail(err, cap, rc, "cannot make a temporary directory");
    }
    v->have_tmp = true;
    v->mfd = open(v->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = v->mfd < 0 ? ZUPD_E_IO : zupd_client_init_dir(v->mfd, root, rlen, why, sizeof(why));
    free(root);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s: %s", rname, why);
    zupd_transport_ops_init(&ops);
    ops.get = file_get;
    ops.free = file_free;
    rc = zupd_transport_new(&ops, NULL, &v->tr);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    zupd_client_opts_init(&o);
    o.metadata_urls = mb;
    o.n_metadata_urls = 1;
    o.metadata_dirfd = v->mfd;
    o.transport = v->tr;
    o.now = now;
    rc = zupd_client_new(&o, &v->c, why, sizeof(why));
    if (rc == ZUPD_OK)
        rc = zupd_client_refresh(v->c, NULL, why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "metadata/: %s", why);
    return ZUPD_OK;
}

static void
close_client(struct vclient *v)
{
    zupd_client_free(v->c);
    zupd_transport_free(v->tr);
    if (v->mfd >= 0)
        close(v->mfd);
    if (v->have_tmp)
        rm_tmpdir(v->tmp);
}

int
zp_verify(const char *dir, const char *root_path, int64_t now, unsigned flags,
          struct zp_verify_res *res, char *err, size_t cap)
{
    return zp_verify_with_pins(dir, root_path, now, flags, NULL, res, err, cap);
}

int
zp_verify_with_pins(const char *dir, const char *root_path, int64_t now, unsigned flags,
                    const struct zp_verify_pins *pins, struct zp_verify_res *res, char *err,
                    size_t cap)
{
    struct zp_pins pv = {0};
    struct vclient vc = {.mfd = -1};
    char real[PATH_MAX], mbase[PATH_MAX + 32], tbase[PATH_MAX + 32];
    struct paths paths = {0};
    struct refs refs = {0};
    struct zp_sel_set sel = {0};
    bool have_sel = false;
    int dfd = -1, rc;

    memset(res, 0, sizeof(*res));
    if (realpath(dir, real) == NULL)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "%s: %s", dir, strerror(errno));
    snprintf(mbase, sizeof(mbase), "file://%s/metadata/", real);
    snprintf(tbase, sizeof(tbase), "file://%s/targets/", real);
    dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_fail(err, cap, ZUPD_E_IO, "%s: %s", dir, strerror(errno));
    rc = open_client(&vc, dfd, root_path, mbase, now, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = collect_roles(vc.c, &paths, res, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    /* a filtered mirror (zupd-mirror sync --component/--channel/--keep)
     * holds the targets its selection lists; the others it does not serve */
    rc = zp_sel_set_load(dfd, &sel);
    if (rc == ZUPD_OK) {
        have_sel = true;
    } else if (rc != ZUPD_E_NOTFOUND) {
        zu_fail(err, cap, rc, "%s: %s", ZP_SYNC_SELECTION, zupd_strerror(rc));
        goto out;
    }
    rc = ZUPD_OK;
    if (pins != NULL) {
        struct zp_pins_opts po = {.source = pins->policy,
                                  .root_path = pins->policy_root,
                                  .state_dirfd = -1,
                                  .ca_file = pins->ca_file,
                                  .now = now};
        rc = zp_pins_load(&po, &pv, err, cap);
        for (size_t i = 0; rc == ZUPD_OK && i < pv.n; i++)
            check_pin(vc.c, dfd, tbase, &pv.v[i], have_sel ? &sel : NULL, pins, res);
        if (rc != ZUPD_OK)
            goto out;
    }
    for (size_t i = 0; rc == ZUPD_OK && i < paths.n; i++) {
        if (have_sel && !zp_sel_set_has(&sel, paths.v[i])) {
            res->not_mirrored++;
            continue;
        }
        rc = check_target(vc.c, dfd, tbase, paths.v[i], &refs, flags, res, err, cap);
    }
    if (rc != ZUPD_OK)
        goto out;
    rc = check_blobs(dfd, &refs, res, err, cap);
    if (rc == ZUPD_OK && res->pins_unservable > 0)
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                     "%zu of the %zu pins of the policy repository '%s' name releases this tree "
                     "cannot serve",
                     res->pins_unservable, res->pins, pins->policy);
out:
    zp_pins_release(&pv);
    zp_sel_set_release(&sel);
    close_client(&vc);
    if (dfd >= 0)
        close(dfd);
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    for (size_t i = 0; i < refs.n; i++)
        free(refs.v[i].file);
    free(refs.v);
    return rc;
}
