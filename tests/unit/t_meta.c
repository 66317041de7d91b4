/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_meta.c -- the TUF metadata model: good documents of each
 * type, signature chains (our vectors and python-tuf's), bad inputs, expiry,
 * limits. Path matching and building are in t_meta_match.c / t_meta_build.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <zupd/meta.h>

#include "t_meta_util.h"

#define EXP_2030 1893456000 /* 2030-01-01T00:00:00Z */

static void
test_good_root(void **state)
{
    struct zupd_meta *m = t_load("good/meta/root.json", ZUPD_OK);
    uint64_t thr;
    size_t n;

    (void)state;
    assert_int_equal(zupd_meta_type(m), ZUPD_META_ROOT);
    assert_string_equal(zupd_meta_type_name(zupd_meta_type(m)), "root");
    assert_int_equal(zupd_meta_version(m), 1);
    assert_int_equal(zupd_meta_expires(m), EXP_2030);
    assert_string_equal(zupd_meta_spec_version(m), "1.0.31");
    assert_true(zupd_meta_consistent_snapshot(m));
    assert_int_equal(zupd_meta_signature_count(m), 1);
    for (size_t i = 0; i < 4; i++) {
        static const char *const roles[] = {"root", "timestamp", "snapshot", "targets"};
        assert_int_equal(zupd_meta_role(m, roles[i], &thr, &n), ZUPD_OK);
        assert_int_equal(thr, 1);
        assert_int_equal(n, 1);
        assert_true(zupd_meta_has_key(m, zupd_meta_role_keyid(m, roles[i], 0)));
    }
    assert_null(zupd_meta_role_keyid(m, "root", 1));
    assert_int_equal(zupd_meta_role(m, "mirror", &thr, &n), ZUPD_E_NOTFOUND);
    assert_int_equal(thr, 0);
    assert_false(zupd_meta_has_key(m, "00"));
    assert_false(zupd_meta_has_delegations(m));
    assert_int_equal(zupd_meta_file_count(m), 0);
    zupd_meta_free(m);
}

static int
count_files(void *opaque, const char *name, const struct zupd_meta_file *f)
{
    (void)name;
    (void)f;
    (*(size_t *)opaque)++;
    return 0;
}

static void
test_good_timestamp_snapshot(void **state)
{
    struct zupd_meta *ts = t_load("good/meta/timestamp.json", ZUPD_OK);
    struct zupd_meta *sn = t_load("good/meta/snapshot.json", ZUPD_OK);
    struct zupd_meta_file f;
    size_t n = 0;

    (void)state;
    assert_int_equal(zupd_meta_type(ts), ZUPD_META_TIMESTAMP);
    assert_int_equal(zupd_meta_version(ts), 7);
    assert_false(zupd_meta_consistent_snapshot(ts));
    assert_int_equal(zupd_meta_file(ts, "snapshot.json", &f), ZUPD_OK);
    assert_int_equal(f.version, 5);
    assert_true(f.has_length);
    assert_int_equal(f.length, 1000);
    assert_true(f.has_hashes && f.hashes.has_sha256 && !f.hashes.has_sha512);
    assert_false(f.hashes.malformed);
    assert_int_equal(f.hashes.sha256[0], 0xee);
    assert_int_equal(zupd_meta_file(ts, "targets.json", &f), ZUPD_E_NOTFOUND);

    assert_int_equal(zupd_meta_type(sn), ZUPD_META_SNAPSHOT);
    assert_int_equal(zupd_meta_file_count(sn), 4);
    assert_int_equal(zupd_meta_file_foreach(sn, count_files, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(zupd_meta_file(sn, "targets.json", &f), ZUPD_OK);
    assert_int_equal(f.version, 3);
    assert_false(f.has_length);
    assert_false(f.has_hashes);
    assert_int_equal(zupd_meta_file(sn, "role1.json", &f), ZUPD_OK);
    assert_true(f.has_length && f.length == 300 && !f.has_hashes);
    assert_int_equal(zupd_meta_file(sn, "bin-3.json", &f), ZUPD_OK);
    assert_true(f.hashes.has_sha512 && !f.hashes.has_sha256 && f.hashes.sha512[63] == 0xdd);
    zupd_meta_free(ts);
    zupd_meta_free(sn);
}

static void
test_good_targets(void **state)
{
    struct zupd_meta *m = t_load("good/meta/targets.json", ZUPD_OK);
    struct zupd_target t;
    uint8_t *custom = NULL;
    size_t len;
    const char *uni = "files/\xc3\xbcn\xc3\xaf"
                      "code \"quoted\".txt";

    (void)state;
    assert_int_equal(zupd_meta_type(m), ZUPD_META_TARGETS);
    assert_string_equal(zupd_meta_spec_version(m), "1.0");
    assert_int_equal(zupd_meta_target_count(m), 3);
    assert_int_equal(zupd_meta_target(m, "files/hello.txt", &t), ZUPD_OK);
    assert_int_equal(t.length, 11);
    assert_true(t.hashes.has_sha256 && t.hashes.has_sha512);
    assert_int_equal(t.hashes.count, 2);
    assert_false(t.has_custom);
    assert_int_equal(zupd_meta_target(m, uni, &t), ZUPD_OK);
    assert_int_equal(t.length, 0);
    assert_true(t.has_custom);
    assert_int_equal(zupd_meta_target_custom(m, uni, &custom, &len), ZUPD_OK);
    /* kept verbatim: canonical JSON of the parsed value */
    assert_string_equal((char *)custom,
                        "{\"n\":12345678901234,\"nested\":{\"a\":{},\"b\":[true,false,null]},"
                        "\"note\":\"line\nbreak, tab\t, quote \\\" and back\\\\slash\"}");
    assert_int_equal(len, strlen((char *)custom));
    free(custom);
    assert_int_equal(zupd_meta_target_custom(m, "files/hello.txt", &custom, &len), ZUPD_E_NOTFOUND);
    assert_null(custom);
    /* an unknown algorithm counts, the known one decodes */
    assert_int_equal(zupd_meta_target(m, "products/app/2.1.0/manifest.json", &t), ZUPD_OK);
    assert_int_equal(t.hashes.count, 2);
    assert_true(t.hashes.has_sha256 && !t.hashes.has_sha512);
    assert_int_equal(zupd_meta_target(m, "nope", &t), ZUPD_E_NOTFOUND);

    assert_true(zupd_meta_has_delegations(m));
    assert_int_equal(zupd_meta_delegation_count(m), 2);
    assert_string_equal(zupd_meta_delegation_name(m, 0), "role1");
    assert_string_equal(zupd_meta_delegation_name(m, 1), "role2");
    assert_null(zupd_meta_delegation_name(m, 2));
    zupd_meta_free(m);
}

static void
test_children(void **state)
{
    struct zupd_meta *m = t_load("good/meta/targets.json", ZUPD_OK);
    struct zupd_meta *r2 = t_load("good/meta/role2.json", ZUPD_OK);
    struct zupd_meta_child c;
    size_t cur = 0;
    unsigned bits;
    const char *prefix;
    char name[64];

    (void)state;
    /* role1 by path pattern (terminating), not role2 (sha256 starts 22fe) */
    assert_int_equal(zupd_meta_child_next(m, "products/app/2.1.0/manifest.json", &cur, &c),
                     ZUPD_OK);
    assert_string_equal(c.name, "role1");
    assert_true(c.terminating);
    assert_int_equal(zupd_meta_child_next(m, "products/app/2.1.0/manifest.json", &cur, &c),
                     ZUPD_E_NOTFOUND);
    /* a/b/c1.tgz: role1's third pattern; sha256 starts 0209, not role2 */
    cur = 0;
    assert_int_equal(zupd_meta_child_next(m, "a/b/c1.tgz", &cur, &c), ZUPD_OK);
    assert_string_equal(c.name, "role1");
    assert_int_equal(zupd_meta_child_next(m, "a/b/c1.tgz", &cur, &c), ZUPD_E_NOTFOUND);
    /* role2 by hash prefix: sha256("a/path") = 927b0ecf... */
    cur = 0;
    assert_int_equal(zupd_meta_child_next(m, "a/path", &cur, &c), ZUPD_OK);
    assert_string_equal(c.name, "role2");
    assert_false(c.terminating);
    assert_int_equal(zupd_meta_child_next(m, "a/path", &cur, &c), ZUPD_E_NOTFOUND);
    cur = 0;
    assert_int_equal(zupd_meta_child_next(m, "files/hello.txt", &cur, &c), ZUPD_E_NOTFOUND);

    /* succinct: bit_length 4, sha256("avdb/x.json") = b128c028... */
    assert_int_equal(zupd_meta_succinct(r2, &bits, &prefix), ZUPD_OK);
    assert_int_equal(bits, 4);
    assert_string_equal(prefix, "bin");
    assert_int_equal(zupd_meta_succinct(m, &bits, &prefix), ZUPD_E_NOTFOUND);
    cur = 0;
    assert_int_equal(zupd_meta_child_next(r2, "avdb/x.json", &cur, &c), ZUPD_OK);
    assert_string_equal(c.name, "bin-b");
    assert_true(c.terminating);
    assert_int_equal(zupd_meta_child_next(r2, "avdb/x.json", &cur, &c), ZUPD_E_NOTFOUND);
    assert_int_equal(zupd_meta_succinct_bin_name(r2, 15, name, sizeof(name)), ZUPD_OK);
    assert_string_equal(name, "bin-f");
    assert_int_equal(zupd_meta_succinct_bin_name(r2, 16, name, sizeof(name)), ZUPD_E_MISUSE);
    assert_int_equal(zupd_meta_succinct_bin_name(r2, 1, name, 5), ZUPD_E_TOOBIG);
    assert_int_equal(zupd_meta_delegation_count(r2), 0);
    /* each bin is a role of the delegator */
    assert_int_equal(zupd_meta_role(r2, "bin-3", NULL, NULL), ZUPD_OK);
    assert_int_equal(zupd_meta_role(r2, "bin-10", NULL, NULL), ZUPD_E_NOTFOUND);
    zupd_meta_free(m);
    zupd_meta_free(r2);
}

static void
verify(const char *delegator, const char *role, const char *doc, int want)
{
    struct zupd_meta *d = t_load(delegator, ZUPD_OK);
    struct zupd_meta *s = t_load(doc, ZUPD_OK);
    char err[256];
    int rc = zupd_meta_verify_role(d, role, s, err, sizeof(err));

    if (rc != want)
        fail_msg("verify %s by %s as '%s': %s (%s), want %s", doc, delegator, role,
                 zupd_errname(rc), err, zupd_errname(want));
    zupd_meta_free(d);
    zupd_meta_free(s);
}

static void
test_verify_chain(void **state)
{
    (void)state;
    assert_int_equal(zupd_init(), ZUPD_OK);
    verify("good/meta/root.json", "root", "good/meta/root.json", ZUPD_OK);
    /* rotation: v2 is signed by the old root key and a threshold of new ones */
    verify("good/meta/root.json", "root", "good/meta/2.root.json", ZUPD_OK);
    verify("good/meta/2.root.json", "root", "good/meta/2.root.json", ZUPD_OK);
    verify("good/meta/2.root.json", "root", "good/meta/root.json", ZUPD_E_THRESHOLD);
    verify("good/meta/root.json", "timestamp", "good/meta/timestamp.json", ZUPD_OK);
    verify("good/meta/root.json", "snapshot", "good/meta/snapshot.json", ZUPD_OK);
    verify("good/meta/root.json", "targets", "good/meta/targets.json", ZUPD_OK);
    verify("good/meta/targets.json", "role1", "good/meta/role1.json", ZUPD_OK);
    verify("good/meta/targets.json", "role2", "good/meta/role2.json", ZUPD_OK);
    verify("good/meta/role2.json", "bin-3", "good/meta/bin-3.json", ZUPD_OK);
    /* keys of one role never sign for another */
    verify("good/meta/targets.json", "role2", "good/meta/role1.json", ZUPD_E_THRESHOLD);
    verify("good/meta/root.json", "timestamp", "good/meta/snapshot.json", ZUPD_E_ROLE);
    verify("good/meta/root.json", "role1", "good/meta/role1.json", ZUPD_E_ROLE);
    verify("good/meta/targets.json", "role3", "good/meta/role1.json", ZUPD_E_ROLE);
    verify("good/meta/targets.json", "role1", "good/meta/timestamp.json", ZUPD_E_ROLE);
    verify("good/meta/timestamp.json", "snapshot", "good/meta/snapshot.json", ZUPD_E_ROLE);
    verify("good/meta/role2.json", "bin-10", "good/meta/bin-3.json", ZUPD_E_ROLE);
}

static void
test_verify_python_tuf(void **state)
{
    (void)state;
    /* signed by python-tuf/securesystemslib: root RSA-PSS, the rest ed25519 */
    verify("good/python-tuf/root.json", "root", "good/python-tuf/root.json", ZUPD_OK);
    verify("good/python-tuf/root.json", "timestamp", "good/python-tuf/timestamp.json", ZUPD_OK);
    verify("good/python-tuf/root.json", "snapshot", "good/python-tuf/snapshot.json", ZUPD_OK);
    verify("good/python-tuf/root.json", "targets", "good/python-tuf/targets.json", ZUPD_OK);
    verify("good/python-tuf/targets.json", "role1", "good/python-tuf/role1.json", ZUPD_OK);
    verify("good/python-tuf/role1.json", "role2", "good/python-tuf/role2.json", ZUPD_OK);
    verify("good/python-tuf/root.json", "snapshot", "good/python-tuf/timestamp.json", ZUPD_E_ROLE);
}

static const struct {
    const char *file;
    int parse;
} bad[] = {
    {"truncated", ZUPD_E_FORMAT},
    {"duplicate-keys", ZUPD_E_FORMAT},
    {"duplicate-keys-escaped", ZUPD_E_FORMAT},
    {"float-version", ZUPD_E_FORMAT},
    {"huge-integer", ZUPD_E_FORMAT},
    {"negative-version", ZUPD_E_FORMAT},
    {"zero-version", ZUPD_E_FORMAT},
    {"wrong-type", ZUPD_E_FORMAT},
    {"bool-version", ZUPD_E_FORMAT},
    {"unknown-type", ZUPD_E_FORMAT},
    {"bad-expires", ZUPD_E_FORMAT},
    {"expires-offset", ZUPD_E_FORMAT},
    {"expires-fraction", ZUPD_E_FORMAT},
    {"spec-version-2", ZUPD_E_SPEC},
    {"spec-version-garbage", ZUPD_E_FORMAT},
    {"timestamp-no-snapshot", ZUPD_E_FORMAT},
    {"meta-version-0", ZUPD_E_FORMAT},
    {"meta-empty-hashes", ZUPD_E_FORMAT},
    {"meta-negative-length", ZUPD_E_FORMAT},
    {"duplicated-signature", ZUPD_E_FORMAT},
    {"signatures-not-list", ZUPD_E_FORMAT},
    {"signature-no-sig", ZUPD_E_FORMAT},
    {"threshold-0", ZUPD_E_FORMAT},
    {"root-missing-role", ZUPD_E_FORMAT},
    {"root-extra-role", ZUPD_E_FORMAT},
    {"root-duplicate-keyids", ZUPD_E_FORMAT},
    {"root-key-no-keyval", ZUPD_E_FORMAT},
    {"root-consistent-snapshot-string", ZUPD_E_FORMAT},
    {"paths-and-hash-prefixes", ZUPD_E_FORMAT},
    {"no-paths", ZUPD_E_FORMAT},
    {"paths-not-strings", ZUPD_E_FORMAT},
    {"terminating-missing", ZUPD_E_FORMAT},
    {"delegated-top-level-name", ZUPD_E_FORMAT},
    {"delegated-empty-name", ZUPD_E_FORMAT},
    {"duplicate-delegated-role", ZUPD_E_FORMAT},
    {"roles-and-succinct", ZUPD_E_FORMAT},
    {"delegations-no-keys", ZUPD_E_FORMAT},
    {"succinct-bit-length-33", ZUPD_E_FORMAT},
    {"succinct-bit-length-0", ZUPD_E_FORMAT},
    {"target-no-hashes", ZUPD_E_FORMAT},
    {"target-no-length", ZUPD_E_FORMAT},
    {"target-hash-not-string", ZUPD_E_FORMAT},
    /* these parse; the verify test decides */
    {"unknown-key-type", ZUPD_OK},
    {"signature-by-unknown-key", ZUPD_OK},
    {"bad-signature", ZUPD_OK},
    {"forged-version", ZUPD_OK},
    {"snapshot-signed-by-timestamp", ZUPD_OK},
    {"root-threshold-2-one-sig", ZUPD_OK},
};

static void
test_bad_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char rel[256];
        size_t len;
        uint8_t *buf;
        struct zupd_meta *m = (struct zupd_meta *)1;
        char err[256] = "";
        int rc;

        snprintf(rel, sizeof(rel), "bad/meta-%s.json", bad[i].file);
        buf = t_slurp(rel, &len);
        rc = zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, err, sizeof(err));
        if (rc != bad[i].parse)
            fail_msg("%s: %s (%s), want %s", rel, zupd_errname(rc), err,
                     zupd_errname(bad[i].parse));
        if (rc != ZUPD_OK) {
            assert_null(m);
            assert_true(strlen(err) > 0); /* a message for the caller */
        }
        zupd_meta_free(m);
        free(buf);
    }
}

static void
test_error_messages(void **state)
{
    size_t len;
    uint8_t *buf = t_slurp("bad/meta-threshold-0.json", &len);
    struct zupd_meta *m;
    char err[256];

    (void)state;
    assert_int_equal(zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, err, sizeof(err)),
                     ZUPD_E_FORMAT);
    assert_string_equal(err, "root: role 'timestamp': 'threshold' must be an integer >= 1");
    free(buf);
    buf = t_slurp("bad/meta-spec-version-2.json", &len);
    assert_int_equal(zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, err, sizeof(err)),
                     ZUPD_E_SPEC);
    assert_string_equal(err, "unsupported spec_version '2.0.0' (need 1.x)");
    free(buf);
    buf = t_slurp("bad/meta-duplicated-signature.json", &len);
    assert_int_equal(zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, err, sizeof(err)),
                     ZUPD_E_FORMAT);
    assert_non_null(strstr(err, "timestamp: several signatures by key id"));
    free(buf);
    /* the expected type */
    buf = t_slurp("good/meta/timestamp.json", &len);
    assert_int_equal(zupd_meta_parse(buf, len, NULL, ZUPD_META_SNAPSHOT, &m, err, sizeof(err)),
                     ZUPD_E_ROLE);
    assert_string_equal(err, "expected snapshot metadata, got timestamp");
    assert_int_equal(zupd_meta_parse(buf, len, NULL, ZUPD_META_TIMESTAMP, &m, NULL, 0), ZUPD_OK);
    zupd_meta_free(m);
    free(buf);
}

static void
test_bad_verify(void **state)
{
    (void)state;
    /* a key of an unknown type parses and never verifies */
    verify("bad/meta-unknown-key-type.json", "timestamp", "good/meta/timestamp.json",
           ZUPD_E_THRESHOLD);
    verify("bad/meta-unknown-key-type.json", "snapshot", "good/meta/snapshot.json", ZUPD_OK);
    /* signatures by unknown keys and by keys of other roles are ignored */
    verify("good/meta/root.json", "timestamp", "bad/meta-signature-by-unknown-key.json", ZUPD_OK);
    verify("good/meta/root.json", "timestamp", "bad/meta-bad-signature.json", ZUPD_E_THRESHOLD);
    verify("good/meta/root.json", "timestamp", "bad/meta-forged-version.json", ZUPD_E_THRESHOLD);
    verify("good/meta/root.json", "snapshot", "bad/meta-snapshot-signed-by-timestamp.json",
           ZUPD_E_THRESHOLD);
    /* threshold 2 of the new root keys: one signature is not enough */
    verify("bad/meta-root-threshold-2-one-sig.json", "root",
           "bad/meta-root-threshold-2-one-sig.json", ZUPD_E_THRESHOLD);
    verify("good/meta/2.root.json", "root", "bad/meta-root-threshold-2-one-sig.json",
           ZUPD_E_THRESHOLD);
}

static void
test_expiry_and_time(void **state)
{
    struct zupd_meta *m = t_load("good/meta/timestamp.json", ZUPD_OK);
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2000-02-29T12:34:56Z", 951827696},
        {"2030-01-01T00:00:00Z", EXP_2030},
        {"1969-12-31T23:59:59Z", -1},
        {"0001-01-01T00:00:00Z", -62135596800LL},
        {"9999-12-31T23:59:59Z", 253402300799LL},
        {"2024-02-29T00:00:00Z", 1709164800},
    };
    static const char *const no[] = {
        "2023-02-29T00:00:00Z",   "1900-02-29T00:00:00Z",
        "2030-13-01T00:00:00Z",   "2030-00-01T00:00:00Z",
        "2030-01-00T00:00:00Z",   "2030-01-01T24:00:00Z",
        "2030-01-01T00:60:00Z",   "2030-01-01T00:00:60Z",
        "2030-01-01 00:00:00Z",   "2030-01-01T00:00:00z",
        "2030-01-01T00:00:00",    "0000-01-01T00:00:00Z",
        "2030-1-01T00:00:00Z",    "+030-01-01T00:00:00Z",
        "2030-01-01T00:00:00.0Z", "",
    };
    char buf[32];
    int64_t t;

    (void)state;
    assert_false(zupd_meta_is_expired(m, EXP_2030 - 1));
    assert_true(zupd_meta_is_expired(m, EXP_2030));
    assert_true(zupd_meta_is_expired(m, EXP_2030 + 1));
    zupd_meta_free(m);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(zupd_time_parse(ok[i].s, strlen(ok[i].s), &t), ZUPD_OK);
        assert_int_equal(t, ok[i].t);
        assert_int_equal(zupd_time_format(t, buf, sizeof(buf)), ZUPD_OK);
        assert_string_equal(buf, ok[i].s);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (zupd_time_parse(no[i], strlen(no[i]), &t) != ZUPD_E_FORMAT)
            fail_msg("'%s' parsed", no[i]);
    assert_int_equal(zupd_time_format(253402300800LL, buf, sizeof(buf)), ZUPD_E_MISUSE);
    assert_int_equal(zupd_time_format(0, buf, 20), ZUPD_E_MISUSE);
}

static void
test_limits(void **state)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    size_t len;
    uint8_t *buf;
    struct zupd_meta *m;
    char err[256];

    (void)state;
    buf = t_slurp("good/meta/root.json", &len);
    lim.max_keys = 4; /* root has 5 */
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, err, sizeof(err)),
                     ZUPD_E_TOOBIG);
    assert_string_equal(err, "root: 5 keys, more than 4");
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_signatures = 0;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_json_bytes = len - 1;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_json_depth = 3;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    free(buf);

    buf = t_slurp("good/meta/snapshot.json", &len);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_entries = 3;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    free(buf);

    buf = t_slurp("good/meta/targets.json", &len);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_roles = 1;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
    lim.max_paths = 2;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_E_TOOBIG);
    lim.max_paths = 4;
    assert_int_equal(zupd_meta_parse(buf, len, &lim, ZUPD_META_ANY, &m, NULL, 0), ZUPD_OK);
    zupd_meta_free(m);
    free(buf);
}

static void
test_malformed_hashes(void **state)
{
    static const char doc[] =
        "{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0.0\","
        "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{"
        "\"upper\":{\"length\":1,\"hashes\":{\"sha256\":"
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}},"
        "\"short\":{\"length\":1,\"hashes\":{\"sha256\":\"aa\"}},"
        "\"unknown\":{\"length\":1,\"hashes\":{\"blake2b\":\"aa\"}}}}}";
    struct zupd_meta *m;
    struct zupd_target t;

    (void)state;
    assert_int_equal(
        zupd_meta_parse((const uint8_t *)doc, strlen(doc), NULL, ZUPD_META_ANY, &m, NULL, 0),
        ZUPD_OK);
    assert_int_equal(zupd_meta_target(m, "upper", &t), ZUPD_OK);
    assert_true(t.hashes.has_sha256 && t.hashes.malformed);
    assert_int_equal(zupd_meta_target(m, "short", &t), ZUPD_OK);
    assert_true(t.hashes.malformed);
    assert_int_equal(zupd_meta_target(m, "unknown", &t), ZUPD_OK);
    assert_true(t.hashes.count == 1 && !t.hashes.has_sha256 && !t.hashes.has_sha512);
    assert_false(t.hashes.malformed);
    zupd_meta_free(m);
}

/* python-tuf's serialization test datasets as whole documents
 * (gen/pytufcases.py): zupd accepts exactly what python-tuf accepts. */
static void
test_python_tuf_cases(void **state)
{
    char path[512];
    json_error_t jerr;
    json_t *cases, *c;
    size_t i, n_valid = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/python-tuf-cases.json", ZU_TESTDATA);
    cases = json_load_file(path, 0, &jerr);
    if (cases == NULL)
        fail_msg("%s: %s", path, jerr.text);
    assert_true(json_array_size(cases) > 100);
    json_array_foreach (cases, i, c) {
        const char *doc = json_string_value(json_object_get(c, "doc"));
        bool valid = json_is_true(json_object_get(c, "valid"));
        struct zupd_meta *m = NULL;
        char err[256] = "";
        int rc = zupd_meta_parse((const uint8_t *)doc, strlen(doc), NULL, ZUPD_META_ANY, &m, err,
                                 sizeof(err));

        if ((rc == ZUPD_OK) != valid)
            fail_msg("python-tuf %s '%s': zupd says %s (%s)",
                     json_string_value(json_object_get(c, "set")),
                     json_string_value(json_object_get(c, "name")), zupd_errname(rc), err);
        if (rc == ZUPD_OK) {
            uint8_t *text;
            size_t len;
            struct zupd_meta *r;

            n_valid++;
            assert_int_equal(zupd_meta_serialize(m, 0, &text, &len), ZUPD_OK);
            assert_int_equal(zupd_meta_parse(text, len, NULL, zupd_meta_type(m), &r, NULL, 0),
                             ZUPD_OK);
            zupd_meta_free(r);
            free(text);
        }
        zupd_meta_free(m);
    }
    assert_true(n_valid > 40);
    json_decref(cases);
}

int
main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_root),
        cmocka_unit_test(test_good_timestamp_snapshot),
        cmocka_unit_test(test_good_targets),
        cmocka_unit_test(test_children),
        cmocka_unit_test(test_verify_chain),
        cmocka_unit_test(test_verify_python_tuf),
        cmocka_unit_test(test_bad_parse),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_bad_verify),
        cmocka_unit_test(test_expiry_and_time),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed_hashes),
        cmocka_unit_test(test_python_tuf_cases),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
