/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/cosign.c -- the publisher asks its log's witnesses for
 * cosignatures (C2SP tlog-witness add-checkpoint, cosignature/v1) and
 * appends the verified ones to log/checkpoint (docs/transparency.md). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "keys/notesign.h"
#include "zu/http_post.h"
#include "zu/note.h"
#include "zu/tlog.h"

#include "repo/layout.h"
#include "repo/repo_int.h"

#define LOG_CHECKPOINT "log/checkpoint"
/* the size each witness cosigned last, by vkey: the `old` of the next request */
#define SIZES ZP_STATE_DIR "/witness-sizes.json"
#define ANSWER_MAX 16384 /* a few signature lines */
#define TIMEOUT_MS 15000 /* per request */

struct ask {
    struct zp_repo *r;
    struct zu_tlog_tiles *tiles;
    const uint8_t *note; /* the current checkpoint, as on disk */
    size_t note_len;
    const struct zu_checkpoint *c;
    const char *text; /* its note text */
    size_t text_len;
    struct zu_buf *lines; /* cosignature lines gained */
};

static void warn(const struct zp_repo *r, const char *fmt, ...) ZU_PRINTF(2, 3);
static void
warn(const struct zp_repo *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (r->log_fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->log_fn(r->log_opaque, ZUPD_LOG_WARN, line);
}

/* The add-checkpoint body from old to the checkpoint's size. */
static int
request_body(struct ask *a, uint64_t old, struct zu_buf *body, char *err, size_t cap)
{
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH];
    size_t n = 0;
    int rc;

    body->len = 0;
    rc = zu_tlog_prove_consistency(a->tiles, old, a->c->size, proof, &n, err, cap);
    if (rc == ZUPD_OK)
        rc = zu_buf_addf(body, "old %llu\n", (unsigned long long)old);
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        rc = zu_b64_encode(body, proof[i], ZU_TLOG_HASH);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(body, "\n", 1);
    }
    if (rc == ZUPD_OK)
        rc = zu_buf_add(body, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(body, a->note, a->note_len);
    return rc;
}

/* Keep the signature lines of witness k found in a 200's answer, checked:
 * the note text with the answer as its signatures must verify with k. */
static int
take_cosig(struct ask *a, const struct zu_note_key *k, const struct zu_http_answer *ans)
{
    struct zu_buf cand;
    struct zu_note *n = NULL;
    bool ok = false;
    size_t before = a->lines->len;
    int rc;

    zu_buf_init(&cand, ZU_NOTE_MAX_BYTES);
    rc = zu_buf_add(&cand, a->text, a->text_len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&cand, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&cand, ans->body, ans->len);
    if (rc == ZUPD_OK)
        rc = zu_note_parse(cand.p, cand.len, &n);
    if (rc == ZUPD_OK)
        rc = zu_note_verify(n, k, 1, &ok, NULL);
    if (rc == ZUPD_OK && !ok)
        rc = ZUPD_E_NOTFOUND;
    for (size_t i = 0; rc == ZUPD_OK && i < n->nsigs; i++)
        if (n->sigs[i].id == k->id && strcmp(n->sigs[i].name, k->name) == 0)
            rc = zp_note_sig_line(a->lines, &n->sigs[i]);
    if (rc != ZUPD_OK)
        a->lines->len = before;
    zu_note_free(n);
    zu_buf_release(&cand);
    return rc;
}

/* Ask witness w (key k) from *old; *old becomes the size it cosigned.
 * Returns ZUPD_OK when a verified cosignature was gained; otherwise the
 * reason was warned about. */
static int
ask_one(struct ask *a, const struct zp_witness_cfg *w, const struct zu_note_key *k, uint64_t *old)
{
    struct zu_http_post p = {0};
    struct zu_http_answer ans = {0};
    struct zu_buf body;
    char url[ZP_WITNESS_URL_MAX + 32], err[512] = "";
    size_t ul = strlen(w->url);
    int rc = ZUPD_E_NET;

    snprintf(url, sizeof(url), "%.*s/add-checkpoint",
             (int)(ul > 0 && w->url[ul - 1] == '/' ? ul - 1 : ul), w->url);
    zu_buf_init(&body, ZU_NOTE_MAX_BYTES + 8192);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (*old > a->c->size) {
            warn(a->r,
                 "witness '%s' has cosigned size %llu of the log, larger than its %llu: "
                 "is this the log it follows?",
                 k->name, (unsigned long long)*old, (unsigned long long)a->c->size);
            rc = ZUPD_E_ROLLBACK;
            break;
        }
        rc = request_body(a, *old, &body, err, sizeof(err));
        if (rc != ZUPD_OK) {
            warn(a->r, "cannot make the request for witness '%s': %s", k->name,
                 err[0] ? err : zupd_strerror(rc));
            break;
        }
        p = (struct zu_http_post){url,        body.p,    body.len, "text/plain; charset=utf-8",
                                  ANSWER_MAX, TIMEOUT_MS};
        zu_http_answer_release(&ans);
        rc = zu_http_post(&p, &ans, err, sizeof(err));
        if (rc != ZUPD_OK) {
            warn(a->r, "witness '%s' (%s) did not answer: %s", k->name, url,
                 err[0] ? err : zupd_strerror(rc));
            break;
        }
        if (ans.status == 409 && attempt == 0) {
            /* its latest cosigned size: "<decimal>\n", text/x.tlog.size */
            char *end = NULL;
            unsigned long long v = strtoull((const char *)ans.body, &end, 10);

            if (ans.len == 0 || ans.body[0] < '0' || ans.body[0] > '9' || end == NULL ||
                strcmp(end, "\n") != 0) {
                warn(a->r, "witness '%s' answered 409 without a tree size", k->name);
                rc = ZUPD_E_FORMAT;
                break;
            }
            *old = v;
            continue;
        }
        if (ans.status != 200) {
            size_t n = strcspn((const char *)ans.body, "\n");

            warn(a->r,
                 "witness '%s' refused the checkpoint of size %llu from size %llu: HTTP %ld%s%.*s",
                 k->name, (unsigned long long)a->c->size, (unsigned long long)*old, ans.status,
                 n > 0 ? ": " : "", (int)(n > 200 ? 200 : n), (const char *)ans.body);
            rc = ZUPD_E_SIG;
            break;
        }
        rc = take_cosig(a, k, &ans);
        if (rc != ZUPD_OK)
            warn(a->r, "witness '%s' answered without a valid cosignature of its key: %s", k->name,
                 zupd_strerror(rc));
        else
            *old = a->c->size;
        break;
    }
    zu_http_answer_release(&ans);
    zu_buf_release(&body);
    return rc;
}

static uint64_t
size_of(json_t *sizes, const char *vkey)
{
    json_t *v = json_object_get(sizes, vkey);

    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

int
zp_log_cosign(struct zp_repo *r, struct zp_cosign_res *res, char *err, size_t cap)
{
    const struct zp_config *cfg = &r->cfg;
    struct zu_tlog_reader rd = {r, zp_log_read};
    struct zu_note_key keys[ZP_WITNESSES_MAX];
    bool ok[ZP_WITNESSES_MAX] = {false};
    struct zu_checkpoint c = {0};
    struct zu_note *n = NULL;
    struct zu_buf lines, out;
    struct ask a = {0};
    json_t *sizes = NULL;
    uint8_t *cp = NULL, *sz = NULL;
    size_t cplen = 0, szlen = 0;
    bool sizes_changed = false;
    int rc;

    memset(res, 0, sizeof(*res));
    res->witnesses = cfg->n_witnesses;
    res->quorum = cfg->witness_quorum;
    zu_buf_init(&lines, ZU_NOTE_MAX_BYTES);
    zu_buf_init(&out, ZU_NOTE_MAX_BYTES);
    if (cfg->n_witnesses == 0)
        return ZUPD_OK;
    rc = zp_log_cp_load(r, &cp, &cplen, &n, &c, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    res->size = c.size;
    for (size_t i = 0; i < cfg->n_witnesses; i++) {
        const char *v = cfg->witnesses[i].vkey;

        rc = zu_note_vkey_parse(v, strlen(v), &keys[i]); /* checked when the config was read */
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "bad witness vkey '%s'", v);
            goto out;
        }
    }
    /* cosignatures already there (log cosign after a witness came back) */
    rc = zu_note_verify(n, keys, cfg->n_witnesses, ok, NULL);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "'%s/" LOG_CHECKPOINT "' carries a bad cosignature", r->dir);
        goto out;
    }
    rc = zp_get(r->dfd, SIZES, 1u << 16, &sz, &szlen);
    if (rc == ZUPD_OK)
        sizes = json_loadb((const char *)sz, szlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(sizes)) {
        json_decref(sizes);
        sizes = json_object(); /* none yet, or unreadable: a 409 says the size */
    }
    rc = zu_tlog_tiles_new(c.size, &rd, &a.tiles);
    if (rc != ZUPD_OK || sizes == NULL) {
        rc = zu_fail(err, cap, rc != ZUPD_OK ? rc : ZUPD_E_NOMEM, "out of memory");
        goto out;
    }
    a = (struct ask){r, a.tiles, cp, cplen, &c, n->text, n->text_len, &lines};
    for (size_t i = 0; i < cfg->n_witnesses; i++) {
        uint64_t old;
        bool dup = false;

        for (size_t j = 0; j < i; j++)
            dup = dup || (keys[j].id == keys[i].id && strcmp(keys[j].name, keys[i].name) == 0);
        if (ok[i] || dup) {
            res->cosigned += ok[i] && !dup;
            continue;
        }
        old = size_of(sizes, cfg->witnesses[i].vkey);
        if (ask_one(&a, &cfg->witnesses[i], &keys[i], &old) == ZUPD_OK) {
            res->cosigned++;
            res->added++;
        }
        if (old != size_of(sizes, cfg->witnesses[i].vkey) && old <= c.size) {
            json_object_set_new(sizes, cfg->witnesses[i].vkey, json_integer((json_int_t)old));
            sizes_changed = true;
        }
    }
    if (lines.len > 0) {
        if (n->nsigs + res->added > ZU_NOTE_MAX_SIGS) {
            rc = zu_fail(err, cap, ZUPD_E_TOOBIG, "more than %d signatures", ZU_NOTE_MAX_SIGS);
            goto out;
        }
        rc = zu_buf_add(&out, cp, cplen);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(&out, lines.p, lines.len);
        if (rc == ZUPD_OK)
            rc = zp_put(r->dfd, LOG_CHECKPOINT, out.p, out.len, 0644, false);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot write '%s/" LOG_CHECKPOINT "': %s", r->dir,
                    zupd_strerror(rc));
            goto out;
        }
    }
    if (sizes_changed) {
        char *text = json_dumps(sizes, JSON_INDENT(2) | JSON_SORT_KEYS);

        /* a lost update costs one 409 at the next request, nothing more */
        if (text == NULL || zp_put(r->dfd, SIZES, text, strlen(text), 0644, false) != ZUPD_OK)
            warn(r, "cannot write '%s/" SIZES "'", r->dir);
        free(text);
    }
    if (res->cosigned < res->quorum)
        warn(r,
             "log/checkpoint (size %llu) has %zu of the %u cosignatures endpoints need; "
             "they wait until 'zupd-mirror log cosign' gets more",
             (unsigned long long)c.size, res->cosigned, res->quorum);
    rc = ZUPD_OK;
out:
    zu_tlog_tiles_free(a.tiles);
    json_decref(sizes);
    zu_note_free(n);
    zu_checkpoint_release(&c);
    zu_buf_release(&lines);
    zu_buf_release(&out);
    free(cp);
    free(sz);
    return rc;
}

/* ------------------------------------------------------------ configuration */

/* The name of a vkey: what comes before its first '+'. */
static size_t
name_len(const char *vkey)
{
    const char *plus = strchr(vkey, '+');
    return plus != NULL ? (size_t)(plus - vkey) : strlen(vkey);
}

static bool
same_witness(const char *vkey, const char *which)
{
    size_t n = name_len(vkey);

    return strcmp(vkey, which) == 0 || (strlen(which) == n && strncmp(vkey, which, n) == 0);
}

/* Set the quorum (unless -1) and write config.json; c is r's copy to keep
 * on success. */
static int
save_witnesses(struct zp_repo *r, struct zp_config *c, long quorum, char *err, size_t cap)
{
    int rc;

    if (quorum >= 0)
        c->witness_quorum = (unsigned)quorum;
    if (c->witness_quorum > c->n_witnesses)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "a quorum of %u with %zu witness%s listed: endpoints could never be "
                       "satisfied (lower it with --quorum)",
                       c->witness_quorum, c->n_witnesses, c->n_witnesses == 1 ? "" : "es");
    rc = zp_config_write(r->dfd, c);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/" ZP_STATE_DIR "/config.json': %s", r->dir,
                       zupd_strerror(rc));
    r->cfg = *c;
    return ZUPD_OK;
}

int
zp_log_witness_add(struct zp_repo *r, const char *vkey, const char *url, long quorum, char *err,
                   size_t cap)
{
    struct zp_config c = r->cfg;
    int rc = zp_witness_cfg_check(vkey, url, err, cap);

    if (rc != ZUPD_OK)
        return rc;
    for (size_t i = 0; i < c.n_witnesses; i++)
        if (name_len(c.witnesses[i].vkey) == name_len(vkey) &&
            strncmp(c.witnesses[i].vkey, vkey, name_len(vkey)) == 0)
            return zu_fail(err, cap, ZUPD_E_EXISTS, "a witness named '%.*s' is listed already",
                           (int)name_len(vkey), vkey);
    if (c.n_witnesses == ZP_WITNESSES_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "at most %d witnesses", ZP_WITNESSES_MAX);
    snprintf(c.witnesses[c.n_witnesses].vkey, sizeof(c.witnesses[0].vkey), "%s", vkey);
    snprintf(c.witnesses[c.n_witnesses].url, sizeof(c.witnesses[0].url), "%s", url);
    c.n_witnesses++;
    return save_witnesses(r, &c, quorum, err, cap);
}

int
zp_log_witness_remove(struct zp_repo *r, const char *which, long quorum, char *err, size_t cap)
{
    struct zp_config c = r->cfg;
    size_t i = 0;

    while (i < c.n_witnesses && !same_witness(c.witnesses[i].vkey, which))
        i++;
    if (i == c.n_witnesses)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "no witness '%s' is listed", which);
    memmove(&c.witnesses[i], &c.witnesses[i + 1], (c.n_witnesses - i - 1) * sizeof(c.witnesses[0]));
    c.n_witnesses--;
    return save_witnesses(r, &c, quorum, err, cap);
}

int
zp_log_witness_quorum(struct zp_repo *r, long quorum, char *err, size_t cap)
{
    struct zp_config c = r->cfg;

    return save_witnesses(r, &c, quorum, err, cap);
}
