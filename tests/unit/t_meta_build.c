/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_meta_build.c -- building metadata from scratch (the mirror
 * side): keys, roles, delegations, succinct bins, entries, signing with
 * libsodium, serialization, parse(serialize(x)) == x, failed changes change
 * nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <zupd/json.h>
#include <zupd/meta.h>

#include "t_meta_util.h"

#define EXP 1893456000 /* 2030-01-01T00:00:00Z */

struct tkey {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    char json[256];
    char keyid[65];
};

static void
tkey_make(struct tkey *k, uint8_t seed_byte)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];

    memset(seed, seed_byte, sizeof(seed));
    assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
    zupd_hex_encode(hex, sizeof(hex), k->pk, sizeof(k->pk));
    snprintf(k->json, sizeof(k->json),
             "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"%s\"}}",
             hex);
    k->keyid[0] = '\0';
}

static void
add_key(struct zupd_meta *m, const char *role, struct tkey *k)
{
    char id[65];

    assert_int_equal(
        zupd_meta_add_key(m, role, (const uint8_t *)k->json, strlen(k->json), id, sizeof(id)),
        ZUPD_OK);
    assert_int_equal(strlen(id), 64);
    if (k->keyid[0] != '\0')
        assert_string_equal(id, k->keyid);
    memcpy(k->keyid, id, sizeof(id));
    assert_true(zupd_meta_has_key(m, id));
}

static void
sign(struct zupd_meta *m, const struct tkey *k)
{
    uint8_t *msg, sig[crypto_sign_BYTES];
    size_t len;
    char hex[2 * crypto_sign_BYTES + 1];

    assert_int_equal(zupd_meta_signed_bytes(m, &msg, &len), ZUPD_OK);
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, len, k->sk), 0);
    free(msg);
    zupd_hex_encode(hex, sizeof(hex), sig, sizeof(sig));
    assert_int_equal(zupd_meta_add_signature(m, k->keyid, hex), ZUPD_OK);
}

/* serialize (pretty or compact), parse back, and check nothing changed */
static struct zupd_meta *
roundtrip(const struct zupd_meta *m, unsigned flags)
{
    uint8_t *a = NULL, *b = NULL, *text = NULL;
    size_t alen, blen, tlen;
    struct zupd_meta *r = NULL;
    char err[256];

    assert_int_equal(zupd_meta_serialize(m, flags, &text, &tlen), ZUPD_OK);
    if (zupd_meta_parse(text, tlen, NULL, zupd_meta_type(m), &r, err, sizeof(err)) != ZUPD_OK)
        fail_msg("re-parse: %s\n%s", err, (char *)text);
    free(text);
    assert_int_equal(zupd_meta_serialize(m, 0, &a, &alen), ZUPD_OK);
    assert_int_equal(zupd_meta_serialize(r, 0, &b, &blen), ZUPD_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    assert_int_equal(zupd_meta_signed_bytes(m, &a, &alen), ZUPD_OK);
    assert_int_equal(zupd_meta_signed_bytes(r, &b, &blen), ZUPD_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    return r;
}

static void
test_root(void **state)
{
    struct tkey kr, kt, ks, kg, kr2;
    struct zupd_meta *m = NULL, *r = NULL;
    uint64_t thr;
    size_t n;
    char err[128];

    (void)state;
    assert_int_equal(zupd_init(), ZUPD_OK);
    tkey_make(&kr, 1);
    tkey_make(&kt, 2);
    tkey_make(&ks, 3);
    tkey_make(&kg, 4);
    tkey_make(&kr2, 5);
    assert_int_equal(zupd_meta_new(ZUPD_META_ROOT, 1, EXP, &m), ZUPD_OK);
    assert_int_equal(zupd_meta_type(m), ZUPD_META_ROOT);
    assert_true(zupd_meta_consistent_snapshot(m));
    assert_int_equal(zupd_meta_role(m, "root", &thr, &n), ZUPD_OK);
    assert_true(thr == 1 && n == 0);
    add_key(m, "root", &kr);
    add_key(m, "root", &kr2);
    add_key(m, "root", &kr2); /* again: no-op */
    add_key(m, "timestamp", &kt);
    add_key(m, "snapshot", &ks);
    add_key(m, "targets", &kg);
    add_key(m, "snapshot", &kg); /* a key may serve two roles */
    assert_int_equal(zupd_meta_role(m, "root", &thr, &n), ZUPD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(zupd_meta_set_threshold(m, "root", 2), ZUPD_OK);
    assert_int_equal(zupd_meta_set_consistent_snapshot(m, false), ZUPD_OK);
    assert_false(zupd_meta_consistent_snapshot(m));
    assert_int_equal(zupd_meta_set_version(m, 3), ZUPD_OK);
    assert_int_equal(zupd_meta_version(m), 3);
    assert_int_equal(zupd_meta_set_expires(m, EXP + 86400), ZUPD_OK);
    assert_int_equal(zupd_meta_expires(m), EXP + 86400);

    /* refused changes leave everything as it was */
    assert_int_equal(zupd_meta_set_threshold(m, "root", 0), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_set_threshold(m, "mirror", 1), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_set_version(m, 0), ZUPD_E_MISUSE);
    assert_int_equal(
        zupd_meta_add_key(m, "mirror", (const uint8_t *)kr.json, strlen(kr.json), NULL, 0),
        ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_add_key(m, "root", (const uint8_t *)"{}", 2, NULL, 0),
                     ZUPD_E_FORMAT);
    assert_int_equal(zupd_meta_add_delegation(m, "x", false, NULL, 0, NULL, 0), ZUPD_E_ROLE);
    assert_int_equal(zupd_meta_role(m, "root", &thr, &n), ZUPD_OK);
    assert_true(thr == 2 && n == 2);
    assert_int_equal(zupd_meta_version(m), 3);

    /* signing: one root signature is not enough for threshold 2 */
    sign(m, &kr);
    assert_int_equal(zupd_meta_verify_role(m, "root", m, err, sizeof(err)), ZUPD_E_THRESHOLD);
    assert_string_equal(err, "root: 1 of 2 required signatures");
    sign(m, &kr); /* same key again replaces, still one */
    assert_int_equal(zupd_meta_signature_count(m), 1);
    sign(m, &kr2);
    assert_int_equal(zupd_meta_signature_count(m), 2);
    assert_int_equal(zupd_meta_verify_role(m, "root", m, NULL, 0), ZUPD_OK);

    r = roundtrip(m, ZUPD_META_PRETTY);
    assert_int_equal(zupd_meta_verify_role(r, "root", r, NULL, 0), ZUPD_OK);
    zupd_meta_free(r);
    r = roundtrip(m, 0);
    zupd_meta_free(r);

    /* revoking: the key leaves the table when no role uses it */
    assert_int_equal(zupd_meta_revoke_key(m, "snapshot", kg.keyid), ZUPD_OK);
    assert_true(zupd_meta_has_key(m, kg.keyid)); /* still targets' */
    assert_int_equal(zupd_meta_revoke_key(m, "targets", kg.keyid), ZUPD_OK);
    assert_false(zupd_meta_has_key(m, kg.keyid));
    assert_int_equal(zupd_meta_revoke_key(m, "targets", kg.keyid), ZUPD_E_NOTFOUND);
    /* the signed content changed: old signatures no longer verify */
    assert_int_equal(zupd_meta_verify_role(m, "root", m, NULL, 0), ZUPD_E_THRESHOLD);
    zupd_meta_clear_signatures(m);
    assert_int_equal(zupd_meta_signature_count(m), 0);
    zupd_meta_free(m);
}

static void
test_targets(void **state)
{
    struct tkey kg, k1, kb;
    struct zupd_meta *m = NULL, *bins = NULL, *r = NULL, *child = NULL;
    struct zupd_hashes h;
    struct zupd_target t;
    struct zupd_meta_child c;
    const char *const paths[] = {"products/*", "products/*/*/*"};
    const char *const prefixes[] = {"0", "1"};
    uint8_t *custom;
    size_t len, cur = 0;
    uint64_t thr;

    (void)state;
    tkey_make(&kg, 10);
    tkey_make(&k1, 11);
    tkey_make(&kb, 12);
    memset(&h, 0, sizeof(h));
    h.has_sha256 = true;
    memset(h.sha256, 0xab, sizeof(h.sha256));
    assert_int_equal(zupd_meta_new(ZUPD_META_TARGETS, 1, EXP, &m), ZUPD_OK);
    assert_int_equal(zupd_meta_set_target(m, "products/app/1.0/manifest.json", 42, &h,
                                          (const uint8_t *)"{\"b\":1,\"a\":\"\\u00fc\"}", 20),
                     ZUPD_OK);
    assert_int_equal(zupd_meta_set_target(m, "x", 1, &h, (const uint8_t *)"{1}", 3), ZUPD_E_MISUSE);
    memset(&t, 0, sizeof(t));
    assert_int_equal(zupd_meta_set_target(m, "x", 1, &t.hashes, NULL, 0), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_target_count(m), 1);
    assert_int_equal(zupd_meta_target(m, "products/app/1.0/manifest.json", &t), ZUPD_OK);
    assert_true(t.length == 42 && t.hashes.has_sha256 && t.has_custom);
    assert_int_equal(zupd_meta_target_custom(m, "products/app/1.0/manifest.json", &custom, &len),
                     ZUPD_OK);
    assert_string_equal((char *)custom, "{\"a\":\"\xc3\xbc\",\"b\":1}");
    free(custom);

    assert_int_equal(
        zupd_meta_add_key(m, "role1", (const uint8_t *)k1.json, strlen(k1.json), NULL, 0),
        ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_add_delegation(m, "role1", true, paths, 2, NULL, 0), ZUPD_OK);
    assert_int_equal(zupd_meta_add_delegation(m, "role2", false, NULL, 0, prefixes, 2), ZUPD_OK);
    /* refused: a duplicate, a top-level name, both or neither list, succinct */
    assert_int_equal(zupd_meta_add_delegation(m, "role1", true, paths, 2, NULL, 0), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_add_delegation(m, "targets", true, paths, 2, NULL, 0),
                     ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_add_delegation(m, "r", true, paths, 2, prefixes, 2), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_set_succinct(m, 8, "bin"), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_delegation_count(m), 2);
    add_key(m, "role1", &k1);
    assert_int_equal(zupd_meta_set_threshold(m, "role2", 3), ZUPD_OK);
    assert_int_equal(zupd_meta_role(m, "role2", &thr, NULL), ZUPD_OK);
    assert_int_equal(thr, 3);
    assert_int_equal(zupd_meta_child_next(m, "products/app/1.0/manifest.json", &cur, &c), ZUPD_OK);
    assert_string_equal(c.name, "role1");
    assert_true(c.terminating);
    r = roundtrip(m, ZUPD_META_PRETTY);
    zupd_meta_free(r);

    /* a delegated document signed by role1's key verifies against m */
    assert_int_equal(zupd_meta_new(ZUPD_META_TARGETS, 1, EXP, &child), ZUPD_OK);
    sign(child, &k1);
    assert_int_equal(zupd_meta_verify_role(m, "role1", child, NULL, 0), ZUPD_OK);
    assert_int_equal(zupd_meta_verify_role(m, "role2", child, NULL, 0), ZUPD_E_THRESHOLD);

    /* succinct hash bins */
    assert_int_equal(zupd_meta_new(ZUPD_META_TARGETS, 1, EXP, &bins), ZUPD_OK);
    assert_int_equal(zupd_meta_set_succinct(bins, 0, "bin"), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_set_succinct(bins, 8, "bin"), ZUPD_OK);
    add_key(bins, NULL, &kb);
    assert_int_equal(zupd_meta_add_delegation(bins, "x", true, paths, 2, NULL, 0), ZUPD_E_MISUSE);
    cur = 0;
    assert_int_equal(zupd_meta_child_next(bins, "a/path", &cur, &c), ZUPD_OK);
    assert_string_equal(c.name, "bin-92");
    assert_int_equal(zupd_meta_role(bins, "bin-92", &thr, NULL), ZUPD_OK);
    assert_int_equal(zupd_meta_role_keyid(bins, "bin-00", 0) != NULL, 1);
    assert_string_equal(zupd_meta_role_keyid(bins, "bin-ff", 0), kb.keyid);
    zupd_meta_free(child);
    assert_int_equal(zupd_meta_new(ZUPD_META_TARGETS, 1, EXP, &child), ZUPD_OK);
    sign(child, &kb);
    assert_int_equal(zupd_meta_verify_role(bins, "bin-92", child, NULL, 0), ZUPD_OK);
    assert_int_equal(zupd_meta_verify_role(bins, "bin-100", child, NULL, 0), ZUPD_E_ROLE);
    r = roundtrip(bins, 0);
    zupd_meta_free(r);
    assert_int_equal(zupd_meta_revoke_key(bins, NULL, kb.keyid), ZUPD_OK);
    assert_false(zupd_meta_has_key(bins, kb.keyid));

    /* the key object comes back as added (canonical JSON) */
    assert_int_equal(zupd_meta_key_json(m, k1.keyid, &custom, &len), ZUPD_OK);
    {
        uint8_t *canon;
        size_t clen;
        assert_int_equal(
            zupd_cjson_canonicalize((const uint8_t *)k1.json, strlen(k1.json), NULL, &canon, &clen),
            ZUPD_OK);
        assert_int_equal(len, clen);
        assert_memory_equal(custom, canon, len);
        free(canon);
    }
    free(custom);
    assert_int_equal(zupd_meta_key_json(m, "nope", &custom, &len), ZUPD_E_NOTFOUND);
    assert_null(custom);
    /* removing a delegation drops the keys only it used */
    add_key(m, "role2", &kg);
    assert_int_equal(zupd_meta_remove_delegation(m, "role1"), ZUPD_OK);
    assert_int_equal(zupd_meta_remove_delegation(m, "role1"), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_delegation_count(m), 1);
    assert_string_equal(zupd_meta_delegation_name(m, 0), "role2");
    assert_false(zupd_meta_has_key(m, k1.keyid));
    assert_true(zupd_meta_has_key(m, kg.keyid));
    assert_int_equal(zupd_meta_remove_delegation(bins, "bin-00"), ZUPD_E_NOTFOUND);
    r = roundtrip(m, 0);
    zupd_meta_free(r);

    assert_int_equal(zupd_meta_remove_target(m, "products/app/1.0/manifest.json"), ZUPD_OK);
    assert_int_equal(zupd_meta_remove_target(m, "products/app/1.0/manifest.json"), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_target_count(m), 0);
    zupd_meta_free(child);
    zupd_meta_free(bins);
    zupd_meta_free(m);
}

static void
test_snapshot_timestamp(void **state)
{
    struct zupd_meta *sn = NULL, *ts = NULL, *r;
    struct zupd_meta_file f, g;

    (void)state;
    assert_int_equal(zupd_meta_new(ZUPD_META_SNAPSHOT, 1, EXP, &sn), ZUPD_OK);
    assert_int_equal(zupd_meta_file(sn, "targets.json", &g), ZUPD_OK);
    assert_int_equal(g.version, 1);
    memset(&f, 0, sizeof(f));
    f.version = 2;
    f.has_length = true;
    f.length = 1234;
    f.has_hashes = true;
    f.hashes.has_sha512 = true;
    memset(f.hashes.sha512, 0x5a, sizeof(f.hashes.sha512));
    assert_int_equal(zupd_meta_set_file(sn, "targets.json", &f), ZUPD_OK);
    f.has_hashes = false;
    assert_int_equal(zupd_meta_set_file(sn, "role1.json", &f), ZUPD_OK);
    f.version = 0;
    assert_int_equal(zupd_meta_set_file(sn, "role2.json", &f), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_file_count(sn), 2);
    assert_int_equal(zupd_meta_file(sn, "targets.json", &g), ZUPD_OK);
    assert_true(g.version == 2 && g.has_length && g.length == 1234 && g.hashes.has_sha512);
    assert_int_equal(g.hashes.sha512[10], 0x5a);
    r = roundtrip(sn, ZUPD_META_PRETTY);
    zupd_meta_free(r);
    assert_int_equal(zupd_meta_remove_file(sn, "role1.json"), ZUPD_OK);
    assert_int_equal(zupd_meta_file_count(sn), 1);

    assert_int_equal(zupd_meta_new(ZUPD_META_TIMESTAMP, 9, EXP, &ts), ZUPD_OK);
    f.version = 7;
    assert_int_equal(zupd_meta_set_file(ts, "snapshot.json", &f), ZUPD_OK);
    assert_int_equal(zupd_meta_set_file(ts, "targets.json", &f), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_remove_file(ts, "snapshot.json"), ZUPD_E_ROLE);
    assert_int_equal(zupd_meta_set_target(ts, "x", 1, &f.hashes, NULL, 0), ZUPD_E_ROLE);
    assert_int_equal(zupd_meta_file(ts, "snapshot.json", &g), ZUPD_OK);
    assert_int_equal(g.version, 7);
    r = roundtrip(ts, 0);
    assert_int_equal(zupd_meta_version(r), 9);
    zupd_meta_free(r);
    assert_int_equal(zupd_meta_new(ZUPD_META_ANY, 1, EXP, &r), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_new(ZUPD_META_ROOT, 0, EXP, &r), ZUPD_E_MISUSE);
    zupd_meta_free(ts);
    zupd_meta_free(sn);
}

static void
test_roundtrip_files(void **state)
{
    /* every good document, unknown fields included, survives serialization */
    static const char *const files[] = {
        "good/meta/root.json",          "good/meta/2.root.json",      "good/meta/timestamp.json",
        "good/meta/snapshot.json",      "good/meta/targets.json",     "good/meta/role1.json",
        "good/meta/role2.json",         "good/meta/bin-3.json",       "good/python-tuf/root.json",
        "good/python-tuf/targets.json", "good/python-tuf/role1.json",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct zupd_meta *m = t_load(files[i], ZUPD_OK), *r;

        r = roundtrip(m, ZUPD_META_PRETTY);
        zupd_meta_free(r);
        zupd_meta_free(m);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_snapshot_timestamp),
        cmocka_unit_test(test_roundtrip_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
