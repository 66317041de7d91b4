/* SPDX-License-Identifier: Apache-2.0 */
/* tests/interop/zupd-interop.c -- the libzupd side of the interoperability
 * tests with tuf-js (tests/interop/tufjs.sh, docs/internals/interop.md):
 *
 *   zupd-interop canon FILE              canonical JSON of FILE to stdout
 *   zupd-interop canon -o DIR FILE...    each to DIR/<basename>.canon
 *   zupd-interop verify DIR              verify a repository (layout below)
 *   zupd-interop make-repo DIR [--expires T]   build and sign a repository
 *
 * Repository layout, shared with the node scripts in tests/interop:
 *   DIR/metadata/N.root.json (every version from 1), timestamp.json,
 *   N.snapshot.json, N.ROLE.json (consistent snapshot; ROLE.json otherwise),
 *   DIR/targets/PATH-DIR/HASH.NAME (each target once per listed hash).
 *
 * Everything TUF goes through libzupd's metadata model (include/zupd/meta.h):
 * parsing and validation, threshold verification by the delegator, expiry,
 * delegations and hash-bin names on the verify side; the builders and the
 * serializer, signed by the publisher's ed25519 signer (mirror/keys/signer.h), on
 * the make-repo side. This file adds the walk over a directory and the file
 * checks. Exit status: 0 on success, 1 on any failure, with one git-style
 * line on stderr naming the file, the role and the reason. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include <zupd/hash.h>
#include <zupd/json.h>
#include <zupd/meta.h>

#include "keys/signer.h"

#define PROG "zupd-interop"
#define MAX_FILE_BYTES (64u << 20)
#define MAX_ROLES 4096
#define MAX_BIT_LENGTH 16 /* hash bins this tool enumerates: 65536 */
#define ERR_CAP 512

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* ------------------------------------------------------------------ files */

/* Read path, at most cap bytes (more is ZUPD_E_TOOBIG). *out is NUL-terminated. */
static int
read_file(const char *path, size_t cap, uint8_t **out, size_t *out_len)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0, n;
    int rc = ZUPD_E_IO;

    *out = NULL;
    *out_len = 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return ZUPD_E_IO;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    n = fread(buf, 1, cap + 1, f);
    if (ferror(f))
        goto out;
    if (n > cap) {
        rc = ZUPD_E_TOOBIG;
        goto out;
    }
    len = n;
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = ZUPD_OK;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int
mkdirs(char *path) /* mkdir -p of path's parent directories; path is restored */
{
    char *p;

    for (p = path + 1; *p != 0; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int
write_file(const char *path, const void *buf, size_t len)
{
    char *tmp = strdup(path);
    FILE *f;
    int ok;

    if (tmp == NULL || mkdirs(tmp) != 0) {
        free(tmp);
        return fail("cannot create the directories of '%s': %s", path, strerror(errno));
    }
    free(tmp);
    f = fopen(path, "wb");
    if (f == NULL)
        return fail("cannot write '%s': %s", path, strerror(errno));
    ok = fwrite(buf, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : fail("cannot write '%s': %s", path, strerror(errno));
}

static char *
path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* ------------------------------------------------------------------ canon */

static int
canon_one(const char *file, const char *outdir)
{
    uint8_t *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0;
    char *dst = NULL;
    const char *base;
    int rc;

    rc = read_file(file, MAX_FILE_BYTES, &in, &inlen);
    if (rc != ZUPD_OK)
        return fail("cannot read '%s': %s", file, zupd_strerror(rc));
    rc = zupd_cjson_canonicalize(in, inlen, NULL, &out, &outlen);
    free(in);
    if (rc != ZUPD_OK)
        return fail("cannot canonicalize '%s': %s", file, zupd_strerror(rc));
    if (outdir == NULL) {
        rc = fwrite(out, 1, outlen, stdout) == outlen && fflush(stdout) == 0 ? 0 : -1;
        free(out);
        return rc == 0 ? 0 : fail("cannot write to stdout");
    }
    base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    dst = malloc(strlen(outdir) + strlen(base) + 8);
    if (dst == NULL) {
        free(out);
        return fail("out of memory");
    }
    snprintf(dst, strlen(outdir) + strlen(base) + 8, "%s/%s.canon", outdir, base);
    rc = write_file(dst, out, outlen);
    free(dst);
    free(out);
    return rc;
}

static int
cmd_canon(int argc, char **argv)
{
    const char *outdir = NULL;
    int i = 0;

    if (argc >= 2 && strcmp(argv[0], "-o") == 0) {
        outdir = argv[1];
        i = 2;
    }
    if (i >= argc || (outdir == NULL && argc != 1))
        return fail("usage: " PROG " canon FILE | canon -o DIR FILE...");
    for (; i < argc; i++)
        if (canon_one(argv[i], outdir) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------------ verify */

struct walk {
    const char *dir;
    char *metadir;
    bool consistent;
    int64_t now;
    const struct zupd_meta *snap;
    size_t max_targets; /* cap when the snapshot gives no length */
    /* roles verified so far, in breadth-first order: also the queue */
    char *names[MAX_ROLES];
    struct zupd_meta *docs[MAX_ROLES];
    size_t n;
    size_t ntargets;
};

/* every hash of a known algorithm matches, and at least one is known */
static int
check_hashes(const struct zupd_hashes *h, const uint8_t *bytes, size_t len, const char *file)
{
    uint8_t dig[ZUPD_HASH_MAX_LEN];
    size_t dlen = 0;
    int known = 0;

    if (h->malformed)
        return fail("cannot verify '%s': a hash is malformed", file);
    if (h->has_sha256) {
        if (zupd_hash_buf(ZUPD_HASH_SHA256, bytes, len, dig, sizeof(dig), &dlen) != ZUPD_OK ||
            memcmp(dig, h->sha256, ZUPD_SHA256_LEN) != 0)
            return fail("cannot verify '%s': %s (sha256)", file, zupd_strerror(ZUPD_E_HASH));
        known++;
    }
    if (h->has_sha512) {
        if (zupd_hash_buf(ZUPD_HASH_SHA512, bytes, len, dig, sizeof(dig), &dlen) != ZUPD_OK ||
            memcmp(dig, h->sha512, ZUPD_SHA512_LEN) != 0)
            return fail("cannot verify '%s': %s (sha512)", file, zupd_strerror(ZUPD_E_HASH));
        known++;
    }
    if (h->count > 0 && known == 0)
        return fail("cannot verify '%s': no hash of a known algorithm", file);
    return 0;
}

/* Read and parse file as metadata of type t. f (may be NULL) is the
 * timestamp/snapshot entry that pins its version, length and hashes. */
static int
load(const char *file, size_t cap, enum zupd_meta_type t, const struct zupd_meta_file *f,
     struct zupd_meta **out)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[ERR_CAP] = "";
    int rc;

    *out = NULL;
    if (f != NULL && f->has_length && f->length < cap)
        cap = (size_t)f->length;
    rc = read_file(file, cap, &bytes, &len);
    if (rc != ZUPD_OK)
        return fail("cannot read '%s': %s", file,
                    rc == ZUPD_E_IO ? strerror(errno) : zupd_strerror(ZUPD_E_LENGTH));
    if (f != NULL && f->has_length && f->length != len) {
        free(bytes);
        return fail("cannot verify '%s': %s", file, zupd_strerror(ZUPD_E_LENGTH));
    }
    if (f != NULL && f->has_hashes && check_hashes(&f->hashes, bytes, len, file) != 0) {
        free(bytes);
        return -1;
    }
    rc = zupd_meta_parse(bytes, len, NULL, t, out, err, sizeof(err));
    free(bytes);
    if (rc != ZUPD_OK)
        return fail("cannot load '%s': %s: %s", file, zupd_strerror(rc), err);
    if (f != NULL && zupd_meta_version(*out) != f->version)
        return fail("cannot verify '%s': %s (version %llu, expected %llu)", file,
                    zupd_strerror(ZUPD_E_MISMATCH), (unsigned long long)zupd_meta_version(*out),
                    (unsigned long long)f->version);
    return 0;
}

/* m is signed by a threshold of the keys delegator gives role */
static int
verify_by(const struct zupd_meta *delegator, const char *role, const struct zupd_meta *m,
          const char *file, const char *what)
{
    char err[ERR_CAP] = "";
    int rc = zupd_meta_verify_role(delegator, role, m, err, sizeof(err));

    if (rc != ZUPD_OK)
        return fail("cannot verify '%s': role '%s'%s: %s (%s)", file, role, what, zupd_strerror(rc),
                    err);
    return 0;
}

static int
check_expiry(const struct zupd_meta *m, int64_t now, const char *file, const char *role)
{
    if (zupd_meta_is_expired(m, now))
        return fail("cannot verify '%s': role '%s': %s", file, role, zupd_strerror(ZUPD_E_EXPIRED));
    return 0;
}

static char *
meta_path(const struct walk *w, const char *role, uint64_t version)
{
    size_t n = strlen(w->metadir) + strlen(role) + 32;
    char *p = malloc(n);

    if (p == NULL)
        return NULL;
    if (w->consistent)
        snprintf(p, n, "%s/%llu.%s.json", w->metadir, (unsigned long long)version, role);
    else
        snprintf(p, n, "%s/%s.json", w->metadir, role);
    return p;
}

static bool
was_seen(const struct walk *w, const char *role)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        if (strcmp(w->names[i], role) == 0)
            return true;
    return false;
}

/* Load targets role at the version the snapshot pins, verify it by
 * delegator (NULL: root is given instead), queue it. */
static int
visit(struct walk *w, const struct zupd_meta *delegator, const char *role)
{
    struct zupd_meta_file f;
    struct zupd_meta *m = NULL;
    char entry[ZUPD_ROLE_NAME_MAX + 8], *file = NULL;
    int rc = -1;

    if (was_seen(w, role))
        return 0;
    if (w->n == MAX_ROLES)
        return fail("more than %d roles", MAX_ROLES);
    if (role[0] == 0 || strchr(role, '/') != NULL || role[0] == '.')
        return fail("refusing role name '%s'", role);
    snprintf(entry, sizeof(entry), "%s.json", role);
    if (zupd_meta_file(w->snap, entry, &f) != ZUPD_OK)
        return fail("role '%s' is not in the snapshot", role);
    file = meta_path(w, role, f.version);
    if (file == NULL) {
        fail("out of memory");
        goto out;
    }
    if (load(file, w->max_targets, ZUPD_META_TARGETS, &f, &m) != 0 ||
        verify_by(delegator, role, m, file, "") != 0 || check_expiry(m, w->now, file, role) != 0)
        goto out;
    w->names[w->n] = strdup(role);
    if (w->names[w->n] == NULL) {
        fail("out of memory");
        goto out;
    }
    w->docs[w->n++] = m;
    m = NULL;
    rc = 0;
out:
    zupd_meta_free(m);
    free(file);
    return rc;
}

struct target_ctx {
    struct walk *w;
    const char *role;
};

/* the bytes of a target are in DIR/targets under each of its hashes */
static int
check_target(void *opaque, const char *tpath, const struct zupd_target *t)
{
    struct target_ctx *c = opaque;
    const char *slash = strrchr(tpath, '/');
    const uint8_t *digs[2] = {t->hashes.has_sha256 ? t->hashes.sha256 : NULL,
                              t->hashes.has_sha512 ? t->hashes.sha512 : NULL};
    size_t lens[2] = {ZUPD_SHA256_LEN, ZUPD_SHA512_LEN}, i;

    if (tpath[0] == '/' || strstr(tpath, "..") != NULL) /* stay inside DIR/targets */
        return fail("role '%s': refusing target path '%s'", c->role, tpath);
    for (i = 0; i < 2; i++) {
        char hex[2 * ZUPD_HASH_MAX_LEN + 1], *file;
        uint8_t *bytes = NULL;
        size_t n = strlen(c->w->dir) + strlen(tpath) + sizeof(hex) + 16, len = 0;
        int rc;

        if (digs[i] == NULL)
            continue;
        zupd_hex_encode(hex, sizeof(hex), digs[i], lens[i]);
        file = malloc(n);
        if (file == NULL)
            return fail("out of memory");
        if (slash != NULL)
            snprintf(file, n, "%s/targets/%.*s/%s.%s", c->w->dir, (int)(slash - tpath), tpath, hex,
                     slash + 1);
        else
            snprintf(file, n, "%s/targets/%s.%s", c->w->dir, hex, tpath);
        rc = read_file(file, (size_t)t->length, &bytes, &len);
        if (rc != ZUPD_OK) {
            fail("target '%s' of role '%s': cannot read '%s': %s", tpath, c->role, file,
                 rc == ZUPD_E_IO ? strerror(errno) : zupd_strerror(ZUPD_E_LENGTH));
            free(file);
            return -1;
        }
        rc = len != t->length ? fail("cannot verify '%s': %s", file, zupd_strerror(ZUPD_E_LENGTH))
                              : check_hashes(&t->hashes, bytes, len, file);
        free(bytes);
        free(file);
        if (rc != 0)
            return -1;
    }
    c->w->ntargets++;
    return 0;
}

static int
check_listed(void *opaque, const char *entry, const struct zupd_meta_file *f)
{
    struct walk *w = opaque;
    size_t n = strlen(entry);
    char role[ZUPD_ROLE_NAME_MAX];

    (void)f;
    if (n <= 5 || n - 5 >= sizeof(role) || strcmp(entry + n - 5, ".json") != 0)
        return fail("snapshot: odd meta entry '%s'", entry);
    memcpy(role, entry, n - 5);
    role[n - 5] = 0;
    if (!was_seen(w, role))
        return fail("snapshot lists '%s', which no role delegates", entry);
    return 0;
}

/* every role m delegates to, by name or by hash bin */
static int
visit_children(struct walk *w, const struct zupd_meta *m, const char *role)
{
    const char *prefix = NULL;
    unsigned bits = 0;
    size_t i, n;

    if (!zupd_meta_has_delegations(m))
        return 0;
    n = zupd_meta_delegation_count(m);
    for (i = 0; i < n; i++)
        if (visit(w, m, zupd_meta_delegation_name(m, i)) != 0)
            return -1;
    if (zupd_meta_succinct(m, &bits, &prefix) != ZUPD_OK)
        return 0;
    if (bits > MAX_BIT_LENGTH)
        return fail("role '%s': succinct delegation to 2^%u bins: more than this tool walks", role,
                    bits);
    for (i = 0; i < ((size_t)1 << bits); i++) {
        char name[ZUPD_ROLE_NAME_MAX];

        if (zupd_meta_succinct_bin_name(m, (uint32_t)i, name, sizeof(name)) != ZUPD_OK)
            return fail("role '%s': cannot name bin %zu", role, i);
        if (visit(w, m, name) != 0)
            return -1;
    }
    return 0;
}

static int
cmd_verify(int argc, char **argv)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_meta *root = NULL, *next = NULL, *ts = NULL, *snap = NULL;
    struct zupd_meta_file f;
    struct walk w;
    char *file = NULL, *rootfile = NULL;
    uint64_t ver;
    size_t i, nroles = 0;
    int rc = -1;

    if (argc != 1)
        return fail("usage: " PROG " verify DIR");
    memset(&w, 0, sizeof(w));
    w.dir = argv[0];
    w.now = (int64_t)time(NULL);
    w.max_targets = lim.max_targets_bytes;
    w.metadir = path_join(w.dir, "metadata");
    if (w.metadir == NULL) {
        fail("out of memory");
        goto out;
    }

    /* root chain: each version signed by a threshold of the previous
     * version's root keys and of its own */
    file = path_join(w.metadir, "1.root.json");
    if (file == NULL || load(file, lim.max_root_bytes, ZUPD_META_ROOT, NULL, &root) != 0)
        goto out;
    if (zupd_meta_version(root) != 1) {
        fail("cannot verify '%s': version is not 1", file);
        goto out;
    }
    if (verify_by(root, "root", root, file, "") != 0)
        goto out;
    nroles++;
    for (ver = 2; ver <= lim.max_root_rotations + 1; ver++) {
        struct stat st;
        char name[64], what[80];

        free(file);
        snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)ver);
        file = path_join(w.metadir, name);
        if (file == NULL || stat(file, &st) != 0)
            break;
        if (load(file, lim.max_root_bytes, ZUPD_META_ROOT, NULL, &next) != 0)
            goto out;
        if (zupd_meta_version(next) != ver) {
            fail("cannot verify '%s': %s (version %llu)", file, zupd_strerror(ZUPD_E_MISMATCH),
                 (unsigned long long)zupd_meta_version(next));
            goto out;
        }
        snprintf(what, sizeof(what), " (by version %llu)", (unsigned long long)ver - 1);
        if (verify_by(root, "root", next, file, what) != 0 ||
            verify_by(next, "root", next, file, "") != 0)
            goto out;
        zupd_meta_free(root);
        root = next;
        next = NULL;
        free(rootfile);
        rootfile = file;
        file = NULL;
        nroles++;
    }
    if (check_expiry(root, w.now, rootfile != NULL ? rootfile : "1.root.json", "root") != 0)
        goto out;
    w.consistent = zupd_meta_consistent_snapshot(root);

    /* timestamp, then the snapshot it pins */
    free(file);
    file = path_join(w.metadir, "timestamp.json");
    if (file == NULL || load(file, lim.max_timestamp_bytes, ZUPD_META_TIMESTAMP, NULL, &ts) != 0 ||
        verify_by(root, "timestamp", ts, file, "") != 0 ||
        check_expiry(ts, w.now, file, "timestamp") != 0)
        goto out;
    nroles++;
    if (zupd_meta_file(ts, "snapshot.json", &f) != ZUPD_OK) {
        fail("cannot verify '%s': no meta for snapshot.json", file);
        goto out;
    }
    free(file);
    file = meta_path(&w, "snapshot", f.version);
    if (file == NULL || load(file, lim.max_snapshot_bytes, ZUPD_META_SNAPSHOT, &f, &snap) != 0 ||
        verify_by(root, "snapshot", snap, file, "") != 0 ||
        check_expiry(snap, w.now, file, "snapshot") != 0)
        goto out;
    nroles++;
    w.snap = snap;

    /* targets by root, then breadth first every delegated role by its
     * delegator; each role's target files */
    if (visit(&w, root, "targets") != 0)
        goto out;
    for (i = 0; i < w.n; i++) {
        struct target_ctx c = {&w, w.names[i]};

        if (zupd_meta_target_foreach(w.docs[i], check_target, &c) != 0 ||
            visit_children(&w, w.docs[i], w.names[i]) != 0)
            goto out;
    }
    if (zupd_meta_file_foreach(snap, check_listed, &w) != 0)
        goto out;
    printf(PROG ": verify %s: OK: %zu roles verified, %zu targets\n", w.dir, nroles + w.n,
           w.ntargets);
    rc = 0;
out:
    for (i = 0; i < w.n; i++) {
        free(w.names[i]);
        zupd_meta_free(w.docs[i]);
    }
    zupd_meta_free(root);
    zupd_meta_free(next);
    zupd_meta_free(ts);
    zupd_meta_free(snap);
    free(file);
    free(rootfile);
    free(w.metadir);
    return rc;
}

/* ------------------------------------------------------------------ make-repo */

struct repo {
    const char *dir;
    char *metadir;
    int64_t expires;
    struct zupd_meta *snap; /* collects the targets roles as they are written */
    json_t *manifest;       /* role -> [target paths], for the tests */
};

static int
hashes_of(const void *data, size_t len, bool sha512, struct zupd_hashes *h)
{
    size_t n = 0;

    memset(h, 0, sizeof(*h));
    if (zupd_hash_buf(ZUPD_HASH_SHA256, data, len, h->sha256, sizeof(h->sha256), &n) != ZUPD_OK)
        return -1;
    h->has_sha256 = true;
    h->count = 1;
    if (sha512) {
        if (zupd_hash_buf(ZUPD_HASH_SHA512, data, len, h->sha512, sizeof(h->sha512), &n) != ZUPD_OK)
            return -1;
        h->has_sha512 = true;
        h->count = 2;
    }
    return 0;
}

/* Add the target tpath with content data (and custom, JSON text or NULL) to
 * m, write its bytes under each hash, list it in the manifest under role. */
static int
add_target(struct repo *r, struct zupd_meta *m, const char *role, const char *tpath,
           const char *data, const char *custom, bool sha512)
{
    const char *slash = strrchr(tpath, '/');
    const uint8_t *digs[2];
    size_t len = strlen(data), lens[2] = {ZUPD_SHA256_LEN, ZUPD_SHA512_LEN}, i;
    struct zupd_hashes h;
    json_t *list;
    int rc;

    if (hashes_of(data, len, sha512, &h) != 0)
        return fail("cannot hash target '%s'", tpath);
    rc = zupd_meta_set_target(m, tpath, len, &h, (const uint8_t *)custom,
                              custom != NULL ? strlen(custom) : 0);
    if (rc != ZUPD_OK)
        return fail("cannot add target '%s': %s", tpath, zupd_strerror(rc));
    list = json_object_get(r->manifest, role);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(r->manifest, role, list);
    }
    json_array_append_new(list, json_string(tpath));
    digs[0] = h.sha256;
    digs[1] = sha512 ? h.sha512 : NULL;
    for (i = 0; i < 2 && digs[i] != NULL; i++) {
        char hex[2 * ZUPD_HASH_MAX_LEN + 1], *file;
        size_t n = strlen(r->dir) + strlen(tpath) + sizeof(hex) + 16;

        zupd_hex_encode(hex, sizeof(hex), digs[i], lens[i]);
        file = malloc(n);
        if (file == NULL)
            return fail("out of memory");
        if (slash != NULL)
            snprintf(file, n, "%s/targets/%.*s/%s.%s", r->dir, (int)(slash - tpath), tpath, hex,
                     slash + 1);
        else
            snprintf(file, n, "%s/targets/%s.%s", r->dir, hex, tpath);
        rc = write_file(file, data, len);
        free(file);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Give role (NULL: the succinct bins) of m the public key of s. Checks that
 * the model computes the key id the signer does. */
static int
add_key(struct zupd_meta *m, const char *role, const struct zp_signer *s)
{
    json_t *pub = zp_signer_pubkey(s);
    char *text = pub != NULL ? json_dumps(pub, JSON_COMPACT) : NULL;
    char keyid[2 * ZUPD_SHA256_LEN + 1] = "";
    int rc = ZUPD_E_NOMEM;

    if (text != NULL)
        rc = zupd_meta_add_key(m, role, (const uint8_t *)text, strlen(text), keyid, sizeof(keyid));
    free(text);
    json_decref(pub);
    if (rc != ZUPD_OK)
        return fail("cannot add a key to role '%s': %s", role != NULL ? role : "(bins)",
                    zupd_strerror(rc));
    if (strcmp(keyid, zp_signer_keyid(s)) != 0)
        return fail("key id %s from the model, %s from the signer", keyid, zp_signer_keyid(s));
    return 0;
}

/* Sign m with each signer and write it to metadata/NAME (indented JSON).
 * On success, if entry is not NULL, the snapshot gets NAME's meta entry
 * (version, plus length and sha256 when full) and *out (if not NULL) a
 * copy of the bytes written. */
static int
sign_write(struct repo *r, struct zupd_meta *m, struct zp_signer *const *signers, size_t n,
           const char *name, const char *entry, bool full, uint8_t **out, size_t *out_len)
{
    uint8_t *msg = NULL, *text = NULL;
    size_t msg_len = 0, text_len = 0, i;
    char *file = NULL, sig[ZP_SIG_HEX_LEN + 1];
    int rc = -1;

    if (zupd_meta_signed_bytes(m, &msg, &msg_len) != ZUPD_OK) {
        fail("cannot encode '%s'", name);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (zp_signer_sign(signers[i], msg, msg_len, sig, sizeof(sig)) != ZUPD_OK ||
            zupd_meta_add_signature(m, zp_signer_keyid(signers[i]), sig) != ZUPD_OK) {
            fail("cannot sign '%s'", name);
            goto out;
        }
    }
    if (zupd_meta_serialize(m, ZUPD_META_PRETTY, &text, &text_len) != ZUPD_OK) {
        fail("cannot serialize '%s'", name);
        goto out;
    }
    file = path_join(r->metadir, name);
    if (file == NULL || write_file(file, text, text_len) != 0)
        goto out;
    if (entry != NULL) {
        struct zupd_meta_file f;

        memset(&f, 0, sizeof(f));
        f.version = zupd_meta_version(m);
        if (full) {
            f.has_length = true;
            f.length = text_len;
            f.has_hashes = true;
            if (hashes_of(text, text_len, false, &f.hashes) != 0)
                goto out;
        }
        if (zupd_meta_set_file(r->snap, entry, &f) != ZUPD_OK) {
            fail("cannot add '%s' to the snapshot", entry);
            goto out;
        }
    }
    if (out != NULL) {
        *out = text;
        *out_len = text_len;
        text = NULL;
    }
    rc = 0;
out:
    free(msg);
    free(text);
    free(file);
    return rc;
}

/* a targets role: sign, write as VERSION.ROLE.json, list in the snapshot */
static int
publish_targets(struct repo *r, const char *role, struct zupd_meta *m, struct zp_signer *key)
{
    char name[ZUPD_ROLE_NAME_MAX + 32], entry[ZUPD_ROLE_NAME_MAX + 8];

    snprintf(name, sizeof(name), "%llu.%s.json", (unsigned long long)zupd_meta_version(m), role);
    snprintf(entry, sizeof(entry), "%s.json", role);
    return sign_write(r, m, &key, 1, name, entry, strcmp(role, "targets") == 0, NULL, NULL);
}

enum {
    K_ROOT1,
    K_ROOT2,
    K_ROOT3,
    K_TARGETS,
    K_SNAPSHOT,
    K_TIMESTAMP,
    K_PRODUCTS,
    K_HASHED,
    K_BINS,
    K_BIN,
    K__N
};

#define BIN_BITS 4
#define BIN_COUNT (1u << BIN_BITS)
#define BIN_FILES 32

#define NEW(t, v, m)                                                                               \
    do {                                                                                           \
        if (zupd_meta_new((t), (v), r.expires, &(m)) != ZUPD_OK) {                                 \
            fail("cannot make %s metadata", zupd_meta_type_name(t));                               \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
#define CHECK(call, what)                                                                          \
    do {                                                                                           \
        int check_rc_ = (call);                                                                    \
        if (check_rc_ != ZUPD_OK) {                                                                \
            fail("cannot %s: %s", (what), zupd_strerror(check_rc_));                               \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* What it makes (compare tests/interop/make-repo.mjs):
 * - root v1: root keys r1, r2, threshold 2; root v2 rotates r2 out for r3
 *   (threshold 2 of r1, r3), signed by r1, r2 and r3;
 * - targets v2 with custom fields, unicode and nested paths, sha256 and
 *   sha512; delegations to products (paths), hashed (path_hash_prefixes,
 *   terminating) and bins (paths "bins/ANY"), which delegates succinctly to
 *   16 hash bins zbin-0 .. zbin-f, each target placed by the model;
 * - snapshot v3, timestamp v4; consistent snapshot names. All ed25519. */
static int
cmd_make_repo(int argc, char **argv)
{
    static const char *const product_paths[] = {"products/*/*/manifest.json",
                                                "products/*/channels/*.json"};
    static const char *const bins_paths[] = {"bins/*"};
    struct zp_signer *k[K__N] = {0};
    struct zupd_meta *m = NULL, *bins = NULL, *binm[BIN_COUNT] = {0};
    struct repo r;
    struct zupd_meta_file f;
    const char *expires = "2100-01-01T00:00:00Z";
    const char *prefixes[1];
    char prefix[3], hex[2 * ZUPD_SHA256_LEN + 1], name[ZUPD_ROLE_NAME_MAX + 16], data[64];
    uint8_t dig[ZUPD_SHA256_LEN], *snapbytes = NULL;
    size_t snaplen = 0, dlen = 0, i;
    char *text = NULL, *file = NULL;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    for (i = 0; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--expires") == 0 && i + 1 < (size_t)argc)
            expires = argv[++i];
        else if (r.dir == NULL)
            r.dir = argv[i];
        else
            return fail("usage: " PROG " make-repo DIR [--expires RFC3339]");
    }
    if (r.dir == NULL)
        return fail("usage: " PROG " make-repo DIR [--expires RFC3339]");
    if (zupd_time_parse(expires, strlen(expires), &r.expires) != ZUPD_OK)
        return fail("bad --expires '%s' (YYYY-MM-DDTHH:MM:SSZ)", expires);
    r.metadir = path_join(r.dir, "metadata");
    r.manifest = json_object();
    if (r.metadir == NULL || r.manifest == NULL) {
        fail("out of memory");
        goto out;
    }
    NEW(ZUPD_META_SNAPSHOT, 3, r.snap);
    for (i = 0; i < K__N; i++)
        if (zp_signer_generate(&k[i]) != ZUPD_OK) {
            fail("cannot generate a key");
            goto out;
        }

    /* delegated roles */
    NEW(ZUPD_META_TARGETS, 1, m);
    if (add_target(&r, m, "products", "products/gadget/2.0.0/manifest.json",
                   "{\"component\":\"gadget\",\"version\":\"2.0.0\",\"files\":[]}\n",
                   "{\"channel\":\"beta\",\"provenance\":{\"revision\":\"def456\","
                   "\"builder\":\"zupd-interop\"}}",
                   true) != 0 ||
        publish_targets(&r, "products", m, k[K_PRODUCTS]) != 0)
        goto out;
    zupd_meta_free(m);
    m = NULL;

    NEW(ZUPD_META_TARGETS, 1, m);
    if (add_target(&r, m, "hashed", "avdb/daily.cvd", "ClamAV-like daily database\n",
                   "{\"signatures\":12345}", false) != 0 ||
        publish_targets(&r, "hashed", m, k[K_HASHED]) != 0)
        goto out;
    zupd_meta_free(m);
    m = NULL;

    /* bins: a succinct delegation; the model names the bins and picks the
     * bin of each target (tuf-js picks its own when it downloads them) */
    NEW(ZUPD_META_TARGETS, 1, bins);
    CHECK(zupd_meta_set_succinct(bins, BIN_BITS, "zbin"), "set the succinct delegation");
    if (add_key(bins, NULL, k[K_BIN]) != 0)
        goto out;
    for (i = 0; i < BIN_COUNT; i++)
        NEW(ZUPD_META_TARGETS, 1, binm[i]);
    for (i = 0; i < BIN_FILES; i++) {
        struct zupd_meta_child child;
        size_t cursor = 0;
        char tpath[64];
        unsigned long b;

        snprintf(tpath, sizeof(tpath), "bins/item-%02zu.txt", i);
        snprintf(data, sizeof(data), "item %zu\n", i);
        snprintf(name, sizeof(name), "{\"index\":%zu}", i);
        CHECK(zupd_meta_child_next(bins, tpath, &cursor, &child), "find the bin of a target");
        b = strtoul(child.name + strlen("zbin-"), NULL, 16);
        if (b >= BIN_COUNT || add_target(&r, binm[b], child.name, tpath, data, name, false) != 0)
            goto out;
    }
    for (i = 0; i < BIN_COUNT; i++) {
        CHECK(zupd_meta_succinct_bin_name(bins, (uint32_t)i, name, sizeof(name)), "name a bin");
        if (publish_targets(&r, name, binm[i], k[K_BIN]) != 0)
            goto out;
    }
    if (publish_targets(&r, "bins", bins, k[K_BINS]) != 0)
        goto out;

    /* top-level targets */
    NEW(ZUPD_META_TARGETS, 2, m);
    if (add_target(&r, m, "targets", "hello-zupd.txt", "hello from libzupd\n",
                   "{\"component\":\"zupd\",\"tags\":[\"ä\",\"😀\"],"
                   "\"nested\":{\"flag\":true,\"nothing\":null}}",
                   false) != 0 ||
        add_target(&r, m, "targets", "docs/ünïcødé/zupd.txt", "Grüße aus Zürich\n", NULL, true) !=
            0 ||
        add_target(&r, m, "targets", "emoji/🚀/launch.txt", "🚀\n", "{\"𝄞-key\":\"astral key\"}",
                   false) != 0)
        goto out;
    if (zupd_hash_buf(ZUPD_HASH_SHA256, "avdb/daily.cvd", 14, dig, sizeof(dig), &dlen) != ZUPD_OK)
        goto out;
    zupd_hex_encode(hex, sizeof(hex), dig, dlen);
    memcpy(prefix, hex, 2);
    prefix[2] = 0;
    prefixes[0] = prefix;
    CHECK(zupd_meta_add_delegation(m, "products", false, product_paths, 2, NULL, 0),
          "delegate to products");
    CHECK(zupd_meta_add_delegation(m, "hashed", true, NULL, 0, prefixes, 1), "delegate to hashed");
    CHECK(zupd_meta_add_delegation(m, "bins", false, bins_paths, 1, NULL, 0), "delegate to bins");
    if (add_key(m, "products", k[K_PRODUCTS]) != 0 || add_key(m, "hashed", k[K_HASHED]) != 0 ||
        add_key(m, "bins", k[K_BINS]) != 0 || publish_targets(&r, "targets", m, k[K_TARGETS]) != 0)
        goto out;
    zupd_meta_free(m);
    m = NULL;

    /* snapshot and timestamp */
    if (sign_write(&r, r.snap, &k[K_SNAPSHOT], 1, "3.snapshot.json", NULL, false, &snapbytes,
                   &snaplen) != 0)
        goto out;
    NEW(ZUPD_META_TIMESTAMP, 4, m);
    memset(&f, 0, sizeof(f));
    f.version = 3;
    f.has_length = true;
    f.length = snaplen;
    f.has_hashes = true;
    if (hashes_of(snapbytes, snaplen, false, &f.hashes) != 0)
        goto out;
    CHECK(zupd_meta_set_file(m, "snapshot.json", &f), "set the timestamp's snapshot entry");
    if (sign_write(&r, m, &k[K_TIMESTAMP], 1, "timestamp.json", NULL, false, NULL, NULL) != 0)
        goto out;
    zupd_meta_free(m);
    m = NULL;

    /* root v1 (r1, r2) and v2 (r1, r3), both threshold 2 */
    for (i = 1; i <= 2; i++) {
        struct zp_signer *signers[3] = {k[K_ROOT1], k[K_ROOT2], k[K_ROOT3]};

        NEW(ZUPD_META_ROOT, i, m);
        CHECK(zupd_meta_set_consistent_snapshot(m, true), "set consistent_snapshot");
        if (add_key(m, "root", k[K_ROOT1]) != 0 ||
            add_key(m, "root", k[i == 1 ? K_ROOT2 : K_ROOT3]) != 0 ||
            add_key(m, "targets", k[K_TARGETS]) != 0 ||
            add_key(m, "snapshot", k[K_SNAPSHOT]) != 0 ||
            add_key(m, "timestamp", k[K_TIMESTAMP]) != 0)
            goto out;
        CHECK(zupd_meta_set_threshold(m, "root", 2), "set the root threshold");
        snprintf(name, sizeof(name), "%zu.root.json", i);
        if (sign_write(&r, m, signers, i == 1 ? 2 : 3, name, NULL, false, NULL, NULL) != 0)
            goto out;
        zupd_meta_free(m);
        m = NULL;
    }

    text = json_dumps(r.manifest, JSON_INDENT(2));
    file = path_join(r.dir, "manifest.json");
    if (text == NULL || file == NULL || write_file(file, text, strlen(text)) != 0)
        goto out;
    printf(PROG ": make-repo %s: 2 root versions, %zu targets roles, %u targets\n", r.dir,
           zupd_meta_file_count(r.snap), 3u + 1u + 1u + BIN_FILES);
    rc = 0;
out:
    for (i = 0; i < K__N; i++)
        zp_signer_free(k[i]);
    for (i = 0; i < BIN_COUNT; i++)
        zupd_meta_free(binm[i]);
    zupd_meta_free(bins);
    zupd_meta_free(m);
    zupd_meta_free(r.snap);
    json_decref(r.manifest);
    free(r.metadir);
    free(snapbytes);
    free(text);
    free(file);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (zupd_init() != ZUPD_OK)
        return fail("cannot initialise libzupd") != 0;
    if (strcmp(cmd, "canon") == 0)
        return cmd_canon(argc - 2, argv + 2) != 0;
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 2, argv + 2) != 0;
    if (strcmp(cmd, "make-repo") == 0)
        return cmd_make_repo(argc - 2, argv + 2) != 0;
    fail("usage: " PROG " canon|verify|make-repo ...");
    return 2;
}
