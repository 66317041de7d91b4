/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/audit.c -- zupd-mirror audit (mirror/repo/audit.h): the checks
 * of a staged release against the auditor's rebuild, its provenance, its
 * deltas, the change since the metadata the auditor signed last and the
 * channel's version; then the signature and the signed audit record. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>
#include <zupd/delta.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>
#include <zupd/meta.h>
#include <zupd/trusted.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "repo/audit.h"
#include "repo/layout.h"

#define RELEASE_CAP (1u << 20)
#define LIST_CAP (1u << 20)
#define WALK_DEPTH_MAX 64
#define WALK_FILES_MAX 1000000
#define CONTENT_MAX ((uint64_t)1 << 32) /* a file whose delta is replayed, in memory */

struct rfile {
    char *path;
    uint32_t mode;
    uint64_t size;
    uint8_t sha[32];
};

struct audit {
    const struct zp_audit_src *src;
    const struct zp_audit_opts *o;
    struct zu_buf *rep;
    struct zp_audit_res *res;
    const char *role;
    struct zupd_meta *staged, *last;
    struct rfile *files;
    size_t n_files, cap_files;
};

static void ZU_PRINTF(3, 4) check(struct audit *a, bool ok, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    a->res->checks++;
    if (!ok)
        a->res->failed++;
    /* a report that cannot hold the line (out of memory) signs nothing */
    if (zu_buf_addf(a->rep, "%s %s\n", ok ? "ok  " : "FAIL", line) != ZUPD_OK && ok)
        a->res->failed++;
}

static void
hex32(char out[65], const uint8_t h[32])
{
    zupd_hex_encode(out, 65, h, 32);
}

/* ------------------------------------------------------------ the rebuild */

static int
walk(struct audit *a, int dfd, const char *rel, unsigned depth, char *err, size_t cap)
{
    DIR *d;
    struct dirent *de;
    int rc = ZUPD_OK;

    if (depth > WALK_DEPTH_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "rebuild '%s' is nested too deep", rel);
    d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return zu_fail(err, cap, ZUPD_E_IO, "cannot read rebuild '%s'", rel);
    }
    while (rc == ZUPD_OK && (de = readdir(d)) != NULL) {
        char path[ZUPD_PATH_MAX + 1];
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
            sizeof(path))
            return zu_fail(err, cap, ZUPD_E_TOOBIG, "rebuild path too long");
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = zu_fail(err, cap, ZUPD_E_IO, "cannot stat rebuild '%s'", path);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = fd < 0 ? zu_fail(err, cap, ZUPD_E_IO, "cannot open rebuild '%s'", path)
                        : walk(a, fd, path, depth + 1, err, cap);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            check(a, false, "rebuild file '%s' is not a regular file", path);
            continue;
        }
        rc = ZU_GROW(&a->files, &a->cap_files, a->n_files + 1, WALK_FILES_MAX);
        if (rc != ZUPD_OK)
            break;
        {
            struct rfile *f = &a->files[a->n_files];
            struct zu_map m;
            size_t hl;
            memset(f, 0, sizeof(*f));
            rc = zu_map_file(dirfd(d), de->d_name, 0, &m);
            if (rc == ZUPD_OK)
                rc = zupd_hash_buf(ZUPD_HASH_SHA256, m.p, m.len, f->sha, 32, &hl);
            f->size = m.len;
            zu_unmap(&m);
            f->path = strdup(path);
            if (rc != ZUPD_OK || f->path == NULL) {
                free(f->path);
                rc = zu_fail(err, cap, rc != ZUPD_OK ? rc : ZUPD_E_NOMEM,
                             "cannot read rebuild '%s'", path);
                break;
            }
            f->mode = (uint32_t)st.st_mode & 0777;
            a->n_files++;
        }
    }
    closedir(d);
    return rc;
}

static int
cmp_rfile(const void *x, const void *y)
{
    return strcmp(((const struct rfile *)x)->path, ((const struct rfile *)y)->path);
}

static const struct rfile *
rebuild_find(const struct audit *a, const char *path)
{
    struct rfile key = {.path = (char *)(uintptr_t)path};

    return a->n_files == 0 ? NULL
                           : bsearch(&key, a->files, a->n_files, sizeof(*a->files), cmp_rfile);
}

static void
check_rebuild(struct audit *a, const struct zupd_manifest *m)
{
    size_t bad = 0;

    for (size_t i = 0; i < m->n_files; i++) {
        const struct zupd_file_entry *e = &m->files[i];
        const struct rfile *f = rebuild_find(a, e->path);
        char h1[65], h2[65];

        if (f == NULL) {
            check(a, false, "manifest file '%s' is not in the rebuild", e->path);
            bad++;
            continue;
        }
        if (f->size != e->size || memcmp(f->sha, e->sha256, 32) != 0) {
            hex32(h1, e->sha256);
            hex32(h2, f->sha);
            check(a, false,
                  "file '%s' differs from the rebuild: manifest %llu bytes sha256 %.16s..., "
                  "rebuild %llu bytes sha256 %.16s...",
                  e->path, (unsigned long long)e->size, h1, (unsigned long long)f->size, h2);
            bad++;
        }
        if (f->mode != e->mode) {
            check(a, false, "file '%s': mode %03o in the manifest, %03o in the rebuild", e->path,
                  (unsigned)e->mode, (unsigned)f->mode);
            bad++;
        }
    }
    for (size_t i = 0; i < a->n_files; i++)
        if (zupd_manifest_find(m, a->files[i].path) == NULL) {
            check(a, false, "rebuild file '%s' is not in the manifest", a->files[i].path);
            bad++;
        }
    if (bad == 0)
        check(a, true, "%zu files match the rebuild byte for byte (sha256, size, mode, path set)",
              m->n_files);
}

/* ------------------------------------------------------------ reading the tree */

/* The content of target path as doc lists it, checked against its length
 * and hashes. */
static int
get_target(struct audit *a, const struct zupd_meta *doc, const char *path, uint8_t **out,
           size_t *len)
{
    struct zupd_target t;
    char hex[65], rel[4200];
    int rc;

    *out = NULL;
    *len = 0;
    rc = zupd_meta_target(doc, path, &t);
    if (rc != ZUPD_OK || !t.hashes.has_sha256)
        return ZUPD_E_NOTFOUND;
    hex32(hex, t.hashes.sha256);
    rc = zp_target_file(rel, sizeof(rel), path, hex);
    if (rc == ZUPD_OK)
        rc = a->src->get(a->src->opaque, rel,
                         (size_t)(t.length < ZP_META_CAP ? t.length : ZP_META_CAP), out, len);
    if (rc == ZUPD_OK)
        rc = zupd_check_length_hashes(*out, *len, true, t.length, &t.hashes);
    if (rc != ZUPD_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}

static int
get_manifest(struct audit *a, const struct zupd_meta *doc, const char *path,
             struct zupd_manifest **m, uint8_t sha[32])
{
    uint8_t *buf = NULL;
    size_t len = 0, hl;
    int rc = get_target(a, doc, path, &buf, &len);

    *m = NULL;
    if (rc == ZUPD_OK && sha != NULL)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, buf, len, sha, 32, &hl);
    if (rc == ZUPD_OK)
        rc = zupd_manifest_parse(buf, len, NULL, m, NULL, 0);
    free(buf);
    return rc;
}

/* A blob of the tree: its sha256 and size checked, zstd decoded to size. */
static int
get_blob(struct audit *a, const uint8_t sha[32], uint64_t blob_size, bool zstd, uint64_t size,
         uint8_t **out)
{
    char rel[128];
    uint8_t *blob = NULL, *raw = NULL, h[32];
    size_t len = 0, hl;
    int rc;

    *out = NULL;
    if (blob_size > CONTENT_MAX || size > CONTENT_MAX)
        return ZUPD_E_TOOBIG;
    zp_blob_path(rel, sizeof(rel), sha);
    rc = a->src->get(a->src->opaque, rel, (size_t)blob_size, &blob, &len);
    if (rc == ZUPD_OK && len != blob_size)
        rc = ZUPD_E_LENGTH;
    if (rc == ZUPD_OK)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, blob, len, h, 32, &hl);
    if (rc == ZUPD_OK && memcmp(h, sha, 32) != 0)
        rc = ZUPD_E_HASH;
    if (rc == ZUPD_OK && !zstd) {
        *out = blob;
        return ZUPD_OK;
    }
    if (rc == ZUPD_OK) {
        raw = malloc((size_t)size + 1);
        if (raw == NULL) {
            rc = ZUPD_E_NOMEM;
        } else {
            size_t n = ZSTD_decompress(raw, (size_t)size, blob, len);
            if (ZSTD_isError(n) || n != size)
                rc = ZUPD_E_FORMAT;
        }
    }
    free(blob);
    if (rc == ZUPD_OK)
        *out = raw;
    else
        free(raw);
    return rc;
}

/* ------------------------------------------------------------ deltas */

struct old_find {
    struct audit *a;
    const char *prefix; /* "<role>/<component>/" */
    size_t plen;
    const char *skip; /* the new release's manifest */
    const uint8_t *want;
    struct zupd_file_entry hit;
    bool found;
};

static int
find_old(void *opaque, const char *path, const struct zupd_target *t)
{
    struct old_find *f = opaque;
    struct zupd_manifest *m = NULL;
    size_t n = strlen(path);

    (void)t;
    if (strncmp(path, f->prefix, f->plen) != 0 || strcmp(path, f->skip) == 0 || n < 14 ||
        strcmp(path + n - 14, "/manifest.json") != 0)
        return 0;
    if (get_manifest(f->a, f->a->staged, path, &m, NULL) != ZUPD_OK)
        return 0;
    for (size_t i = 0; i < m->n_files; i++)
        if (memcmp(m->files[i].sha256, f->want, 32) == 0) {
            f->hit = m->files[i];
            f->hit.path = NULL;
            f->hit.deltas = NULL;
            f->hit.n_deltas = 0;
            f->found = true;
            break;
        }
    zupd_manifest_free(m);
    return f->found ? 1 : 0;
}

struct hash_sink {
    struct zupd_hash *h;
    uint64_t n;
};

static int
sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct hash_sink *s = opaque;

    s->n += len;
    return zupd_hash_update(s->h, buf, len);
}

static void
check_deltas(struct audit *a, const struct zupd_manifest *m, const char *mpath)
{
    char prefix[512];
    size_t n = 0, bad = 0;

    snprintf(prefix, sizeof(prefix), "%s/%s/", a->role, m->component);
    for (size_t i = 0; i < m->n_files; i++) {
        const struct zupd_file_entry *e = &m->files[i];
        for (size_t d = 0; d < e->n_deltas; d++) {
            const struct zupd_delta_ref *r = &e->deltas[d];
            struct old_find f = {.a = a,
                                 .prefix = prefix,
                                 .plen = strlen(prefix),
                                 .skip = mpath,
                                 .want = r->from_sha256};
            uint8_t *old = NULL, *patch = NULL, got[32];
            struct hash_sink hs = {0};
            struct zupd_delta_sink sink = {&hs, sink_write};
            size_t hl;
            char from[65];
            int rc;

            n++;
            hex32(from, r->from_sha256);
            (void)zupd_meta_target_foreach(a->staged, find_old, &f);
            if (!f.found) {
                check(a, false, "delta of '%s' from %.16s...: no earlier release has that content",
                      e->path, from);
                bad++;
                continue;
            }
            rc = get_blob(a, f.hit.blob_sha256, f.hit.blob_size,
                          f.hit.blob_encoding == ZUPD_ENC_ZSTD, f.hit.size, &old);
            if (rc == ZUPD_OK)
                rc = get_blob(a, r->sha256, r->size, false, r->size, &patch);
            hs.h = rc == ZUPD_OK ? zupd_hash_new(ZUPD_HASH_SHA256) : NULL;
            if (rc == ZUPD_OK && hs.h == NULL)
                rc = ZUPD_E_NOMEM;
            if (rc == ZUPD_OK)
                rc = zupd_delta_apply(old, (size_t)f.hit.size, patch, (size_t)r->size, e->size,
                                      &sink, NULL);
            if (rc == ZUPD_OK)
                rc = zupd_hash_final(hs.h, got, sizeof(got), &hl);
            if (rc == ZUPD_OK && (hs.n != e->size || memcmp(got, e->sha256, 32) != 0))
                rc = ZUPD_E_HASH;
            if (rc != ZUPD_OK) {
                check(a, false,
                      "delta (%s) of '%s' from %.16s... does not reproduce the new content: %s",
                      r->method, e->path, from, zupd_strerror(rc));
                bad++;
            }
            zupd_hash_free(hs.h);
            free(old);
            free(patch);
        }
    }
    if (bad == 0)
        check(a, true, "%zu delta(s) reproduce the new content from the old (applied, sha256)", n);
}

/* ------------------------------------------------------------ provenance */

/* Is s a line of the allow-list file path? */
static int
listed(const char *path, const char *s, bool *yes)
{
    char d[4096], b[4096];
    uint8_t *buf = NULL;
    size_t len = 0, sl = strlen(s);
    int dfd, rc;

    *yes = false;
    snprintf(d, sizeof(d), "%s", path);
    snprintf(b, sizeof(b), "%s", path);
    dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_read_file(dfd, basename(b), ZU_READ_FOLLOW, LIST_CAP, &buf, &len, NULL, 0);
    close(dfd);
    if (rc != ZUPD_OK)
        return rc;
    for (char *line = (char *)buf; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        size_t ll = nl != NULL ? (size_t)(nl - line) : strlen(line);
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            ll--;
        if (line[0] != '#' && ll == sl && memcmp(line, s, sl) == 0)
            *yes = true;
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(buf);
    return ZUPD_OK;
}

static void
check_provenance_one(struct audit *a, const char *what, const char *value, const char *list)
{
    bool yes = false;
    int rc;

    if (value == NULL || value[0] == '\0') {
        check(a, false, "the manifest names no %s", what);
        return;
    }
    if (list == NULL) {
        check(a, true, "%s '%s' is named (no allow-list given)", what, value);
        return;
    }
    rc = listed(list, value, &yes);
    if (rc != ZUPD_OK)
        check(a, false, "cannot read the %s allow-list '%s': %s", what, list, zupd_strerror(rc));
    else
        check(a, yes, "%s '%s' %s the allow-list '%s'", what, value, yes ? "is on" : "is NOT on",
              list);
}

/* ------------------------------------------------------------ the change */

struct diff {
    const struct zupd_meta *other;
    const char *const *expected;
    size_t n_expected;
    struct audit *a;
    const char *side; /* "added" (walking staged) or "removed" (walking last) */
    size_t bad;
};

static int
diff_one(void *opaque, const char *path, const struct zupd_target *t)
{
    struct diff *df = opaque;
    struct zupd_target o;
    bool in_other = zupd_meta_target(df->other, path, &o) == ZUPD_OK;
    bool same = in_other && o.length == t->length && o.hashes.has_sha256 == t->hashes.has_sha256 &&
                memcmp(o.hashes.sha256, t->hashes.sha256, 32) == 0;

    if (same)
        return 0;
    for (size_t i = 0; i < df->n_expected; i++)
        if (strcmp(df->expected[i], path) == 0)
            return 0;
    if (in_other && strcmp(df->side, "removed") == 0)
        return 0; /* changed: reported once, from the staged side */
    check(df->a, false, "target '%s' %s outside the release", path,
          !in_other ? df->side : "changed");
    df->bad++;
    return 0;
}

/* The staged targets differ from the last signed ones by exactly the
 * release: its manifest (new) and its channel pointer. */
static void
check_change(struct audit *a, const char *const *expected, size_t n_expected)
{
    struct diff add = {a->last, expected, n_expected, a, "added", 0};
    struct diff rem = {a->staged, expected, n_expected, a, "removed", 0};

    (void)zupd_meta_target_foreach(a->staged, diff_one, &add);
    (void)zupd_meta_target_foreach(a->last, diff_one, &rem);
    if (add.bad + rem.bad == 0)
        check(a, true, "the change from '%s' version %llu is exactly the release (%zu target(s))",
              a->role, (unsigned long long)zupd_meta_version(a->last), n_expected);
}

/* The signed part without what a release changes (version, expiry,
 * targets): delegations, key names, spec version... must stay as signed. */
static json_t *
rest_of(const struct zupd_meta *m)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    json_t *j = NULL;

    if (zupd_meta_signed_bytes(m, &msg, &len) == ZUPD_OK)
        j = json_loadb((const char *)msg, len, 0, NULL);
    free(msg);
    if (j != NULL) {
        (void)json_object_del(j, "version");
        (void)json_object_del(j, "expires");
        (void)json_object_del(j, "targets");
    }
    return j;
}

static void
check_rest(struct audit *a)
{
    json_t *x = rest_of(a->staged), *y = rest_of(a->last);
    const char *k;
    json_t *v;
    size_t bad = 0;

    if (x == NULL || y == NULL) {
        check(a, false, "cannot compare the rest of the '%s' metadata", a->role);
        bad++;
    }
    json_object_foreach (x, k, v) {
        if (!json_equal(v, json_object_get(y, k))) {
            check(a, false, "'%s' changes '%s' (only targets, version and expiry may change)",
                  a->role, k);
            bad++;
        }
    }
    json_object_foreach (y, k, v) {
        if (json_object_get(x, k) == NULL) {
            check(a, false, "'%s' drops '%s'", a->role, k);
            bad++;
        }
    }
    if (bad == 0)
        check(a, true, "'%s' changes nothing but its targets, version and expiry", a->role);
    json_decref(x);
    json_decref(y);
}

static void
check_version(struct audit *a, const struct zupd_manifest *m, const char *channel)
{
    char path[512];
    uint8_t *buf = NULL;
    size_t len = 0;
    struct zupd_channel *old = NULL, *now = NULL;

    if (zupd_meta_version(a->staged) <= zupd_meta_version(a->last))
        check(a, false, "'%s' version %llu is not newer than version %llu, signed last", a->role,
              (unsigned long long)zupd_meta_version(a->staged),
              (unsigned long long)zupd_meta_version(a->last));
    if (channel == NULL) {
        check(a, true, "release %s moves no channel", m->version);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", a->role, m->component, channel);
    if (get_target(a, a->staged, path, &buf, &len) != ZUPD_OK ||
        zupd_channel_parse(buf, len, &now) != ZUPD_OK || strcmp(now->version, m->version) != 0) {
        check(a, false, "channel '%s' of the staged change does not point at %s", channel,
              m->version);
        goto out;
    }
    free(buf);
    buf = NULL;
    if (get_target(a, a->last, path, &buf, &len) != ZUPD_OK ||
        zupd_channel_parse(buf, len, &old) != ZUPD_OK) {
        check(a, true, "channel '%s' is new: it starts at %s", channel, m->version);
        goto out;
    }
    if (zupd_version_cmp(m->version, old->version) > 0)
        check(a, true, "version %s is newer than %s, channel '%s' had", m->version, old->version,
              channel);
    else if (now->rollback && zupd_version_cmp(m->version, old->version) < 0)
        check(a, true, "version %s is older than %s on channel '%s': a rollback the vendor marked",
              m->version, old->version, channel);
    else
        check(a, false,
              "version %s is not newer than %s, channel '%s' had (and no rollback is "
              "marked)",
              m->version, old->version, channel);
out:
    free(buf);
    zupd_channel_free(old);
    zupd_channel_free(now);
}

/* ------------------------------------------------------------ signing */

static int
write_out(const char *dir, const char *name, const char *text, char *path, size_t pcap)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_atomic_write(dfd, name, text, strlen(text), 0644);
    close(dfd);
    snprintf(path, pcap, "%s/%s", dir, name);
    return rc;
}

static char *
dumps(json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

    json_decref(j);
    return s;
}

static int
sign_and_record(struct audit *a, const struct zupd_manifest *m, const uint8_t msha[32],
                json_t *checks, char *err, size_t cap)
{
    struct zp_keyinfo k;
    struct zp_signer *s = NULL;
    uint8_t *msg = NULL, *rmsg = NULL, *full = NULL, h[32];
    size_t mlen = 0, rlen = 0, flen = 0, hl;
    char kdir[4096], kbase[4096], *dot, sig[ZP_SIG_HEX_LEN + 1], rsig[ZP_SIG_HEX_LEN + 1];
    char hx[65], mhx[65], when[32], name[128];
    unsigned long long v = (unsigned long long)zupd_meta_version(a->staged);
    json_t *rec = NULL;
    char *text = NULL;
    int rc;

    snprintf(kdir, sizeof(kdir), "%s", a->o->key_path);
    snprintf(kbase, sizeof(kbase), "%s", a->o->key_path);
    dot = strrchr(basename(kbase), '.');
    if (dot == NULL || strcmp(dot, ".key") != 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "'%s': a key file is named NAME.key",
                       a->o->key_path);
    *dot = '\0';
    rc = zp_key_by_name(dirname(kdir), basename(kbase), &k);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read key '%s': %s", a->o->key_path, zupd_strerror(rc));
    rc = zp_key_unlock(&k, a->o->pass, &s, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_meta_signed_bytes(a->staged, &msg, &mlen);
    if (rc == ZUPD_OK)
        rc = zp_signer_sign(s, msg, mlen, sig, sizeof(sig));
    if (rc == ZUPD_OK)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, msg, mlen, h, 32, &hl);
    if (rc == ZUPD_OK)
        rc = zupd_time_format(a->o->now, when, sizeof(when));
    if (rc != ZUPD_OK)
        goto out;
    hex32(hx, h);
    hex32(mhx, msha);
    /* the signature */
    text = dumps(json_pack("{s:i,s:s,s:I,s:s,s:s,s:s}", "zupd_signature", 1, "role", a->role,
                           "version", (json_int_t)v, "signed_sha256", hx, "keyid",
                           zp_signer_keyid(s), "sig", sig));
    snprintf(name, sizeof(name), "%llu.%s.sig.json", v, a->role);
    rc = text != NULL
             ? write_out(a->o->out_dir, name, text, a->res->sig_path, sizeof(a->res->sig_path))
             : ZUPD_E_NOMEM;
    free(text);
    text = NULL;
    /* the audit record: who checked what, when, against which revision */
    rec = json_pack("{s:i,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:O}", "zupd_audit", 1,
                    "auditor_keyid", zp_signer_keyid(s), "role", a->role, "version", (json_int_t)v,
                    "signed_sha256", hx, "component", m->component, "release_version", m->version,
                    "manifest_sha256", mhx, "checked_at", when, "rebuild", a->o->rebuild,
                    "source_revision", m->source_revision, "builder", m->builder, "result",
                    "signed", "checks", checks);
    if (rc == ZUPD_OK && rec == NULL)
        rc = ZUPD_E_NOMEM;
    if (rc == ZUPD_OK)
        rc = zu_cjson_dump(rec, 1u << 24, &rmsg, &rlen);
    if (rc == ZUPD_OK)
        rc = zp_signer_sign(s, rmsg, rlen, rsig, sizeof(rsig));
    if (rc == ZUPD_OK) {
        json_t *sigs = json_pack("[{s:s,s:s}]", "keyid", zp_signer_keyid(s), "sig", rsig);
        text = dumps(json_pack("{s:O,s:o}", "signed", rec, "signatures", sigs));
        snprintf(name, sizeof(name), "%llu.%s.audit.json", v, a->role);
        rc = text != NULL ? write_out(a->o->out_dir, name, text, a->res->record_path,
                                      sizeof(a->res->record_path))
                          : ZUPD_E_NOMEM;
        free(text);
    }
    /* the metadata as signed, for --last-signed next time */
    if (rc == ZUPD_OK)
        rc = zupd_meta_add_signature(a->staged, zp_signer_keyid(s), sig);
    if (rc == ZUPD_OK)
        rc = zupd_meta_serialize(a->staged, ZUPD_META_PRETTY, &full, &flen);
    if (rc == ZUPD_OK) {
        snprintf(name, sizeof(name), "%llu.%s.json", v, a->role);
        rc = write_out(a->o->out_dir, name, (const char *)full, a->res->signed_path,
                       sizeof(a->res->signed_path));
    }
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot write the signature into '%s': %s", a->o->out_dir,
                zupd_strerror(rc));
out:
    json_decref(rec);
    free(full);
    free(rmsg);
    free(msg);
    zp_signer_free(s);
    return rc;
}

/* ------------------------------------------------------------ the audit */

static int
load_meta_from(struct audit *a, const char *rel, const char *file, struct zupd_meta **out,
               char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char why[256] = "";
    int rc;

    if (file != NULL) {
        char d[4096], b[4096];
        int dfd;
        snprintf(d, sizeof(d), "%s", file);
        snprintf(b, sizeof(b), "%s", file);
        dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = dfd < 0
                 ? zu_errno_to_err(errno)
                 : zu_read_file(dfd, basename(b), ZU_READ_FOLLOW, ZP_META_CAP, &buf, &len, NULL, 0);
        if (dfd >= 0)
            close(dfd);
    } else {
        rc = a->src->get(a->src->opaque, rel, ZP_META_CAP, &buf, &len);
    }
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s': %s", file != NULL ? file : rel,
                       zupd_strerror(rc));
    rc = zupd_meta_parse(buf, len, NULL, ZUPD_META_TARGETS, out, why, sizeof(why));
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "'%s': %s", file != NULL ? file : rel, why);
    return ZUPD_OK;
}

static int
load_release(struct audit *a, json_t **desc, char *err, size_t cap)
{
    char rel[256], mrel[512];
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *f = NULL;
    int rc;

    snprintf(rel, sizeof(rel), ZP_STAGED_DIR "/%s/release.json", a->role);
    rc = a->src->get(a->src->opaque, rel, RELEASE_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read the staged release '%s': %s", rel,
                       zupd_strerror(rc));
    *desc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (!json_is_object(*desc) || zu_json_get_str(*desc, "metadata", &f) != ZUPD_OK ||
        strchr(f, '/') != NULL || f[0] == '.')
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s': not a staged release", rel);
    snprintf(mrel, sizeof(mrel), ZP_STAGED_DIR "/%s/%s", a->role, f);
    rc = load_meta_from(a, mrel, NULL, &a->staged, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    a->res->version = zupd_meta_version(a->staged);
    if (a->o->last_signed != NULL)
        return load_meta_from(a, NULL, a->o->last_signed, &a->last, err, cap);
    snprintf(mrel, sizeof(mrel), "metadata/%llu.%s.json",
             (unsigned long long)zupd_meta_version(a->staged) - 1, a->role);
    return load_meta_from(a, mrel, NULL, &a->last, err, cap);
}

int
zp_audit(const struct zp_audit_src *src, const struct zp_audit_opts *o, struct zu_buf *report,
         struct zp_audit_res *res, char *err, size_t cap)
{
    struct audit a = {.src = src, .o = o, .rep = report, .res = res};
    struct zupd_manifest *m = NULL;
    json_t *desc = NULL, *rels, *rel, *checks = NULL;
    const char *mpath = NULL, *channel = NULL, *expected[2];
    uint8_t msha[32];
    int fd, rc;

    memset(res, 0, sizeof(*res));
    a.role = o->role != NULL ? o->role : "products";
    rc = load_release(&a, &desc, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rels = json_object_get(desc, "releases");
    if (json_array_size(rels) != 1) {
        rc = zu_fail(err, cap, ZUPD_E_MISUSE,
                     "the staged change carries %zu releases; audit checks one release against "
                     "one rebuild (a change of keys is signed with zupd-mirror sign)",
                     json_array_size(rels));
        goto out;
    }
    rel = json_array_get(rels, 0);
    if (zu_json_get_str(rel, "manifest", &mpath) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "the staged release names no manifest");
        goto out;
    }
    if (zu_json_get_str(rel, "channel", &channel) != ZUPD_OK)
        channel = NULL; /* a release that moves no channel */
    rc = zu_buf_addf(
        report, "audit of '%s' version %llu (release %s), against '%s' version %llu%s\n", a.role,
        (unsigned long long)res->version, mpath, a.role,
        (unsigned long long)zupd_meta_version(a.last),
        o->last_signed != NULL ? " (the one you signed last)" : " (the repository's previous one)");
    if (rc != ZUPD_OK)
        goto out;
    rc = get_manifest(&a, a.staged, mpath, &m, msha);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, rc, "cannot read the manifest '%s' the staged '%s' lists: %s", mpath,
                     a.role, zupd_strerror(rc));
        goto out;
    }
    fd = open(o->rebuild, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = zu_fail(err, cap, zu_errno_to_err(errno), "cannot open the rebuild '%s': %s",
                     o->rebuild, strerror(errno));
        goto out;
    }
    rc = walk(&a, fd, "", 0, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (a.n_files > 1)
        qsort(a.files, a.n_files, sizeof(*a.files), cmp_rfile);
    check_rebuild(&a, m);
    check_provenance_one(&a, "source revision", m->source_revision, o->allow_revisions);
    check_provenance_one(&a, "builder", m->builder, o->allow_builders);
    check_deltas(&a, m, mpath);
    expected[0] = mpath;
    {
        char cpath[512];
        snprintf(cpath, sizeof(cpath), "%s/%s/channels/%s.json", a.role, m->component,
                 channel != NULL ? channel : "");
        expected[1] = cpath;
        if (zupd_meta_target(a.last, mpath, &(struct zupd_target){0}) == ZUPD_OK)
            check(&a, false, "release '%s' was already signed in '%s' version %llu", mpath, a.role,
                  (unsigned long long)zupd_meta_version(a.last));
        check_change(&a, expected, channel != NULL ? 2 : 1);
    }
    check_rest(&a);
    check_version(&a, m, channel);
    if (res->failed > 0)
        goto out;
    checks = json_array();
    for (char *line = (char *)report->p; checks != NULL && line != NULL;) {
        char *nl = memchr(line, '\n', report->len - (size_t)(line - (char *)report->p));
        if (nl == NULL)
            break;
        if (strncmp(line, "ok  ", 4) == 0)
            json_array_append_new(checks, json_stringn(line + 5, (size_t)(nl - line - 5)));
        line = nl + 1;
    }
    rc = sign_and_record(&a, m, msha, checks, err, cap);
out:
    json_decref(checks);
    json_decref(desc);
    zupd_manifest_free(m);
    zupd_meta_free(a.staged);
    zupd_meta_free(a.last);
    for (size_t i = 0; i < a.n_files; i++)
        free(a.files[i].path);
    free(a.files);
    return rc;
}
