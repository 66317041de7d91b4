/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/witness/witness.c -- a C2SP tlog-witness's add-checkpoint: the
 * strict request parser, the checks in the specification's order, the
 * cosignature/v1, and the latest cosigned checkpoint per log stored durably
 * before the answer (docs/transparency.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <zupd/hash.h>

#include "keys/notesign.h"
#include "witness/witness.h"
#include "zu/fsio.h"

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_SIZE "text/x.tlog.size"

/* One log the witness follows: its origin and the keys that may sign it
 * (more than one while the log rotates its key). */
struct wlog {
    char origin[ZU_NOTE_ORIGIN_MAX + 1];
    struct zu_note_key *keys;
    size_t nkeys, cap_keys;
};

struct zp_witness {
    int dfd; /* the state directory */
    struct zu_note_key key;
    char vkey[ZU_NOTE_NAME_MAX + 80];
    struct zp_signer *signer; /* borrowed */
    struct wlog *logs;
    size_t nlogs, cap_logs;
    int64_t now;
    pthread_mutex_t mu; /* check and store as one step */
};

/* ------------------------------------------------------------ request */

/* The end of the line at p (before end): its "\n", or NULL without one. */
static const uint8_t *
line_end(const uint8_t *p, const uint8_t *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

int
zp_wreq_parse(const uint8_t *body, size_t len, struct zp_wreq *out)
{
    const uint8_t *p = body, *end = body + len, *nl;
    uint64_t v = 0;

    memset(out, 0, sizeof(*out));
    if (len > ZP_WITNESS_BODY_MAX)
        return ZUPD_E_TOOBIG;
    nl = line_end(p, end);
    if (nl == NULL || nl - p < 5 || memcmp(p, "old ", 4) != 0)
        return ZUPD_E_FORMAT;
    p += 4;
    if (p[0] == '0' && p + 1 != nl)
        return ZUPD_E_FORMAT; /* no leading zero */
    for (; p < nl; p++) {
        if (*p < '0' || *p > '9' || v > (ZU_TLOG_SIZE_MAX - (uint64_t)(*p - '0')) / 10)
            return ZUPD_E_FORMAT;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    out->old = v;
    p = nl + 1;
    for (;;) {
        size_t n = 0;

        nl = line_end(p, end);
        if (nl == NULL)
            return ZUPD_E_FORMAT;
        if (nl == p)
            break; /* the empty line */
        if (out->nproof == ZP_WITNESS_PROOF_MAX ||
            zu_b64_decode(out->proof[out->nproof], ZU_TLOG_HASH, &n, (const char *)p,
                          (size_t)(nl - p)) != ZUPD_OK ||
            n != ZU_TLOG_HASH)
            return ZUPD_E_FORMAT;
        out->nproof++;
        p = nl + 1;
    }
    out->note = nl + 1;
    out->note_len = (size_t)(end - out->note);
    if (out->note_len == 0)
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}

void
zp_wresp_init(struct zp_wresp *r)
{
    r->status = 500;
    r->content_type = CT_TEXT;
    zu_buf_init(&r->body, ZU_NOTE_MAX_BYTES);
}

void
zp_wresp_release(struct zp_wresp *r)
{
    zu_buf_release(&r->body);
}

/* Answer status with a one-line text body; why gets it too. */
static int answer(struct zp_wresp *r, unsigned status, char *why, size_t why_cap, const char *fmt,
                  ...) ZU_PRINTF(5, 6);
static int
answer(struct zp_wresp *r, unsigned status, char *why, size_t why_cap, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (why != NULL && why_cap > 0)
        snprintf(why, why_cap, "%s", line);
    r->status = status;
    r->content_type = CT_TEXT;
    r->body.len = 0;
    return zu_buf_addf(&r->body, "%s\n", line);
}

/* ------------------------------------------------------------ state */

/* The latest checkpoint cosigned for origin into *c (size 0 and the empty
 * root when there is none). A state file that cannot be read or parsed is
 * an error, never "none": that would let a fork through. */
static int
state_read(struct zp_witness *w, const char *origin, struct zu_checkpoint *c)
{
    char name[65];
    uint8_t *buf = NULL;
    size_t len = 0;
    struct zu_note *n = NULL;
    int rc;

    memset(c, 0, sizeof(*c));
    zu_sha256_hex(origin, strlen(origin), name);
    rc = zu_read_capped(w->dfd, name, ZU_NOTE_MAX_BYTES, &buf, &len);
    if (rc == ZUPD_E_NOTFOUND) {
        zu_tlog_empty_root(c->root);
        return ZUPD_OK;
    }
    if (rc == ZUPD_OK)
        rc = zu_note_parse(buf, len, &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, c);
    if (rc == ZUPD_OK && strcmp(c->origin, origin) != 0)
        rc = ZUPD_E_MISMATCH;
    zu_note_free(n);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ add-checkpoint */

static const struct wlog *
find_log(const struct zp_witness *w, const char *origin)
{
    for (size_t i = 0; i < w->nlogs; i++)
        if (strcmp(w->logs[i].origin, origin) == 0)
            return &w->logs[i];
    return NULL;
}

/* Cosign n (checked) and store it with the log's verified signatures and
 * the cosignature, durably; the cosignature line goes to resp. */
static int
cosign_store(struct zp_witness *w, const struct zu_note *n, const struct wlog *lg,
             const struct zu_checkpoint *c, struct zp_wresp *resp, char *why, size_t why_cap)
{
    struct zu_buf line, stored;
    char name[65];
    uint64_t now = w->now > 0 ? (uint64_t)w->now : (uint64_t)time(NULL);
    int rc;

    zu_buf_init(&line, 4096);
    zu_buf_init(&stored, ZU_NOTE_MAX_BYTES);
    rc = zp_note_cosign_by(&line, n->text, n->text_len, &w->key, w->signer, now == 0 ? 1 : now);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&stored, n->text, n->text_len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&stored, "\n", 1);
    /* the log's signatures the witness checked, then its own */
    for (size_t i = 0; rc == ZUPD_OK && i < n->nsigs; i++)
        for (size_t k = 0; rc == ZUPD_OK && k < lg->nkeys; k++)
            if (lg->keys[k].id == n->sigs[i].id && strcmp(lg->keys[k].name, n->sigs[i].name) == 0)
                rc = zp_note_sig_line(&stored, &n->sigs[i]);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&stored, line.p, line.len);
    if (rc != ZUPD_OK) {
        rc = answer(resp, 500, why, why_cap, "cannot cosign: %s", zupd_strerror(rc));
        goto out;
    }
    zu_sha256_hex(c->origin, strlen(c->origin), name);
    rc = zu_atomic_write(w->dfd, name, stored.p, stored.len, 0644);
    if (rc != ZUPD_OK) {
        rc = answer(resp, 500, why, why_cap, "cannot store the checkpoint of '%s': %s", c->origin,
                    zupd_strerror(rc));
        goto out;
    }
    resp->status = 200;
    resp->content_type = CT_TEXT;
    resp->body.len = 0;
    rc = zu_buf_add(&resp->body, line.p, line.len);
    if (why != NULL && why_cap > 0)
        snprintf(why, why_cap, "cosigned '%s' at size %llu", c->origin,
                 (unsigned long long)c->size);
out:
    zu_buf_release(&line);
    zu_buf_release(&stored);
    return rc;
}

int
zp_witness_add(struct zp_witness *w, const uint8_t *body, size_t len, struct zp_wresp *resp,
               char *why, size_t why_cap)
{
    struct zp_wreq *q = NULL;
    struct zu_note *n = NULL;
    struct zu_checkpoint c = {0}, st = {0};
    const struct wlog *lg;
    uint8_t empty[ZU_TLOG_HASH];
    bool ok[ZP_WITNESS_LOGS_MAX], any = false, locked = false;
    int rc;

    q = malloc(sizeof(*q));
    if (q == NULL)
        return ZUPD_E_NOMEM;
    rc = zp_wreq_parse(body, len, q);
    if (rc != ZUPD_OK) {
        rc = answer(resp, rc == ZUPD_E_TOOBIG ? 413 : 400, why, why_cap,
                    "malformed add-checkpoint request");
        goto out;
    }
    rc = zu_note_parse(q->note, q->note_len, &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, &c);
    if (rc == ZUPD_E_NOMEM)
        goto out;
    if (rc != ZUPD_OK) {
        rc = answer(resp, 400, why, why_cap, "not a signed checkpoint");
        goto out;
    }
    lg = find_log(w, c.origin);
    if (lg == NULL) {
        rc = answer(resp, 404, why, why_cap, "unknown log '%s'", c.origin);
        goto out;
    }
    rc = zu_note_verify(n, lg->keys, lg->nkeys, ok, NULL);
    for (size_t k = 0; rc == ZUPD_OK && k < lg->nkeys; k++)
        any = any || ok[k];
    if (rc != ZUPD_OK || !any) {
        rc = answer(resp, 403, why, why_cap, "%s of the log '%s'",
                    rc != ZUPD_OK ? "a bad signature" : "no signature", c.origin);
        goto out;
    }
    if (q->old > c.size) {
        rc = answer(resp, 400, why, why_cap, "old size %llu is over the checkpoint's %llu",
                    (unsigned long long)q->old, (unsigned long long)c.size);
        goto out;
    }
    zu_tlog_empty_root(empty);
    if (c.size == 0 && sodium_memcmp(c.root, empty, ZU_TLOG_HASH) != 0) {
        rc = answer(resp, 422, why, why_cap, "a checkpoint of size 0 without the empty root");
        goto out;
    }
    pthread_mutex_lock(&w->mu);
    locked = true;
    rc = state_read(w, c.origin, &st);
    if (rc != ZUPD_OK) {
        rc = answer(resp, 500, why, why_cap, "cannot read the state of '%s': %s", c.origin,
                    zupd_strerror(rc));
        goto out;
    }
    if (q->old != st.size) {
        resp->status = 409;
        resp->content_type = CT_SIZE;
        resp->body.len = 0;
        rc = zu_buf_addf(&resp->body, "%llu\n", (unsigned long long)st.size);
        if (why != NULL && why_cap > 0)
            snprintf(why, why_cap, "old size %llu of '%s' is not the latest cosigned, %llu",
                     (unsigned long long)q->old, c.origin, (unsigned long long)st.size);
        goto out;
    }
    if (q->old == 0 ? q->nproof != 0
                    : zu_tlog_verify_consistency(q->old, st.root, c.size, c.root,
                                                 (const uint8_t(*)[ZU_TLOG_HASH])q->proof,
                                                 q->nproof) != ZUPD_OK) {
        rc = answer(resp, 422, why, why_cap, "%s from size %llu to %llu of '%s'",
                    q->old == c.size ? "a different root at the same size"
                                     : "a bad consistency proof",
                    (unsigned long long)q->old, (unsigned long long)c.size, c.origin);
        goto out;
    }
    rc = cosign_store(w, n, lg, &c, resp, why, why_cap);
out:
    if (locked)
        pthread_mutex_unlock(&w->mu);
    zu_checkpoint_release(&st);
    zu_checkpoint_release(&c);
    zu_note_free(n);
    free(q);
    return rc;
}

int
zp_witness_get(struct zp_witness *w, const char *hex, struct zp_wresp *resp)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
        return answer(resp, 404, NULL, 0, "not found");
    pthread_mutex_lock(&w->mu);
    rc = zu_read_capped(w->dfd, hex, ZU_NOTE_MAX_BYTES, &buf, &len);
    pthread_mutex_unlock(&w->mu);
    if (rc == ZUPD_E_NOTFOUND)
        return answer(resp, 404, NULL, 0, "no checkpoint cosigned for this log");
    if (rc != ZUPD_OK) {
        free(buf);
        return answer(resp, 500, NULL, 0, "cannot read the state: %s", zupd_strerror(rc));
    }
    resp->status = 200;
    resp->content_type = CT_TEXT;
    resp->body.len = 0;
    rc = zu_buf_add(&resp->body, buf, len);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

static int
add_log(struct zp_witness *w, const char *vkey, char *err, size_t cap)
{
    struct zu_note_key k;
    struct wlog *lg = NULL;
    size_t total = 0;
    int rc = zu_note_vkey_parse(vkey, strlen(vkey), &k);

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "not a log vkey: '%s'", vkey);
    if (k.type != ZU_NOTE_ED25519)
        return zu_fail(err, cap, ZUPD_E_KEYTYPE, "not an Ed25519 log vkey: '%s'", vkey);
    for (size_t i = 0; i < w->nlogs; i++) {
        total += w->logs[i].nkeys;
        if (strcmp(w->logs[i].origin, k.name) == 0)
            lg = &w->logs[i];
    }
    if (total >= ZP_WITNESS_LOGS_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "more than %d log keys", ZP_WITNESS_LOGS_MAX);
    if (lg == NULL) {
        rc = ZU_GROW(&w->logs, &w->cap_logs, w->nlogs + 1, ZP_WITNESS_LOGS_MAX);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
        lg = &w->logs[w->nlogs++];
        memset(lg, 0, sizeof(*lg));
        snprintf(lg->origin, sizeof(lg->origin), "%s", k.name);
    }
    rc = ZU_GROW(&lg->keys, &lg->cap_keys, lg->nkeys + 1, ZP_WITNESS_LOGS_MAX);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    lg->keys[lg->nkeys++] = k;
    return ZUPD_OK;
}

/* The Ed25519 public key of signer s. */
static int
signer_pub(const struct zp_signer *s, uint8_t pub[32])
{
    json_t *pk = zp_signer_pubkey(s);
    const char *hex = NULL, *type = NULL;
    int rc = ZUPD_E_KEYTYPE;

    if (json_unpack(pk, "{s:s,s:{s:s}}", "keytype", &type, "keyval", "public", &hex) == 0 &&
        strcmp(type, "ed25519") == 0)
        rc = zupd_hex_decode(pub, 32, hex, strlen(hex));
    json_decref(pk);
    return rc;
}

int
zp_witness_key_vkey(const struct zp_signer *s, const char *name, char *vkey, size_t cap)
{
    struct zu_note_key k;
    uint8_t pub[32];
    int rc = signer_pub(s, pub);

    if (rc == ZUPD_OK)
        rc = zu_note_key_init(&k, name, ZU_NOTE_COSIG_V1, pub);
    if (rc == ZUPD_OK)
        rc = zu_note_vkey_format(&k, vkey, cap);
    return rc;
}

int
zp_witness_new(const struct zp_witness_opts *o, struct zp_witness **out, char *err, size_t cap)
{
    struct zp_witness *w;
    uint8_t pub[32];
    int rc;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    w->dfd = -1;
    w->signer = o->signer;
    w->now = o->now;
    pthread_mutex_init(&w->mu, NULL);
    rc = signer_pub(o->signer, pub);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "the witness key is not an Ed25519 key");
        goto fail;
    }
    rc = zu_note_key_init(&w->key, o->name, ZU_NOTE_COSIG_V1, pub);
    if (rc == ZUPD_OK)
        rc = zu_note_vkey_format(&w->key, w->vkey, sizeof(w->vkey));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "bad witness name '%s' (a key name: no spaces, no '+')", o->name);
        goto fail;
    }
    for (size_t i = 0; i < o->n_log_vkeys; i++) {
        rc = add_log(w, o->log_vkeys[i], err, cap);
        if (rc != ZUPD_OK)
            goto fail;
    }
    if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST) {
        rc = zu_fail(err, cap, ZUPD_E_IO, "cannot make '%s': %s", o->state_dir, strerror(errno));
        goto fail;
    }
    w->dfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dfd < 0) {
        rc = zu_fail(err, cap, ZUPD_E_IO, "cannot open '%s': %s", o->state_dir, strerror(errno));
        goto fail;
    }
    /* one witness per state: two would each check against what the other
     * is about to replace (tlog-witness's race, across processes) */
    if (flock(w->dfd, LOCK_EX | LOCK_NB) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_BUSY, "'%s' is the state of another running witness",
                     o->state_dir);
        goto fail;
    }
    *out = w;
    return ZUPD_OK;
fail:
    zp_witness_free(w);
    return rc;
}

const char *
zp_witness_vkey(const struct zp_witness *w)
{
    return w->vkey;
}

void
zp_witness_free(struct zp_witness *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nlogs; i++)
        free(w->logs[i].keys);
    free(w->logs);
    if (w->dfd >= 0)
        close(w->dfd);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
