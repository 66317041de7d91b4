/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_hash.c -- SHA-256/512 known answers, streaming, hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <zupd/hash.h>

#include "zu/internal.h"

static void
hex_of(enum zupd_hash_alg alg, const char *msg, char *hex)
{
    uint8_t d[ZUPD_HASH_MAX_LEN];
    size_t n;

    assert_int_equal(zupd_hash_buf(alg, msg, strlen(msg), d, sizeof(d), &n), ZUPD_OK);
    zupd_hex_encode(hex, 2 * ZUPD_HASH_MAX_LEN + 1, d, n);
}

static void
test_known_answers(void **state)
{
    char hex[2 * ZUPD_HASH_MAX_LEN + 1];

    (void)state;
    hex_of(ZUPD_HASH_SHA256, "abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of(ZUPD_HASH_SHA256, "", hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of(ZUPD_HASH_SHA512, "abc", hex);
    assert_string_equal(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                             "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

static void
test_streaming_equals_oneshot(void **state)
{
    uint8_t a[32], b[32], data[1000];
    size_t n;
    struct zupd_hash *h = zupd_hash_new(ZUPD_HASH_SHA256);

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    assert_non_null(h);
    for (size_t i = 0; i < sizeof(data); i += 33)
        assert_int_equal(
            zupd_hash_update(h, data + i, i + 33 > sizeof(data) ? sizeof(data) - i : 33), ZUPD_OK);
    assert_int_equal(zupd_hash_final(h, a, sizeof(a), &n), ZUPD_OK);
    zupd_hash_free(h);
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, data, sizeof(data), b, sizeof(b), &n),
                     ZUPD_OK);
    assert_memory_equal(a, b, 32);
    /* a too small output buffer is refused, not overrun */
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA512, data, 1, b, sizeof(b), &n), ZUPD_E_MISUSE);
}

static void
test_names_and_hex(void **state)
{
    enum zupd_hash_alg alg;
    uint8_t bin[2];

    (void)state;
    assert_int_equal(zupd_hash_alg_from_name("sha512", &alg), ZUPD_OK);
    assert_int_equal(alg, ZUPD_HASH_SHA512);
    assert_int_equal(zupd_hash_alg_from_name("md5", &alg), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_hash_alg_from_name("SHA256", &alg), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_hex_decode(bin, 2, "aB0f", 4), ZUPD_OK);
    assert_int_equal(bin[0], 0xab);
    assert_int_equal(bin[1], 0x0f);
    assert_int_equal(zupd_hex_decode(bin, 2, "aB0", 3), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "zz00", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "000000", 6), ZUPD_E_FORMAT);
}

/* Hex goes through libsodium: lower-case output, and exactly what the
 * hand-written decoder refused is still refused (libsodium stops at, or
 * skips, characters the hand-written one never accepted). */
static void
test_hex_edges(void **state)
{
    static const uint8_t all[4] = {0x00, 0x9a, 0xf0, 0xff};
    char hex[9], small[3];
    uint8_t bin[4];

    (void)state;
    zupd_hex_encode(hex, sizeof(hex), all, sizeof(all));
    assert_string_equal(hex, "009af0ff");
    zupd_hex_encode(small, sizeof(small), all, 0);
    assert_string_equal(small, "");
    assert_int_equal(zupd_hex_decode(bin, 4, "009AF0fF", 8), ZUPD_OK);
    assert_memory_equal(bin, all, 4);
    assert_int_equal(zupd_hex_decode(bin, 0, "", 0), ZUPD_OK);
    /* characters sodium could take as separators, a prefix, a sign, an
     * embedded NUL, a digit past 'f': all refused */
    assert_int_equal(zupd_hex_decode(bin, 2, "0a 1", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "0a:1", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "0x1f", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "+1ff", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "0a\0001", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "0a1g", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, " 0a1", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 2, "0a1 ", 4), ZUPD_E_FORMAT);
    /* a length that does not match the output, even if the digits do */
    assert_int_equal(zupd_hex_decode(bin, 1, "0a1b", 4), ZUPD_E_FORMAT);
    assert_int_equal(zupd_hex_decode(bin, 3, "0a1b", 4), ZUPD_E_FORMAT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_streaming_equals_oneshot),
        cmocka_unit_test(test_names_and_hex),
        cmocka_unit_test(test_hex_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
