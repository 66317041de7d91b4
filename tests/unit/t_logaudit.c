/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_logaudit.c -- the auditor's checks of a transparency log
 * (mirror/repo/logaudit.c) on in-memory logs across tile boundaries: one
 * checkpoint extending another, a rollback, a fork (a log with the same
 * first entries that went its own way), a damaged tile told from a fork,
 * and the entries read whole or from an index on by inclusion proofs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repo/logaudit.h"
#include "zu/tlog.h"
#include "t_tlog_mem.h"

/* Append entries [from, to) of history `tag` to the log in m of checkpoint
 * *c (size 0: empty), updating *c. */
static void
grow(struct mem_store *m, struct zu_checkpoint *c, uint64_t to, const char *tag)
{
    struct zu_tlog_reader rd = {m, mem_read};
    struct zu_tlog_writer wr = {m, mem_write};
    struct zu_tlog_appender *a = NULL;
    char err[256] = "";

    assert_int_equal(
        zu_tlog_appender_new(c->size, c->size > 0 ? c->root : NULL, &rd, &wr, &a, err, sizeof(err)),
        ZUPD_OK);
    for (uint64_t i = c->size; i < to; i++) {
        char e[128];
        int n = snprintf(e, sizeof(e), "{\"type\":\"release\",\"n\":%llu,\"history\":\"%s\"}",
                         (unsigned long long)i, tag);
        assert_int_equal(zu_tlog_append(a, (const uint8_t *)e, (size_t)n, NULL, err, sizeof(err)),
                         ZUPD_OK);
    }
    assert_int_equal(zu_tlog_appender_finish(a, &c->size, c->root, err, sizeof(err)), ZUPD_OK);
    zu_tlog_appender_free(a);
}

static void
flip(struct mem_store *m, const char *path, size_t off)
{
    struct mem_file *f = mem_find(m, path);

    assert_non_null(f);
    assert_true(off < f->len);
    f->data[off] ^= 1;
}

static struct zu_checkpoint
cp(const struct zu_checkpoint *c)
{
    struct zu_checkpoint x = *c;

    snprintf(x.origin, sizeof(x.origin), "example.com/log");
    x.ext = NULL;
    return x;
}

static void
test_extends(void **state)
{
    struct mem_store a = {0}, b = {0};
    struct zu_tlog_reader ra = {&a, mem_read}, rb = {&b, mem_read};
    struct zu_checkpoint c = {0}, c300, c700, f700, f300;
    char err[512] = "";

    (void)state;
    c = cp(&c);
    grow(&a, &c, 300, "real");
    c300 = c;
    grow(&a, &c, 700, "real");
    c700 = c;
    /* a fork: the same first 250 entries, then its own */
    memset(&c, 0, sizeof(c));
    c = cp(&c);
    grow(&b, &c, 250, "real");
    grow(&b, &c, 300, "fork");
    f300 = c;
    grow(&b, &c, 700, "fork");
    f700 = c;

    assert_int_equal(zp_log_extends(&ra, &c300, &c700, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_log_extends(&ra, &c700, &c700, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_log_extends(&ra, &c700, &c300, err, sizeof(err)), ZUPD_E_ROLLBACK);
    assert_non_null(strstr(err, "rollback"));
    assert_int_equal(zp_log_extends(&rb, &c300, &f700, err, sizeof(err)), ZUPD_E_MISMATCH);
    assert_non_null(strstr(err, "fork"));
    assert_int_equal(zp_log_extends(&rb, &c300, &f300, err, sizeof(err)), ZUPD_E_MISMATCH);
    assert_int_equal(zp_log_extends(&rb, &f300, &f700, err, sizeof(err)), ZUPD_OK);
    /* an empty tree is a prefix of every tree */
    {
        struct zu_checkpoint e = {0};
        e = cp(&e);
        zu_tlog_empty_root(e.root);
        assert_int_equal(zp_log_extends(&ra, &e, &c700, err, sizeof(err)), ZUPD_OK);
    }
    /* another origin */
    {
        struct zu_checkpoint o = c700;
        snprintf(o.origin, sizeof(o.origin), "other.example/log");
        assert_int_equal(zp_log_extends(&ra, &c300, &o, err, sizeof(err)), ZUPD_E_MISMATCH);
    }
    /* a damaged tile off the right edge, on the consistency proof's path:
     * reported as damage (hash), not as a fork */
    flip(&a, "tile/0/001", 5);
    assert_int_equal(zp_log_extends(&ra, &c300, &c700, err, sizeof(err)), ZUPD_E_HASH);
    flip(&a, "tile/0/001", 5);
    /* a damaged right edge */
    flip(&a, "tile/0/002.p/188", 0);
    assert_int_equal(zp_log_extends(&ra, &c300, &c700, err, sizeof(err)), ZUPD_E_HASH);
    flip(&a, "tile/0/002.p/188", 0);
    assert_int_equal(zp_log_extends(&ra, &c300, &c700, err, sizeof(err)), ZUPD_OK);
    mem_free(&a);
    mem_free(&b);
}

static void
test_entries(void **state)
{
    struct mem_store a = {0};
    struct zu_tlog_reader ra = {&a, mem_read};
    struct zu_checkpoint c = {0};
    json_t *all = NULL, *news = NULL, *none = NULL;
    size_t reads_whole, reads_new;
    char err[512] = "", line[256];

    (void)state;
    c = cp(&c);
    grow(&a, &c, 700, "real");
    a.reads = 0;
    assert_int_equal(zp_log_entries(&ra, &c, 0, true, &all, err, sizeof(err)), ZUPD_OK);
    reads_whole = a.reads;
    assert_int_equal(json_array_size(all), 700);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 699), "index")), 699);
    a.reads = 0;
    assert_int_equal(zp_log_entries(&ra, &c, 650, false, &news, err, sizeof(err)), ZUPD_OK);
    reads_new = a.reads;
    assert_int_equal(json_array_size(news), 50);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(news, 0), "n")), 650);
    assert_true(reads_new < reads_whole);
    zp_log_entry_line(json_array_get(news, 0), line, sizeof(line));
    assert_string_equal(line, "650 release - - - -");
    a.reads = 0;
    assert_int_equal(zp_log_entries(&ra, &c, 700, false, &none, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(json_array_size(none), 0);
    assert_int_equal(a.reads, 0);
    json_decref(all);
    json_decref(news);
    json_decref(none);
    news = all = NULL;
    /* a flipped byte in a new entry (the last): its inclusion proof fails */
    flip(&a, "tile/entries/002.p/188", mem_find(&a, "tile/entries/002.p/188")->len - 3);
    assert_int_equal(zp_log_entries(&ra, &c, 650, false, &news, err, sizeof(err)), ZUPD_E_HASH);
    assert_null(news);
    assert_int_equal(zp_log_entries(&ra, &c, 0, true, &all, err, sizeof(err)), ZUPD_E_HASH);
    assert_null(all);
    /* an entry that is not a zupd entry */
    mem_free(&a);
    memset(&c, 0, sizeof(c));
    c = cp(&c);
    {
        struct zu_tlog_writer wr = {&a, mem_write};
        struct zu_tlog_appender *ap = NULL;
        assert_int_equal(zu_tlog_appender_new(0, NULL, &ra, &wr, &ap, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(zu_tlog_append(ap, (const uint8_t *)"not json", 8, NULL, err, sizeof(err)),
                         ZUPD_OK);
        assert_int_equal(zu_tlog_appender_finish(ap, &c.size, c.root, err, sizeof(err)), ZUPD_OK);
        zu_tlog_appender_free(ap);
    }
    assert_int_equal(zp_log_entries(&ra, &c, 0, true, &all, err, sizeof(err)), ZUPD_E_FORMAT);
    assert_non_null(strstr(err, "not a zupd entry"));
    mem_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extends),
        cmocka_unit_test(test_entries),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
