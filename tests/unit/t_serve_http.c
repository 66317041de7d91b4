/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_serve_http.c -- the pure HTTP helpers of zupd-mirror serve:
 * request path decoding and refusals (traversal, encoded separators, hidden
 * names, directories, lengths), Range, HTTP dates, If-None-Match lists,
 * caching classes, content types, log escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/serve_http.h"

static int
path_status(const char *raw)
{
    char out[ZU_SERVE_PATH_MAX + 1];
    size_t len = 99;
    int st = zu_serve_path(raw, out, sizeof(out), &len);

    if (st != 0)
        assert_int_equal(len, 0);
    return st;
}

static void
test_path_good(void **state)
{
    char out[ZU_SERVE_PATH_MAX + 1];
    size_t len;

    (void)state;
    assert_int_equal(zu_serve_path("/timestamp.json", out, sizeof(out), &len), 0);
    assert_string_equal(out, "timestamp.json");
    assert_int_equal(len, 14);
    assert_int_equal(zu_serve_path("/blobs/sha256/ab/ab%63d", out, sizeof(out), &len), 0);
    assert_string_equal(out, "blobs/sha256/ab/abcd");
    assert_int_equal(zu_serve_path("/a%20b/c..d/e.", out, sizeof(out), &len), 0);
    assert_string_equal(out, "a b/c..d/e.");
    assert_int_equal(zu_serve_path("/x%4A%4a", out, sizeof(out), &len), 0);
    assert_string_equal(out, "xJJ");
}

static void
test_path_refused(void **state)
{
    char big[ZU_SERVE_RAW_PATH_MAX + 10], comp[ZU_SERVE_NAME_MAX + 3];

    (void)state;
    assert_int_equal(path_status("/../etc/passwd"), 400);
    assert_int_equal(path_status("/a/../../etc/passwd"), 400);
    assert_int_equal(path_status("/%2e%2e/etc/passwd"), 400);
    assert_int_equal(path_status("/%2E%2E/etc/passwd"), 400);
    assert_int_equal(path_status("/a/./b"), 400);
    assert_int_equal(path_status("/a/.."), 400);
    assert_int_equal(path_status("/a%2Fb"), 400);
    assert_int_equal(path_status("/a%2fb"), 400);
    assert_int_equal(path_status("/a%5Cb"), 400);
    assert_int_equal(path_status("/a\\b"), 400);
    assert_int_equal(path_status("/a%00b"), 400);
    assert_int_equal(path_status("/a%0ab"), 400);
    assert_int_equal(path_status("/a%zz"), 400);
    assert_int_equal(path_status("/a%2"), 400);
    assert_int_equal(path_status("/a%"), 400);
    assert_int_equal(path_status("/a%%41"), 400);
    assert_int_equal(path_status("/a%4g"), 400);
    assert_int_equal(path_status("/a% 41"), 400);
    assert_int_equal(path_status("/a%:41"), 400);
    assert_int_equal(path_status("/a//b"), 400);
    assert_int_equal(path_status("a"), 400);
    assert_int_equal(path_status("http://x/a"), 400);
    assert_int_equal(path_status(""), 400);
    /* hidden names and directories */
    assert_int_equal(path_status("/.zupd-tmp.0001"), 404);
    assert_int_equal(path_status("/a/.git/config"), 404);
    assert_int_equal(path_status("/%2egit"), 404);
    assert_int_equal(path_status("/"), 404);
    assert_int_equal(path_status("/blobs/"), 404);
    /* lengths */
    memset(big, 'a', sizeof(big));
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(path_status(big), 414);
    memset(comp, 'b', sizeof(comp));
    comp[0] = '/';
    comp[sizeof(comp) - 1] = '\0';
    assert_int_equal(path_status(comp), 414);
    {
        char deep[ZU_SERVE_PATH_MAX + 100];
        size_t i;

        for (i = 0; i + 1 < sizeof(deep); i++)
            deep[i] = (i % 2 == 0) ? '/' : 'x';
        deep[sizeof(deep) - 1] = '\0';
        assert_int_equal(path_status(deep), 414);
    }
}

static void
test_range(void **state)
{
    uint64_t off, len;

    (void)state;
    assert_int_equal(zu_serve_range(NULL, 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("bytes=0-9", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 0 && len == 10);
    assert_int_equal(zu_serve_range("bytes=90-", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 90 && len == 10);
    assert_int_equal(zu_serve_range("bytes=90-1000", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 90 && len == 10);
    assert_int_equal(zu_serve_range("bytes=-5", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 95 && len == 5);
    assert_int_equal(zu_serve_range("bytes=-500", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 0 && len == 100);
    assert_int_equal(zu_serve_range("Bytes = 1 - 1", 100, &off, &len), ZU_RANGE_OK);
    assert_true(off == 1 && len == 1);
    assert_int_equal(zu_serve_range("bytes=99999999999999999999999-", 100, &off, &len),
                     ZU_RANGE_UNSAT);
    assert_int_equal(zu_serve_range("bytes=0-99999999999999999999999", 100, &off, &len),
                     ZU_RANGE_OK);
    assert_true(off == 0 && len == 100);
    /* unsatisfiable */
    assert_int_equal(zu_serve_range("bytes=100-", 100, &off, &len), ZU_RANGE_UNSAT);
    assert_int_equal(zu_serve_range("bytes=-0", 100, &off, &len), ZU_RANGE_UNSAT);
    assert_int_equal(zu_serve_range("bytes=0-", 0, &off, &len), ZU_RANGE_UNSAT);
    /* ignored: malformed, lists, other units */
    assert_int_equal(zu_serve_range("bytes=5-1", 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("bytes=0-1,5-9", 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("items=0-1", 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("bytes=-", 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("bytes=a-b", 100, &off, &len), ZU_RANGE_NONE);
    assert_int_equal(zu_serve_range("bytes 0-1", 100, &off, &len), ZU_RANGE_NONE);
}

static void
test_dates(void **state)
{
    char buf[40];
    time_t t;

    (void)state;
    zu_http_date(buf, sizeof(buf), 784111777);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(zu_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, 784111777);
    assert_int_equal(zu_http_date_parse("Mon, 23 Nov 2026 10:00:00 GMT", &t), 0);
    zu_http_date(buf, sizeof(buf), t);
    assert_string_equal(buf, "Mon, 23 Nov 2026 10:00:00 GMT");
    assert_int_equal(zu_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Sun Nov  6 08:49:37 1994", &t), -1);
    assert_int_equal(zu_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t), -1);
    /* no such day: not a date (not the 1st of the next month) */
    assert_int_equal(zu_http_date_parse("Sat, 31 Sep 2026 00:00:01 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Sun, 29 Feb 2026 00:00:01 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Fri, 29 Feb 2100 00:00:01 GMT", &t), -1);
    assert_int_equal(zu_http_date_parse("Tue, 29 Feb 2028 00:00:01 GMT", &t), 0);
    assert_int_equal(zu_http_date_parse("Tue, 29 Feb 2000 00:00:01 GMT", &t), 0);
    assert_int_equal(zu_http_date_parse("", &t), -1);
    assert_int_equal(zu_http_date_parse(NULL, &t), -1);
}

static void
test_etag_list(void **state)
{
    (void)state;
    assert_true(zu_etag_list_match("\"abc\"", "\"abc\""));
    assert_true(zu_etag_list_match("W/\"abc\"", "\"abc\""));
    assert_true(zu_etag_list_match("\"x\", \"abc\"", "\"abc\""));
    assert_true(zu_etag_list_match("*", "\"abc\""));
    assert_false(zu_etag_list_match("\"abcd\"", "\"abc\""));
    assert_false(zu_etag_list_match("\"ab\"", "\"abc\""));
    assert_false(zu_etag_list_match("abc", "\"abc\""));
    assert_false(zu_etag_list_match("\"abc", "\"abc\""));
    assert_false(zu_etag_list_match("", "\"abc\""));
    assert_false(zu_etag_list_match(NULL, "\"abc\""));
}

static bool
immutable(const char *p)
{
    return zu_serve_immutable(p, strlen(p));
}

static void
test_cache_class(void **state)
{
    (void)state;
    assert_true(immutable("blobs/sha256/ab/abcdef"));
    assert_true(immutable("1.root.json"));
    assert_true(immutable("42.snapshot.json"));
    assert_true(immutable("products/7.products.json"));
    assert_true(immutable("products/x/1.0/"
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef."
                          "manifest.json"));
    assert_true(immutable("log/tile/0/x001/000"));
    assert_true(immutable("log/tile/entries/000.p/5"));
    assert_false(immutable("log/checkpoint"));
    assert_false(immutable("log/tile/"));
    assert_false(immutable("timestamp.json"));
    assert_false(immutable("root.json"));
    assert_false(immutable("snapshot.json"));
    assert_false(immutable("1.json"));
    assert_false(immutable("a1.root.json"));
    assert_false(immutable("1.root.txt"));
    assert_false(immutable("blobsx/a"));
    assert_false(immutable("products/x/channels/stable.json"));
    assert_false(immutable("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.x"));
    assert_string_equal(zu_serve_ctype("a.json", 6), "application/json");
    assert_string_equal(zu_serve_ctype("blobs/x", 7), "application/octet-stream");
    assert_string_equal(zu_serve_ctype("json", 4), "application/octet-stream");
    assert_string_equal(zu_serve_ctype("log/checkpoint", 14), "text/plain; charset=utf-8");
    assert_string_equal(zu_serve_ctype("log/tile/0/000", 14), "application/octet-stream");
}

static void
test_log_escape(void **state)
{
    char out[16];
    size_t pos = 0;

    (void)state;
    zu_log_escape(out, sizeof(out), &pos, "a\"b\n");
    assert_string_equal(out, "a\\x22b\\x0a");
    zu_log_escape(out, sizeof(out), &pos, "0123456789");
    assert_true(pos < sizeof(out));
    assert_int_equal(strlen(out), pos);
    assert_non_null(strstr(out, "..."));
    /* lower-case hex, a byte past 0x7f too */
    pos = 0;
    zu_log_escape(out, sizeof(out), &pos, "\xfe\x7f");
    assert_string_equal(out, "\\xfe\\x7f");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_good),  cmocka_unit_test(test_path_refused),
        cmocka_unit_test(test_range),      cmocka_unit_test(test_dates),
        cmocka_unit_test(test_etag_list),  cmocka_unit_test(test_cache_class),
        cmocka_unit_test(test_log_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
