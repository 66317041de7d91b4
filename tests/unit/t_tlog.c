/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_tlog.c -- the transparency log core: RFC 6962 known roots,
 * tile paths, appending across tile boundaries, proofs against a naive
 * Merkle tree, tampered tiles, signed notes, checkpoints and quorums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <zupd/hash.h>

#include "keys/notesign.h"
#include "zu/note.h"
#include "zu/json.h"
#include "zu/tlog.h"
#include "zu/tlog_client.h"
#include "t_tlog_mem.h"

/* ---- a naive RFC 6962 tree over leaf hashes ---- */

static void
naive_mth(uint8_t (*leaves)[32], uint64_t lo, uint64_t hi, uint8_t out[32])
{
    uint8_t l[32], r[32];
    uint64_t k = 1;

    if (hi - lo == 1) {
        memcpy(out, leaves[lo], 32);
        return;
    }
    while (k * 2 < hi - lo)
        k *= 2;
    naive_mth(leaves, lo, lo + k, l);
    naive_mth(leaves, lo + k, hi, r);
    zu_tlog_node_hash(l, r, out);
}

static void
entry_of(uint64_t i, uint8_t *buf, size_t *len)
{
    *len =
        (size_t)snprintf((char *)buf, 64, "{\"n\":%llu,\"type\":\"test\"}", (unsigned long long)i);
}

/* Append entries [from, to) to the log in m, which has root *root. */
static void
append_range(struct mem_store *m, uint64_t from, uint64_t to, uint8_t root[32])
{
    struct zu_tlog_reader rd = {m, mem_read};
    struct zu_tlog_writer wr = {m, mem_write};
    struct zu_tlog_appender *a = NULL;
    char err[256] = "";
    uint64_t size = 0;

    assert_int_equal(zu_tlog_appender_new(from, from ? root : NULL, &rd, &wr, &a, err, sizeof(err)),
                     ZUPD_OK);
    for (uint64_t i = from; i < to; i++) {
        uint8_t e[64];
        size_t len;
        uint64_t idx = 0;
        entry_of(i, e, &len);
        assert_int_equal(zu_tlog_append(a, e, len, &idx, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(idx, i);
    }
    assert_int_equal(zu_tlog_appender_finish(a, &size, root, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(size, to);
    zu_tlog_appender_free(a);
}

static void
test_known_roots(void **state)
{
    /* The RFC 6962 test vectors of the certificate-transparency reference
     * implementation (merkle_tree_test): roots of the first 1..8 leaves. */
    static const char *const leaves[] = {"",
                                         "00",
                                         "10",
                                         "2021",
                                         "3031",
                                         "40414243",
                                         "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"};
    static const char *const roots[] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
    struct mem_store m = {0};
    struct zu_tlog_reader rd = {&m, mem_read};
    struct zu_tlog_writer wr = {&m, mem_write};
    uint8_t root[32], empty[32];
    char hex[65], err[256];

    (void)state;
    zu_tlog_empty_root(empty);
    zupd_hex_encode(hex, sizeof(hex), empty, 32);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (size_t i = 0; i < 8; i++) {
        struct zu_tlog_appender *a = NULL;
        uint8_t e[16];
        size_t len = strlen(leaves[i]) / 2;
        uint64_t size;

        assert_int_equal(zupd_hex_decode(e, len, leaves[i], strlen(leaves[i])), ZUPD_OK);
        assert_int_equal(zu_tlog_appender_new(i, i ? root : NULL, &rd, &wr, &a, err, sizeof(err)),
                         ZUPD_OK);
        assert_int_equal(zu_tlog_append(a, e, len, NULL, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(zu_tlog_appender_finish(a, &size, root, err, sizeof(err)), ZUPD_OK);
        zu_tlog_appender_free(a);
        zupd_hex_encode(hex, sizeof(hex), root, 32);
        assert_string_equal(hex, roots[i]);
        assert_int_equal(zu_tlog_verify_tree(i + 1, root, &rd, NULL, NULL, err, sizeof(err)),
                         ZUPD_OK);
    }
    mem_free(&m);
}

static void
test_paths(void **state)
{
    char p[ZU_TLOG_PATH_MAX];

    (void)state;
    assert_int_equal(zu_tlog_tile_path(p, sizeof(p), 0, 1234067, 256), ZUPD_OK);
    assert_string_equal(p, "tile/0/x001/x234/067");
    assert_int_equal(zu_tlog_tile_path(p, sizeof(p), 1, 0, 17), ZUPD_OK);
    assert_string_equal(p, "tile/1/000.p/17");
    assert_int_equal(zu_tlog_tile_path(p, sizeof(p), ZU_TLOG_ENTRIES, 1000, 3), ZUPD_OK);
    assert_string_equal(p, "tile/entries/x001/000.p/3");
    assert_int_equal(zu_tlog_tile_path(p, 10, 0, 1234067, 256), ZUPD_E_MISUSE);
    assert_int_equal(zu_tlog_tile_path(p, sizeof(p), 0, 1, 0), ZUPD_E_MISUSE);
    assert_int_equal(zu_tlog_tile_path(p, sizeof(p), 8, 1, 1), ZUPD_E_MISUSE);
    /* tlog-tiles: a tree of 70,000 has 273 full level-0 tiles, a partial one
     * of 112, a full and a partial (17) level-1 tile, a level-2 tile of 1 */
    assert_int_equal(zu_tlog_tile_width(70000, 0, 272), 256);
    assert_int_equal(zu_tlog_tile_width(70000, 0, 273), 112);
    assert_int_equal(zu_tlog_tile_width(70000, 0, 274), 0);
    assert_int_equal(zu_tlog_tile_width(70000, 1, 0), 256);
    assert_int_equal(zu_tlog_tile_width(70000, 1, 1), 17);
    assert_int_equal(zu_tlog_tile_width(70000, 2, 0), 1);
    assert_int_equal(zu_tlog_tile_width(70000, 3, 0), 0);
    assert_int_equal(zu_tlog_tile_width(256, 1, 0), 1);
}

static void
test_bundles(void **state)
{
    static const uint8_t ok[] = {0, 1, 'a', 0, 0, 0, 2, 'b', 'c'};

    (void)state;
    assert_int_equal(zu_tlog_bundle_parse(ok, sizeof(ok), 3, 0, NULL, NULL), ZUPD_OK);
    assert_int_equal(zu_tlog_bundle_parse(ok, sizeof(ok), 2, 0, NULL, NULL), ZUPD_E_FORMAT);
    assert_int_equal(zu_tlog_bundle_parse(ok, sizeof(ok), 4, 0, NULL, NULL), ZUPD_E_FORMAT);
    assert_int_equal(zu_tlog_bundle_parse(ok, sizeof(ok) - 1, 3, 0, NULL, NULL), ZUPD_E_FORMAT);
    assert_int_equal(zu_tlog_tile_check(ok, 64, 2), ZUPD_OK);
    assert_int_equal(zu_tlog_tile_check(ok, 63, 2), ZUPD_E_FORMAT);
    assert_int_equal(zu_tlog_tile_check(ok, 0, 0), ZUPD_E_FORMAT);
}

/* Batches that cross the level-0 and level-1 tile edges (256, 65536 are
 * too far for a unit test: 256 * 3 + a bit crosses three level-0 edges and
 * fills one level-1 tile slot per edge). */
static void
test_append_and_prove(void **state)
{
    static const uint64_t sizes[] = {1, 2, 3, 5, 8, 100, 255, 256, 257, 300, 511, 512, 513, 800};
    struct mem_store m = {0};
    struct zu_tlog_reader rd = {&m, mem_read};
    uint8_t(*leaves)[32] = calloc(800, 32);
    uint8_t roots[ZU_ARRAY_LEN(sizes)][32];
    uint8_t root[32] = {0}, want[32];
    uint8_t proof[ZU_TLOG_PROOF_MAX][32];
    char err[256] = "";
    uint64_t have = 0;

    (void)state;
    assert_non_null(leaves);
    for (uint64_t i = 0; i < 800; i++) {
        uint8_t e[64];
        size_t len;
        entry_of(i, e, &len);
        zu_tlog_leaf_hash(e, len, leaves[i]);
    }
    for (size_t s = 0; s < ZU_ARRAY_LEN(sizes); s++) {
        uint64_t n = sizes[s];
        struct zu_tlog_tiles *t = NULL;

        append_range(&m, have, n, root);
        have = n;
        naive_mth(leaves, 0, n, want);
        assert_memory_equal(root, want, 32);
        memcpy(roots[s], root, 32);
        assert_int_equal(zu_tlog_verify_tree(n, root, &rd, NULL, NULL, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(zu_tlog_tiles_new(n, &rd, &t), ZUPD_OK);
        assert_int_equal(zu_tlog_tree_hash(t, n, want, err, sizeof(err)), ZUPD_OK);
        assert_memory_equal(root, want, 32);
        for (uint64_t i = 0; i < n; i += 1 + n / 37) {
            size_t len = 0;
            assert_int_equal(zu_tlog_prove_inclusion(t, i, n, proof, &len, err, sizeof(err)),
                             ZUPD_OK);
            assert_int_equal(zu_tlog_verify_inclusion(i, n, leaves[i], proof, len, root), ZUPD_OK);
            /* (the tree size is bound by the signed checkpoint, not by the
             * proof: a proof for 3 leaves also fits 4, RFC 9162 says as much) */
            if (len > 0)
                assert_int_equal(zu_tlog_verify_inclusion(i, n, leaves[i], proof, len - 1, root),
                                 ZUPD_E_HASH);
            if (n > 1) {
                uint64_t j = (i + 1) % n;
                assert_int_equal(zu_tlog_verify_inclusion(j, n, leaves[i], proof, len, root),
                                 ZUPD_E_HASH);
                proof[len / 2][5] ^= 1;
                assert_int_equal(zu_tlog_verify_inclusion(i, n, leaves[i], proof, len, root),
                                 ZUPD_E_HASH);
            }
        }
        /* consistency with every earlier size */
        for (size_t o = 0; o <= s; o++) {
            size_t len = 0;
            assert_int_equal(
                zu_tlog_prove_consistency(t, sizes[o], n, proof, &len, err, sizeof(err)), ZUPD_OK);
            assert_int_equal(zu_tlog_verify_consistency(sizes[o], roots[o], n, root, proof, len),
                             ZUPD_OK);
            if (sizes[o] < n) {
                assert_int_equal(
                    zu_tlog_verify_consistency(sizes[o], roots[o], n, roots[o], proof, len),
                    ZUPD_E_HASH);
                proof[0][0] ^= 0x80;
                assert_int_equal(
                    zu_tlog_verify_consistency(sizes[o], roots[o], n, root, proof, len),
                    ZUPD_E_HASH);
                assert_int_equal(zu_tlog_verify_consistency(n, root, sizes[o], roots[o], proof, 0),
                                 ZUPD_E_ROLLBACK);
            }
        }
        zu_tlog_tiles_free(t);
    }
    /* a flipped byte in a tile or an entry is found, and stops an append */
    {
        struct zu_tlog_writer wr = {&m, mem_write};
        struct zu_tlog_appender *a = NULL;
        struct mem_file *f = mem_find(&m, "tile/0/003.p/32");
        struct mem_file *e = mem_find(&m, "tile/entries/001");

        assert_non_null(f);
        assert_non_null(e);
        f->data[40] ^= 1;
        assert_int_equal(zu_tlog_verify_tree(800, root, &rd, NULL, NULL, err, sizeof(err)),
                         ZUPD_E_HASH);
        assert_int_equal(zu_tlog_appender_new(800, root, &rd, &wr, &a, err, sizeof(err)),
                         ZUPD_E_HASH);
        f->data[40] ^= 1;
        e->data[7] ^= 1;
        assert_int_equal(zu_tlog_verify_tree(800, root, &rd, NULL, NULL, err, sizeof(err)),
                         ZUPD_E_HASH);
        e->data[7] ^= 1;
        assert_int_equal(zu_tlog_verify_tree(800, root, &rd, NULL, NULL, err, sizeof(err)),
                         ZUPD_OK);
    }
    free(leaves);
    mem_free(&m);
}

/* ---- signed notes ---- */

static void
test_note_spec_vector(void **state)
{
    /* The example of c2sp.org/signed-note. */
    static const char vkey[] =
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    static const char msg[] = "This is an example message.\n\n\xe2\x80\x94 example.com/foo "
                              "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOB"
                              "H3mFXmRKuwHjG1Yu72IneyaQM=\n";
    struct zu_note_key k, other;
    struct zu_note *n = NULL;
    char back[128];
    bool ok[2];

    (void)state;
    assert_int_equal(zu_note_vkey_parse(vkey, strlen(vkey), &k), ZUPD_OK);
    assert_int_equal(k.id, 0x530d903a);
    assert_int_equal(zu_note_vkey_format(&k, back, sizeof(back)), ZUPD_OK);
    assert_string_equal(back, vkey);
    assert_int_equal(zu_note_parse((const uint8_t *)msg, strlen(msg), &n), ZUPD_OK);
    assert_int_equal(n->nsigs, 1);
    assert_string_equal(n->text, "This is an example message.\n");
    other = k;
    other.pub[0] ^= 1; /* same name and id, another key: never consulted twice */
    assert_int_equal(zu_note_verify(n, &k, 1, ok, NULL), ZUPD_OK);
    assert_true(ok[0]);
    assert_int_equal(zu_note_verify(n, &other, 1, ok, NULL), ZUPD_E_SIG);
    zu_note_free(n);
    /* a wrong id in the vkey, an unknown type, a bad name */
    assert_int_equal(
        zu_note_vkey_parse("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                           69, &k),
        ZUPD_E_FORMAT);
    assert_int_equal(
        zu_note_vkey_parse("a b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", 57, &k),
        ZUPD_E_FORMAT);
}

static void
test_note_malformed(void **state)
{
    static const char *const bad[] = {
        "no signatures\n",
        "text\n\n",
        "text\n\n\xe2\x80\x94 name AAAAAA==\n",          /* under 5 bytes */
        "text\n\n\xe2\x80\x94 name AAAAAAAA",            /* no final newline */
        "text\n\n- name AAAAAAAA\n",                     /* not an em dash */
        "text\n\n\xe2\x80\x94 na+me AAAAAAAA\n",         /* '+' in a name */
        "te\txt\n\n\xe2\x80\x94 name AAAAAAAA\n",        /* a control character */
        "t\xc0\xafxt\n\n\xe2\x80\x94 name AAAAAAAA\n",   /* overlong UTF-8 */
        "text\n\n\xe2\x80\x94 name AAAAAA!A\n",          /* not base64 */
        "text\n\n\xe2\x80\x94 name\xc2\xa0x AAAAAAAA\n", /* Unicode space in a name */
    };
    struct zu_note *n = NULL;

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(bad); i++) {
        int rc = zu_note_parse((const uint8_t *)bad[i], strlen(bad[i]), &n);
        assert_int_not_equal(rc, ZUPD_OK);
        assert_null(n);
    }
    {
        static const char two[] = "a\n\nb\n\n\xe2\x80\x94 n AAAAAAAA\n";
        assert_int_equal(zu_note_parse((const uint8_t *)two, strlen(two), &n), ZUPD_OK);
    }
    assert_string_equal(n->text, "a\n\nb\n"); /* split at the last blank line */
    zu_note_free(n);
}

static void
make_key(const char *name, uint8_t type, struct zu_note_key *k, uint8_t sk[64])
{
    uint8_t pk[32];

    assert_int_equal(crypto_sign_keypair(pk, sk), 0);
    assert_int_equal(zu_note_key_init(k, name, type, pk), ZUPD_OK);
}

static void
test_checkpoint_quorum(void **state)
{
    struct zu_note_key logk, w[3], stranger;
    uint8_t logsk[64], wsk[3][64], ssk[64];
    struct zu_checkpoint c = {0}, got = {0};
    struct zu_buf text, note;
    struct zu_tlog_trust trust;
    char err[256];
    size_t cosigners = 0;
    char origin[] = "example.com/zupd/log";

    (void)state;
    make_key(origin, ZU_NOTE_ED25519, &logk, logsk);
    make_key("w1.example", ZU_NOTE_COSIG_V1, &w[0], wsk[0]);
    make_key("w2.example", ZU_NOTE_COSIG_V1, &w[1], wsk[1]);
    make_key("w3.example", ZU_NOTE_COSIG_V1, &w[2], wsk[2]);
    make_key("w1.example", ZU_NOTE_COSIG_V1, &stranger, ssk);
    snprintf(c.origin, sizeof(c.origin), "%s", origin);
    c.size = 12345;
    memset(c.root, 0xab, 32);
    zu_buf_init(&text, 0);
    zu_buf_init(&note, 0);
    assert_int_equal(zu_checkpoint_format(&c, &text), ZUPD_OK);
    assert_int_equal(zu_buf_add(&note, text.p, text.len), ZUPD_OK);
    assert_int_equal(zu_buf_add(&note, "\n", 1), ZUPD_OK);
    assert_int_equal(zp_note_sign(&note, (char *)text.p, text.len, &logk, logsk, 0), ZUPD_OK);
    assert_int_equal(zp_note_sign(&note, (char *)text.p, text.len, &w[0], wsk[0], 1700000000),
                     ZUPD_OK);
    assert_int_equal(zp_note_sign(&note, (char *)text.p, text.len, &w[1], wsk[1], 1700000001),
                     ZUPD_OK);
    /* a cosigner nobody configured, with a configured name: ignored */
    assert_int_equal(zp_note_sign(&note, (char *)text.p, text.len, &stranger, ssk, 1), ZUPD_OK);

    trust = (struct zu_tlog_trust){
        .origin = origin, .log_key = logk, .witnesses = w, .nwitnesses = 3, .quorum = 2};
    assert_int_equal(
        zu_checkpoint_open(note.p, note.len, &trust, &got, &cosigners, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(cosigners, 2);
    assert_int_equal(got.size, 12345);
    assert_memory_equal(got.root, c.root, 32);
    zu_checkpoint_release(&got);

    trust.quorum = 3;
    assert_int_equal(
        zu_checkpoint_open(note.p, note.len, &trust, &got, &cosigners, err, sizeof(err)),
        ZUPD_E_THRESHOLD);
    assert_non_null(strstr(err, "2 of 3"));
    /* a witness listed twice counts once */
    {
        struct zu_note_key twice[2] = {w[0], w[0]};
        trust = (struct zu_tlog_trust){
            .origin = origin, .log_key = logk, .witnesses = twice, .nwitnesses = 2, .quorum = 2};
        assert_int_equal(zu_checkpoint_open(note.p, note.len, &trust, &got, NULL, err, sizeof(err)),
                         ZUPD_E_THRESHOLD);
    }
    /* the log's own key configured as a witness (either type) never counts */
    {
        struct zu_note_key self[2] = {logk, logk};
        self[1].type = ZU_NOTE_COSIG_V1;
        self[1].id = zu_note_key_id(self[1].name, ZU_NOTE_COSIG_V1, self[1].pub);
        trust = (struct zu_tlog_trust){
            .origin = origin, .log_key = logk, .witnesses = self, .nwitnesses = 2, .quorum = 1};
        assert_int_equal(zu_checkpoint_open(note.p, note.len, &trust, &got, NULL, err, sizeof(err)),
                         ZUPD_E_THRESHOLD);
    }
    trust = (struct zu_tlog_trust){.origin = "example.com/other",
                                   .log_key = logk,
                                   .witnesses = w,
                                   .nwitnesses = 3,
                                   .quorum = 0};
    assert_int_equal(zu_checkpoint_open(note.p, note.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_E_MISMATCH);
    /* signed by another log key */
    trust = (struct zu_tlog_trust){
        .origin = origin, .log_key = w[2], .witnesses = w, .nwitnesses = 3, .quorum = 0};
    trust.log_key.type = ZU_NOTE_ED25519;
    assert_int_equal(zu_checkpoint_open(note.p, note.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_E_SIG);
    /* a flipped byte in the root: the log's and the witnesses' signatures fail */
    trust = (struct zu_tlog_trust){
        .origin = origin, .log_key = logk, .witnesses = w, .nwitnesses = 3, .quorum = 2};
    note.p[strlen(origin) + 8] ^= 1;
    assert_int_equal(zu_checkpoint_open(note.p, note.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_E_SIG);
    zu_buf_release(&text);
    zu_buf_release(&note);
}

/* A key rotation: the log's old and new keys, same name; any one listed
 * signing is enough, a bad signature of either refuses, a witness
 * configured with a log key's public key never counts. */
static void
test_checkpoint_log_keys(void **state)
{
    struct zu_note_key oldk, newk, other, w;
    uint8_t oldsk[64], newsk[64], othersk[64], wsk[64];
    struct zu_checkpoint c = {0}, got = {0};
    struct zu_buf text, both, newonly;
    struct zu_tlog_trust trust;
    char err[256];
    size_t cosigners = 0;
    char origin[] = "example.com/zupd/log";

    (void)state;
    make_key(origin, ZU_NOTE_ED25519, &oldk, oldsk);
    make_key(origin, ZU_NOTE_ED25519, &newk, newsk);
    make_key(origin, ZU_NOTE_ED25519, &other, othersk);
    make_key("w.example", ZU_NOTE_COSIG_V1, &w, wsk);
    snprintf(c.origin, sizeof(c.origin), "%s", origin);
    c.size = 7;
    memset(c.root, 0x5a, 32);
    zu_buf_init(&text, 0);
    zu_buf_init(&both, 0);
    zu_buf_init(&newonly, 0);
    assert_int_equal(zu_checkpoint_format(&c, &text), ZUPD_OK);
    assert_int_equal(zu_buf_add(&both, text.p, text.len), ZUPD_OK);
    assert_int_equal(zu_buf_add(&both, "\n", 1), ZUPD_OK);
    assert_int_equal(zu_buf_add(&newonly, both.p, both.len), ZUPD_OK);
    assert_int_equal(zp_note_sign(&both, (char *)text.p, text.len, &oldk, oldsk, 0), ZUPD_OK);
    assert_int_equal(zp_note_sign(&both, (char *)text.p, text.len, &newk, newsk, 0), ZUPD_OK);
    assert_int_equal(zp_note_sign(&newonly, (char *)text.p, text.len, &newk, newsk, 0), ZUPD_OK);
    assert_int_equal(zp_note_sign(&newonly, (char *)text.p, text.len, &w, wsk, 1700000000),
                     ZUPD_OK);

    /* old key only, new key only, both: a note signed by both opens */
    trust = (struct zu_tlog_trust){.origin = origin, .log_key = oldk};
    assert_int_equal(zu_checkpoint_open(both.p, both.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_OK);
    zu_checkpoint_release(&got);
    trust.log_key = newk;
    assert_int_equal(zu_checkpoint_open(both.p, both.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_OK);
    zu_checkpoint_release(&got);
    /* the old key only: the new key's note (after the retirement) refuses */
    trust.log_key = oldk;
    assert_int_equal(
        zu_checkpoint_open(newonly.p, newonly.len, &trust, &got, NULL, err, sizeof(err)),
        ZUPD_E_SIG);
    assert_non_null(strstr(err, origin));
    /* both listed (either order): both notes open */
    trust.more_log_keys[0] = newk;
    trust.nmore_log_keys = 1;
    assert_int_equal(
        zu_checkpoint_open(newonly.p, newonly.len, &trust, &got, NULL, err, sizeof(err)), ZUPD_OK);
    zu_checkpoint_release(&got);
    trust.log_key = newk;
    trust.more_log_keys[0] = oldk;
    assert_int_equal(zu_checkpoint_open(both.p, both.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_OK);
    zu_checkpoint_release(&got);
    /* none of the listed keys signed */
    trust.log_key = other;
    trust.more_log_keys[0] = oldk;
    assert_int_equal(
        zu_checkpoint_open(newonly.p, newonly.len, &trust, &got, NULL, err, sizeof(err)),
        ZUPD_E_SIG);
    assert_non_null(strstr(err, "none of its keys"));
    /* a witness counts; one configured with the new log key's public key does not */
    {
        struct zu_note_key ws[2] = {w, newk};
        ws[1].type = ZU_NOTE_COSIG_V1;
        ws[1].id = zu_note_key_id(ws[1].name, ZU_NOTE_COSIG_V1, ws[1].pub);
        trust = (struct zu_tlog_trust){.origin = origin,
                                       .log_key = oldk,
                                       .more_log_keys = {newk},
                                       .nmore_log_keys = 1,
                                       .witnesses = ws,
                                       .nwitnesses = 2,
                                       .quorum = 1};
        assert_int_equal(
            zu_checkpoint_open(newonly.p, newonly.len, &trust, &got, &cosigners, err, sizeof(err)),
            ZUPD_OK);
        assert_int_equal(cosigners, 1);
        zu_checkpoint_release(&got);
        trust.quorum = 2;
        assert_int_equal(
            zu_checkpoint_open(newonly.p, newonly.len, &trust, &got, NULL, err, sizeof(err)),
            ZUPD_E_THRESHOLD);
    }
    /* too many keys for the structure: refused, not read past it */
    trust = (struct zu_tlog_trust){.origin = origin, .log_key = oldk};
    trust.nmore_log_keys = ZU_TLOG_LOG_KEYS_MAX;
    assert_int_equal(zu_checkpoint_open(both.p, both.len, &trust, &got, NULL, err, sizeof(err)),
                     ZUPD_E_MISUSE);
    /* a bad signature of the new key refuses even with the old one good */
    trust = (struct zu_tlog_trust){
        .origin = origin, .log_key = oldk, .more_log_keys = {newk}, .nmore_log_keys = 1};
    {
        struct zu_buf bad;
        zu_buf_init(&bad, 0);
        assert_int_equal(zu_buf_add(&bad, text.p, text.len), ZUPD_OK);
        assert_int_equal(zu_buf_add(&bad, "\n", 1), ZUPD_OK);
        assert_int_equal(zp_note_sign(&bad, (char *)text.p, text.len, &oldk, oldsk, 0), ZUPD_OK);
        /* the new key's line signs other text */
        assert_int_equal(zp_note_sign(&bad, "other\n", 6, &newk, newsk, 0), ZUPD_OK);
        assert_int_equal(zu_checkpoint_open(bad.p, bad.len, &trust, &got, NULL, err, sizeof(err)),
                         ZUPD_E_SIG);
        zu_buf_release(&bad);
    }
    zu_buf_release(&text);
    zu_buf_release(&both);
    zu_buf_release(&newonly);
}

static void
test_checkpoint_parse(void **state)
{
    static const char *const bad[] = {
        "o\n01\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",  /* leading zero */
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s\n",    /* unpadded */
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6ur\n",       /* 30 bytes */
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",     /* no newline */
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", /* empty extension */
        "o\n9223372036854775808\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
        "\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
        "o\n-1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
        /* a byte >= 0x80 that libsodium's decoder reads as a letter */
        "o\n0\nCFm/zhpmu+SVenlQLPED7xzTja5L3ncc1KLw/+\xf7wrUk=\n",
    };
    static const char good[] = "o\n0\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\next 1\n";
    struct zu_checkpoint c;
    struct zu_buf b;

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(bad); i++)
        assert_int_equal(zu_checkpoint_parse(bad[i], strlen(bad[i]), &c), ZUPD_E_FORMAT);
    assert_int_equal(zu_checkpoint_parse(good, strlen(good), &c), ZUPD_OK);
    assert_int_equal(c.size, 0);
    assert_string_equal(c.ext, "ext 1\n");
    zu_buf_init(&b, 0);
    assert_int_equal(zu_checkpoint_format(&c, &b), ZUPD_OK);
    assert_int_equal(b.len, strlen(good));
    assert_memory_equal(b.p, good, b.len);
    zu_buf_release(&b);
    zu_checkpoint_release(&c);
}

/* The release and channel entries both sides build (lib/tlog_client.c): the exact bytes
 * of docs/transparency.md, so that a publisher's entry and an endpoint's
 * rebuild hash to the same leaf; and the signed index in a target's custom. */
static void
test_release_entry(void **state)
{
    static const char want[] =
        "{\"component\":\"app\",\"path\":\"products/app/1.0/manifest.json\",\"provenance\":"
        "{\"builder\":\"ci-7\",\"source_revision\":\"abc\"},\"role\":\"products\",\"target\":"
        "{\"length\":1234,\"sha256\":\"00ff\"},\"type\":\"release\",\"version\":\"1.0\"}";
    static const char bare[] =
        "{\"component\":\"app\",\"path\":\"p\",\"provenance\":{},\"role\":\"avdb\",\"target\":"
        "{\"length\":0,\"sha256\":\"00\"},\"type\":\"release\",\"version\":\"2\"}";
    static const struct {
        const char *custom;
        int rc;
        uint64_t index;
    } cases[] = {
        {"{\"zupd_log\":{\"index\":5}}", ZUPD_OK, 5},
        {"{\"a\":[1],\"zupd_log\":{\"index\":0,\"x\":1}}", ZUPD_OK, 0},
        {"{\"zupd_log\":{\"index\":9223372036854775806}}", ZUPD_OK, 9223372036854775806ull},
        {"{\"zupd_log\":{\"index\":9223372036854775807}}", ZUPD_E_FORMAT, 0},
        {"{\"zupd_log\":{\"index\":-1}}", ZUPD_E_FORMAT, 0},
        {"{\"zupd_log\":{\"index\":\"5\"}}", ZUPD_E_FORMAT, 0},
        {"{\"zupd_log\":5}", ZUPD_E_FORMAT, 0},
        {"{\"zupd_log\":{}}", ZUPD_E_FORMAT, 0},
        {"{\"other\":1}", ZUPD_E_NOTFOUND, 0},
        {"[]", ZUPD_E_FORMAT, 0},
        {"{", ZUPD_E_FORMAT, 0},
    };
    json_t *doc;
    uint8_t *text = NULL, leaf[ZU_TLOG_HASH], leaf2[ZU_TLOG_HASH];
    size_t len = 0;
    uint64_t index;

    (void)state;
    doc = zu_tlog_entry_release("products", "products/app/1.0/manifest.json", "00ff", 1234, "app",
                                "1.0", "abc", "ci-7");
    assert_non_null(doc);
    assert_int_equal(zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &text, &len), ZUPD_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    zu_tlog_leaf_hash(text, len, leaf);
    zu_tlog_leaf_hash((const uint8_t *)want, strlen(want), leaf2);
    assert_memory_equal(leaf, leaf2, ZU_TLOG_HASH);
    json_decref(doc);
    free(text);
    doc = zu_tlog_entry_release("avdb", "p", "00", 0, "app", "2", NULL, NULL);
    assert_int_equal(zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &text, &len), ZUPD_OK);
    assert_int_equal(len, strlen(bare));
    assert_memory_equal(text, bare, len);
    json_decref(doc);
    free(text);
    doc = zu_tlog_entry_channel("products", "products/app/channels/stable.json", "ab", 21, "app",
                                "stable", "1.0", "2.0", true);
    assert_int_equal(zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &text, &len), ZUPD_OK);
    assert_string_equal((const char *)text,
                        "{\"channel\":\"stable\",\"component\":\"app\",\"floor\":\"2.0\",\"path\":"
                        "\"products/app/channels/stable.json\",\"role\":\"products\",\"rollback\":"
                        "true,\"target\":{\"length\":21,\"sha256\":\"ab\"},\"type\":\"channel\","
                        "\"version\":\"1.0\"}");
    json_decref(doc);
    free(text);
    doc = zu_tlog_entry_channel("avdb", "p", "ab", 1, "db", "hourly", "7", NULL, false);
    assert_int_equal(zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &text, &len), ZUPD_OK);
    assert_string_equal((const char *)text,
                        "{\"channel\":\"hourly\",\"component\":\"db\",\"path\":\"p\",\"role\":"
                        "\"avdb\",\"target\":{\"length\":1,\"sha256\":\"ab\"},\"type\":\"channel\","
                        "\"version\":\"7\"}");
    json_decref(doc);
    free(text);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        index = 77;
        if (zu_tlog_custom_index((const uint8_t *)cases[i].custom, strlen(cases[i].custom),
                                 &index) != cases[i].rc ||
            index != cases[i].index)
            fail_msg("custom '%s': index %llu", cases[i].custom, (unsigned long long)index);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_roots),       cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bundles),           cmocka_unit_test(test_append_and_prove),
        cmocka_unit_test(test_note_spec_vector),  cmocka_unit_test(test_note_malformed),
        cmocka_unit_test(test_checkpoint_quorum), cmocka_unit_test(test_checkpoint_log_keys),
        cmocka_unit_test(test_checkpoint_parse),  cmocka_unit_test(test_release_entry),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
