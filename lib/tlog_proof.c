/* SPDX-License-Identifier: Apache-2.0 */
/* lib/tlog_proof.c -- the log proof unit (docs/transparency.md, "Proof
 * material as one unit"): its strict text format, read and written, and the
 * offline check of an entry against it with the RFC 9162 verifiers of
 * lib/tlog.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zu/tlog_proof.h"

#define B64_HASH_LEN 44 /* base64 of 32 bytes, padded */

void
zu_tlog_proof_free(struct zu_tlog_proof *p)
{
    if (p == NULL)
        return;
    free(p->note);
    free(p);
}

/* A cursor over the unit's header lines. */
struct cur {
    const char *p, *end;
};

/* The next line (without its newline) into *line, *len; a line must end
 * in a newline. */
static int
next_line(struct cur *c, const char **line, size_t *len)
{
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

    if (nl == NULL)
        return ZUPD_E_FORMAT;
    *line = c->p;
    *len = (size_t)(nl - c->p);
    c->p = nl + 1;
    return ZUPD_OK;
}

/* A canonical decimal below 2^63: "0" or no leading zero, at most 19 digits. */
static int
parse_u63(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
        return ZUPD_E_FORMAT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return ZUPD_E_FORMAT;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in uint64 */
    }
    if (v > ZU_TLOG_SIZE_MAX)
        return ZUPD_E_FORMAT;
    *out = v;
    return ZUPD_OK;
}

/* The line "<key> <decimal>". */
static int
keyed(struct cur *c, const char *key, uint64_t *v)
{
    const char *line;
    size_t len, klen = strlen(key);

    if (next_line(c, &line, &len) != ZUPD_OK || len <= klen + 1 || memcmp(line, key, klen) != 0 ||
        line[klen] != ' ')
        return ZUPD_E_FORMAT;
    return parse_u63(line + klen + 1, len - klen - 1, v);
}

/* One hash line: exactly the canonical padded base64 of 32 bytes. */
static int
hash_line(struct cur *c, uint8_t out[ZU_TLOG_HASH])
{
    struct zu_buf back;
    const char *line;
    size_t len, n = 0;
    int rc;

    if (next_line(c, &line, &len) != ZUPD_OK || len != B64_HASH_LEN)
        return ZUPD_E_FORMAT;
    if (zu_b64_decode(out, ZU_TLOG_HASH, &n, line, len) != ZUPD_OK || n != ZU_TLOG_HASH)
        return ZUPD_E_FORMAT;
    /* one spelling only: the unused low bits of the last character are 0 */
    zu_buf_init(&back, 64);
    rc = zu_b64_encode(&back, out, ZU_TLOG_HASH);
    if (rc == ZUPD_OK && (back.len != len || memcmp(back.p, line, len) != 0))
        rc = ZUPD_E_FORMAT;
    zu_buf_release(&back);
    return rc;
}

/* "<key> <count>" then count hash lines. */
static int
hashes(struct cur *c, const char *key, uint8_t out[][ZU_TLOG_HASH], size_t *n)
{
    uint64_t count = 0;
    int rc = keyed(c, key, &count);

    if (rc == ZUPD_OK && count > ZU_TLOG_PROOF_MAX)
        rc = ZUPD_E_FORMAT;
    for (uint64_t i = 0; rc == ZUPD_OK && i < count; i++)
        rc = hash_line(c, out[i]);
    *n = rc == ZUPD_OK ? (size_t)count : 0;
    return rc;
}

int
zu_tlog_proof_parse(const uint8_t *buf, size_t len, struct zu_tlog_proof **out)
{
    struct zu_tlog_proof *p;
    struct zu_checkpoint cp = {0};
    struct zu_note *n = NULL;
    struct cur c = {(const char *)buf, (const char *)buf + len};
    const char *line;
    size_t llen;
    int rc;

    *out = NULL;
    if (len > ZU_TLOG_PROOF_UNIT_MAX)
        return ZUPD_E_TOOBIG;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ZUPD_E_NOMEM;
    rc = next_line(&c, &line, &llen);
    if (rc == ZUPD_OK &&
        (llen != strlen(ZU_TLOG_PROOF_MAGIC) || memcmp(line, ZU_TLOG_PROOF_MAGIC, llen) != 0))
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK)
        rc = keyed(&c, "index", &p->index);
    if (rc == ZUPD_OK)
        rc = keyed(&c, "old", &p->old);
    if (rc == ZUPD_OK)
        rc = hashes(&c, "inclusion", p->inclusion, &p->ninclusion);
    if (rc == ZUPD_OK)
        rc = hashes(&c, "consistency", p->consistency, &p->nconsistency);
    /* a blank line, then the signed checkpoint to the end of the unit */
    if (rc == ZUPD_OK && (next_line(&c, &line, &llen) != ZUPD_OK || llen != 0))
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK && c.p == c.end)
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK)
        rc = zu_note_parse((const uint8_t *)c.p, (size_t)(c.end - c.p), &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, &cp);
    if (rc == ZUPD_OK && (p->index >= cp.size || p->old > cp.size ||
                          ((p->old == 0 || p->old == cp.size) && p->nconsistency != 0)))
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK) {
        p->note_len = (size_t)(c.end - c.p);
        p->note = malloc(p->note_len);
        rc = p->note != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
        if (rc == ZUPD_OK)
            memcpy(p->note, c.p, p->note_len);
    }
    zu_checkpoint_release(&cp);
    zu_note_free(n);
    if (rc != ZUPD_OK) {
        zu_tlog_proof_free(p);
        return rc == ZUPD_E_NOMEM || rc == ZUPD_E_TOOBIG ? rc : ZUPD_E_FORMAT;
    }
    *out = p;
    return ZUPD_OK;
}

static int
add_hashes(struct zu_buf *out, const char *key, const uint8_t h[][ZU_TLOG_HASH], size_t n)
{
    int rc = zu_buf_addf(out, "%s %zu\n", key, n);

    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        rc = zu_b64_encode(out, h[i], ZU_TLOG_HASH);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(out, "\n", 1);
    }
    return rc;
}

int
zu_tlog_proof_format(const struct zu_tlog_proof *p, struct zu_buf *out)
{
    int rc;

    if (p->ninclusion > ZU_TLOG_PROOF_MAX || p->nconsistency > ZU_TLOG_PROOF_MAX ||
        p->note == NULL || p->note_len == 0 || p->note[p->note_len - 1] != '\n' ||
        p->index >= ZU_TLOG_SIZE_MAX || p->old > ZU_TLOG_SIZE_MAX)
        return ZUPD_E_MISUSE;
    rc = zu_buf_addf(out, ZU_TLOG_PROOF_MAGIC "\nindex %llu\nold %llu\n",
                     (unsigned long long)p->index, (unsigned long long)p->old);
    if (rc == ZUPD_OK)
        rc = add_hashes(out, "inclusion", (const uint8_t(*)[ZU_TLOG_HASH])p->inclusion,
                        p->ninclusion);
    if (rc == ZUPD_OK)
        rc = add_hashes(out, "consistency", (const uint8_t(*)[ZU_TLOG_HASH])p->consistency,
                        p->nconsistency);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, p->note, p->note_len);
    return rc;
}

int
zu_tlog_proof_verify(const struct zu_tlog_proof *p, const struct zu_tlog_trust *trust,
                     const uint8_t *entry, size_t entry_len, const char *what,
                     const struct zu_checkpoint *stored, struct zu_checkpoint *out,
                     size_t *cosigners, char *err, size_t cap)
{
    struct zu_checkpoint cp = {0};
    uint8_t leaf[ZU_TLOG_HASH];
    const char *o = trust->origin;
    size_t nco = 0;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (cosigners != NULL)
        *cosigners = 0;
    if (what == NULL)
        what = "the entry";
    if (entry == NULL || entry_len == 0 || entry_len > ZU_TLOG_ENTRY_MAX ||
        p->ninclusion > ZU_TLOG_PROOF_MAX || p->nconsistency > ZU_TLOG_PROOF_MAX)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "log '%s': no entry or a bad proof unit to check",
                       o);
    rc = zu_checkpoint_open(p->note, p->note_len, trust, &cp, &nco, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (stored != NULL && stored->size > 0) {
        if (strcmp(stored->origin, cp.origin) != 0) {
            rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                         "log '%s': the stored checkpoint is of log '%s'", o, stored->origin);
        } else if (stored->size > cp.size) {
            rc = zu_fail(err, cap, ZUPD_E_ROLLBACK,
                         "log '%s': the proof unit's checkpoint (size %llu) is older than the one "
                         "this endpoint trusts (size %llu): the log was rolled back",
                         o, (unsigned long long)cp.size, (unsigned long long)stored->size);
        } else if (stored->size == cp.size && memcmp(stored->root, cp.root, ZU_TLOG_HASH) != 0) {
            rc = zu_fail(err, cap, ZUPD_E_ROLLBACK,
                         "log '%s': the checkpoint of size %llu has another root than the one "
                         "this endpoint trusts: a fork (split view)",
                         o, (unsigned long long)cp.size);
        } else if (p->old != stored->size) {
            rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                         "log '%s': the proof unit proves consistency from size %llu, this "
                         "endpoint trusts size %llu: it needs a unit made with --old %llu",
                         o, (unsigned long long)p->old, (unsigned long long)stored->size,
                         (unsigned long long)stored->size);
        }
    }
    if (rc == ZUPD_OK && p->index >= cp.size)
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                     "log '%s': %s is signed as entry %llu but the log has %llu entries: not in "
                     "the log",
                     o, what, (unsigned long long)p->index, (unsigned long long)cp.size);
    if (rc == ZUPD_OK) {
        zu_tlog_leaf_hash(entry, entry_len, leaf);
        if (zu_tlog_verify_inclusion(p->index, cp.size, leaf,
                                     (const uint8_t(*)[ZU_TLOG_HASH])p->inclusion, p->ninclusion,
                                     cp.root) != ZUPD_OK)
            rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                         "log '%s': %s is not proven to be entry %llu of the checkpoint of size "
                         "%llu: not in the log (or a damaged proof unit)",
                         o, what, (unsigned long long)p->index, (unsigned long long)cp.size);
    }
    if (rc == ZUPD_OK && stored != NULL && stored->size > 0 &&
        zu_tlog_verify_consistency(stored->size, stored->root, cp.size, cp.root,
                                   (const uint8_t(*)[ZU_TLOG_HASH])p->consistency,
                                   p->nconsistency) != ZUPD_OK)
        rc = zu_fail(err, cap, ZUPD_E_ROLLBACK,
                     "log '%s': the checkpoint of size %llu is not proven consistent with the one "
                     "this endpoint trusts (size %llu): a fork (split view), or a damaged proof "
                     "unit",
                     o, (unsigned long long)cp.size, (unsigned long long)stored->size);
    if (rc != ZUPD_OK) {
        zu_checkpoint_release(&cp);
        return rc;
    }
    if (cosigners != NULL)
        *cosigners = nco;
    if (out != NULL)
        *out = cp;
    else
        zu_checkpoint_release(&cp);
    return ZUPD_OK;
}
