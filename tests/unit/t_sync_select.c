/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_sync_select.c -- what a filtered sync keeps: the
 * classification of target paths, --channel and --keep (dpkg version
 * order, per component, plus what the mirrored channels name), and the
 * selection file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "repo/select.h"

static void
test_classify(void **state)
{
    struct zp_sel s;

    (void)state;
    zp_sel_classify(&s, "products/app/1.10/manifest.json");
    assert_int_equal(s.kind, ZP_SEL_MANIFEST);
    assert_string_equal(s.version, "1.10");
    assert_int_equal(s.group_len, strlen("products/app"));
    zp_sel_classify(&s, "avdb/db/channels/stable.json");
    assert_int_equal(s.kind, ZP_SEL_CHANNEL);
    assert_string_equal(s.channel, "stable");
    zp_sel_classify(&s, "avdb/db/channels/.json");
    assert_int_equal(s.kind, ZP_SEL_OTHER);
    zp_sel_classify(&s, "products/app/1.0/other.json");
    assert_int_equal(s.kind, ZP_SEL_OTHER);
    zp_sel_classify(&s, "products/app/x/1.0/manifest.json");
    assert_int_equal(s.kind, ZP_SEL_OTHER);
    zp_sel_classify(&s, "readme.txt");
    assert_int_equal(s.kind, ZP_SEL_OTHER);
    zp_sel_classify(&s, "products/app/../manifest.json");
    assert_int_equal(s.kind, ZP_SEL_OTHER);
}

/* paths[i] -> v[i], the channels' versions filled as a sync would */
static const char *const paths[] = {
    "avdb/db/1/manifest.json",            /* 0 */
    "avdb/db/10/manifest.json",           /* 1 */
    "avdb/db/9/manifest.json",            /* 2 */
    "avdb/db/channels/stable.json",       /* 3 -> 9 */
    "products/app/1.0/manifest.json",     /* 4 */
    "products/app/2.0/manifest.json",     /* 5 */
    "products/app/2.0~rc1/manifest.json", /* 6 */
    "products/app/channels/beta.json",    /* 7 -> 2.0~rc1 */
    "products/app/channels/stable.json",  /* 8 -> 1.0 */
    "products/apps/3.0/manifest.json",    /* 9: another component, prefix of no group */
    "other/file.bin",                     /* 10 */
};
#define N (sizeof(paths) / sizeof(paths[0]))

static void
choose(struct zp_sel *v, const char *const *ch, size_t nch, unsigned keep)
{
    for (size_t i = 0; i < N; i++)
        zp_sel_classify(&v[i], paths[i]);
    snprintf(v[3].version, sizeof(v[3].version), "9");
    snprintf(v[7].version, sizeof(v[7].version), "2.0~rc1");
    snprintf(v[8].version, sizeof(v[8].version), "1.0");
    assert_int_equal(zp_sel_choose(v, paths, N, ch, nch, keep), 0);
}

static void
assert_kept(const struct zp_sel *v, const char *want)
{
    char got[N + 1];

    for (size_t i = 0; i < N; i++)
        got[i] = v[i].keep ? 'k' : '.';
    got[N] = '\0';
    assert_string_equal(got, want);
}

static void
test_choose(void **state)
{
    struct zp_sel v[N];
    const char *stable[] = {"stable"}, *beta[] = {"beta", "nightly"};

    (void)state;
    choose(v, NULL, 0, 0); /* no retention: everything */
    assert_kept(v, "kkkkkkkkkkk");
    choose(v, stable, 1, 0); /* the stable pointers and what they name */
    assert_kept(v, "..kkk...k.k");
    choose(v, NULL, 0, 1); /* newest per component (10 > 9, 2.0 > 2.0~rc1) + every channel */
    assert_kept(v, ".kkkkkkkkkk");
    choose(v, beta, 2, 1); /* newest + beta's release; stable pointers not mirrored */
    assert_kept(v, ".k...kkk.kk");
    choose(v, stable, 1, 2);
    assert_kept(v, ".kkkkkk.kkk"); /* 2.0 and 2.0~rc1 newest, 1.0 by stable */
}

static void
test_selection_file(void **state)
{
    const char *v[] = {"a/b/1/manifest.json", "a/b/channels/stable.json"};
    const char *bad[] = {"a\nb"};
    char dir[] = "/tmp/t_sync_select.XXXXXX";
    struct zp_sel_set set;
    uint8_t *buf = NULL;
    size_t len = 0;
    FILE *f;
    int dfd;

    (void)state;
    assert_int_not_equal(zp_sel_file_make(bad, 1, &buf, &len), 0);
    assert_null(buf);
    assert_int_equal(zp_sel_file_make(v, 2, &buf, &len), 0);
    assert_non_null(mkdtemp(dir));
    dfd = open(dir, 0);
    assert_true(dfd >= 0);
    assert_int_equal(zp_sel_set_load(dfd, &set), ZUPD_E_NOTFOUND);
    assert_int_equal(mkdirat(dfd, ".zupd", 0755), 0);
    f = fdopen(openat(dfd, ZP_SYNC_SELECTION, O_WRONLY | O_CREAT, 0644), "w");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    assert_int_equal(zp_sel_set_load(dfd, &set), 0);
    assert_int_equal(set.n, 2);
    assert_true(zp_sel_set_has(&set, "a/b/1/manifest.json"));
    assert_true(zp_sel_set_has(&set, "a/b/channels/stable.json"));
    assert_false(zp_sel_set_has(&set, "a/b/2/manifest.json"));
    zp_sel_set_release(&set);
    /* a file without the header is refused */
    f = fdopen(openat(dfd, ZP_SYNC_SELECTION, O_WRONLY | O_TRUNC, 0644), "w");
    assert_non_null(f);
    fputs("a/b/1/manifest.json\n", f);
    fclose(f);
    assert_int_equal(zp_sel_set_load(dfd, &set), ZUPD_E_FORMAT);
    unlinkat(dfd, ZP_SYNC_SELECTION, 0);
    unlinkat(dfd, ".zupd", AT_REMOVEDIR);
    close(dfd);
    rmdir(dir);
    free(buf);
}

/* the parser alone: empty lines skipped, sorted, a round trip through
 * zp_sel_file_make; no header, no final newline or a NUL: malformed */
static void
test_selection_parse(void **state)
{
    static const char ok[] = "# zupd-mirror sync selection 1\nb/c\n\na/b\n";
    static const char *const bad[] = {
        "", "# zupd-mirror sync selection 1", "# zupd-mirror sync selection 2\na\n",
        "# zupd-mirror sync selection 1\na", "a\n# zupd-mirror sync selection 1\n"};
    struct zp_sel_set set, back;
    uint8_t *buf = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(zp_sel_set_parse((const uint8_t *)ok, sizeof(ok) - 1, &set), 0);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.v[0], "a/b");
    assert_string_equal(set.v[1], "b/c");
    assert_int_equal(zp_sel_file_make((const char *const *)set.v, set.n, &buf, &len), 0);
    assert_int_equal(zp_sel_set_parse(buf, len, &back), 0);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.v[0], "a/b");
    assert_string_equal(back.v[1], "b/c");
    zp_sel_set_release(&back);
    zp_sel_set_release(&set);
    free(buf);
    /* the header alone: an empty selection */
    assert_int_equal(zp_sel_set_parse((const uint8_t *)ok, 31, &set), 0);
    assert_int_equal(set.n, 0);
    assert_false(zp_sel_set_has(&set, "a/b"));
    zp_sel_set_release(&set);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(zp_sel_set_parse((const uint8_t *)bad[i], strlen(bad[i]), &set),
                         ZUPD_E_FORMAT);
    assert_int_equal(
        zp_sel_set_parse((const uint8_t *)"# zupd-mirror sync selection 1\na\0b\n", 35, &set),
        ZUPD_E_FORMAT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_selection_file),
        cmocka_unit_test(test_selection_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
