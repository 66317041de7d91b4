/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/logaudit.c -- a transparency log read as an auditor reads it
 * (docs/transparency.md): from DIR/log/ or URL/log/, its checkpoint opened
 * under a trust, its entries verified against the signed root, one
 * checkpoint checked to extend another, and the cross-check with a TUF
 * repository seen through a view (mirror/repo/logaudit.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zupd/fetch.h>
#include <zupd/hash.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "repo/fsops.h"
#include "repo/logaudit.h"

#define VKEY_MAX 4096

/* ------------------------------------------------------------ sources */

struct zp_logsrc {
    char *where;
    int dfd;                   /* a directory: its fd */
    struct zupd_transport *tr; /* a URL: libcurl */
    struct zupd_ctx *ctx;
    char *base; /* URL + "log/" */
    struct zu_tlog_reader rd;
};

bool
zp_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
           strncmp(s, "file://", 7) == 0;
}

static int
dir_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
         size_t cap)
{
    const struct zp_logsrc *s = opaque;
    char rel[ZU_TLOG_PATH_MAX + 8];
    int rc;

    snprintf(rel, sizeof(rel), "log/%s", path);
    rc = zp_get(s->dfd, rel, max, data, len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", s->where, rel, zupd_strerror(rc));
    return ZUPD_OK;
}

static int
url_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
         size_t cap)
{
    const struct zp_logsrc *s = opaque;
    const char *bases[1] = {s->base};
    struct zupd_fetch_req req;
    struct zupd_fetch_res res;
    int rc;

    memset(&req, 0, sizeof(req));
    req.bases = bases;
    req.n_bases = 1;
    req.path = path;
    req.max_bytes = max;
    rc = zupd_fetch_mem(s->ctx, s->tr, &req, data, len, &res);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s%s': %s", s->base, path, zupd_strerror(rc));
    return ZUPD_OK;
}

int
zp_logsrc_open(const char *where, const char *ca_file, struct zupd_ctx *ctx, struct zp_logsrc **out,
               char *err, size_t cap)
{
    struct zp_logsrc *s = calloc(1, sizeof(*s));
    int rc = ZUPD_OK;

    *out = NULL;
    if (s == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    s->dfd = -1;
    s->ctx = ctx;
    s->where = strdup(where);
    if (s->where == NULL) {
        rc = zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
        goto out;
    }
    if (zp_is_url(where)) {
        struct zupd_curl_opts copts = ZUPD_CURL_OPTS_DEFAULT;
        size_t n = strlen(where);

        s->base = malloc(n + 6);
        if (s->base == NULL) {
            rc = zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
            goto out;
        }
        snprintf(s->base, n + 6, "%s%slog/", where, where[n - 1] == '/' ? "" : "/");
        copts.ca_file = ca_file;
        rc = zupd_curl_transport_new(ctx, &copts, &s->tr);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot set up libcurl: %s", zupd_strerror(rc));
            goto out;
        }
        s->rd = (struct zu_tlog_reader){s, url_read};
    } else {
        s->dfd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dfd < 0) {
            rc = zu_errno_to_err(errno);
            zu_fail(err, cap, rc, "cannot open '%s': %s", where, strerror(errno));
            goto out;
        }
        s->rd = (struct zu_tlog_reader){s, dir_read};
    }
out:
    if (rc != ZUPD_OK)
        zp_logsrc_free(s);
    else
        *out = s;
    return rc;
}

void
zp_logsrc_free(struct zp_logsrc *s)
{
    if (s == NULL)
        return;
    if (s->dfd >= 0)
        close(s->dfd);
    zupd_transport_free(s->tr);
    free(s->base);
    free(s->where);
    free(s);
}

const struct zu_tlog_reader *
zp_logsrc_reader(const struct zp_logsrc *s)
{
    return &s->rd;
}

uint64_t
zp_logsrc_requests(const struct zp_logsrc *s)
{
    struct zupd_fetch_stats fs;

    if (s->tr == NULL)
        return 0;
    zupd_fetch_stats_init(&fs);
    return zupd_transport_stats(s->tr, &fs) == ZUPD_OK ? fs.requests : 0;
}

/* ------------------------------------------------------------ checkpoints */

int
zp_log_vkeys_parse(const char *text, size_t len, struct zu_tlog_trust *trust, char *err, size_t cap)
{
    const char *p = text, *end = text + len;
    size_t n = 0;

    for (; p < end; p++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        struct zu_note_key *k = n == 0 ? &trust->log_key : &trust->more_log_keys[n - 1];

        if (l == 0)
            continue;
        if (n >= ZU_TLOG_LOG_KEYS_MAX || zu_note_vkey_parse(p, l, k) != ZUPD_OK ||
            k->type != ZU_NOTE_ED25519 || (n > 0 && strcmp(k->name, trust->log_key.name) != 0))
            return zu_fail(err, cap, ZUPD_E_FORMAT, "not an Ed25519 log vkey: '%.*s'", (int)l, p);
        n++;
        p += l;
    }
    if (n == 0)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "no log vkey given");
    trust->nmore_log_keys = n - 1;
    trust->origin = trust->log_key.name;
    return ZUPD_OK;
}

int
zp_log_cp_open(const uint8_t *note, size_t len, const struct zp_log_trust *t, struct zp_log_cp *out,
               char *err, size_t cap)
{
    struct zu_tlog_trust trust = {0};
    struct zu_note *n = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (t->vkey == NULL || t->n_witnesses > ZP_LOG_WITNESS_MAX)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "no log key, or more than %d witnesses",
                       ZP_LOG_WITNESS_MAX);
    rc = zp_log_vkeys_parse(t->vkey, strlen(t->vkey), &trust, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    out->keys[0] = trust.log_key;
    for (size_t i = 0; i < t->n_witnesses; i++) {
        rc = zu_note_vkey_parse(t->witnesses[i], strlen(t->witnesses[i]), &out->keys[1 + i]);
        if (rc != ZUPD_OK || out->keys[1 + i].type != ZU_NOTE_COSIG_V1)
            return zu_fail(err, cap, ZUPD_E_FORMAT, "not a cosignature/v1 witness vkey: '%s'",
                           t->witnesses[i]);
    }
    out->nkeys = 1 + t->n_witnesses;
    trust.origin = trust.log_key.name;
    trust.witnesses = &out->keys[1];
    trust.nwitnesses = t->n_witnesses;
    trust.quorum = t->quorum;
    out->note = malloc(len > 0 ? len : 1);
    if (out->note == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    memcpy(out->note, note, len);
    out->note_len = len;
    rc = zu_checkpoint_open(note, len, &trust, &out->c, &out->cosigners, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    /* who signed, for the reports (the decision is zu_checkpoint_open's) */
    if (zu_note_parse(note, len, &n) != ZUPD_OK ||
        zu_note_verify(n, out->keys, out->nkeys, out->ok, NULL) != ZUPD_OK)
        memset(out->ok, 0, sizeof(out->ok));
    zu_note_free(n);
    return ZUPD_OK;
}

int
zp_log_cp_read(struct zp_logsrc *src, const struct zp_log_trust *t, struct zp_log_cp *out,
               char *err, size_t cap)
{
    struct zp_log_trust tt = *t;
    uint8_t *cp = NULL, *vk = NULL;
    size_t cplen = 0, vklen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (tt.vkey == NULL) {
        rc = src->rd.read(src->rd.opaque, "vkey", VKEY_MAX, &vk, &vklen, err, cap);
        if (rc != ZUPD_OK)
            goto out;
        while (vklen > 0 && vk[vklen - 1] == '\n')
            vk[--vklen] = '\0';
        tt.vkey = (const char *)vk;
    }
    rc = src->rd.read(src->rd.opaque, "checkpoint", ZU_NOTE_MAX_BYTES, &cp, &cplen, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_log_cp_open(cp, cplen, &tt, out, err, cap);
out:
    free(cp);
    free(vk);
    return rc;
}

void
zp_log_cp_release(struct zp_log_cp *cp)
{
    zu_checkpoint_release(&cp->c);
    free(cp->note);
    cp->note = NULL;
}

json_t *
zp_log_cp_json(const struct zp_log_cp *cp)
{
    char root[64];
    json_t *signers = json_array();

    sodium_bin2base64(root, sizeof(root), cp->c.root, sizeof(cp->c.root),
                      sodium_base64_VARIANT_ORIGINAL);
    for (size_t i = 0; signers != NULL && i < cp->nkeys; i++)
        if (cp->ok[i])
            json_array_append_new(signers, json_string(cp->keys[i].name));
    return json_pack("{s:s,s:I,s:s,s:o?,s:I}", "origin", cp->c.origin, "size",
                     (json_int_t)cp->c.size, "root_hash", root, "signers", signers, "cosigners",
                     (json_int_t)cp->cosigners);
}

/* ------------------------------------------------------------ consistency */

static void
b64(const uint8_t h[ZU_TLOG_HASH], char out[64])
{
    sodium_bin2base64(out, 64, h, ZU_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL);
}

int
zp_log_extends(const struct zu_tlog_reader *rd, const struct zu_checkpoint *old,
               const struct zu_checkpoint *cur, char *err, size_t cap)
{
    struct zu_tlog_tiles *t = NULL;
    uint8_t(*proof)[ZU_TLOG_HASH] = NULL;
    uint8_t have[ZU_TLOG_HASH];
    char ro[64], rn[64];
    size_t plen = 0;
    int rc;

    b64(old->root, ro);
    b64(cur->root, rn);
    if (strcmp(old->origin, cur->origin) != 0)
        return zu_fail(err, cap, ZUPD_E_MISMATCH, "the log's origin changed from '%s' to '%s'",
                       old->origin, cur->origin);
    if (cur->size < old->size)
        return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                       "rollback: the log's checkpoint has %llu entries, fewer than the %llu of "
                       "the checkpoint verified before (root %s)",
                       (unsigned long long)cur->size, (unsigned long long)old->size, ro);
    if (cur->size == old->size) {
        if (memcmp(cur->root, old->root, ZU_TLOG_HASH) == 0)
            return ZUPD_OK;
        return zu_fail(err, cap, ZUPD_E_MISMATCH,
                       "fork: two checkpoints of the log '%s' of %llu entries, roots %s and %s "
                       "(the log key signed two histories)",
                       cur->origin, (unsigned long long)cur->size, ro, rn);
    }
    proof = calloc(ZU_TLOG_PROOF_MAX, ZU_TLOG_HASH);
    if (proof == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    rc = zu_tlog_tiles_new(cur->size, rd, &t);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "tree of %llu entries: %s", (unsigned long long)cur->size,
                zupd_strerror(rc));
        goto out;
    }
    rc = zu_tlog_tree_hash(t, cur->size, have, err, cap);
    if (rc == ZUPD_OK && memcmp(have, cur->root, ZU_TLOG_HASH) != 0)
        rc = zu_fail(err, cap, ZUPD_E_HASH, "the log's tiles do not give its checkpoint's root");
    if (rc != ZUPD_OK)
        goto out;
    if (old->size == 0)
        goto out; /* the empty tree is a prefix of every tree */
    rc = zu_tlog_prove_consistency(t, old->size, cur->size, proof, &plen, err, cap);
    if (rc == ZUPD_OK &&
        zu_tlog_verify_consistency(old->size, old->root, cur->size, cur->root,
                                   (const uint8_t(*)[ZU_TLOG_HASH])proof, plen) != ZUPD_OK) {
        /* a fork, or a damaged tile off the right edge: the whole tree
         * tells which (a tree that hashes to its signed root is what the
         * log key signed) */
        char why[256] = "";
        if (zu_tlog_verify_tree(cur->size, cur->root, rd, NULL, NULL, why, sizeof(why)) != ZUPD_OK)
            rc = zu_fail(err, cap, ZUPD_E_HASH, "the log's tiles do not match its checkpoint: %s",
                         why);
        else
            rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                         "fork: the checkpoint of %llu entries (root %s) does not extend the one "
                         "of %llu entries verified before (root %s): the log key signed two "
                         "histories",
                         (unsigned long long)cur->size, rn, (unsigned long long)old->size, ro);
    }
out:
    zu_tlog_tiles_free(t);
    free(proof);
    return rc;
}

/* ------------------------------------------------------------ entries */

struct collect {
    json_t *a;
    uint64_t from;
    struct zu_tlog_tiles *t; /* inclusion proofs (not whole) */
    const struct zu_checkpoint *c;
    uint8_t (*proof)[ZU_TLOG_HASH];
    char *err;
    size_t cap;
};

static int
entry_doc(uint64_t index, const uint8_t *entry, size_t len, json_t **out, char *err, size_t cap)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    const char *type = NULL;
    json_t *doc = NULL;

    *out = NULL;
    if (zu_json_load(entry, len, &lim, &doc, NULL, 0) != ZUPD_OK ||
        zu_json_get_str(doc, "type", &type) != ZUPD_OK) {
        json_decref(doc);
        return zu_fail(err, cap, ZUPD_E_FORMAT, "log entry %llu is not a zupd entry",
                       (unsigned long long)index);
    }
    *out = doc;
    return ZUPD_OK;
}

static int
on_collect(void *opaque, uint64_t index, const uint8_t *entry, size_t len)
{
    struct collect *cl = opaque;
    json_t *doc = NULL;
    int rc;

    if (index < cl->from)
        return ZUPD_OK;
    if (cl->t != NULL) {
        uint8_t leaf[ZU_TLOG_HASH];
        size_t plen = 0;

        zu_tlog_leaf_hash(entry, len, leaf);
        rc = zu_tlog_prove_inclusion(cl->t, index, cl->c->size, cl->proof, &plen, cl->err, cl->cap);
        if (rc == ZUPD_OK && zu_tlog_verify_inclusion(index, cl->c->size, leaf,
                                                      (const uint8_t(*)[ZU_TLOG_HASH])cl->proof,
                                                      plen, cl->c->root) != ZUPD_OK)
            rc = zu_fail(cl->err, cl->cap, ZUPD_E_HASH,
                         "log entry %llu is not in the tree of the checkpoint (a damaged tile or "
                         "entry bundle)",
                         (unsigned long long)index);
        if (rc != ZUPD_OK)
            return rc;
    }
    rc = entry_doc(index, entry, len, &doc, cl->err, cl->cap);
    if (rc != ZUPD_OK)
        return rc;
    if (json_object_set_new(doc, "index", json_integer((json_int_t)index)) != 0 ||
        json_array_append_new(cl->a, doc) != 0)
        return zu_fail(cl->err, cl->cap, ZUPD_E_NOMEM, "out of memory");
    return ZUPD_OK;
}

/* The bundles holding entries [from, c->size), each entry proved included. */
static int
read_new(const struct zu_tlog_reader *rd, struct collect *cl)
{
    uint64_t size = cl->c->size;

    for (uint64_t k = cl->from / ZU_TLOG_TILE_W; k * ZU_TLOG_TILE_W < size; k++) {
        unsigned w = zu_tlog_tile_width(size, 0, k);
        char path[ZU_TLOG_PATH_MAX];
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = zu_tlog_tile_path(path, sizeof(path), ZU_TLOG_ENTRIES, k, w);

        if (rc == ZUPD_OK)
            rc = rd->read(rd->opaque, path, (size_t)w * (ZU_TLOG_ENTRY_MAX + 2), &data, &len,
                          cl->err, cl->cap);
        if (rc == ZUPD_OK) {
            rc = zu_tlog_bundle_parse(data, len, w, k * ZU_TLOG_TILE_W, on_collect, cl);
            if (rc == ZUPD_E_FORMAT && cl->err != NULL && cl->err[0] == '\0')
                zu_fail(cl->err, cl->cap, rc, "entry bundle '%s' is malformed", path);
        }
        free(data);
        if (rc != ZUPD_OK)
            return rc;
    }
    return ZUPD_OK;
}

int
zp_log_entries(const struct zu_tlog_reader *rd, const struct zu_checkpoint *c, uint64_t from,
               bool whole, json_t **out, char *err, size_t cap)
{
    struct collect cl = {0};
    int rc;

    *out = NULL;
    cl.a = json_array();
    cl.from = from;
    cl.c = c;
    cl.err = err;
    cl.cap = cap;
    if (cl.a == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    if (err != NULL && cap > 0)
        err[0] = '\0';
    if (!whole && from >= c->size) {
        *out = cl.a; /* nothing new: nothing read */
        return ZUPD_OK;
    }
    if (whole) {
        rc = zu_tlog_verify_tree(c->size, c->root, rd, on_collect, &cl, err, cap);
    } else {
        cl.proof = calloc(ZU_TLOG_PROOF_MAX, ZU_TLOG_HASH);
        rc = cl.proof != NULL ? zu_tlog_tiles_new(c->size, rd, &cl.t) : ZUPD_E_NOMEM;
        if (rc == ZUPD_OK)
            rc = read_new(rd, &cl);
        else
            zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
        zu_tlog_tiles_free(cl.t);
        free(cl.proof);
    }
    if (rc != ZUPD_OK)
        json_decref(cl.a);
    else
        *out = cl.a;
    return rc;
}

static const char *
str_or(const json_t *o, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : dflt;
}

void
zp_log_entry_line(const json_t *e, char *dst, size_t cap)
{
    const json_t *target = json_object_get(e, "target"), *ver = json_object_get(e, "version");
    char vbuf[32];
    const char *version = "-";

    if (json_is_string(ver)) {
        version = json_string_value(ver);
    } else if (json_is_integer(ver)) {
        snprintf(vbuf, sizeof(vbuf), "%lld", (long long)json_integer_value(ver));
        version = vbuf;
    }
    snprintf(dst, cap, "%lld %s %s %s %s %s",
             (long long)json_integer_value(json_object_get(e, "index")), str_or(e, "type", "-"),
             str_or(e, "role", "-"), str_or(e, "component", "-"), version,
             target != NULL ? str_or(target, "sha256", "-") : "-");
}

/* ------------------------------------------------------------ cross-check */

struct logged {
    char *path;
    char sha[65];
    uint64_t length;
};

struct walk {
    struct logged *v;
    size_t n, cap_v;
    struct zp_log_res *res;
    char *err;
    size_t err_cap;
};

static int
logged_cmp(const void *a, const void *b)
{
    const struct logged *x = a, *y = b;
    int c = strcmp(x->path, y->path);

    return c != 0 ? c : strcmp(x->sha, y->sha);
}

static int
on_entry(void *opaque, uint64_t index, const uint8_t *entry, size_t len)
{
    struct walk *w = opaque;
    const char *type = NULL, *path = NULL, *sha = NULL;
    json_t *doc = NULL, *target = NULL;
    uint64_t length = 0;
    int rc;

    rc = entry_doc(index, entry, len, &doc, w->err, w->err_cap);
    if (rc != ZUPD_OK)
        return rc;
    if (zu_json_get_str(doc, "type", &type) != ZUPD_OK)
        type = ""; /* entry_doc checked it */
    if (strcmp(type, "release") == 0)
        w->res->releases++;
    else if (strcmp(type, "channel") == 0)
        w->res->channels++;
    else if (strcmp(type, "root") == 0)
        w->res->roots++;
    else {
        w->res->other++;
        json_decref(doc);
        return ZUPD_OK;
    }
    rc = zu_json_get_str(doc, "path", &path);
    if (rc == ZUPD_OK)
        rc = zu_json_get_obj(doc, "target", &target);
    if (rc == ZUPD_OK)
        rc = zu_json_get_str(target, "sha256", &sha);
    if (rc == ZUPD_OK)
        rc = zu_json_get_u64(target, "length", &length);
    if (rc == ZUPD_OK && strlen(sha) != 64)
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK)
        rc = ZU_GROW(&w->v, &w->cap_v, w->n + 1, 0);
    if (rc == ZUPD_OK) {
        w->v[w->n].path = strdup(path);
        memcpy(w->v[w->n].sha, sha, 65);
        w->v[w->n].length = length;
        rc = w->v[w->n].path != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
        w->n += rc == ZUPD_OK;
    }
    json_decref(doc);
    if (rc != ZUPD_OK)
        return zu_fail(w->err, w->err_cap, rc, "log entry %llu (%s): %s", (unsigned long long)index,
                       type, zupd_strerror(rc));
    return ZUPD_OK;
}

static bool
is_logged(const struct walk *w, const char *path, const char *sha, uint64_t length)
{
    struct logged key = {(char *)(uintptr_t)path, "", 0};
    const struct logged *hit;

    memcpy(key.sha, sha, 65);
    hit = bsearch(&key, w->v, w->n, sizeof(*w->v), logged_cmp);
    return hit != NULL && hit->length == length;
}

static int
on_target(void *opaque, const char *path, const struct zupd_target *t)
{
    struct walk *w = opaque;
    char hex[65];

    w->res->targets++;
    if (!t->hashes.has_sha256)
        return zu_fail(w->err, w->err_cap, ZUPD_E_HASH, "target '%s' has no sha256", path);
    zupd_hex_encode(hex, sizeof(hex), t->hashes.sha256, 32);
    if (!is_logged(w, path, hex, t->length))
        return zu_fail(w->err, w->err_cap, ZUPD_E_NOTFOUND,
                       "target '%s' (sha256 %.16s..., %llu bytes) is signed but not in the log",
                       path, hex, (unsigned long long)t->length);
    w->res->matched++;
    return ZUPD_OK;
}

/* Every root version of the repository is logged. */
static int
check_roots(const struct zp_tuf_view *tv, struct walk *w)
{
    for (uint64_t v = 1; v <= tv->root_version; v++) {
        char rel[64], hex[65];
        uint8_t *text = NULL;
        size_t len = 0;
        int rc;

        snprintf(rel, sizeof(rel), "metadata/%llu.root.json", (unsigned long long)v);
        rc = tv->root(tv->opaque, v, &text, &len, w->err, w->err_cap);
        if (rc != ZUPD_OK)
            return rc;
        zu_sha256_hex(text, len, hex);
        free(text);
        if (!is_logged(w, rel, hex, len))
            return zu_fail(w->err, w->err_cap, ZUPD_E_NOTFOUND, "'%s' is signed but not in the log",
                           rel);
        w->res->matched++;
    }
    return ZUPD_OK;
}

int
zp_log_crosscheck(const struct zu_tlog_reader *rd, const struct zu_checkpoint *c,
                  const struct zp_tuf_view *tv, struct zp_log_res *res, char *err, size_t cap)
{
    struct walk w = {0};
    int rc;

    memset(res, 0, sizeof(*res));
    snprintf(res->origin, sizeof(res->origin), "%s", c->origin);
    res->size = c->size;
    memcpy(res->root, c->root, sizeof(res->root));
    w.res = res;
    w.err = err;
    w.err_cap = cap;
    rc = zu_tlog_verify_tree(c->size, c->root, rd, on_entry, &w, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (w.n > 0)
        qsort(w.v, w.n, sizeof(*w.v), logged_cmp);
    rc = tv->targets(tv->opaque, on_target, &w);
    if (rc == ZUPD_OK)
        rc = check_roots(tv, &w);
    res->not_current = w.n - res->matched;
out:
    for (size_t i = 0; i < w.n; i++)
        free(w.v[i].path);
    free(w.v);
    return rc;
}

/* ------------------------------------------------------------ monitor */

int
zp_log_monitor(struct zp_logsrc *src, const struct zp_log_trust *t, const char *state,
               struct zp_log_cp *cur, uint64_t *prev_size, bool *first, json_t **entries, char *err,
               size_t cap)
{
    struct zp_log_trust remembered = {t->vkey, NULL, 0, 0};
    struct zp_log_cp old;
    uint8_t *note = NULL;
    size_t len = 0;
    char why[512] = "";
    int rc;

    memset(&old, 0, sizeof(old));
    memset(cur, 0, sizeof(*cur));
    *entries = NULL;
    *prev_size = 0;
    *first = false;
    if (t->vkey == NULL)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "the monitor needs the log's key (--vkey)");
    rc = zp_get(AT_FDCWD, state, ZU_NOTE_MAX_BYTES, &note, &len);
    if (rc == ZUPD_E_NOTFOUND) {
        *first = true;
    } else if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "cannot read the state '%s': %s", state, zupd_strerror(rc));
    } else {
        /* accepted by an earlier run (with its quorum): the log key's
         * signature is what makes it ours */
        rc = zp_log_cp_open(note, len, &remembered, &old, why, sizeof(why));
        free(note);
        if (rc != ZUPD_OK) {
            /* another log's state is a misconfiguration, not a fork */
            rc = rc == ZUPD_E_MISMATCH ? ZUPD_E_MISUSE : rc;
            zu_fail(err, cap, rc, "the state '%s' is not a checkpoint of this log: %s", state, why);
            goto out;
        }
        *prev_size = old.c.size;
    }
    rc = zp_log_cp_read(src, t, cur, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (*first) {
        rc = zp_log_entries(zp_logsrc_reader(src), &cur->c, 0, true, entries, err, cap);
        goto out;
    }
    rc = zp_log_extends(zp_logsrc_reader(src), &old.c, &cur->c, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_log_entries(zp_logsrc_reader(src), &cur->c, old.c.size, false, entries, err, cap);
out:
    zp_log_cp_release(&old);
    return rc;
}

int
zp_log_monitor_store(const char *state, const struct zp_log_cp *cur, char *err, size_t cap)
{
    uint8_t *have = NULL;
    size_t len = 0;
    int rc;

    if (zp_get(AT_FDCWD, state, ZU_NOTE_MAX_BYTES, &have, &len) == ZUPD_OK &&
        len == cur->note_len && memcmp(have, cur->note, len) == 0) {
        free(have);
        return ZUPD_OK;
    }
    free(have);
    rc = zp_put(AT_FDCWD, state, cur->note, cur->note_len, 0644, false);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write the state '%s': %s", state, zupd_strerror(rc));
    return ZUPD_OK;
}
