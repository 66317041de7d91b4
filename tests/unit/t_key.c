/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_key.c -- key parsing, signature verification (ed25519, ECDSA
 * P-256, RSA-PSS) on known-answer vectors, key ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zu/json.h"
#include "zu/key.h"

static json_t *
load_vector(const char *dir, const char *name)
{
    char path[512];
    json_error_t err;
    json_t *v;

    snprintf(path, sizeof(path), "%s/%s/%s", ZU_TESTDATA, dir, name);
    v = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        fail_msg("cannot load '%s': %s", path, err.text);
    return v;
}

static void
check_vector(const char *name, enum zu_key_type want)
{
    json_t *v = load_vector("good/keys", name);
    struct zu_key *k = NULL;
    const char *msg = json_string_value(json_object_get(v, "message"));
    const char *sig = json_string_value(json_object_get(v, "sig"));
    char *bad = strdup(sig);
    size_t len = strlen(msg);
    uint8_t *m2 = malloc(len);

    assert_int_equal(zu_key_from_json(json_object_get(v, "key"), &k), ZUPD_OK);
    assert_int_equal(zu_key_type(k), want);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, sig), ZUPD_OK);
    /* one flipped message bit */
    memcpy(m2, msg, len);
    m2[len / 2] ^= 1;
    assert_int_equal(zu_key_verify(k, m2, len, sig), ZUPD_E_SIG);
    /* one flipped signature nibble, a truncated signature, garbage */
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, bad), ZUPD_E_SIG);
    bad[strlen(bad) - 2] = 0;
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, bad), ZUPD_E_SIG);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, ""), ZUPD_E_SIG);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, "zz"), ZUPD_E_SIG);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)msg, len, "abc"), ZUPD_E_SIG);
    free(m2);
    free(bad);
    zu_key_free(k);
    json_decref(v);
}

static void
test_vectors(void **state)
{
    (void)state;
    check_vector("ed25519.json", ZU_KEY_ED25519);
    check_vector("ecdsa.json", ZU_KEY_ECDSA_P256);
    check_vector("ecdsa-legacy-keytype.json", ZU_KEY_ECDSA_P256);
    check_vector("rsa-pss-saltmax.json", ZU_KEY_RSA_PSS);
    check_vector("rsa-pss-salt32.json", ZU_KEY_RSA_PSS);
}

/* RFC 8032 section 7.1, test 1 (empty message) */
static const char *rfc_pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *rfc_sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb88"
                             "21590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static json_t *
ed_key(const char *pub)
{
    return json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                     "public", pub);
}

static void
test_rfc8032_and_keyid(void **state)
{
    json_t *obj = ed_key(rfc_pub);
    struct zu_key *k = NULL;
    char id[65];

    (void)state;
    assert_int_equal(zu_key_from_json(obj, &k), ZUPD_OK);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)"", 0, rfc_sig), ZUPD_OK);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)"x", 1, rfc_sig), ZUPD_E_SIG);
    /* sha256 of {"keytype":"ed25519","keyval":{"public":"d75a..."},"scheme":"ed25519"} */
    assert_int_equal(zu_keyid_compute(obj, id, sizeof(id)), ZUPD_OK);
    assert_string_equal(id, "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916");
    assert_int_equal(zu_keyid_compute(obj, id, 64), ZUPD_E_MISUSE);
    zu_key_free(k);
    json_decref(obj);
}

static void
test_cross_type_signatures_fail(void **state)
{
    json_t *e = load_vector("good/keys", "ecdsa.json");
    json_t *r = load_vector("good/keys", "rsa-pss-saltmax.json");
    json_t *d = load_vector("good/keys", "ed25519.json");
    struct zu_key *ke = NULL, *kr = NULL, *kd = NULL;
    const char *msg = json_string_value(json_object_get(e, "message"));
    size_t len = strlen(msg);

    (void)state;
    assert_int_equal(zu_key_from_json(json_object_get(e, "key"), &ke), ZUPD_OK);
    assert_int_equal(zu_key_from_json(json_object_get(r, "key"), &kr), ZUPD_OK);
    assert_int_equal(zu_key_from_json(json_object_get(d, "key"), &kd), ZUPD_OK);
    assert_int_equal(zu_key_verify(ke, (const uint8_t *)msg, len,
                                   json_string_value(json_object_get(r, "sig"))),
                     ZUPD_E_SIG);
    assert_int_equal(zu_key_verify(kr, (const uint8_t *)msg, len,
                                   json_string_value(json_object_get(e, "sig"))),
                     ZUPD_E_SIG);
    assert_int_equal(zu_key_verify(kd, (const uint8_t *)msg, len,
                                   json_string_value(json_object_get(e, "sig"))),
                     ZUPD_E_SIG);
    /* the "reasonable looking" bad signatures of the TUF conformance suite */
    assert_int_equal(
        zu_key_verify(ke, (const uint8_t *)msg, len,
                      "3046022100fa1f62d38e0f5c565fa23e5d230086258427d87f024c146071966deefde554"
                      "68022100b3347b4bd9ba6701ca6cef949d04b5742394b9f8c4417933e5d4fa76c3ca3a98"),
        ZUPD_E_SIG);
    zu_key_free(ke);
    zu_key_free(kr);
    zu_key_free(kd);
    json_decref(e);
    json_decref(r);
    json_decref(d);
}

static void
test_bad_keys(void **state)
{
    json_t *v = load_vector("bad", "key-ecdsa-p384-as-p256.json");
    struct zu_key *k = (struct zu_key *)1;
    json_t *o;

    (void)state;
    /* a P-384 key can not pose as nistp256 */
    assert_int_equal(zu_key_from_json(json_object_get(v, "key"), &k), ZUPD_E_FORMAT);
    assert_null(k);
    json_decref(v);
    /* short, long, non-hex ed25519 public keys */
    o = ed_key("d75a98");
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_E_FORMAT);
    json_decref(o);
    o = ed_key("zz5a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_E_FORMAT);
    json_decref(o);
    /* wrong shapes */
    o = json_pack("{s:s,s:s,s:s}", "keytype", "ed25519", "scheme", "ed25519", "keyval", "x");
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_E_FORMAT);
    json_decref(o);
    o = json_pack("{s:i,s:s,s:{}}", "keytype", 1, "scheme", "ed25519", "keyval");
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_E_FORMAT);
    json_decref(o);
    o = json_pack("{s:s,s:s,s:{s:s}}", "keytype", "rsa", "scheme", "rsassa-pss-sha256", "keyval",
                  "public", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_E_FORMAT);
    json_decref(o);
}

static void
test_unknown_type_is_kept_but_never_verifies(void **state)
{
    json_t *o = json_pack("{s:s,s:s,s:{s:s}}", "keytype", "sphincs", "scheme", "sphincs-shake",
                          "keyval", "public", "00");
    struct zu_key *k = NULL;

    (void)state;
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_OK);
    assert_int_equal(zu_key_type(k), ZU_KEY_UNKNOWN);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)"", 0, rfc_sig), ZUPD_E_KEYTYPE);
    zu_key_free(k);
    json_decref(o);
    /* ed25519 keytype with an ECDSA scheme: unknown, not ed25519 */
    o = json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ecdsa-sha2-nistp256",
                  "keyval", "public", rfc_pub);
    assert_int_equal(zu_key_from_json(o, &k), ZUPD_OK);
    assert_int_equal(zu_key_type(k), ZU_KEY_UNKNOWN);
    zu_key_free(k);
    zu_key_free(NULL);
    json_decref(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_rfc8032_and_keyid),
        cmocka_unit_test(test_cross_type_signatures_fail),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_unknown_type_is_kept_but_never_verifies),
    };
    if (zupd_init() != ZUPD_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
