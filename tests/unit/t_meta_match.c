/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_meta_match.c -- delegation path patterns, hash prefixes and
 * succinct hash bins, with the expectations of python-tuf's tests/test_api.py
 * (test_is_target_in_pathpattern, test_is_delegated_role,
 * test_is_delegated_role_in_succinct_roles, test_get_roles_in_succinct_roles)
 * and of Python's fnmatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "meta_int.h"

static const struct {
    const char *path, *pattern;
    bool match;
} patterns[] = {
    /* python-tuf supported_use_cases */
    {"foo.tgz", "foo.tgz", true},
    {"foo.tgz", "*", true},
    {"foo.tgz", "*.tgz", true},
    {"foo-version-a.tgz", "foo-version-?.tgz", true},
    {"targets/foo.tgz", "targets/*.tgz", true},
    {"foo/bar/zoo/k.tgz", "foo/bar/zoo/*", true},
    {"foo/bar/zoo/k.tgz", "foo/*/zoo/*", true},
    {"foo/bar/zoo/k.tgz", "*/*/*/*", true},
    {"foo/bar", "f?o/bar", true},
    {"foo/bar", "*o/bar", true},
    /* python-tuf invalid_use_cases */
    {"targets/foo.tgz", "*.tgz", false},
    {"/foo.tgz", "*.tgz", false},
    {"targets/foo.tgz", "*", false},
    {"foo-version-alpha.tgz", "foo-version-?.tgz", false},
    {"foo//bar", "*/bar", false},
    {"foo/bar", "f?/bar", false},
    /* test_is_delegated_role paths */
    {"a/path", "a/path", true},
    {"a/path", "*/?ath", true},
    {"a/non-matching path", "*/?ath", false},
    {"a/non-matching path", "a/path", false},
    /* fnmatch details */
    {"", "", true},
    {"", "*", true},
    {"a", "", false},
    {"abc", "a**c", true},
    {"abc", "a*b*c*", true},
    {"abcbd", "a*b?", true},
    {"aXbYc", "a*b*d", false},
    {"a1", "a[0-9]", true},
    {"ax", "a[0-9]", false},
    {"ax", "a[!0-9]", true},
    {"a5", "a[!0-9]", false},
    {"a]", "a[]]", true},
    {"a-", "a[-x]", true},
    {"a-", "a[x-]", true},
    {"ab", "a[z-a]b", false}, /* reversed range is empty... */
    {"ab", "a[z-a]", false},
    {"a[", "a[", true}, /* unclosed '[' is literal */
    {"a[b", "a[b", true},
    {"a\\", "a\\", true}, /* backslash is literal */
    {"a*", "a\\*", false},
    {"A", "a", false},               /* case-sensitive, as on POSIX */
    {"\xc3\xbc.txt", "?.txt", true}, /* '?' is one code point */
    {"\xc3\xbc.txt", "??.txt", false},
    {"\xc3\xbc", "[\xc3\xa0-\xc3\xbf]", true},
    {"products/app/1.0/manifest.json", "products/*/*/*", true},
    {"products/app/1.0/manifest.json", "products/*", false},
    {"a/b/", "a/b/", true},
    {"a/b/", "a/*/*", true},
};

static void
test_path_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(patterns); i++)
        if (zu_meta_path_match(patterns[i].pattern, patterns[i].path) != patterns[i].match)
            fail_msg("'%s' vs pattern '%s': want %s", patterns[i].path, patterns[i].pattern,
                     patterns[i].match ? "match" : "no match");
}

static void
test_hash_prefixes(void **state)
{
    /* python-tuf: sha256("a/path") is 927b0ecf9... */
    static const char *const yes[] = {"927b0ecf9", "927b0", "92", "", "927b0ecf"};
    static const char *const no[] = {"other prefix", "927B0", "93", "927b0ecf99"};

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(yes); i++) {
        assert_true(zu_meta_hash_prefix_match(yes[i], "a/path"));
        assert_false(zu_meta_hash_prefix_match(yes[i][0] ? yes[i] : "x", "a/non-matching path"));
    }
    for (size_t i = 0; i < ZU_ARRAY_LEN(no); i++)
        assert_false(zu_meta_hash_prefix_match(no[i], "a/path"));
    /* longer than a sha256 hex digest never matches */
    assert_false(zu_meta_hash_prefix_match(
        "927b0ecf9c8f2c2a4d27d6ed3c5d39e95b9e0d7aebc1c2a8f0d8d1f9f5ad9e7c0", "a/path"));
}

static void
test_succinct_is_bin(void **state)
{
    /* python-tuf test_is_delegated_role_in_succinct_roles: bit_length 5 */
    static const char *const no[] = {"foo",     "bin-",   "bin-s", "bin-0t", "bin-20",
                                     "bin-100", "bin-0F", "bi-00", "bin00",  "bin--0"};
    static const char *const yes[] = {"bin-00", "bin-0f", "bin-1f"};

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(no); i++)
        if (zu_succinct_is_bin("bin", 5, no[i]))
            fail_msg("'%s' taken for a bin", no[i]);
    for (size_t i = 0; i < ZU_ARRAY_LEN(yes); i++)
        assert_true(zu_succinct_is_bin("bin", 5, yes[i]));
    assert_true(zu_succinct_is_bin("bin", 32, "bin-ffffffff"));
    assert_false(zu_succinct_is_bin("bin", 32, "bin-fffffffff"));
    assert_true(zu_succinct_is_bin("", 1, "-1"));
}

static void
test_succinct_names(void **state)
{
    char name[64], want[64];
    static const struct {
        const char *path;
        unsigned bits;
        const char *name;
    } bins[] = {
        /* computed with python-tuf's SuccinctRoles.get_role_for_target */
        {"products/app/2.1.0/manifest.json", 1, "bin-0"},
        {"products/app/2.1.0/manifest.json", 4, "bin-2"},
        {"products/app/2.1.0/manifest.json", 5, "bin-04"},
        {"products/app/2.1.0/manifest.json", 13, "bin-045f"},
        {"products/app/2.1.0/manifest.json", 32, "bin-22fe8069"},
        {"files/hello.txt", 5, "bin-08"},
        {"files/hello.txt", 16, "bin-4038"},
        {"a/path", 1, "bin-1"},
        {"a/path", 8, "bin-92"},
        {"a/path", 13, "bin-124f"},
        {"avdb/x.json", 4, "bin-b"},
        {"", 5, "bin-1c"},
        {"", 32, "bin-e3b0c442"},
    };

    (void)state;
    /* python-tuf test_get_roles_in_succinct_roles: 16 bits, suffix of 4 */
    for (uint32_t i = 0; i < 65536; i += 257) {
        assert_int_equal(zu_succinct_bin_name("bin", 16, i, name, sizeof(name)), ZUPD_OK);
        snprintf(want, sizeof(want), "bin-%04x", (unsigned)i);
        assert_string_equal(name, want);
        assert_true(zu_succinct_is_bin("bin", 16, name));
    }
    assert_int_equal(zu_succinct_bin_name("bin", 16, 65536, name, sizeof(name)), ZUPD_E_MISUSE);
    assert_int_equal(zu_succinct_bin_name("bin", 0, 0, name, sizeof(name)), ZUPD_E_MISUSE);
    assert_int_equal(zu_succinct_bin_name("bin", 33, 0, name, sizeof(name)), ZUPD_E_MISUSE);
    assert_int_equal(zu_succinct_bin_name("bin", 1, 1, name, sizeof(name)), ZUPD_OK);
    assert_string_equal(name, "bin-1");
    assert_int_equal(zu_succinct_bin_name("bin", 9, 0x1ff, name, sizeof(name)), ZUPD_OK);
    assert_string_equal(name, "bin-1ff");
    for (size_t i = 0; i < ZU_ARRAY_LEN(bins); i++) {
        uint32_t b = zu_succinct_bin_for(bins[i].path, bins[i].bits);
        assert_int_equal(zu_succinct_bin_name("bin", bins[i].bits, b, name, sizeof(name)), ZUPD_OK);
        if (strcmp(name, bins[i].name) != 0)
            fail_msg("'%s' with %u bits: %s, want %s", bins[i].path, bins[i].bits, name,
                     bins[i].name);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_patterns),
        cmocka_unit_test(test_hash_prefixes),
        cmocka_unit_test(test_succinct_is_bin),
        cmocka_unit_test(test_succinct_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
