/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_tlog_proof.c -- the log proof unit (lib/tlog_proof.c): the
 * writer and the parser round trip, the offline check accepts a true unit
 * and refuses every tampering with the error the online check gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys/notesign.h"
#include "zu/note.h"
#include "zu/tlog.h"
#include "zu/tlog_proof.h"

#include "t_tlog_mem.h"

#define ORIGIN "example.com/zupd/log"
#define N_OLD 20
#define N_NEW 300
#define INDEX 250

static void
entry_of(uint64_t i, uint8_t *buf, size_t *len)
{
    *len = (size_t)snprintf((char *)buf, 64, "{\"n\":%llu,\"type\":\"release\"}",
                            (unsigned long long)i);
}

/* ---- the fixture: a log of N_NEW entries, checkpoints at N_OLD and N_NEW ---- */

struct fx {
    struct mem_store m;
    struct zu_note_key logk, w[3], other;
    uint8_t logsk[64], wsk[3][64], osk[64];
    uint8_t root_old[32], root_new[32];
    struct zu_checkpoint stored; /* the checkpoint of size N_OLD */
    struct zu_tlog_trust trust;
    struct zu_buf unit; /* the unit of entry INDEX at N_NEW from N_OLD */
};

static void
make_key(const char *name, uint8_t type, struct zu_note_key *k, uint8_t sk[64])
{
    uint8_t pk[32];

    assert_int_equal(crypto_sign_keypair(pk, sk), 0);
    assert_int_equal(zu_note_key_init(k, name, type, pk), ZUPD_OK);
}

static void
append_range(struct mem_store *m, uint64_t from, uint64_t to, uint8_t root[32])
{
    struct zu_tlog_reader rd = {m, mem_read};
    struct zu_tlog_writer wr = {m, mem_write};
    struct zu_tlog_appender *a = NULL;
    char err[256] = "";
    uint64_t size = 0, idx = 0;

    assert_int_equal(zu_tlog_appender_new(from, from ? root : NULL, &rd, &wr, &a, err, sizeof(err)),
                     ZUPD_OK);
    for (uint64_t i = from; i < to; i++) {
        uint8_t e[64];
        size_t len;
        entry_of(i, e, &len);
        assert_int_equal(zu_tlog_append(a, e, len, &idx, err, sizeof(err)), ZUPD_OK);
    }
    assert_int_equal(zu_tlog_appender_finish(a, &size, root, err, sizeof(err)), ZUPD_OK);
    zu_tlog_appender_free(a);
}

/* The checkpoint (size, root) signed by key k (sk) and the witnesses
 * w[0..nw), into note. */
static void
sign_checkpoint(struct fx *f, uint64_t size, const uint8_t root[32], const struct zu_note_key *k,
                const uint8_t *sk, size_t nw, struct zu_buf *note)
{
    struct zu_checkpoint c = {0};
    struct zu_buf text;

    snprintf(c.origin, sizeof(c.origin), "%s", ORIGIN);
    c.size = size;
    memcpy(c.root, root, 32);
    zu_buf_init(&text, 0);
    assert_int_equal(zu_checkpoint_format(&c, &text), ZUPD_OK);
    assert_int_equal(zu_buf_add(note, text.p, text.len), ZUPD_OK);
    assert_int_equal(zu_buf_add(note, "\n", 1), ZUPD_OK);
    assert_int_equal(zp_note_sign(note, (char *)text.p, text.len, k, sk, 0), ZUPD_OK);
    for (size_t i = 0; i < nw; i++)
        assert_int_equal(
            zp_note_sign(note, (char *)text.p, text.len, &f->w[i], f->wsk[i], 1700000000 + i),
            ZUPD_OK);
    zu_buf_release(&text);
}

/* The unit of entry index at size n from old, its checkpoint signed by k. */
static void
make_unit(struct fx *f, uint64_t index, uint64_t n, uint64_t old, const struct zu_note_key *k,
          const uint8_t *sk, size_t nw, struct zu_buf *out)
{
    struct zu_tlog_reader rd = {&f->m, mem_read};
    struct zu_tlog_tiles *t = NULL;
    struct zu_tlog_proof *p = calloc(1, sizeof(*p));
    struct zu_buf note;
    uint8_t root[32];
    char err[256] = "";

    assert_non_null(p);
    assert_int_equal(zu_tlog_tiles_new(N_NEW, &rd, &t), ZUPD_OK);
    assert_int_equal(zu_tlog_tree_hash(t, n, root, err, sizeof(err)), ZUPD_OK);
    p->index = index;
    p->old = old;
    assert_int_equal(
        zu_tlog_prove_inclusion(t, index, n, p->inclusion, &p->ninclusion, err, sizeof(err)),
        ZUPD_OK);
    assert_int_equal(
        zu_tlog_prove_consistency(t, old, n, p->consistency, &p->nconsistency, err, sizeof(err)),
        ZUPD_OK);
    zu_tlog_tiles_free(t);
    zu_buf_init(&note, 0);
    sign_checkpoint(f, n, root, k, sk, nw, &note);
    assert_int_equal(zu_buf_detach(&note, &p->note, &p->note_len), ZUPD_OK);
    assert_int_equal(zu_tlog_proof_format(p, out), ZUPD_OK);
    zu_tlog_proof_free(p);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    make_key(ORIGIN, ZU_NOTE_ED25519, &f->logk, f->logsk);
    make_key(ORIGIN, ZU_NOTE_ED25519, &f->other, f->osk);
    make_key("w1.example", ZU_NOTE_COSIG_V1, &f->w[0], f->wsk[0]);
    make_key("w2.example", ZU_NOTE_COSIG_V1, &f->w[1], f->wsk[1]);
    make_key("w3.example", ZU_NOTE_COSIG_V1, &f->w[2], f->wsk[2]);
    append_range(&f->m, 0, N_OLD, f->root_old);
    memcpy(f->root_new, f->root_old, 32);
    append_range(&f->m, N_OLD, N_NEW, f->root_new);
    snprintf(f->stored.origin, sizeof(f->stored.origin), "%s", ORIGIN);
    f->stored.size = N_OLD;
    memcpy(f->stored.root, f->root_old, 32);
    f->trust = (struct zu_tlog_trust){
        .origin = ORIGIN, .log_key = f->logk, .witnesses = f->w, .nwitnesses = 3, .quorum = 2};
    zu_buf_init(&f->unit, 0);
    make_unit(f, INDEX, N_NEW, N_OLD, &f->logk, f->logsk, 2, &f->unit);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    mem_free(&f->m);
    zu_buf_release(&f->unit);
    free(f);
    return 0;
}

/* Parse u and verify it for entry i against stored (may be NULL). */
static int
check(struct fx *f, const uint8_t *u, size_t len, uint64_t i, const struct zu_checkpoint *stored,
      const struct zu_tlog_trust *trust, char *err, size_t cap)
{
    struct zu_tlog_proof *p = NULL;
    uint8_t e[64];
    size_t elen;
    int rc = zu_tlog_proof_parse(u, len, &p);

    (void)f;
    if (rc != ZUPD_OK)
        return rc;
    entry_of(i, e, &elen);
    rc = zu_tlog_proof_verify(p, trust, e, elen, "release 'x'", stored, NULL, NULL, err, cap);
    zu_tlog_proof_free(p);
    return rc;
}

static void
test_round_trip(void **state)
{
    struct fx *f = *state;
    struct zu_tlog_proof *p = NULL;
    struct zu_checkpoint got = {0};
    struct zu_buf back;
    uint8_t e[64];
    size_t elen, cos = 0;
    char err[512] = "";

    assert_memory_equal(f->unit.p, ZU_TLOG_PROOF_MAGIC "\nindex 250\nold 20\ninclusion ", 45);
    assert_int_equal(zu_tlog_proof_parse(f->unit.p, f->unit.len, &p), ZUPD_OK);
    assert_int_equal(p->index, INDEX);
    assert_int_equal(p->old, N_OLD);
    assert_true(p->ninclusion > 0 && p->nconsistency > 0);
    zu_buf_init(&back, 0);
    assert_int_equal(zu_tlog_proof_format(p, &back), ZUPD_OK);
    assert_int_equal(back.len, f->unit.len);
    assert_memory_equal(back.p, f->unit.p, back.len);
    zu_buf_release(&back);
    entry_of(INDEX, e, &elen);
    assert_int_equal(
        zu_tlog_proof_verify(p, &f->trust, e, elen, NULL, &f->stored, &got, &cos, err, sizeof(err)),
        ZUPD_OK);
    assert_int_equal(got.size, N_NEW);
    assert_memory_equal(got.root, f->root_new, 32);
    assert_int_equal(cos, 2);
    zu_checkpoint_release(&got);
    /* no stored checkpoint: the first one is accepted on its signatures */
    assert_int_equal(
        zu_tlog_proof_verify(p, &f->trust, e, elen, NULL, NULL, NULL, NULL, err, sizeof(err)),
        ZUPD_OK);
    zu_tlog_proof_free(p);
    /* the stored checkpoint itself, and a unit without consistency proof */
    {
        struct zu_buf u0;
        struct zu_checkpoint same = f->stored;
        zu_buf_init(&u0, 0);
        make_unit(f, 3, N_OLD, N_OLD, &f->logk, f->logsk, 2, &u0);
        assert_int_equal(check(f, u0.p, u0.len, 3, &same, &f->trust, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(check(f, u0.p, u0.len, 3, NULL, &f->trust, err, sizeof(err)), ZUPD_OK);
        zu_buf_release(&u0);
        zu_buf_init(&u0, 0);
        make_unit(f, 0, 1, 0, &f->logk, f->logsk, 2, &u0);
        assert_int_equal(check(f, u0.p, u0.len, 0, NULL, &f->trust, err, sizeof(err)), ZUPD_OK);
        zu_buf_release(&u0);
    }
}

/* Change the base64 character at off of a copy of the unit, then check. */
static int
check_flipped(struct fx *f, size_t off, char *err, size_t cap)
{
    uint8_t *u = malloc(f->unit.len);
    int rc;

    assert_non_null(u);
    memcpy(u, f->unit.p, f->unit.len);
    u[off] = u[off] == 'A' ? 'B' : 'A';
    rc = check(f, u, f->unit.len, INDEX, &f->stored, &f->trust, err, cap);
    free(u);
    return rc;
}

static size_t
offset_of(const struct zu_buf *b, const char *needle)
{
    const char *s = strstr((const char *)b->p, needle);

    assert_non_null(s);
    return (size_t)(s - (const char *)b->p);
}

static void
test_refused(void **state)
{
    struct fx *f = *state;
    struct zu_checkpoint st;
    struct zu_tlog_trust trust;
    struct zu_buf u;
    char err[512] = "";
    size_t off;

    /* a flipped inclusion hash (first hash line: 'A'<->'B' stays base64) */
    off = offset_of(&f->unit, "inclusion ") + strlen("inclusion 9\n") + 5;
    assert_int_equal(check_flipped(f, off, err, sizeof(err)), ZUPD_E_NOTFOUND);
    /* a flipped consistency hash */
    off = offset_of(&f->unit, "consistency ") + strlen("consistency 9\n") + 5;
    assert_int_equal(check_flipped(f, off, err, sizeof(err)), ZUPD_E_ROLLBACK);
    assert_non_null(strstr(err, "not proven consistent"));
    /* the entry of another release, and the right entry at another index */
    assert_int_equal(
        check(f, f->unit.p, f->unit.len, INDEX - 1, &f->stored, &f->trust, err, sizeof(err)),
        ZUPD_E_NOTFOUND);
    assert_non_null(strstr(err, "not proven to be entry 250"));
    zu_buf_init(&u, 0);
    make_unit(f, INDEX - 1, N_NEW, N_OLD, &f->logk, f->logsk, 2, &u);
    assert_int_equal(check(f, u.p, u.len, INDEX, &f->stored, &f->trust, err, sizeof(err)),
                     ZUPD_E_NOTFOUND);
    zu_buf_release(&u);
    /* a checkpoint signed by another log key with the same name */
    zu_buf_init(&u, 0);
    make_unit(f, INDEX, N_NEW, N_OLD, &f->other, f->osk, 2, &u);
    assert_int_equal(check(f, u.p, u.len, INDEX, &f->stored, &f->trust, err, sizeof(err)),
                     ZUPD_E_SIG);
    zu_buf_release(&u);
    /* quorum unmet: one cosignature of the two required, or three required */
    zu_buf_init(&u, 0);
    make_unit(f, INDEX, N_NEW, N_OLD, &f->logk, f->logsk, 1, &u);
    assert_int_equal(check(f, u.p, u.len, INDEX, &f->stored, &f->trust, err, sizeof(err)),
                     ZUPD_E_THRESHOLD);
    zu_buf_release(&u);
    trust = f->trust;
    trust.quorum = 3;
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &f->stored, &trust, err, sizeof(err)),
                     ZUPD_E_THRESHOLD);
    /* another origin configured */
    trust = f->trust;
    trust.origin = "example.com/other";
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &f->stored, &trust, err, sizeof(err)),
                     ZUPD_E_MISMATCH);
    /* stored checkpoint: same size another root (fork), another root at old
     * (fork), bigger (rollback), another size than old (a unit for another
     * endpoint) */
    st = f->stored;
    st.root[0] ^= 1;
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &st, &f->trust, err, sizeof(err)),
                     ZUPD_E_ROLLBACK);
    assert_non_null(strstr(err, "fork"));
    st = f->stored;
    st.size = N_NEW;
    memcpy(st.root, f->root_old, 32);
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &st, &f->trust, err, sizeof(err)),
                     ZUPD_E_ROLLBACK);
    st.size = N_NEW + 1;
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &st, &f->trust, err, sizeof(err)),
                     ZUPD_E_ROLLBACK);
    assert_non_null(strstr(err, "rolled back"));
    st = f->stored;
    st.size = N_OLD + 1;
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &st, &f->trust, err, sizeof(err)),
                     ZUPD_E_MISMATCH);
    assert_non_null(strstr(err, "--old 21"));
    st = f->stored;
    snprintf(st.origin, sizeof(st.origin), "other.example/log");
    assert_int_equal(check(f, f->unit.p, f->unit.len, INDEX, &st, &f->trust, err, sizeof(err)),
                     ZUPD_E_MISMATCH);
}

static int
parse_str(const char *s)
{
    struct zu_tlog_proof *p = NULL;
    int rc = zu_tlog_proof_parse((const uint8_t *)s, strlen(s), &p);

    zu_tlog_proof_free(p);
    return rc;
}

/* The unit with its header (up to the blank line) replaced by head. */
static int
with_head(struct fx *f, const char *head)
{
    size_t note = offset_of(&f->unit, "\n\n") + 2;
    struct zu_buf b;
    int rc;

    zu_buf_init(&b, 0);
    assert_int_equal(zu_buf_addstr(&b, head), ZUPD_OK);
    assert_int_equal(zu_buf_add(&b, f->unit.p + note, f->unit.len - note), ZUPD_OK);
    assert_int_equal(zu_buf_add(&b, "", 1), ZUPD_OK);
    rc = parse_str((const char *)b.p);
    zu_buf_release(&b);
    return rc;
}

static void
test_malformed(void **state)
{
    struct fx *f = *state;
    struct zu_tlog_proof *p = NULL;
    char err[512] = "";
    uint8_t *big;

    /* every truncation is refused, by the parser or by the check (a prefix
     * ending after a whole cosignature line is a note with fewer cosigners) */
    for (size_t n = 0; n < f->unit.len; n++)
        if (check(f, f->unit.p, n, INDEX, &f->stored, &f->trust, err, sizeof(err)) == ZUPD_OK)
            fail_msg("the unit cut at %zu of %zu bytes is accepted", n, f->unit.len);
    /* trailing garbage, oversized */
    big = malloc(ZU_TLOG_PROOF_UNIT_MAX + 1);
    assert_non_null(big);
    memcpy(big, f->unit.p, f->unit.len);
    memcpy(big + f->unit.len, "x", 1);
    assert_int_equal(zu_tlog_proof_parse(big, f->unit.len + 1, &p), ZUPD_E_FORMAT);
    memset(big + f->unit.len, '\n', ZU_TLOG_PROOF_UNIT_MAX + 1 - f->unit.len);
    assert_int_equal(zu_tlog_proof_parse(big, ZU_TLOG_PROOF_UNIT_MAX + 1, &p), ZUPD_E_TOOBIG);
    free(big);
    assert_null(p);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 250\nold 0\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_OK);
    /* header grammar */
    assert_int_equal(with_head(f, "zupd-log-proof/v2\nindex 250\nold 0\ninclusion 0\n"
                                  "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 0250\nold 0\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex  250\nold 0\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 300\nold 0\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT); /* index beyond the checkpoint */
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 301\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 9223372036854775808\n"
                                                      "inclusion 0\nconsistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 0\ninclusion 65\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC
                               "\nindex 1\nold 0\ninclusion 0\n"
                               "consistency 1\n"
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"),
                     ZUPD_E_FORMAT); /* a consistency hash with no older size */
    assert_int_equal(with_head(f,
                               ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 0\ninclusion 1\n"
                                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"
                                                   "consistency 0\n\n"),
                     ZUPD_E_FORMAT); /* not the canonical base64 */
    assert_int_equal(with_head(f,
                               ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 0\ninclusion 1\n"
                                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                                                   "consistency 0\n\n"),
                     ZUPD_OK);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\r\nindex 1\nold 0\ninclusion 0\n"
                                                      "consistency 0\n\n"),
                     ZUPD_E_FORMAT);
    assert_int_equal(with_head(f, ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 0\ninclusion 0\n"
                                                      "consistency 0\n"),
                     ZUPD_E_FORMAT); /* no blank line */
    assert_int_equal(parse_str(""), ZUPD_E_FORMAT);
    assert_int_equal(parse_str(ZU_TLOG_PROOF_MAGIC "\nindex 1\nold 0\ninclusion 0\n"
                                                   "consistency 0\n\n"),
                     ZUPD_E_FORMAT); /* no note */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
