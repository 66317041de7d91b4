/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_passphrase.c -- where the publisher's passphrases come from
 * (zp_pass_read): a file, systemd credentials, ZUPD_PASSPHRASE_<KEY>,
 * ZUPD_PASSPHRASE, and the advice given when none of them has one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys/passphrase.h"

static char dir[] = "/tmp/t_passphrase.XXXXXX";

static void
put(const char *name, const char *text, mode_t mode)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void
test_file_first_line(void **state)
{
    char buf[64], why[512], path[256];
    bool hint = true;

    (void)state;
    put("pass", "from the file\nsecond line\n", 0600);
    snprintf(path, sizeof(path), "%s/pass", dir);
    assert_int_equal(
        zp_pass_read(path, "targets", false, buf, sizeof(buf), why, sizeof(why), &hint), ZUPD_OK);
    assert_string_equal(buf, "from the file");
    assert_false(hint);
    /* a file others may read is refused, and said to be (not advice) */
    put("open", "x\n", 0644);
    snprintf(path, sizeof(path), "%s/open", dir);
    assert_int_equal(
        zp_pass_read(path, "targets", false, buf, sizeof(buf), why, sizeof(why), &hint),
        ZUPD_E_PERM);
    assert_false(hint);
    assert_non_null(strstr(why, "open"));
}

static void
test_credentials_before_environment(void **state)
{
    char buf[64], why[512];
    bool hint = true;

    (void)state;
    put("passphrase-snapshot", "per key\n", 0400);
    put("passphrase", "any key\n", 0400);
    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
    assert_int_equal(
        zp_pass_read(NULL, "snapshot", false, buf, sizeof(buf), why, sizeof(why), &hint), ZUPD_OK);
    assert_string_equal(buf, "per key");
    assert_int_equal(
        zp_pass_read(NULL, "timestamp", false, buf, sizeof(buf), why, sizeof(why), &hint), ZUPD_OK);
    assert_string_equal(buf, "any key");
    assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
}

static void
test_environment_names(void **state)
{
    char buf[64], why[512];
    bool hint = false;

    (void)state;
    /* taken by zp_pass_env_take() in main: KEY upper-cased, others '_' */
    assert_int_equal(
        zp_pass_read(NULL, "auditor-1.k", false, buf, sizeof(buf), why, sizeof(why), &hint),
        ZUPD_OK);
    assert_string_equal(buf, "per-key value");
    assert_int_equal(
        zp_pass_read(NULL, "targets", false, buf, sizeof(buf), why, sizeof(why), &hint), ZUPD_OK);
    assert_string_equal(buf, "shared value");
    /* a value longer than the buffer is advice, naming the variable */
    assert_int_equal(zp_pass_read(NULL, "auditor-1.k", false, buf, 8, why, sizeof(why), &hint),
                     ZUPD_E_PASSPHRASE);
    assert_true(hint);
    assert_non_null(strstr(why, "ZUPD_PASSPHRASE_AUDITOR_1_K or ZUPD_PASSPHRASE is too long"));
    /* nothing may be left in the environment */
    assert_null(getenv("ZUPD_PASSPHRASE"));
    assert_null(getenv("ZUPD_PASSPHRASE_AUDITOR_1_K"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_first_line),
        cmocka_unit_test(test_credentials_before_environment),
        cmocka_unit_test(test_environment_names),
    };
    int rc;

    assert_non_null(mkdtemp(dir));
    setenv("ZUPD_PASSPHRASE_AUDITOR_1_K", "per-key value", 1);
    setenv("ZUPD_PASSPHRASE", "shared value", 1);
    zp_pass_env_take();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (const char *n = "pass\0open\0passphrase-snapshot\0passphrase\0"; *n != '\0';
         n += strlen(n) + 1) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        unlink(path);
    }
    rmdir(dir);
    return rc;
}
