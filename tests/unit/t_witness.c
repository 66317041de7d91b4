/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_witness.c -- the tlog-witness (mirror/witness/witness.c):
 * the add-checkpoint parser's refusals, and each decision of the handler
 * with its HTTP status: cosign, 409 with the stored size, consistency
 * proofs good and bad, a fork at the same size, a rollback, an unknown log,
 * bad and missing signatures, the empty tree; state that outlives the
 * witness, a damaged state that refuses instead of starting over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <zupd/hash.h>

#include "keys/notesign.h"
#include "witness/witness.h"
#include "zu/note.h"
#include "zu/tlog.h"

#define ORIGIN "example.com/log"

/* a test log: key, entries' leaf hashes, trees of size 0..3 */
struct tlog {
    struct zu_note_key k;
    uint8_t sk[64];
    char vkey[400];
    uint8_t lh[3][32];
};

static void
tlog_init(struct tlog *l, const char *origin)
{
    uint8_t pub[32];

    crypto_sign_keypair(pub, l->sk);
    assert_int_equal(zu_note_key_init(&l->k, origin, ZU_NOTE_ED25519, pub), ZUPD_OK);
    assert_int_equal(zu_note_vkey_format(&l->k, l->vkey, sizeof(l->vkey)), ZUPD_OK);
    for (int i = 0; i < 3; i++) {
        uint8_t e[8] = {'e', 'n', 't', 'r', 'y', (uint8_t)('0' + i), 0, 0};
        zu_tlog_leaf_hash(e, 6, l->lh[i]);
    }
}

/* root of the first n (0..3) entries */
static void
tlog_root(const struct tlog *l, unsigned n, uint8_t root[32])
{
    uint8_t t[32];

    if (n == 0) {
        zu_tlog_empty_root(root);
    } else if (n == 1) {
        memcpy(root, l->lh[0], 32);
    } else {
        zu_tlog_node_hash(l->lh[0], l->lh[1], t);
        if (n == 2)
            memcpy(root, t, 32);
        else
            zu_tlog_node_hash(t, l->lh[2], root);
    }
}

/* the add-checkpoint body: old, proof lines, the signed checkpoint of size
 * n (root given, or the log's); sign: 0 none, 1 the log key, 2 a bad one */
static void
body(struct zu_buf *b, const struct tlog *l, uint64_t old, const uint8_t (*proof)[32], size_t np,
     uint64_t n, const uint8_t *root, int sign)
{
    struct zu_checkpoint c = {0};
    struct zu_buf text;

    zu_buf_init(&text, 0);
    b->len = 0;
    snprintf(c.origin, sizeof(c.origin), "%s", l->k.name);
    c.size = n;
    if (root != NULL)
        memcpy(c.root, root, 32);
    else
        tlog_root(l, (unsigned)n, c.root);
    assert_int_equal(zu_checkpoint_format(&c, &text), ZUPD_OK);
    assert_int_equal(zu_buf_addf(b, "old %llu\n", (unsigned long long)old), ZUPD_OK);
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(zu_b64_encode(b, proof[i], 32), ZUPD_OK);
        assert_int_equal(zu_buf_add(b, "\n", 1), ZUPD_OK);
    }
    assert_int_equal(zu_buf_add(b, "\n", 1), ZUPD_OK);
    assert_int_equal(zu_buf_add(b, text.p, text.len), ZUPD_OK);
    assert_int_equal(zu_buf_add(b, "\n", 1), ZUPD_OK);
    if (sign == 1) {
        assert_int_equal(zp_note_sign(b, (const char *)text.p, text.len, &l->k, l->sk, 0), ZUPD_OK);
    } else if (sign == 2) {
        size_t at = b->len + strlen("\xe2\x80\x94 ") + strlen(l->k.name) + 1 + 20;

        assert_int_equal(zp_note_sign(b, (const char *)text.p, text.len, &l->k, l->sk, 0), ZUPD_OK);
        /* one base64 digit of the signature (past the key id) changed */
        b->p[at] = b->p[at] == 'Q' ? 'R' : 'Q';
    }
    zu_buf_release(&text);
}

struct fx {
    char dir[64];
    struct zp_signer *signer;
    struct zp_witness *w;
    struct tlog a, b;
    struct zu_note_key wkey;
    struct zu_buf req;
    struct zp_wresp resp;
};

static void
fx_witness(struct fx *f)
{
    const char *logs[2] = {f->a.vkey, f->b.vkey};
    struct zp_witness_opts o = {f->dir, "witness.example/w1", f->signer, logs, 2, 1700000000};
    char err[256] = "", vkey[400];

    assert_int_equal(zp_witness_new(&o, &f->w, err, sizeof(err)), ZUPD_OK);
    snprintf(vkey, sizeof(vkey), "%s", zp_witness_vkey(f->w));
    assert_int_equal(zu_note_vkey_parse(vkey, strlen(vkey), &f->wkey), ZUPD_OK);
    assert_int_equal(f->wkey.type, ZU_NOTE_COSIG_V1);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/t_witness.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(zp_signer_generate(&f->signer), ZUPD_OK);
    tlog_init(&f->a, ORIGIN);
    tlog_init(&f->b, "example.com/other");
    zu_buf_init(&f->req, 0);
    zp_wresp_init(&f->resp);
    fx_witness(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    zp_witness_free(f->w);
    zp_signer_free(f->signer);
    zu_buf_release(&f->req);
    zp_wresp_release(&f->resp);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* POST the request: the status */
static unsigned
add(struct fx *f)
{
    char why[256];

    zp_wresp_release(&f->resp);
    zp_wresp_init(&f->resp);
    assert_int_equal(zp_witness_add(f->w, f->req.p, f->req.len, &f->resp, why, sizeof(why)),
                     ZUPD_OK);
    return f->resp.status;
}

/* the 200's cosignature verifies over the checkpoint of the request */
static void
assert_cosigned(struct fx *f)
{
    struct zu_note *n = NULL;
    struct zp_wreq q;
    struct zu_buf m;
    const uint8_t *sigs;
    bool ok = false;
    uint64_t t = 0;

    assert_int_equal(f->resp.status, 200);
    assert_int_equal(zp_wreq_parse(f->req.p, f->req.len, &q), ZUPD_OK);
    /* the note text, then only the witness's line */
    sigs = memmem(q.note, q.note_len, "\n\n", 2);
    assert_non_null(sigs);
    zu_buf_init(&m, 0);
    assert_int_equal(zu_buf_add(&m, q.note, (size_t)(sigs - q.note) + 2), ZUPD_OK);
    assert_int_equal(zu_buf_add(&m, f->resp.body.p, f->resp.body.len), ZUPD_OK);
    assert_int_equal(zu_note_parse(m.p, m.len, &n), ZUPD_OK);
    assert_int_equal(zu_note_verify(n, &f->wkey, 1, &ok, &t), ZUPD_OK);
    assert_true(ok);
    assert_int_equal(t, 1700000000);
    zu_note_free(n);
    zu_buf_release(&m);
}

static void
test_parse(void **state)
{
    static const char *bad[] = {
        "",
        "old 1\n",                                                  /* no empty line */
        "old 01\n\nx",                                              /* leading zero */
        "old -1\n\nx",                                              /* not a number */
        "old 1 \n\nx",                                              /* trailing space */
        "old  1\n\nx",                                              /* two spaces */
        "Old 1\n\nx",                                               /* not "old" */
        "old 9223372036854775808\n\nx",                             /* 2^63 */
        "old 1\r\n\r\nx",                                           /* CRLF */
        "old 1\n\n",                                                /* no checkpoint */
        "old 1\nAAAA\n\nx",                                         /* a proof hash of 3 bytes */
        "old 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nx", /* non-canonical base64 */
        "old 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",    /* no empty line after */
    };
    struct zp_wreq q;
    struct zu_buf b;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(zp_wreq_parse((const uint8_t *)bad[i], strlen(bad[i]), &q), ZUPD_E_FORMAT);
    assert_int_equal(zp_wreq_parse((const uint8_t *)"old 9223372036854775807\n\nx", 26, &q),
                     ZUPD_OK);
    assert_int_equal(q.old, INT64_MAX);
    assert_int_equal(q.nproof, 0);
    assert_int_equal(q.note_len, 1);
    /* 63 proof lines are the most */
    zu_buf_init(&b, 0);
    assert_int_equal(zu_buf_addstr(&b, "old 0\n"), ZUPD_OK);
    for (int i = 0; i < 63; i++)
        assert_int_equal(zu_buf_addstr(&b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
                         ZUPD_OK);
    assert_int_equal(zu_buf_addstr(&b, "\nnote"), ZUPD_OK);
    assert_int_equal(zp_wreq_parse(b.p, b.len, &q), ZUPD_OK);
    assert_int_equal(q.nproof, 63);
    b.len = 0;
    assert_int_equal(zu_buf_addstr(&b, "old 0\n"), ZUPD_OK);
    for (int i = 0; i < 64; i++)
        assert_int_equal(zu_buf_addstr(&b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
                         ZUPD_OK);
    assert_int_equal(zu_buf_addstr(&b, "\nnote"), ZUPD_OK);
    assert_int_equal(zp_wreq_parse(b.p, b.len, &q), ZUPD_E_FORMAT);
    zu_buf_release(&b);
    assert_int_equal(zp_wreq_parse((const uint8_t *)"old 0\n\nx", ZP_WITNESS_BODY_MAX + 1, &q),
                     ZUPD_E_TOOBIG);
}

static void
test_add(void **state)
{
    struct fx *f = *state;
    uint8_t wrong[32], p2[1][32];

    /* the first checkpoint: from 0, no proof */
    body(&f->req, &f->a, 0, NULL, 0, 1, NULL, 1);
    assert_int_equal(add(f), 200);
    assert_cosigned(f);
    /* a stale old size: 409 with the size cosigned */
    body(&f->req, &f->a, 0, NULL, 0, 2, NULL, 1);
    assert_int_equal(add(f), 409);
    assert_string_equal(f->resp.content_type, "text/x.tlog.size");
    assert_int_equal(f->resp.body.len, 2);
    assert_memory_equal(f->resp.body.p, "1\n", 2);
    /* 1 -> 2 with the proof [leaf 1]; a wrong proof first */
    memset(p2, 7, sizeof(p2));
    body(&f->req, &f->a, 1, (const uint8_t(*)[32])p2, 1, 2, NULL, 1);
    assert_int_equal(add(f), 422);
    body(&f->req, &f->a, 1, NULL, 0, 2, NULL, 1);
    assert_int_equal(add(f), 422); /* no proof */
    memcpy(p2[0], f->a.lh[1], 32);
    body(&f->req, &f->a, 1, (const uint8_t(*)[32])p2, 1, 2, NULL, 1);
    assert_int_equal(add(f), 200);
    assert_cosigned(f);
    /* the same checkpoint again: cosigned again */
    body(&f->req, &f->a, 2, NULL, 0, 2, NULL, 1);
    assert_int_equal(add(f), 200);
    /* a fork at the same size */
    memset(wrong, 9, sizeof(wrong));
    body(&f->req, &f->a, 2, NULL, 0, 2, wrong, 1);
    assert_int_equal(add(f), 422);
    /* the same size with a (needless) proof */
    body(&f->req, &f->a, 2, (const uint8_t(*)[32])p2, 1, 2, NULL, 1);
    assert_int_equal(add(f), 422);
    /* a rollback: old over the checkpoint's size */
    body(&f->req, &f->a, 2, NULL, 0, 1, NULL, 1);
    assert_int_equal(add(f), 400);
    /* 2 -> 3 with the proof [leaf 2] */
    memcpy(p2[0], f->a.lh[2], 32);
    body(&f->req, &f->a, 2, (const uint8_t(*)[32])p2, 1, 3, NULL, 1);
    assert_int_equal(add(f), 200);
    /* signatures: a bad one of the log's key, none of it */
    body(&f->req, &f->a, 3, NULL, 0, 3, NULL, 2);
    assert_int_equal(add(f), 403);
    body(&f->req, &f->a, 3, NULL, 0, 3, NULL, 0);
    assert_int_equal(add(f), 400); /* no signature line at all: not a signed note */
    {
        struct tlog y; /* the log's name, another key: an unknown signature only */

        tlog_init(&y, ORIGIN);
        body(&f->req, &y, 3, NULL, 0, 3, NULL, 1);
        assert_int_equal(add(f), 403);
    }
    /* an unknown log */
    {
        struct tlog x;
        tlog_init(&x, "example.com/unknown");
        body(&f->req, &x, 0, NULL, 0, 1, NULL, 1);
        assert_int_equal(add(f), 404);
    }
    /* the other log: from 0 a proof is refused; size 0 needs the empty root */
    body(&f->req, &f->b, 0, (const uint8_t(*)[32])p2, 1, 1, NULL, 1);
    assert_int_equal(add(f), 422);
    body(&f->req, &f->b, 0, NULL, 0, 0, wrong, 1);
    assert_int_equal(add(f), 422);
    body(&f->req, &f->b, 0, NULL, 0, 0, NULL, 1);
    assert_int_equal(add(f), 200);
    /* malformed */
    f->req.len = 0;
    assert_int_equal(zu_buf_addstr(&f->req, "old 1\nnote\n"), ZUPD_OK);
    assert_int_equal(add(f), 400);
}

static void
test_state(void **state)
{
    struct fx *f = *state;
    char hex[65], path[160];
    uint8_t h[32];
    size_t hl;
    FILE *fp;

    body(&f->req, &f->a, 0, NULL, 0, 2, NULL, 1);
    assert_int_equal(add(f), 200);
    /* a second witness on the same state is refused while the first runs */
    {
        struct zp_witness *w2 = NULL;
        const char *logs[1] = {f->a.vkey};
        struct zp_witness_opts o = {f->dir, "witness.example/w2", f->signer, logs, 1, 0};
        char err[256] = "";

        assert_int_equal(zp_witness_new(&o, &w2, err, sizeof(err)), ZUPD_E_BUSY);
        assert_null(w2);
    }
    /* a new witness over the same state: the size is remembered */
    zp_witness_free(f->w);
    fx_witness(f);
    body(&f->req, &f->a, 0, NULL, 0, 2, NULL, 1);
    assert_int_equal(add(f), 409);
    assert_memory_equal(f->resp.body.p, "2\n", 2);
    /* the monitoring view: the checkpoint, the log's and the witness's lines */
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, ORIGIN, strlen(ORIGIN), h, 32, &hl), ZUPD_OK);
    zupd_hex_encode(hex, sizeof(hex), h, 32);
    zp_wresp_release(&f->resp);
    zp_wresp_init(&f->resp);
    assert_int_equal(zp_witness_get(f->w, hex, &f->resp), ZUPD_OK);
    assert_int_equal(f->resp.status, 200);
    assert_int_equal(zu_buf_add(&f->resp.body, "", 1), ZUPD_OK);
    assert_non_null(strstr((const char *)f->resp.body.p, "\n\n\xe2\x80\x94 " ORIGIN " "));
    assert_non_null(strstr((const char *)f->resp.body.p, "\xe2\x80\x94 witness.example/w1 "));
    zp_wresp_release(&f->resp);
    zp_wresp_init(&f->resp);
    {
        char c0 = hex[0];

        hex[0] = c0 == '0' ? '1' : '0';
        assert_int_equal(zp_witness_get(f->w, hex, &f->resp), ZUPD_OK);
        assert_int_equal(f->resp.status, 404);
        hex[0] = c0;
    }
    /* a damaged state refuses (500), never restarts from size 0 */
    snprintf(path, sizeof(path), "%s/%s", f->dir, hex);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("garbage\n", fp);
    fclose(fp);
    body(&f->req, &f->a, 0, NULL, 0, 1, NULL, 1);
    assert_int_equal(add(f), 500);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_add, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
