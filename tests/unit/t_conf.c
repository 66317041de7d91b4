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

#define M_ "mirrors = [\"http://127.0.0.1:1/\"];\n"

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
    assert_true(o.log_syslog);
    zupd_conf_release(&o);
    assert_int_equal(load_text(M_ "log_syslog = false;\n", &o, err, sizeof(err)), 0);
    assert_false(o.log_syslog);
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
                   "keep' must be 1..100");
    expect_refused("mirrors = [\"http://x/\"];\ncomponents = ({ name = \"a\"; role = "
                   "\"avdb\"; install_path = \"/a\"; }, { name = \"a\"; role = \"avdb\"; "
                   "install_path = \"/b\"; });\n",
                   "defined twice");
    expect_refused("mirrors = [\"http://x/\"];\npolicy = { url = \"http://p/\"; };\n", "'policy'");
}

/* Unknown settings, wrong types and out-of-range numbers are errors naming
 * the setting and its line, never silently a default (issue 14). */
#define M "mirrors = [\"http://x/\"];\n"
#define COMP(extra)                                                                                \
    "components = ({ name = \"a\"; role = \"avdb\"; install_path = \"/a\"; " extra " });\n"

static void
test_unknown_keys(void **state)
{
    (void)state;
    expect_refused(M "\nhelth_check = \"x\";\n", ":3: unknown setting 'helth_check'");
    expect_refused(M COMP("helth_check = \"/bin/true\";"),
                   ":2: unknown setting 'components.helth_check'");
    expect_refused(M "policy = { url = \"http://p/\"; trusted_root = \"/r\"; urls = 1; };\n",
                   ":2: unknown setting 'policy.urls'");
}

static void
test_wrong_types(void **state)
{
    (void)state;
    expect_refused(M "state_dir = 42;\n", ":2: 'state_dir' must be a string");
    expect_refused(M "trusted_root = true;\n", ":2: 'trusted_root' must be a string");
    expect_refused(M COMP("keep = \"5\";"), ":2: 'components.keep' must be an integer");
    expect_refused(M "parallel = 2.5;\n", ":2: 'parallel' must be an integer");
    expect_refused(M "log_syslog = 1;\n", ":2: 'log_syslog' must be a boolean");
    expect_refused(M "connect_timeout = false;\n", ":2: 'connect_timeout' must be an integer");
    expect_refused("mirrors = \"http://x/\";\n", ":1: 'mirrors' must be a list of strings");
    expect_refused("mirrors = [1];\n", ":1: 'mirrors' must be a list of strings");
    expect_refused(M "components = { name = \"a\"; };\n", ":2: 'components' must be a list");
    expect_refused(M "components = ( \"a\" );\n", ":2: 'components' must be a list");
    expect_refused(M "policy = \"http://p/\";\n", ":2: 'policy' must be a group");
    expect_refused(M COMP("health_check = true;"),
                   ":2: 'components.health_check' must be a string");
}

static void
test_ranges(void **state)
{
    (void)state;
    /* 4294968 s x 1000 wrapped to 0.77 s in 32 bits */
    expect_refused(M "connect_timeout = 4294968;\n", ":2: 'connect_timeout' must be 1..3600");
    expect_refused(M "connect_timeout = 0;\n", "'connect_timeout' must be 1..3600");
    expect_refused(M "connect_timeout = 5000000000L;\n", "'connect_timeout' must be 1..3600");
    expect_refused(M "low_speed_time = -1;\n", "'low_speed_time' must be 1..3600");
    expect_refused(M "low_speed_limit = 0;\n", "'low_speed_limit' must be 1..1073741824");
    expect_refused(M "parallel = 65;\n", "'parallel' must be 1..64");
    expect_refused(M COMP("keep = 101;"), "'components.keep' must be 1..100");
}

static void
test_range_edges_accepted(void **state)
{
    struct zupd_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(
        load_text(M "connect_timeout = 3600;\nlow_speed_time = 1;\n"
                    "low_speed_limit = 1073741824;\nparallel = 64;\n" COMP("keep = 100;"),
                  &o, err, sizeof(err)),
        0);
    assert_int_equal(o.connect_timeout, 3600);
    assert_int_equal(o.low_speed_limit, 1073741824);
    assert_int_equal(o.parallel, 64);
    assert_int_equal(o.components[0].keep, 100);
    zupd_conf_release(&o);
}

/* health_check_timeout: 60 s unless set; a global default each component
 * inherits, overridden per component; 1..86400 (issue 15) */
static void
test_health_check_timeout(void **state)
{
    struct zupd_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(load_text(M COMP(""), &o, err, sizeof(err)), 0);
    assert_int_equal(o.components[0].health_check_timeout, 60);
    zupd_conf_release(&o);
    assert_int_equal(load_text(M "health_check_timeout = 5;\n"
                                 "components = ({ name = \"a\"; role = \"avdb\"; "
                                 "install_path = \"/a\"; },\n"
                                 "  { name = \"b\"; role = \"avdb\"; install_path = \"/b\"; "
                                 "health_check_timeout = 86400; });\n",
                               &o, err, sizeof(err)),
                     0);
    assert_int_equal(o.components[0].health_check_timeout, 5);
    assert_int_equal(o.components[1].health_check_timeout, 86400);
    zupd_conf_release(&o);
    expect_refused(M "health_check_timeout = 0;\n", ":2: 'health_check_timeout' must be 1..86400");
    expect_refused(M COMP("health_check_timeout = 86401;"),
                   ":2: 'components.health_check_timeout' must be 1..86400");
    expect_refused(M COMP("health_check_timeout = \"10\";"),
                   "'components.health_check_timeout' must be an integer");
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

/* full_speed_window: a pure function of the time of day (issue 15) */
static void
test_window(void **state)
{
    struct zupd_window w = {0, 0};
    static const char *const bad[] = {"",
                                      "22:00",
                                      "22:00-06:00x",
                                      "22:00 - 06:00",
                                      "2:00-06:00",
                                      "24:00-06:00",
                                      "22:60-06:00",
                                      "22.00-06.00",
                                      "22:00-22:00",
                                      "aa:bb-cc:dd",
                                      "22:00+06:00",
                                      "-1:00-06:00"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (zupd_window_parse(bad[i], &w) != -1)
            fail_msg("'%s' accepted", bad[i]);
    }
    assert_int_equal(zupd_window_parse("08:30-17:00", &w), 0); /* within one day */
    assert_int_equal(w.from, 8 * 60 + 30);
    assert_int_equal(w.to, 17 * 60);
    assert_false(zupd_window_contains(&w, 8 * 60 + 29));
    assert_true(zupd_window_contains(&w, 8 * 60 + 30)); /* from is inside */
    assert_true(zupd_window_contains(&w, 12 * 60));
    assert_false(zupd_window_contains(&w, 17 * 60)); /* to is outside */
    assert_false(zupd_window_contains(&w, 0));
    assert_int_equal(zupd_window_parse("22:00-06:00", &w), 0); /* over midnight */
    assert_true(zupd_window_contains(&w, 22 * 60));
    assert_true(zupd_window_contains(&w, 23 * 60 + 59));
    assert_true(zupd_window_contains(&w, 0));
    assert_true(zupd_window_contains(&w, 5 * 60 + 59));
    assert_false(zupd_window_contains(&w, 6 * 60));
    assert_false(zupd_window_contains(&w, 12 * 60));
    assert_false(zupd_window_contains(&w, 21 * 60 + 59));
    assert_int_equal(zupd_window_parse("00:00-23:59", &w), 0);
    assert_true(zupd_window_contains(&w, 0));
    assert_false(zupd_window_contains(&w, 23 * 60 + 59));
}

static void
test_network_keys(void **state)
{
    struct zupd_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(load_text(M "ca_file = \"/etc/ca.pem\";\nca_path = \"/etc/ca.d\";\n"
                                 "proxy = \"http://proxy:3128\";\nmax_download_rate = \"256K\";\n"
                                 "full_speed_window = \"22:00-06:00\";\n",
                               &o, err, sizeof(err)),
                     0);
    assert_string_equal(o.ca_file, "/etc/ca.pem");
    assert_string_equal(o.ca_path, "/etc/ca.d");
    assert_string_equal(o.proxy, "http://proxy:3128");
    assert_int_equal(o.max_download_rate, 256 << 10);
    assert_true(o.has_full_speed_window);
    assert_int_equal(o.full_speed_window.from, 22 * 60);
    zupd_conf_release(&o);
    assert_int_equal(load_text(M "max_download_rate = 0;\n", &o, err, sizeof(err)), 0);
    assert_int_equal(o.max_download_rate, 0);
    assert_null(o.proxy);
    assert_false(o.has_full_speed_window);
    zupd_conf_release(&o);
    expect_refused(M "\nfull_speed_window = \"22:00-22:00\";\n", ":3: 'full_speed_window' must be");
    expect_refused(M "full_speed_window = \"10pm-6am\";\n", ":2: 'full_speed_window' must be");
    expect_refused(M "full_speed_window = 2200;\n", ":2: 'full_speed_window' must be a string");
    expect_refused(M "max_download_rate = -1;\n", ":2: 'max_download_rate' must be a size");
    expect_refused(M "max_download_rate = \"fast\";\n", ":2: 'max_download_rate' must be a size");
    expect_refused(M "\nmax_download_rate = 4000;\n", /* 4 x 1024: stalled */
                   ":3: 'max_download_rate' must be at least parallel x low_speed_limit (4096");
    expect_refused(M "proxy = 3128;\n", ":2: 'proxy' must be a string");
    expect_refused(M "ca_file = [\"/a\"];\n", ":2: 'ca_file' must be a string");
}

/* The transparency log (docs/transparency.md): vkeys checked by type, the
 * origin defaulting to the key's name, witnesses each once, the quorum at
 * most the witnesses listed and by default all of them. */
#define LOGKEY "updates.example.com/zupd/log+60c6375c+AYA2RecPGNxXoZpN/zavqhVNggiDjZOCtOZBelmQnAQX"
#define WIT1 "w1.example+0d30ff2a+BLDvac9mmAMfo6UM3ZhuGEswRR4MUnSlB9TyBI0y+MK1"
#define WIT2 "w2.example+d18bad42+BABFkvNHqYw4x6+j1IuU+y8gnpX7dIL2Ls4uw87USZkh"
static void
test_log(void **state)
{
    struct zupd_opts o;
    char err[512] = "";

    (void)state;
    assert_int_equal(load_text(M "log = { key = \"" LOGKEY "\"; };\n", &o, err, sizeof(err)), 0);
    assert_true(o.has_log);
    assert_string_equal(o.log_origin, "updates.example.com/zupd/log");
    assert_int_equal(o.log_key.type, ZU_NOTE_ED25519);
    assert_int_equal(o.n_log_witnesses, 0);
    assert_int_equal(o.log_quorum, 0);
    zupd_conf_release(&o);
    assert_int_equal(load_text(M "log = { key = \"" LOGKEY "\"; origin = \"other.example/log\";\n"
                                 "  witnesses = [ \"" WIT1 "\", \"" WIT2 "\" ]; };\n",
                               &o, err, sizeof(err)),
                     0);
    assert_string_equal(o.log_origin, "other.example/log");
    assert_int_equal(o.n_log_witnesses, 2);
    assert_int_equal(o.log_quorum, 2); /* default: every witness */
    assert_string_equal(o.log_witnesses[1].name, "w2.example");
    zupd_conf_release(&o);
    assert_int_equal(load_text(M "log = { key = \"" LOGKEY "\"; witnesses = [ \"" WIT1 "\" ];\n"
                                 "  quorum = 0; };\n",
                               &o, err, sizeof(err)),
                     0);
    assert_int_equal(o.log_quorum, 0);
    zupd_conf_release(&o);
    assert_int_equal(load_text(M, &o, err, sizeof(err)), 0);
    assert_false(o.has_log);
    zupd_conf_release(&o);

    expect_refused(M "log = { origin = \"x\"; };\n", ":2: 'log' needs a string setting 'key'");
    expect_refused(M "log = { key = \"" WIT1 "\"; };\n", ":2: 'log.key' must be an Ed25519");
    expect_refused(M "log = { key = \"nope+00000000+AQ==\"; };\n", "'log.key' must be an Ed25519");
    expect_refused(M "log = { key = \"" LOGKEY "\"; origin = \"a b\"; };\n",
                   ":2: 'log.origin' must be 1..255 bytes");
    expect_refused(M "log = { key = \"" LOGKEY "\"; witnesses = [ \"" LOGKEY "\" ]; };\n",
                   "'log.witnesses' element 1 must be a cosignature/v1 verifier key");
    expect_refused(M "log = { key = \"" LOGKEY "\"; witnesses = [ \"" WIT1 "\", \"" WIT1
                     "\" ]; };\n",
                   "'log.witnesses' lists the key of 'w1.example' twice");
    expect_refused(M "log = { key = \"" LOGKEY "\"; witnesses = [ \"" WIT1 "\" ]; quorum = 2; };\n",
                   ":2: 'log.quorum' is 2 but only 1 witnesses are listed");
    expect_refused(M "log = { key = \"" LOGKEY "\"; quorum = -1; };\n",
                   "'log.quorum' must be 0..32");
    expect_refused(M "log = { key = \"" LOGKEY "\"; witness = [ ]; };\n",
                   "unknown setting 'log.witness'");
    expect_refused(M "log = \"" LOGKEY "\";\n", ":2: 'log' must be a group");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_range_edges_accepted),
        cmocka_unit_test(test_health_check_timeout),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_network_keys),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_log),
    };
    int fd = mkstemp(path), rc;

    if (fd < 0)
        return 1;
    close(fd);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
