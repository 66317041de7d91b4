/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_manifest.c -- release manifests, channel pointers, path
 * safety, version order. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <zupd/manifest.h>
#include <zupd/update.h>

static uint8_t *
slurp(const char *rel, size_t *len)
{
    char path[512];
    FILE *f;
    uint8_t *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", ZU_TESTDATA, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void
test_good_manifest(void **state)
{
    size_t len;
    uint8_t *buf = slurp("good/manifest.json", &len);
    struct zupd_manifest *m = NULL;
    const struct zupd_file_entry *e;
    char err[256];

    (void)state;
    assert_int_equal(zupd_manifest_parse(buf, len, NULL, &m, err, sizeof(err)), ZUPD_OK);
    assert_string_equal(m->component, "product");
    assert_string_equal(m->version, "2.1.0");
    assert_string_equal(m->source_revision, "git:3f2a9c");
    assert_string_equal(m->builder, "zurich-build-7");
    assert_int_equal(m->n_files, 3);
    e = zupd_manifest_find(m, "bin/app");
    assert_non_null(e);
    assert_int_equal(e->mode, 0755);
    assert_int_equal(e->blob_encoding, ZUPD_ENC_ZSTD);
    assert_int_equal(e->n_deltas, 1);
    assert_string_equal(e->deltas[0].method, "bsdiff");
    assert_int_equal(e->deltas[0].from_sha256[0], 0xcc);
    assert_non_null(zupd_manifest_find(m, "share/doc/README"));
    assert_null(zupd_manifest_find(m, "bin"));
    assert_null(zupd_manifest_find(m, "zzz"));
    zupd_manifest_free(m);
    free(buf);
}

static void
test_bad_manifests(void **state)
{
    DIR *d = opendir(ZU_TESTDATA "/bad");
    struct dirent *de;
    int seen = 0;

    (void)state;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char rel[300], err[256] = "";
        struct zupd_manifest *m = (struct zupd_manifest *)1;
        uint8_t *buf;
        size_t len;
        int rc;

        if (strncmp(de->d_name, "manifest-", 9) != 0)
            continue;
        snprintf(rel, sizeof(rel), "bad/%s", de->d_name);
        buf = slurp(rel, &len);
        rc = zupd_manifest_parse(buf, len, NULL, &m, err, sizeof(err));
        if (rc == ZUPD_OK)
            fail_msg("'%s' was accepted", de->d_name);
        assert_int_equal(rc, ZUPD_E_FORMAT);
        assert_null(m);
        assert_true(err[0] != 0); /* every refusal says why */
        free(buf);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 15);
}

static void
test_paths(void **state)
{
    static const char *ok[] = {"a", "a/b", "a.b/c-d_e", "...", "a/..b", ".hidden", "a/b."};
    static const char *no[] = {"",   "/",    "/a",   "a/",    "a//b", ".",
                               "..", "a/..", "../a", "a/./b", "a\\b"};

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!zupd_path_is_safe(ok[i], strlen(ok[i])))
            fail_msg("'%s' refused", ok[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (zupd_path_is_safe(no[i], strlen(no[i])))
            fail_msg("'%s' accepted", no[i]);
    assert_false(zupd_path_is_safe("a\0b", 3)); /* embedded NUL */
    assert_true(zupd_name_is_safe("1.2.3~rc1+b2"));
    assert_false(zupd_name_is_safe("-rf"));
    assert_false(zupd_name_is_safe(".."));
    assert_false(zupd_name_is_safe("a/b"));
    assert_false(zupd_name_is_safe(""));
}

static void
test_version_order(void **state)
{
    /* each strictly before the next, as dpkg orders them */
    static const char *seq[] = {"0.9", "1.0~rc1", "1.0", "1.0a",  "1.0.1",
                                "1.2", "1.10",    "2",   "2.0.0", "10.0"};

    (void)state;
    for (size_t i = 0; i + 1 < sizeof(seq) / sizeof(seq[0]); i++) {
        if (!(zupd_version_cmp(seq[i], seq[i + 1]) < 0))
            fail_msg("'%s' not before '%s'", seq[i], seq[i + 1]);
        if (!(zupd_version_cmp(seq[i + 1], seq[i]) > 0))
            fail_msg("'%s' not after '%s'", seq[i + 1], seq[i]);
    }
    assert_int_equal(zupd_version_cmp("1.02", "1.2"), 0);
    assert_int_equal(zupd_version_cmp("3.4", "3.4"), 0);
}

static void
test_channel(void **state)
{
    size_t len;
    uint8_t *buf = slurp("good/channel.json", &len);
    struct zupd_channel *c = NULL;
    static const char *bad[] = {
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\"}",
        "{\"zupd_channel\":2,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\"}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"../1\"}",
        "[1]",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"floor\":\"../0\"}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"expires\":\"tomorrow\"}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"expires\":12}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"rollback\":\"yes\"}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"note\":\"line\\nbreak\"}",
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1\","
        "\"note\":\"nul\\u0000\"}",
    };
    static const char full[] =
        "{\"zupd_channel\":1,\"component\":\"p\",\"channel\":\"s\",\"version\":\"1.0\","
        "\"floor\":\"0.9\",\"expires\":\"2030-01-01T00:00:00Z\",\"rollback\":true,"
        "\"note\":\"INC-1 hold\",\"future\":[1]}";

    (void)state;
    assert_int_equal(zupd_channel_parse(buf, len, &c), ZUPD_OK);
    assert_string_equal(c->version, "2.1.0");
    assert_string_equal(c->channel, "stable");
    assert_null(c->floor);
    assert_null(c->note);
    assert_int_equal(c->expires, 0);
    assert_false(c->rollback);
    zupd_channel_free(c);
    free(buf);
    assert_int_equal(zupd_channel_parse((const uint8_t *)full, strlen(full), &c), ZUPD_OK);
    assert_string_equal(c->floor, "0.9");
    assert_string_equal(c->note, "INC-1 hold");
    assert_int_equal(c->expires, 1893456000);
    assert_true(c->rollback);
    zupd_channel_free(c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(zupd_channel_parse((const uint8_t *)bad[i], strlen(bad[i]), &c),
                         ZUPD_E_FORMAT);
        assert_null(c);
    }
}

static void
test_decide(void **state)
{
    char p[] = "p", s[] = "s", v3[] = "3.0", v1[] = "1.0", v101[] = "1.0.1", v4[] = "4.0";
    struct zupd_channel vendor = {.component = p, .channel = s, .version = v3};
    struct zupd_channel pin = {.component = p, .channel = s, .version = v1};
    struct zupd_resolved r;

    (void)state;
    zupd_channel_decide(&vendor, NULL, 100, &r); /* no policy: the vendor */
    assert_string_equal(r.version, "3.0");
    assert_int_equal(r.source, ZUPD_SOURCE_VENDOR);
    assert_string_equal(r.policy_version, "");
    zupd_channel_decide(&vendor, &pin, 100, &r); /* a pin below the vendor: followed */
    assert_string_equal(r.version, "1.0");
    assert_int_equal(r.source, ZUPD_SOURCE_POLICY);
    assert_string_equal(r.vendor_version, "3.0");
    assert_string_equal(r.why, "");
    pin.expires = 100; /* lapses at 100: from then on the vendor */
    zupd_channel_decide(&vendor, &pin, 99, &r);
    assert_int_equal(r.source, ZUPD_SOURCE_POLICY);
    zupd_channel_decide(&vendor, &pin, 100, &r);
    assert_int_equal(r.source, ZUPD_SOURCE_VENDOR);
    assert_string_equal(r.version, "3.0");
    assert_non_null(strstr(r.why, "expired"));
    pin.expires = 0;
    vendor.floor = v1; /* at the floor: followed */
    zupd_channel_decide(&vendor, &pin, 100, &r);
    assert_int_equal(r.source, ZUPD_SOURCE_POLICY);
    vendor.floor = v101; /* below it: the vendor */
    zupd_channel_decide(&vendor, &pin, 100, &r);
    assert_int_equal(r.source, ZUPD_SOURCE_VENDOR);
    assert_string_equal(r.floor, "1.0.1");
    assert_non_null(strstr(r.why, "floor"));
    pin.version = v4; /* above the vendor's channel: followed (a hold ahead) */
    zupd_channel_decide(&vendor, &pin, 100, &r);
    assert_string_equal(r.version, "4.0");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_manifest), cmocka_unit_test(test_bad_manifests),
        cmocka_unit_test(test_paths),         cmocka_unit_test(test_version_order),
        cmocka_unit_test(test_channel),       cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
