/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_signer.c -- publisher keys: sign/verify, encrypted key files,
 * wrong passphrase, tampering, hostile KDF costs, file permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "zu/json.h"
#include "zu/key.h"
#include "keys/signer.h"

static const struct zp_kdf_cost fast = ZP_KDF_COST_MIN;

static void
test_sign_verifies_with_public_key(void **state)
{
    struct zp_signer *s = NULL;
    struct zu_key *k = NULL;
    char sig[ZP_SIG_HEX_LEN + 1], id[65];
    json_t *pub;

    (void)state;
    assert_int_equal(zp_signer_generate(&s), ZUPD_OK);
    pub = zp_signer_pubkey(s);
    assert_non_null(pub);
    assert_int_equal(zu_keyid_compute(pub, id, sizeof(id)), ZUPD_OK);
    assert_string_equal(id, zp_signer_keyid(s));
    assert_int_equal(zp_signer_sign(s, (const uint8_t *)"hello", 5, sig, sizeof(sig)), ZUPD_OK);
    assert_int_equal(strlen(sig), 2 * crypto_sign_BYTES); /* ed25519 */
    assert_int_equal(zu_key_from_json(pub, &k), ZUPD_OK);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)"hello", 5, sig), ZUPD_OK);
    assert_int_equal(zu_key_verify(k, (const uint8_t *)"hellO", 5, sig), ZUPD_E_SIG);
    assert_int_equal(zp_signer_sign(s, (const uint8_t *)"x", 1, sig, 128), ZUPD_E_MISUSE);
    zu_key_free(k);
    json_decref(pub);
    zp_signer_free(s);
}

static void
test_keyfile_round_trip_and_refusals(void **state)
{
    struct zp_signer *s = NULL, *t = NULL;
    uint8_t *file = NULL;
    size_t len = 0;
    char *p;

    (void)state;
    assert_int_equal(zp_signer_generate(&s), ZUPD_OK);
    assert_int_equal(zp_signer_encode(s, "", &fast, &file, &len), ZUPD_E_MISUSE);
    assert_null(file);
    assert_int_equal(zp_signer_encode(s, "correct horse", &fast, &file, &len), ZUPD_OK);
    assert_int_equal(zp_signer_decode(file, len, "correct horse", &t), ZUPD_OK);
    assert_string_equal(zp_signer_keyid(s), zp_signer_keyid(t));
    zp_signer_free(t);
    t = (struct zp_signer *)1;
    assert_int_equal(zp_signer_decode(file, len, "wrong horse", &t), ZUPD_E_PASSPHRASE);
    assert_null(t);
    /* a flipped bit in the sealed seed */
    p = strstr((char *)file, "\"sealed_seed\": \"");
    assert_non_null(p);
    p += strlen("\"sealed_seed\": \"");
    *p = *p == '0' ? '1' : '0';
    assert_int_equal(zp_signer_decode(file, len, "correct horse", &t), ZUPD_E_PASSPHRASE);
    free(file);
    zp_signer_free(s);
}

static void
test_keyfile_public_part_must_match(void **state)
{
    struct zp_signer *a = NULL, *b = NULL, *t = NULL;
    uint8_t *fa = NULL, *fb = NULL;
    size_t la = 0, lb = 0;
    json_t *da, *db;
    char *mixed;

    (void)state;
    assert_int_equal(zp_signer_generate(&a), ZUPD_OK);
    assert_int_equal(zp_signer_generate(&b), ZUPD_OK);
    assert_int_equal(zp_signer_encode(a, "pw", &fast, &fa, &la), ZUPD_OK);
    assert_int_equal(zp_signer_encode(b, "pw", &fast, &fb, &lb), ZUPD_OK);
    da = json_loadb((char *)fa, la, 0, NULL);
    db = json_loadb((char *)fb, lb, 0, NULL);
    /* a's sealed secret under b's public key and id */
    json_object_set(da, "public", json_object_get(db, "public"));
    json_object_set(da, "keyid", json_object_get(db, "keyid"));
    mixed = json_dumps(da, 0);
    assert_int_equal(zp_signer_decode((uint8_t *)mixed, strlen(mixed), "pw", &t),
                     ZUPD_E_MISMATCH);
    free(mixed);
    /* a hostile KDF cost is refused before any work */
    json_object_set_new(json_object_get(db, "kdf"), "memlimit", json_integer(1LL << 40));
    mixed = json_dumps(db, 0);
    assert_int_equal(zp_signer_decode((uint8_t *)mixed, strlen(mixed), "pw", &t), ZUPD_E_FORMAT);
    free(mixed);
    assert_int_equal(zp_signer_decode((const uint8_t *)"{}", 2, "pw", &t), ZUPD_E_FORMAT);
    assert_int_equal(zp_signer_decode((const uint8_t *)"{", 1, "pw", &t), ZUPD_E_FORMAT);
    json_decref(da);
    json_decref(db);
    free(fa);
    free(fb);
    zp_signer_free(a);
    zp_signer_free(b);
}

static void
test_keyfile_on_disk(void **state)
{
    char dir[] = "/tmp/t_signer.XXXXXX", path[128], link_path[128];
    struct zp_signer *s = NULL, *t = NULL;
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/root.key", dir);
    snprintf(link_path, sizeof(link_path), "%s/link.key", dir);
    assert_int_equal(zp_signer_generate(&s), ZUPD_OK);
    assert_int_equal(zp_signer_save(s, path, "pw", &fast), ZUPD_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrites a key */
    assert_int_equal(zp_signer_save(s, path, "pw", &fast), ZUPD_E_EXISTS);
    assert_int_equal(zp_signer_load(path, "pw", &t), ZUPD_OK);
    assert_string_equal(zp_signer_keyid(s), zp_signer_keyid(t));
    zp_signer_free(t);
    assert_int_equal(zp_signer_load(path, "nope", &t), ZUPD_E_PASSPHRASE);
    /* group-readable: refused */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(zp_signer_load(path, "pw", &t), ZUPD_E_PERM);
    assert_int_equal(chmod(path, 0600), 0);
    /* a symlink: refused */
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_equal(zp_signer_load(link_path, "pw", &t), ZUPD_E_PERM);
    assert_int_equal(zp_signer_load("/nonexistent/key", "pw", &t), ZUPD_E_NOTFOUND);
    unlink(link_path);
    unlink(path);
    rmdir(dir);
    zp_signer_free(s);
}

/* PKCS#11 URIs (RFC 7512): attributes, percent-decoding, refusals, and the
 * PIN never kept */
static void
test_pkcs11_uri(void **state)
{
    struct zp_p11_uri u;
    char err[256], kept[ZP_P11_URI_MAX];

    (void)state;
    assert_true(zp_p11_is_uri("pkcs11:object=x"));
    assert_false(zp_p11_is_uri("/keys/root-1.key"));
    assert_int_equal(zp_p11_uri_parse("pkcs11:token=Z%C3%BCrich%20HSM;object=root-1;id=%01%ff;"
                                      "type=private;slot-id=3?module-path=/m.so&pin-value=12%3B4",
                                      &u, err, sizeof(err)),
                     ZUPD_OK);
    assert_string_equal(u.token, "Z\xc3\xbcrich HSM");
    assert_string_equal(u.object, "root-1");
    assert_int_equal(u.id_len, 2);
    assert_int_equal(u.id[1], 0xff);
    assert_string_equal(u.module_path, "/m.so");
    assert_string_equal(u.pin_value, "12;4");
    zp_p11_uri_release(&u);
    assert_null(u.pin_value);
    assert_int_equal(zp_p11_uri_strip_pin("pkcs11:object=a?pin-value=1&module-path=/m.so", kept,
                                          sizeof(kept)),
                     ZUPD_OK);
    assert_string_equal(kept, "pkcs11:object=a?module-path=/m.so");
    assert_int_equal(zp_p11_uri_strip_pin("pkcs11:object=a?pin-value=1", kept, sizeof(kept)),
                     ZUPD_OK);
    assert_string_equal(kept, "pkcs11:object=a");
    assert_int_equal(zp_p11_uri_parse("pkcs11:object=a?pin-source=file:/etc/pin", &u, err,
                                      sizeof(err)),
                     ZUPD_OK);
    assert_string_equal(u.pin_source, "/etc/pin");
    zp_p11_uri_release(&u);
    /* refused, each with a reason */
    assert_int_equal(zp_p11_uri_parse("pkcs11:token=a", &u, err, sizeof(err)), ZUPD_E_MISUSE);
    assert_non_null(strstr(err, "names no object"));
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("pkcs11:objekt=a", &u, err, sizeof(err)), ZUPD_E_MISUSE);
    assert_non_null(strstr(err, "'objekt'"));
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("pkcs11:object=%zz", &u, err, sizeof(err)), ZUPD_E_MISUSE);
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("pkcs11:object=a;type=secret-key", &u, err, sizeof(err)),
                     ZUPD_E_MISUSE);
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("pkcs11:object=a?pin-source=relative", &u, err, sizeof(err)),
                     ZUPD_E_MISUSE);
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("pkcs11:object=a?x=1?y=2", &u, err, sizeof(err)),
                     ZUPD_E_MISUSE);
    zp_p11_uri_release(&u);
    assert_int_equal(zp_p11_uri_parse("file:/x", &u, err, sizeof(err)), ZUPD_E_MISUSE);
    zp_p11_uri_release(&u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verifies_with_public_key),
        cmocka_unit_test(test_keyfile_round_trip_and_refusals),
        cmocka_unit_test(test_keyfile_public_part_must_match),
        cmocka_unit_test(test_keyfile_on_disk),
        cmocka_unit_test(test_pkcs11_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
