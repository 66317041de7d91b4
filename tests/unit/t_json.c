/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_json.c -- strict loading and canonical JSON vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zu/json.h"

static int
canon(const char *in, uint8_t **out, size_t *out_len)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    return zupd_cjson_canonicalize((const uint8_t *)in, strlen(in), &lim, out, out_len);
}

static int
memchr_ctl(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20)
            return 1;
    return 0;
}

static void
expect(const char *in, const char *want, size_t want_len)
{
    uint8_t *out = NULL;
    size_t n = 0;

    assert_int_equal(canon(in, &out, &n), ZUPD_OK);
    if (n != want_len || memcmp(out, want, n) != 0)
        fail_msg("canonical form of %s: got '%s' want '%s'", in, (char *)out, want);
    /* canonical JSON is a fixed point (when it is still JSON: control
     * characters are written raw, which JSON parsers refuse) */
    if (memchr_ctl(out, n) == 0) {
        uint8_t *again = NULL;
        size_t m = 0;
        assert_int_equal(canon((const char *)out, &again, &m), ZUPD_OK);
        assert_int_equal(m, n);
        assert_memory_equal(again, out, n);
        free(again);
    }
    free(out);
}
#define EXPECT(in, want) expect((in), (want), sizeof(want) - 1)

static void
expect_err(const char *in, int err)
{
    uint8_t *out = (uint8_t *)1;
    size_t n = 1;

    assert_int_equal(canon(in, &out, &n), err);
    assert_null(out);
    assert_int_equal(n, 0);
}

static void
test_sorting_and_whitespace(void **state)
{
    (void)state;
    EXPECT(" { \"b\" : 1 , \"a\" : [ true , false , null ] , \"c\" : { } } ",
           "{\"a\":[true,false,null],\"b\":1,\"c\":{}}");
    EXPECT("{\"_type\":\"root\",\"Z\":0,\"a\":{\"y\":[],\"x\":\"\"}}",
           "{\"Z\":0,\"_type\":\"root\",\"a\":{\"x\":\"\",\"y\":[]}}");
    /* a key that is a prefix of another sorts first */
    EXPECT("{\"ab\":1,\"a\":2,\"\":3}", "{\"\":3,\"a\":2,\"ab\":1}");
    EXPECT("[[[[]]],{},[{}]]", "[[[[]]],{},[{}]]");
}

static void
test_empty_containers_and_scalars(void **state)
{
    (void)state;
    EXPECT("{}", "{}");
    EXPECT("[]", "[]");
    EXPECT("\"\"", "\"\"");
    EXPECT("0", "0");
    EXPECT("-0", "0");
    EXPECT("null", "null");
    EXPECT("true", "true");
}

static void
test_escapes(void **state)
{
    (void)state;
    /* only " and \ are escaped; control characters are written raw */
    EXPECT("\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"");
    EXPECT("\"\\n\\t\\u0001\\/\"", "\"\n\t\x01/\"");
    EXPECT("{\"k\\\"\":\"v\"}", "{\"k\\\"\":\"v\"}");
}

static void
test_unicode(void **state)
{
    (void)state;
    /* non-ASCII is written raw as UTF-8, whether it came escaped or not */
    EXPECT("\"\\u00e9\\u4e2d\"", "\"\xc3\xa9\xe4\xb8\xad\"");
    EXPECT("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
    EXPECT("\"\xc3\xa9\"", "\"\xc3\xa9\"");
    /* code point order: 'z' (U+007A) < 'é' (U+00E9) < U+1F600 */
    EXPECT("{\"\\ud83d\\ude00\":3,\"\\u00e9\":2,\"z\":1}",
           "{\"z\":1,\"\xc3\xa9\":2,\"\xf0\x9f\x98\x80\":3}");
    expect_err("\"\xff\"", ZUPD_E_FORMAT);      /* invalid UTF-8 */
    expect_err("\"\\ud83d\"", ZUPD_E_FORMAT);   /* lone surrogate */
    expect_err("\"a\\u0000b\"", ZUPD_E_FORMAT); /* NUL in a string */
}

static void
test_integers(void **state)
{
    (void)state;
    EXPECT("9223372036854775807", "9223372036854775807");
    EXPECT("-9223372036854775808", "-9223372036854775808");
    EXPECT("{\"length\":4294967296}", "{\"length\":4294967296}");
    expect_err("9223372036854775808", ZUPD_E_FORMAT);
    expect_err("1.5", ZUPD_E_FORMAT);
    expect_err("1.0", ZUPD_E_FORMAT);
    expect_err("1e3", ZUPD_E_FORMAT);
    expect_err("{\"a\":[1,2,{\"b\":0.5}]}", ZUPD_E_FORMAT);
}

static void
test_strictness(void **state)
{
    (void)state;
    expect_err("{\"a\":1,\"a\":2}", ZUPD_E_FORMAT);
    expect_err("{\"x\":{\"a\":1,\"a\":1}}", ZUPD_E_FORMAT);
    expect_err("{} {}", ZUPD_E_FORMAT);
    expect_err("{\"a\":1", ZUPD_E_FORMAT);
    expect_err("", ZUPD_E_FORMAT);
    expect_err("{'a':1}", ZUPD_E_FORMAT);
    expect_err("[1,]", ZUPD_E_FORMAT);
    expect_err("NaN", ZUPD_E_FORMAT);
}

static void
test_caps(void **state)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    char deep[200];
    uint8_t *out = NULL;
    size_t n = 0;
    json_t *v = NULL;
    char why[128];

    (void)state;
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    lim.max_json_depth = 100;
    assert_int_equal(zupd_cjson_canonicalize((uint8_t *)deep, 200, &lim, &out, &n), ZUPD_OK);
    free(out);
    lim.max_json_depth = 99;
    assert_int_equal(zupd_cjson_canonicalize((uint8_t *)deep, 200, &lim, &out, &n), ZUPD_E_TOOBIG);
    assert_null(out);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_json_bytes = 10;
    assert_int_equal(
        zu_json_load((const uint8_t *)"{\"a\":\"0123456789\"}", 18, &lim, &v, why, sizeof(why)),
        ZUPD_E_TOOBIG);
    assert_null(v);
    assert_string_equal(why, "document too large");
    /* the output buffer cap is enforced too */
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    assert_int_equal(zu_json_load((const uint8_t *)"[1,2,3]", 7, &lim, &v, NULL, 0), ZUPD_OK);
    assert_int_equal(zu_cjson_dump(v, 4, &out, &n), ZUPD_E_TOOBIG);
    assert_null(out);
    assert_int_equal(zu_cjson_dump(v, 0, &out, &n), ZUPD_OK);
    assert_string_equal((char *)out, "[1,2,3]");
    free(out);
    json_decref(v);
}

/* struct zupd_limits is growable (docs/api.md): no size is misuse, the
 * first version's size works, a longer struct from newer headers works
 * while its unknown tail is zero. */
static void
test_limits_size(void **state)
{
    struct {
        struct zupd_limits lim;
        size_t later;
    } big;
    struct zupd_limits lim;
    uint8_t *out = NULL;
    size_t n = 0;

    (void)state;
    memset(&lim, 0, sizeof(lim));
    lim.max_json_bytes = 1000;
    lim.max_json_depth = 8;
    assert_int_equal(zupd_cjson_canonicalize((const uint8_t *)"{}", 2, &lim, &out, &n),
                     ZUPD_E_MISUSE);
    zupd_limits_init(&lim);
    assert_int_equal(lim.size, sizeof(lim));
    lim.size = offsetof(struct zupd_limits, max_paths) + sizeof(lim.max_paths);
    assert_int_equal(
        zupd_cjson_canonicalize((const uint8_t *)"{\"b\":1,\"a\":2}", 13, &lim, &out, &n), ZUPD_OK);
    assert_string_equal((const char *)out, "{\"a\":2,\"b\":1}");
    free(out);
    lim.max_json_depth = 0; /* a cap is a cap: 0 is not "default" */
    assert_int_equal(zupd_cjson_canonicalize((const uint8_t *)"{}", 2, &lim, &out, &n),
                     ZUPD_E_TOOBIG);
    memset(&big, 0, sizeof(big));
    zupd_limits_init(&big.lim);
    big.lim.size = sizeof(big);
    big.later = 1;
    assert_int_equal(zupd_cjson_canonicalize((const uint8_t *)"{}", 2, &big.lim, &out, &n),
                     ZUPD_E_MISUSE);
    big.later = 0;
    assert_int_equal(zupd_cjson_canonicalize((const uint8_t *)"{}", 2, &big.lim, &out, &n),
                     ZUPD_OK);
    free(out);
}

static void
test_error_text_and_getters(void **state)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    const char *doc = "{\"s\":\"x\",\"n\":-1,\"u\":7,\"o\":{},\"a\":[],\"b\":true}";
    json_t *v = NULL, *sub;
    char why[128];
    const char *s;
    uint64_t u;
    bool b;

    (void)state;
    assert_int_equal(
        zu_json_load((const uint8_t *)"{\"a\":1,\"a\":2}", 13, &lim, &v, why, sizeof(why)),
        ZUPD_E_FORMAT);
    assert_non_null(strstr(why, "duplicate"));
    assert_int_equal(zu_json_load((const uint8_t *)doc, strlen(doc), &lim, &v, NULL, 0), ZUPD_OK);
    assert_int_equal(zu_json_get_str(v, "s", &s), ZUPD_OK);
    assert_string_equal(s, "x");
    assert_int_equal(zu_json_get_str(v, "u", &s), ZUPD_E_FORMAT);
    assert_int_equal(zu_json_get_u64(v, "u", &u), ZUPD_OK);
    assert_int_equal(u, 7);
    assert_int_equal(zu_json_get_u64(v, "n", &u), ZUPD_E_FORMAT);
    assert_int_equal(zu_json_get_u64(v, "missing", &u), ZUPD_E_FORMAT);
    assert_int_equal(zu_json_get_obj(v, "o", &sub), ZUPD_OK);
    assert_int_equal(zu_json_get_obj(v, "a", &sub), ZUPD_E_FORMAT);
    assert_int_equal(zu_json_get_arr(v, "a", &sub), ZUPD_OK);
    assert_int_equal(zu_json_get_bool(v, "b", &b), ZUPD_OK);
    assert_true(b);
    assert_int_equal(zu_json_get_bool(v, "u", &b), ZUPD_E_FORMAT);
    json_decref(v);
}

/* zu_utf8_valid agrees with jansson: json_string() accepts exactly what it
 * calls valid */
static void
test_utf8_valid(void **state)
{
    static const char *good[] = {"",
                                 "ascii",
                                 "caf\xc3\xa9",
                                 "\xe2\x82\xac",
                                 "\xf0\x9f\x98\x80",
                                 "\xef\xbf\xbf",
                                 "\xf4\x8f\xbf\xbf"};
    static const char *bad[] = {
        "caf\xe9",          /* latin-1 */
        "\xc3",             /* truncated */
        "\xe2\x82",         /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xf0\x80\x80\xaf", /* overlong */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xff",
        "\x80",
        "a\xbf",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        json_t *j = json_string(good[i]);

        assert_true(zu_utf8_valid(good[i]));
        assert_non_null(j);
        json_decref(j);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(zu_utf8_valid(bad[i]));
        assert_null(json_string(bad[i]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorting_and_whitespace),
        cmocka_unit_test(test_limits_size),
        cmocka_unit_test(test_empty_containers_and_scalars),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strictness),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_error_text_and_getters),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
