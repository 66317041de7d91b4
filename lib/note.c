/* SPDX-License-Identifier: Apache-2.0 */
/* lib/note.c -- C2SP signed notes, verifier keys, tlog checkpoints and
 * cosignature/v1 (docs/transparency.md). Verification only: signing is the
 * publisher's and the witness's (mirror/keys/notesign.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zu/note.h"

static const char SIG_PREFIX[] = "\xe2\x80\x94 "; /* U+2014 em dash, space */
#define SIG_PREFIX_LEN (sizeof(SIG_PREFIX) - 1)
#define COSIG_LEN (8 + crypto_sign_BYTES)

/* ---- base64 ---- */

int
zu_b64_encode(struct zu_buf *out, const uint8_t *bin, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *tmp = malloc(n);
    int rc;

    if (tmp == NULL)
        return ZUPD_E_NOMEM;
    sodium_bin2base64(tmp, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    rc = zu_buf_add(out, tmp, n - 1);
    free(tmp);
    return rc;
}

/* Only the RFC 4648 alphabet, then at most two '=' at the end: libsodium's
 * decoder (1.0.18) takes some bytes >= 0x80 for letters (fuzz_checkpoint
 * found "...w/+\xf7wrUk=" decoding to the same 32 bytes as another text,
 * corpus crash-base64-high-byte), and a checkpoint must have one encoding. */
static bool
b64_alphabet(const char *b64, size_t len)
{
    size_t pad = 0;

    while (pad < 2 && pad < len && b64[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) {
        char c = b64[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

int
zu_b64_decode(uint8_t *bin, size_t cap, size_t *bin_len, const char *b64, size_t len)
{
    const char *end = NULL;

    *bin_len = 0;
    if (len == 0 || len % 4 != 0 || !b64_alphabet(b64, len) ||
        sodium_base642bin(bin, cap, b64, len, NULL, bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + len || *bin_len == 0) {
        *bin_len = 0;
        return ZUPD_E_FORMAT;
    }
    return ZUPD_OK;
}

/* ---- UTF-8 and names ---- */

/* Decode one UTF-8 sequence at s[0..len) as Go's utf8.DecodeRune accepts it
 * (no overlong forms, no surrogates, at most U+10FFFF). Returns its length
 * and the code point, or 0 for an invalid sequence. */
static size_t
utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Go's unicode.IsSpace. */
static bool
is_space(uint32_t c)
{
    if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xa0 || c == 0x1680)
        return true;
    return (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

bool
zu_note_name_ok(const char *name, size_t len)
{
    const uint8_t *s = (const uint8_t *)name;
    size_t at = 0;

    if (len == 0)
        return false;
    while (at < len) {
        uint32_t c;
        size_t n = utf8_next(s + at, len - at, &c);
        if (n == 0 || c == '+' || c == 0 || is_space(c))
            return false;
        at += n;
    }
    return true;
}

/* ---- keys ---- */

uint32_t
zu_note_key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    const uint8_t sep[2] = {'\n', type};

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, sep, 2);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

int
zu_note_key_init(struct zu_note_key *k, const char *name, uint8_t type, const uint8_t pub[32])
{
    size_t len = strlen(name);

    memset(k, 0, sizeof(*k));
    if (len > ZU_NOTE_NAME_MAX || !zu_note_name_ok(name, len))
        return ZUPD_E_FORMAT;
    if (type != ZU_NOTE_ED25519 && type != ZU_NOTE_COSIG_V1)
        return ZUPD_E_KEYTYPE;
    memcpy(k->name, name, len + 1);
    k->type = type;
    memcpy(k->pub, pub, 32);
    k->id = zu_note_key_id(name, type, pub);
    return ZUPD_OK;
}

int
zu_note_vkey_parse(const char *vkey, size_t len, struct zu_note_key *out)
{
    const char *p1, *p2;
    char name[ZU_NOTE_NAME_MAX + 1];
    uint8_t key[1 + 32 + 1];
    size_t name_len, key_len;
    uint32_t id = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    p1 = memchr(vkey, '+', len);
    if (p1 == NULL)
        return ZUPD_E_FORMAT;
    name_len = (size_t)(p1 - vkey);
    p2 = memchr(p1 + 1, '+', len - name_len - 1);
    if (p2 == NULL || p2 - p1 - 1 != 8 || name_len > ZU_NOTE_NAME_MAX ||
        !zu_note_name_ok(vkey, name_len))
        return ZUPD_E_FORMAT;
    for (const char *h = p1 + 1; h < p2; h++) {
        int v = (*h >= '0' && *h <= '9')   ? *h - '0'
                : (*h >= 'a' && *h <= 'f') ? *h - 'a' + 10
                : (*h >= 'A' && *h <= 'F') ? *h - 'A' + 10
                                           : -1;
        if (v < 0)
            return ZUPD_E_FORMAT;
        id = id << 4 | (uint32_t)v;
    }
    if (zu_b64_decode(key, sizeof(key), &key_len, p2 + 1, len - (size_t)(p2 + 1 - vkey)) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    if (key[0] != ZU_NOTE_ED25519 && key[0] != ZU_NOTE_COSIG_V1)
        return ZUPD_E_KEYTYPE;
    if (key_len != 33)
        return ZUPD_E_FORMAT;
    memcpy(name, vkey, name_len);
    name[name_len] = '\0';
    rc = zu_note_key_init(out, name, key[0], key + 1);
    if (rc != ZUPD_OK)
        return rc;
    if (out->id != id) {
        memset(out, 0, sizeof(*out));
        return ZUPD_E_FORMAT;
    }
    return ZUPD_OK;
}

int
zu_note_vkey_format(const struct zu_note_key *k, char *dst, size_t cap)
{
    struct zu_buf b;
    uint8_t key[33];
    int rc;

    key[0] = k->type;
    memcpy(key + 1, k->pub, 32);
    zu_buf_init(&b, 0);
    rc = zu_buf_addf(&b, "%s+%08x+", k->name, (unsigned)k->id);
    if (rc == ZUPD_OK)
        rc = zu_b64_encode(&b, key, sizeof(key));
    if (rc == ZUPD_OK && b.len >= cap)
        rc = ZUPD_E_TOOBIG;
    if (rc == ZUPD_OK) {
        memcpy(dst, b.p, b.len);
        dst[b.len] = '\0';
    }
    zu_buf_release(&b);
    return rc;
}

/* ---- notes ---- */

void
zu_note_free(struct zu_note *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nsigs; i++) {
        free(n->sigs[i].name);
        free(n->sigs[i].sig);
    }
    free(n->sigs);
    free(n->text);
    free(n);
}

static int
parse_sig_line(const uint8_t *line, size_t len, struct zu_note_sig *s)
{
    const uint8_t *sp;
    size_t name_len, b64_len, cap, n = 0;
    uint8_t *bin;

    if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
        return ZUPD_E_FORMAT;
    line += SIG_PREFIX_LEN;
    len -= SIG_PREFIX_LEN;
    sp = memchr(line, ' ', len);
    if (sp == NULL)
        return ZUPD_E_FORMAT;
    name_len = (size_t)(sp - line);
    b64_len = len - name_len - 1;
    if (!zu_note_name_ok((const char *)line, name_len) || b64_len == 0)
        return ZUPD_E_FORMAT;
    cap = b64_len / 4 * 3;
    bin = malloc(cap == 0 ? 1 : cap);
    s->name = malloc(name_len + 1);
    if (bin == NULL || s->name == NULL) {
        free(bin);
        return ZUPD_E_NOMEM;
    }
    memcpy(s->name, line, name_len);
    s->name[name_len] = '\0';
    if (zu_b64_decode(bin, cap, &n, (const char *)sp + 1, b64_len) != ZUPD_OK || n < 5) {
        free(bin);
        return ZUPD_E_FORMAT;
    }
    s->id = (uint32_t)bin[0] << 24 | (uint32_t)bin[1] << 16 | (uint32_t)bin[2] << 8 | bin[3];
    memmove(bin, bin + 4, n - 4);
    s->sig = bin;
    s->sig_len = n - 4;
    return ZUPD_OK;
}

int
zu_note_parse(const uint8_t *msg, size_t len, struct zu_note **out)
{
    struct zu_note *n = NULL;
    size_t at, split = SIZE_MAX, cap = 0;
    int rc;

    *out = NULL;
    if (len > ZU_NOTE_MAX_BYTES)
        return ZUPD_E_TOOBIG;
    for (at = 0; at < len;) {
        uint32_t c;
        size_t k = utf8_next(msg + at, len - at, &c);
        if (k == 0 || (c < 0x20 && c != '\n'))
            return ZUPD_E_FORMAT;
        at += k;
    }
    /* the text ends at the last blank line */
    for (at = len; at >= 2; at--) {
        if (msg[at - 2] == '\n' && msg[at - 1] == '\n') {
            split = at - 2;
            break;
        }
    }
    if (split == SIZE_MAX || split + 2 == len || msg[len - 1] != '\n')
        return ZUPD_E_FORMAT;
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return ZUPD_E_NOMEM;
    n->text_len = split + 1;
    n->text = malloc(n->text_len + 1);
    if (n->text == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    memcpy(n->text, msg, n->text_len);
    n->text[n->text_len] = '\0';
    for (at = split + 2; at < len;) {
        const uint8_t *nl = memchr(msg + at, '\n', len - at);
        size_t ll = (size_t)(nl - (msg + at));

        if (n->nsigs == ZU_NOTE_MAX_SIGS) {
            rc = ZUPD_E_TOOBIG;
            goto out;
        }
        rc = ZU_GROW(&n->sigs, &cap, n->nsigs + 1, ZU_NOTE_MAX_SIGS);
        if (rc != ZUPD_OK)
            goto out;
        memset(&n->sigs[n->nsigs], 0, sizeof(n->sigs[0]));
        rc = parse_sig_line(msg + at, ll, &n->sigs[n->nsigs]);
        n->nsigs++; /* so that a half-filled signature is freed */
        if (rc != ZUPD_OK)
            goto out;
        at += ll + 1;
    }
    *out = n;
    n = NULL;
    rc = ZUPD_OK;
out:
    zu_note_free(n);
    return rc;
}

int
zu_cosig_message(struct zu_buf *out, const char *text, size_t text_len, uint64_t time)
{
    int rc = zu_buf_addf(out, "cosignature/v1\ntime %llu\n", (unsigned long long)time);

    return rc != ZUPD_OK ? rc : zu_buf_add(out, text, text_len);
}

static int
verify_one(const struct zu_note *n, const struct zu_note_sig *s, const struct zu_note_key *k,
           uint64_t *time)
{
    struct zu_buf m;
    uint64_t t = 0;
    int rc;

    if (k->type == ZU_NOTE_ED25519) {
        if (s->sig_len != crypto_sign_BYTES ||
            crypto_sign_verify_detached(s->sig, (const uint8_t *)n->text, n->text_len, k->pub) != 0)
            return ZUPD_E_SIG;
        return ZUPD_OK;
    }
    if (s->sig_len != COSIG_LEN)
        return ZUPD_E_SIG;
    for (size_t i = 0; i < 8; i++)
        t = t << 8 | s->sig[i];
    if (t > (uint64_t)INT64_MAX)
        return ZUPD_E_SIG;
    zu_buf_init(&m, 0);
    rc = zu_cosig_message(&m, n->text, n->text_len, t);
    if (rc == ZUPD_OK && crypto_sign_verify_detached(s->sig + 8, m.p, m.len, k->pub) != 0)
        rc = ZUPD_E_SIG;
    zu_buf_release(&m);
    if (rc == ZUPD_OK)
        *time = t;
    return rc;
}

int
zu_note_verify(const struct zu_note *n, const struct zu_note_key *keys, size_t nkeys, bool *ok,
               uint64_t *times)
{
    for (size_t k = 0; k < nkeys; k++) {
        ok[k] = false;
        if (times != NULL)
            times[k] = 0;
    }
    for (size_t i = 0; i < n->nsigs; i++) {
        const struct zu_note_sig *s = &n->sigs[i];
        for (size_t k = 0; k < nkeys; k++) {
            uint64_t t = 0;
            int rc;

            if (keys[k].id != s->id || strcmp(keys[k].name, s->name) != 0)
                continue;
            rc = verify_one(n, s, &keys[k], &t);
            if (rc != ZUPD_OK)
                return rc;
            ok[k] = true;
            if (times != NULL)
                times[k] = t;
        }
    }
    return ZUPD_OK;
}

/* ---- checkpoints ---- */

void
zu_checkpoint_release(struct zu_checkpoint *c)
{
    if (c == NULL)
        return;
    free(c->ext);
    memset(c, 0, sizeof(*c));
}

/* The line at text[*at..) up to its newline, which must be there. */
static int
next_line(const char *text, size_t len, size_t *at, const char **line, size_t *ll)
{
    const char *nl;

    if (*at >= len)
        return ZUPD_E_FORMAT;
    nl = memchr(text + *at, '\n', len - *at);
    if (nl == NULL)
        return ZUPD_E_FORMAT;
    *line = text + *at;
    *ll = (size_t)(nl - *line);
    *at += *ll + 1;
    return *ll > 0 ? ZUPD_OK : ZUPD_E_FORMAT;
}

int
zu_checkpoint_parse(const char *text, size_t len, struct zu_checkpoint *out)
{
    const char *line;
    size_t ll, at = 0, n;
    uint64_t size = 0;

    memset(out, 0, sizeof(*out));
    /* what a signed note may carry: no control character but newline (a
     * NUL in an extension line cut it short: fuzz_checkpoint,
     * crash-extension-nul) */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
            return ZUPD_E_FORMAT;
    if (next_line(text, len, &at, &line, &ll) != ZUPD_OK || ll > ZU_NOTE_ORIGIN_MAX)
        return ZUPD_E_FORMAT;
    memcpy(out->origin, line, ll);
    if (next_line(text, len, &at, &line, &ll) != ZUPD_OK || ll > 19 || (line[0] == '0' && ll > 1))
        goto bad;
    for (size_t i = 0; i < ll; i++) {
        if (line[i] < '0' || line[i] > '9')
            goto bad;
        size = size * 10 + (uint64_t)(line[i] - '0');
    }
    if (size > ZU_TLOG_SIZE_MAX)
        goto bad;
    out->size = size;
    if (next_line(text, len, &at, &line, &ll) != ZUPD_OK ||
        zu_b64_decode(out->root, sizeof(out->root), &n, line, ll) != ZUPD_OK || n != ZU_TLOG_HASH)
        goto bad;
    if (at < len) {
        size_t ext_at = at;
        while (at < len)
            if (next_line(text, len, &at, &line, &ll) != ZUPD_OK)
                goto bad;
        out->ext = malloc(len - ext_at + 1);
        if (out->ext == NULL) {
            memset(out, 0, sizeof(*out));
            return ZUPD_E_NOMEM;
        }
        memcpy(out->ext, text + ext_at, len - ext_at);
        out->ext[len - ext_at] = '\0';
    }
    return ZUPD_OK;
bad:
    zu_checkpoint_release(out);
    return ZUPD_E_FORMAT;
}

int
zu_checkpoint_format(const struct zu_checkpoint *c, struct zu_buf *out)
{
    int rc = zu_buf_addf(out, "%s\n%llu\n", c->origin, (unsigned long long)c->size);

    if (rc == ZUPD_OK)
        rc = zu_b64_encode(out, c->root, sizeof(c->root));
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    if (rc == ZUPD_OK && c->ext != NULL)
        rc = zu_buf_addstr(out, c->ext);
    return rc;
}

int
zu_tlog_trust_keys(const struct zu_tlog_trust *trust, struct zu_note_key **out, size_t *nlog,
                   size_t *n)
{
    size_t nl = 1 + trust->nmore_log_keys;

    *out = NULL;
    if (trust->nmore_log_keys >= ZU_TLOG_LOG_KEYS_MAX)
        return ZUPD_E_MISUSE;
    *out = calloc(nl + trust->nwitnesses, sizeof(**out));
    if (*out == NULL)
        return ZUPD_E_NOMEM;
    (*out)[0] = trust->log_key;
    for (size_t i = 0; i < trust->nmore_log_keys; i++)
        (*out)[1 + i] = trust->more_log_keys[i];
    for (size_t i = 0; i < trust->nwitnesses; i++)
        (*out)[nl + i] = trust->witnesses[i];
    *nlog = nl;
    *n = nl + trust->nwitnesses;
    return ZUPD_OK;
}

/* keys[i] is one of the log's own keys keys[0..nl) */
static bool
is_log_key(const struct zu_note_key *keys, size_t nl, size_t i)
{
    for (size_t j = 0; j < nl; j++)
        if (memcmp(keys[i].pub, keys[j].pub, 32) == 0)
            return true;
    return false;
}

int
zu_checkpoint_open(const uint8_t *msg, size_t len, const struct zu_tlog_trust *trust,
                   struct zu_checkpoint *out, size_t *cosigners, char *err, size_t cap)
{
    struct zu_note_key *keys = NULL;
    struct zu_note *n = NULL;
    struct zu_checkpoint c = {0};
    bool *ok = NULL, signed_ = false;
    size_t nk = 0, nl = 0, count = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (cosigners != NULL)
        *cosigners = 0;
    rc = zu_tlog_trust_keys(trust, &keys, &nl, &nk);
    ok = rc == ZUPD_OK ? calloc(nk, sizeof(*ok)) : NULL;
    if (rc != ZUPD_OK || ok == NULL) {
        rc = zu_fail(err, cap, rc != ZUPD_OK ? rc : ZUPD_E_NOMEM, "cannot check log '%s': %s",
                     trust->origin, zupd_strerror(rc != ZUPD_OK ? rc : ZUPD_E_NOMEM));
        goto out;
    }
    rc = zu_note_parse(msg, len, &n);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, rc, "checkpoint of log '%s' is not a signed note", trust->origin);
        goto out;
    }
    rc = zu_note_verify(n, keys, nk, ok, NULL);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, rc, "checkpoint of log '%s' carries a bad signature", trust->origin);
        goto out;
    }
    /* any one of the log's keys (a rotation lists the old and the new) */
    for (size_t i = 0; i < nl; i++)
        signed_ = signed_ || ok[i];
    if (!signed_) {
        rc =
            zu_fail(err, cap, ZUPD_E_SIG, "checkpoint of log '%s' is not signed by key '%s'%s",
                    trust->origin, trust->log_key.name, nl > 1 ? " (none of its keys listed)" : "");
        goto out;
    }
    rc = zu_checkpoint_parse(n->text, n->text_len, &c);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, rc, "checkpoint of log '%s' is malformed", trust->origin);
        goto out;
    }
    if (strcmp(c.origin, trust->origin) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_MISMATCH, "checkpoint of log '%s' names origin '%s'",
                     trust->origin, c.origin);
        goto out;
    }
    /* distinct witnesses: one key listed twice counts once; only
     * cosignature/v1 keys, never the log's own keys, count */
    for (size_t i = nl; i < nk; i++) {
        bool dup = false;
        if (!ok[i] || keys[i].type != ZU_NOTE_COSIG_V1 || is_log_key(keys, nl, i))
            continue;
        for (size_t j = nl; j < i && !dup; j++)
            dup = ok[j] && memcmp(keys[j].pub, keys[i].pub, 32) == 0;
        if (!dup)
            count++;
    }
    if (cosigners != NULL)
        *cosigners = count;
    if (count < trust->quorum) {
        rc = zu_fail(err, cap, ZUPD_E_THRESHOLD,
                     "checkpoint of log '%s' (size %llu) has %zu of %zu witness cosignatures",
                     trust->origin, (unsigned long long)c.size, count, trust->quorum);
        goto out;
    }
    *out = c;
    memset(&c, 0, sizeof(c));
out:
    zu_checkpoint_release(&c);
    zu_note_free(n);
    free(keys);
    free(ok);
    return rc;
}
