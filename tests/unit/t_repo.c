/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_repo.c -- the publisher's repository library: init, publish
 * (blobs, manifests, reuse of unchanged content, refusals), promote and
 * rollback, refresh, prune, rotation, offline stage/sign/import, verify,
 * and the commit order (every file before the metadata naming it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zupd/manifest.h>

#include "repo/repo.h"

static int
pass_fn(void *opaque, const char *key, bool confirm, char *buf, size_t cap)
{
    const char *p = opaque;

    (void)key;
    (void)confirm;
    if (p == NULL)
        return ZUPD_E_PASSPHRASE;
    snprintf(buf, cap, "%s", p);
    return ZUPD_OK;
}

struct fx {
    char top[256];
    char dir[300];
    char in[300];
    struct zp_repo_opts o;
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct zp_init_opts io;
    char err[512] = "", p[400];

    assert_non_null(f);
    setenv("ZUPD_KDF_COST", "min", 1);
    snprintf(f->top, sizeof(f->top), "%s/t_repo.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->top));
    snprintf(f->dir, sizeof(f->dir), "%s/repo", f->top);
    snprintf(f->in, sizeof(f->in), "%s/in", f->top);
    assert_int_equal(mkdir(f->in, 0755), 0);
    snprintf(p, sizeof(p), "%s/a", f->in);
    write_file(p, "alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha\n");
    snprintf(p, sizeof(p), "%s/sub", f->in);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub/b", f->in);
    write_file(p, "b");
    f->o.dir = f->dir;
    f->o.pass.fn = pass_fn;
    f->o.pass.opaque = (void *)(uintptr_t) "pw";
    memset(&io, 0, sizeof(io));
    io.root_keys = 2;
    io.root_threshold = 2;
    io.same_passphrase = true; /* pass_fn has one for every key */
    zp_config_default(&io.config);
    assert_int_equal(zp_repo_init(&f->o, &io, err, sizeof(err)), ZUPD_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct zp_repo *
open_repo(struct fx *f)
{
    struct zp_repo *r = NULL;
    char err[512] = "";

    assert_int_equal(zp_repo_open(&f->o, &r, err, sizeof(err)), ZUPD_OK);
    return r;
}

static int
publish(struct fx *f, const char *comp, const char *ver, enum zp_role role,
        struct zp_publish_res *res, char *err, size_t cap)
{
    struct zp_repo *r = open_repo(f);
    struct zp_publish_opts p = {.component = comp,
                                .version = ver,
                                .path = f->in,
                                .role = role,
                                .source_revision = "git:1",
                                .builder = "t",
                                .deltas = -1};
    int rc = zp_publish(r, &p, res, err, cap);

    zp_repo_free(r);
    return rc;
}

static void
verify_ok(struct fx *f, size_t manifests)
{
    struct zp_verify_res v;
    char err[512] = "";

    assert_int_equal(zp_verify(f->dir, NULL, 0, 0, &v, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(v.manifests, manifests);
}

static void
test_init_opens_and_verifies(void **state)
{
    struct fx *f = *state;
    struct zp_repo *r = open_repo(f);
    uint64_t thr = 0;
    size_t n = 0;

    assert_int_equal(zupd_meta_role(zp_repo_meta(r, ZP_R_ROOT), "root", &thr, &n), ZUPD_OK);
    assert_int_equal(thr, 2);
    assert_int_equal(n, 2);
    assert_true(zupd_meta_consistent_snapshot(zp_repo_meta(r, ZP_R_ROOT)));
    assert_int_equal(zupd_meta_delegation_count(zp_repo_meta(r, ZP_R_TARGETS)), 2);
    assert_int_equal(zupd_meta_expires(zp_repo_meta(r, ZP_R_TIMESTAMP)) -
                         zupd_meta_expires(zp_repo_meta(r, ZP_R_SNAPSHOT)),
                     -6 * ZP_DAY);
    zp_repo_free(r);
    verify_ok(f, 0);
}

/* DIR/.zupd/config.json with a member that is unknown, of the wrong type or
 * out of range is refused naming it (issue 14), never silently a default. */
static void
expect_config_refused(struct fx *f, const char *json, const char *want)
{
    struct zp_repo *r = NULL;
    char err[512] = "", p[400];

    snprintf(p, sizeof(p), "%s/.zupd/config.json", f->dir);
    write_file(p, json);
    assert_int_equal(zp_repo_open(&f->o, &r, err, sizeof(err)), ZUPD_E_FORMAT);
    assert_null(r);
    if (strstr(err, want) == NULL || strstr(err, "config.json") == NULL)
        fail_msg("error '%s' does not name config.json and '%s'", err, want);
}

static void
test_config_strict(void **state)
{
    struct fx *f = *state;
    struct zp_repo *r;
    char p[400];

    expect_config_refused(f, "{\"zupd_mirror_config\": 1, \"detlas\": 3}",
                          "unknown setting 'detlas'");
    expect_config_refused(f, "{\"expires\": {\"timestmap\": 86400}}",
                          "unknown setting 'expires.timestmap'");
    expect_config_refused(f, "{\"deltas\": \"5\"}", "'deltas' must be an integer");
    expect_config_refused(f, "{\"zstd_level\": 1.5}", "'zstd_level' must be an integer");
    expect_config_refused(f, "{\"zstd_level\": 23}", "'zstd_level' must be 1..22");
    expect_config_refused(f, "{\"expires\": {\"timestamp\": 0}}",
                          "'expires.timestamp' must be 1..");
    expect_config_refused(f, "{\"expires\": {\"root\": \"365\"}}",
                          "'expires.root' must be an integer");
    expect_config_refused(f, "{\"expires\": 7}", "'expires' must be an object");
    expect_config_refused(f, "{\"kind\": true}", "'kind' must be");
    expect_config_refused(f, "[1]", "not a JSON object");
    /* what zp_config_write writes, and a file without optional members, are fine */
    snprintf(p, sizeof(p), "%s/.zupd/config.json", f->dir);
    write_file(p, "{\"deltas\": 2, \"expires\": {\"timestamp\": 3600}}");
    r = open_repo(f);
    assert_int_equal(zp_repo_config(r)->deltas, 2);
    assert_int_equal(zp_repo_config(r)->expiry[ZP_R_TIMESTAMP], 3600);
    assert_int_equal(zp_repo_config(r)->zstd_level, 19);
    zp_repo_free(r);
}

static void
test_publish_reuses_and_refuses(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    char err[512] = "", p[400];

    assert_int_equal(publish(f, "app", "1.0", ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(res.files, 2);
    assert_int_equal(res.new_blobs, 2);
    assert_true(res.meta_bytes > 0 && res.manifest_bytes > 0);
    verify_ok(f, 1);
    /* the same version again */
    assert_int_equal(publish(f, "app", "1.0", ZP_R_PRODUCTS, &res, err, sizeof(err)),
                     ZUPD_E_EXISTS);
    assert_non_null(strstr(err, "already published"));
    /* one file changed: one new blob */
    snprintf(p, sizeof(p), "%s/sub/b", f->in);
    write_file(p, "bb");
    assert_int_equal(publish(f, "app", "1.1", ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(res.new_blobs, 1);
    assert_int_equal(res.reused_blobs, 1);
    verify_ok(f, 2);
    /* not a delegated role, bad names */
    assert_int_equal(publish(f, "app", "2", ZP_R_TARGETS, &res, err, sizeof(err)), ZUPD_E_MISUSE);
    assert_int_equal(publish(f, "a/b", "2", ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_E_MISUSE);
    assert_int_equal(publish(f, "app", "..", ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_E_MISUSE);
}

static void
test_symlink_out_refused(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    char err[512] = "", p[400];

    snprintf(p, sizeof(p), "%s/out", f->in);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    assert_int_equal(publish(f, "app", "1.0", ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_E_PERM);
    assert_non_null(strstr(err, "outside the tree"));
    verify_ok(f, 0);
}

static void
test_promote_and_rollback(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    struct zp_repo *r;
    char err[512] = "", v[64];

    assert_int_equal(publish(f, "db", "10", ZP_R_AVDB, &res, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(publish(f, "db", "9", ZP_R_AVDB, &res, err, sizeof(err)), ZUPD_OK);
    r = open_repo(f);
    assert_int_equal(zp_channel_get(r, ZP_R_AVDB, "db", "stable", v, sizeof(v)), ZUPD_E_NOTFOUND);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "db", "10", "stable", false, err, sizeof(err)),
                     ZUPD_OK);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "db", "9", "stable", false, err, sizeof(err)),
                     ZUPD_E_ROLLBACK);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "db", "10", "stable", false, err, sizeof(err)),
                     ZUPD_E_EXISTS);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "db", "11", "stable", false, err, sizeof(err)),
                     ZUPD_E_NOTFOUND);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "db", "9", "stable", true, err, sizeof(err)),
                     ZUPD_OK);
    assert_int_equal(zp_channel_get(r, ZP_R_AVDB, "db", "stable", v, sizeof(v)), ZUPD_OK);
    assert_string_equal(v, "9");
    zp_repo_free(r);
    verify_ok(f, 2);
}

static void
test_refresh_and_expiry(void **state)
{
    struct fx *f = *state;
    struct zp_refresh_res res;
    struct zp_repo *r = open_repo(f);
    char err[512] = "";
    uint64_t ts = zupd_meta_version(zp_repo_meta(r, ZP_R_TIMESTAMP));

    assert_int_equal(zp_refresh(r, false, false, &res, err, sizeof(err)), ZUPD_OK);
    assert_false(res.resigned[ZP_R_TIMESTAMP]);
    zp_repo_free(r);
    /* 20 hours later the timestamp is due, not the snapshot */
    f->o.now = (int64_t)time(NULL) + 20 * 3600;
    r = open_repo(f);
    assert_int_equal(zp_refresh(r, false, false, &res, err, sizeof(err)), ZUPD_OK);
    assert_true(res.resigned[ZP_R_TIMESTAMP]);
    assert_false(res.resigned[ZP_R_SNAPSHOT]);
    assert_int_equal(zupd_meta_version(zp_repo_meta(r, ZP_R_TIMESTAMP)), ts + 1);
    zp_repo_free(r);
    /* a year later root has expired: offline, refused without --offline */
    f->o.now = (int64_t)time(NULL) + 370 * ZP_DAY;
    r = open_repo(f);
    assert_int_equal(zp_refresh(r, false, false, &res, err, sizeof(err)), ZUPD_E_EXPIRED);
    assert_non_null(strstr(err, "'root'"));
    assert_int_equal(zp_refresh(r, false, true, &res, err, sizeof(err)), ZUPD_OK);
    assert_true(res.resigned[ZP_R_ROOT] && res.resigned[ZP_R_TARGETS]);
    zp_repo_free(r);
    assert_int_equal(
        zp_verify(f->dir, NULL, f->o.now, 0, &(struct zp_verify_res){0}, err, sizeof(err)),
        ZUPD_OK);
    f->o.now = 0;
}

static void
test_wrong_passphrase_and_missing_key(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    char err[512] = "", p[400];

    f->o.pass.opaque = (void *)(uintptr_t) "nope";
    assert_int_equal(publish(f, "app", "1", ZP_R_PRODUCTS, &res, err, sizeof(err)),
                     ZUPD_E_PASSPHRASE);
    assert_non_null(strstr(err, "wrong passphrase"));
    f->o.pass.opaque = (void *)(uintptr_t) "pw";
    snprintf(p, sizeof(p), "%s/keys/offline/products.key", f->top);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(publish(f, "app", "1", ZP_R_PRODUCTS, &res, err, sizeof(err)),
                     ZUPD_E_NOTFOUND);
    assert_non_null(strstr(err, "missing key"));
    verify_ok(f, 0);
}

static void
test_prune_keeps_live_blobs(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    struct zp_prune_res pr;
    struct zp_repo *r;
    char err[512] = "", p[400];

    for (int i = 0; i < 4; i++) {
        char v[8], text[16];
        snprintf(p, sizeof(p), "%s/sub/b", f->in);
        snprintf(text, sizeof(text), "v%d", i);
        write_file(p, text);
        snprintf(v, sizeof(v), "%d", i);
        assert_int_equal(publish(f, "app", v, ZP_R_PRODUCTS, &res, err, sizeof(err)), ZUPD_OK);
    }
    r = open_repo(f);
    assert_int_equal(zp_promote(r, ZP_R_PRODUCTS, "app", "0", "old", false, err, sizeof(err)),
                     ZUPD_OK);
    assert_int_equal(zp_prune(r, 1, &pr, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(pr.releases, 2); /* 1 and 2; 0 is on a channel, 3 is the last */
    assert_int_equal(pr.blobs, 2);    /* "v1", "v2" */
    zp_repo_free(r);
    verify_ok(f, 2);
}

static void
test_offline_sign_and_rotation(void **state)
{
    struct fx *f = *state;
    struct zp_repo *r = open_repo(f);
    char err[512] = "", staged[4200], key[400];

    assert_int_equal(zp_stage(r, ZP_R_ROOT, staged, sizeof(staged), err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_import(r, staged, err, sizeof(err)), ZUPD_E_THRESHOLD);
    snprintf(key, sizeof(key), "%s/keys/offline/root-1.key", f->top);
    assert_int_equal(zp_sign_file(staged, key, &f->o.pass, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_import(r, staged, err, sizeof(err)), ZUPD_E_THRESHOLD);
    snprintf(key, sizeof(key), "%s/keys/offline/root-2.key", f->top);
    assert_int_equal(zp_sign_file(staged, key, &f->o.pass, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_import(r, staged, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zupd_meta_version(zp_repo_meta(r, ZP_R_ROOT)), 2);
    assert_int_equal(zp_stage(r, ZP_R_SNAPSHOT, staged, sizeof(staged), err, sizeof(err)),
                     ZUPD_E_MISUSE);
    {
        const char *nk[1] = {"ts-new"};
        struct zp_kdf_cost cost = ZP_KDF_COST_MIN;
        assert_int_equal(zp_rotate(r, ZP_R_TIMESTAMP, nk, 1, 0, &cost, err, sizeof(err)), ZUPD_OK);
        assert_int_equal(zupd_meta_version(zp_repo_meta(r, ZP_R_ROOT)), 3);
    }
    zp_repo_free(r);
    verify_ok(f, 0);
}

static void
test_publish_many_is_one_change(void **state)
{
    struct fx *f = *state;
    struct zp_publish_res res;
    struct zp_repo *r = open_repo(f);
    struct zp_publish_opts p[3] = {
        {.component = "db-a", .version = "1", .path = f->in, .role = ZP_R_AVDB, .deltas = -1},
        {.component = "db-b", .version = "1", .path = f->in, .role = ZP_R_AVDB, .deltas = -1},
        {.component = "db-a", .version = "2", .path = f->in, .role = ZP_R_AVDB, .deltas = -1}};
    uint64_t snap = zupd_meta_version(zp_repo_meta(r, ZP_R_SNAPSHOT));
    char err[512] = "";

    assert_int_equal(zp_publish_many(r, p, 3, &res, err, sizeof(err)), ZUPD_E_MISUSE);
    assert_int_equal(zp_publish_many(r, p, 2, &res, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(res.files, 4);
    assert_int_equal(res.new_blobs, 2); /* the same two contents in both */
    assert_int_equal(zupd_meta_version(zp_repo_meta(r, ZP_R_SNAPSHOT)), snap + 1);
    zp_repo_free(r);
    verify_ok(f, 2);
}

static void
test_hash_bins(void **state)
{
    struct fx *f = *state;
    struct zp_init_opts io;
    struct zp_publish_res res;
    struct zp_repo *r;
    char err[512] = "", v[16];
    unsigned bits = 0;
    const char *prefix = NULL;

    /* a second repository next to the fixture's, with 8 bins */
    snprintf(f->dir, sizeof(f->dir), "%s/binned", f->top);
    memset(&io, 0, sizeof(io));
    io.avdb_bins = 3;
    io.same_passphrase = true;
    zp_config_default(&io.config);
    assert_int_equal(zp_repo_init(&f->o, &io, err, sizeof(err)), ZUPD_OK);
    r = open_repo(f);
    assert_int_equal(zupd_meta_succinct(zp_repo_meta(r, ZP_R_AVDB), &bits, &prefix), ZUPD_OK);
    assert_int_equal(bits, 3);
    assert_string_equal(prefix, "avdb-bin");
    zp_repo_free(r);
    assert_int_equal(publish(f, "x", "1", ZP_R_AVDB, &res, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(publish(f, "x", "1", ZP_R_AVDB, &res, err, sizeof(err)), ZUPD_E_EXISTS);
    assert_int_equal(publish(f, "y", "1", ZP_R_AVDB, &res, err, sizeof(err)), ZUPD_OK);
    r = open_repo(f);
    /* targets live in the bins; avdb itself was never re-signed */
    assert_int_equal(zupd_meta_target_count(zp_repo_meta(r, ZP_R_AVDB)), 0);
    assert_int_equal(zupd_meta_version(zp_repo_meta(r, ZP_R_AVDB)), 1);
    assert_int_equal(zp_promote(r, ZP_R_AVDB, "y", "1", "daily", false, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_channel_get(r, ZP_R_AVDB, "y", "daily", v, sizeof(v)), ZUPD_OK);
    assert_string_equal(v, "1");
    zp_repo_free(r);
    verify_ok(f, 2);
}

static void
test_delta_hook(void **state)
{
    static const uint8_t a[] = "the old content of a file, long enough to patch";
    static const uint8_t b[] = "the new content of a file, long enough to patch";
    uint8_t *patch = NULL;
    size_t len = 0;
    char method[16];
    int rc;

    (void)state;
    /* two non-empty files the engine handles: the contract is a patch, not
     * NOTFOUND (that is for an empty side or a file past the engine's size) */
    rc = zp_make_delta(a, sizeof(a), b, sizeof(b), 0, false, &patch, &len, method, sizeof(method));
    assert_int_equal(rc, ZUPD_OK);
    assert_non_null(patch);
    assert_true(len > 0);
    assert_true(method[0] != '\0');
    free(patch);
    /* nothing to patch from: NOTFOUND, and no patch */
    patch = NULL;
    rc = zp_make_delta(a, 0, b, sizeof(b), 0, false, &patch, &len, method, sizeof(method));
    assert_int_equal(rc, ZUPD_E_NOTFOUND);
    assert_null(patch);
    assert_int_equal(len, 0);
}

/* a passphrase per key class: "off" for root, targets, products; "on" for
 * the online ones */
static int
class_pass_fn(void *opaque, const char *key, bool confirm, char *buf, size_t cap)
{
    bool online = strcmp(key, "snapshot") == 0 || strcmp(key, "timestamp") == 0 ||
                  strcmp(key, "avdb") == 0 || strcmp(key, "log") == 0;

    (void)opaque;
    (void)confirm;
    snprintf(buf, cap, "%s", online ? "on" : "off");
    return ZUPD_OK;
}

/* init's key custody: one passphrase for both classes refused before any
 * key is written; online and offline keys in their own directories */
static void
test_init_custody(void **state)
{
    struct fx *f = *state;
    struct zp_repo_opts o = f->o;
    struct zp_init_opts io;
    struct zp_keyinfo k;
    char err[512] = "", keys[400], p[500];

    snprintf(keys, sizeof(keys), "%s/k2", f->top);
    snprintf(f->dir, sizeof(f->dir), "%s/custody", f->top);
    o.dir = f->dir;
    o.keys_dir = keys;
    memset(&io, 0, sizeof(io));
    zp_config_default(&io.config);
    assert_int_equal(zp_repo_init(&o, &io, err, sizeof(err)), ZUPD_E_PASSPHRASE);
    assert_non_null(strstr(err, "same passphrase"));
    assert_int_equal(zp_key_by_name(keys, "root-1", &k), ZUPD_E_NOTFOUND);
    assert_int_equal(zp_key_by_name(keys, "snapshot", &k), ZUPD_E_NOTFOUND);
    o.pass.fn = class_pass_fn;
    err[0] = '\0';
    assert_int_equal(zp_repo_init(&o, &io, err, sizeof(err)), ZUPD_OK);
    assert_int_equal(zp_key_by_name(keys, "root-1", &k), ZUPD_OK);
    snprintf(p, sizeof(p), "%s/offline/root-1.key", keys);
    assert_string_equal(k.path, p);
    assert_int_equal(zp_key_by_name(keys, "timestamp", &k), ZUPD_OK);
    snprintf(p, sizeof(p), "%s/online/timestamp.key", keys);
    assert_string_equal(k.path, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_opens_and_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_reuses_and_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_out_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promote_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase_and_missing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_live_blobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_sign_and_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_many_is_one_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_bins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_custody, setup, teardown),
        cmocka_unit_test(test_delta_hook),
    };
    if (zupd_init() != ZUPD_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
