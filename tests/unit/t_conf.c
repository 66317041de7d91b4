/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_conf.c -- zupd.conf parsing: the sample config, defaults, and
 * each refusal names the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static char path[] = "/tmp/t_conf.XXXXXX";

static int
load_text(const char *text, struct zupd_opts *o, char *err, size_t cap)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return zupd_conf_load(o, path, err, cap);
}

static void
test_sample_config(void **state)
{
    struct zupd_opts o;
    char err[256] = "";
    const struct zupd_component_conf *c;

    (void)state;
    assert_int_equal(zupd_conf_load(&o, ZU_SRCDIR "/packaging/config/zupd.conf", err, sizeof(err)),
                     0);
    assert_int_equal(o.n_mirrors, 2);
    assert_string_equal(o.mirrors[0], "https://updates.example.com/repo/");
    assert_int_equal(o.n_components, 2);
    c = zupd_conf_component(&o, "avdb");
    assert_non_null(c);
    assert_string_equal(c->channel, "hourly");
    assert_int_equal(c->keep, 2);
    assert_null(c->health_check);
    assert_null(zupd_conf_component(&o, "nope"));
    zupd_conf_release(&o);
}

static void
test_defaults(void **state)
{
    struct zupd_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(load_text("mirrors = [\"http://127.0.0.1:1/\"];\n"
                               "components = ({ name = \"p\"; role = \"products\"; "
                               "install_path = \"/opt/p\"; });\n",
                               &o, err, sizeof(err)),
                     0);
    assert_string_equal(o.state_dir, "/var/lib/zupd");
    assert_string_equal(o.trusted_root, "/etc/zupd/root.json");
    assert_string_equal(o.components[0].channel, "stable");
    assert_int_equal(o.components[0].keep, 3);
    assert_int_equal(o.connect_timeout, 10);
    zupd_conf_release(&o);
}

static void
expect_refused(const char *text, const char *want)
{
    struct zupd_opts o;
    char err[256] = "";

    assert_int_equal(load_text(text, &o, err, sizeof(err)), -1);
    if (strstr(err, want) == NULL || strstr(err, path) == NULL)
        fail_msg("error '%s' does not name the file and '%s'", err, want);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_refused("mirrors = [];\n", "'mirrors' must be a non-empty list");
    expect_refused("mirrors = [\"ftp://x/\"];\n", "http:// or https://");
    expect_refused("\nmirrors = [\"http://x/\";\n", ":2: syntax error"); /* with its line */
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"../x\"; role = "
                   "\"products\"; install_path = \"/a\"; });\n",
                   "'name'");
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"a\"; role = "
                   "\"root\"; install_path = \"/a\"; });\n",
                   "'role'");
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"a\"; role = "
                   "\"avdb\"; install_path = \"rel\"; });\n",
                   "absolute");
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"a\"; role = "
                   "\"avdb\"; install_path = \"/a\"; keep = 0; });\n",
                   "'keep'");
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"a\"; role = "
                   "\"avdb\"; install_path = \"/a\"; }, { name = \"a\"; role = \"avdb\"; "
                   "install_path = \"/b\"; });\n",
                   "defined twice");
    expect_refused("mirrors = [\"http://x/\"];\npolicy = { url = \"http://p/\"; };\n",
                   "'policy'");
}

static void
test_missing_file(void **state)
{
    struct zupd_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(zupd_conf_load(&o, "/nonexistent/zupd.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "cannot open '/nonexistent/zupd.conf': No such file or directory");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_missing_file),
    };
    int fd = mkstemp(path), rc;

    if (fd < 0)
        return 1;
    close(fd);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
