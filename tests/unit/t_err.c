/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_err.c -- error codes are stable and all have texts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zu/internal.h"

static void
test_codes_are_stable(void **state)
{
    (void)state;
    /* numbers are ABI and exit codes: this list only ever grows */
    assert_int_equal(ZUPD_OK, 0);
    assert_int_equal(ZUPD_E_FORMAT, 1);
    assert_int_equal(ZUPD_E_TOOBIG, 2);
    assert_int_equal(ZUPD_E_SIG, 3);
    assert_int_equal(ZUPD_E_THRESHOLD, 4);
    assert_int_equal(ZUPD_E_EXPIRED, 5);
    assert_int_equal(ZUPD_E_ROLLBACK, 6);
    assert_int_equal(ZUPD_E_HASH, 7);
    assert_int_equal(ZUPD_E_LENGTH, 8);
    assert_int_equal(ZUPD_E_IO, 9);
    assert_int_equal(ZUPD_E_NET, 10);
    assert_int_equal(ZUPD_E_NOMEM, 11);
    assert_int_equal(ZUPD_E_MISUSE, 12);
    assert_int_equal(ZUPD_E_KEYTYPE, 13);
    assert_int_equal(ZUPD_E_SPEC, 14);
    assert_int_equal(ZUPD_E_NOTFOUND, 15);
    assert_int_equal(ZUPD_E_PASSPHRASE, 16);
    assert_int_equal(ZUPD_E_PERM, 17);
    assert_int_equal(ZUPD_E_ROLE, 18);
    assert_int_equal(ZUPD_E_MISMATCH, 19);
    assert_int_equal(ZUPD_E_BASE, 20);
    assert_int_equal(ZUPD_E_EXISTS, 21);
    assert_int_equal(ZUPD_E_NOSPACE, 22);
    assert_int_equal(ZUPD_E_TIMEOUT, 23);
    assert_int_equal(ZUPD_E_BUSY, 24);
}

static void
test_every_code_has_text(void **state)
{
    (void)state;
    for (int e = 0; e < ZUPD_E__MAX; e++) {
        assert_non_null(zupd_strerror(e));
        assert_string_not_equal(zupd_strerror(e), "unknown error");
        assert_string_not_equal(zupd_errname(e), "unknown");
        for (int f = 0; f < e; f++)
            assert_string_not_equal(zupd_errname(e), zupd_errname(f));
    }
    assert_string_equal(zupd_strerror(-1), "unknown error");
    assert_string_equal(zupd_strerror(ZUPD_E__MAX), "unknown error");
    assert_string_equal(zupd_errname(ZUPD_E_THRESHOLD), "threshold");
}

static int log_calls;
static void
count_log(void *opaque, int level, const char *msg)
{
    (void)opaque;
    (void)level;
    assert_string_equal(msg, "role 'root' version 3");
    log_calls++;
}

static void
test_log_level_filters(void **state)
{
    struct zupd_ctx *ctx = zupd_ctx_new();

    (void)state;
    assert_non_null(ctx);
    zu_log(ctx, ZUPD_LOG_ERR, "nothing set");
    zupd_ctx_set_log(ctx, count_log, NULL, ZUPD_LOG_WARN);
    zu_log(ctx, ZUPD_LOG_INFO, "role '%s' version %d", "root", 3);
    assert_int_equal(log_calls, 0);
    zu_log(ctx, ZUPD_LOG_ERR, "role '%s' version %d", "root", 3);
    assert_int_equal(log_calls, 1);
    zupd_ctx_free(ctx);
    zupd_ctx_free(NULL);
    assert_int_equal(zupd_init(), ZUPD_OK);
    assert_int_equal(zupd_init(), ZUPD_OK);
}

/* The number the headers give, the number the library gives and the
 * version string all say the same version. */
static void
test_version_number(void **state)
{
    unsigned long part[3] = {0, 0, 0};
    const char *s = zupd_version();
    char *end = NULL;

    (void)state;
    assert_string_equal(s, ZUPD_VERSION_STRING);
    assert_string_equal(s, PACKAGE_VERSION);
    for (int i = 0; i < 3; i++) {
        part[i] = strtoul(s, &end, 10);
        assert_true(end != s);
        assert_true(part[i] < 100);
        s = end;
        if (i < 2) {
            assert_int_equal(*s, '.');
            s++;
        }
    }
    assert_int_equal(ZUPD_VERSION_MAJOR, part[0]);
    assert_int_equal(ZUPD_VERSION_MINOR, part[1]);
    assert_int_equal(ZUPD_VERSION_RELEASE, part[2]);
    assert_int_equal(ZUPD_VERSION_NUMBER, part[0] * 10000 + part[1] * 100 + part[2]);
    assert_int_equal(zupd_version_number(), ZUPD_VERSION_NUMBER);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_are_stable),
        cmocka_unit_test(test_every_code_has_text),
        cmocka_unit_test(test_log_level_filters),
        cmocka_unit_test(test_version_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
