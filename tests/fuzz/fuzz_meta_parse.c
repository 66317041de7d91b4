/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_meta_parse.c -- the TUF metadata parser: parse any type;
 * on success exercise the accessors, serialize, re-parse and require the
 * same document (parse(serialize(x)) == x). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/meta.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gcc does not let (void) silence warn_unused_result */
static void
ignore(int rc)
{
    (void)rc;
}

static int
visit_file(void *opaque, const char *name, const struct zupd_meta_file *f)
{
    (void)opaque;
    if (name == NULL || f->version < 1)
        abort();
    return 0;
}

static int
visit_target(void *opaque, const char *path, const struct zupd_target *t)
{
    const struct zupd_meta *m = opaque;
    struct zupd_meta_child c;
    size_t cur = 0, n = 0;

    if (t->hashes.count < 1)
        abort();
    while (n < 64 && zupd_meta_child_next(m, path, &cur, &c) == ZUPD_OK)
        n++;
    return 0;
}

static void
same(const struct zupd_meta *a, const struct zupd_meta *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t xl, yl;

    if (zupd_meta_signed_bytes(a, &x, &xl) != ZUPD_OK ||
        zupd_meta_signed_bytes(b, &y, &yl) != ZUPD_OK || xl != yl || memcmp(x, y, xl) != 0)
        abort();
    free(x);
    free(y);
    if (zupd_meta_type(a) != zupd_meta_type(b) || zupd_meta_version(a) != zupd_meta_version(b) ||
        zupd_meta_expires(a) != zupd_meta_expires(b) ||
        zupd_meta_signature_count(a) != zupd_meta_signature_count(b))
        abort();
}

/* serialize m, parse it back, require the same document */
static void
roundtrip(const struct zupd_meta *m, unsigned flags)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_meta *r = NULL;
    uint8_t *text = NULL;
    size_t len;
    char err[256];

    if (zupd_meta_serialize(m, flags, &text, &len) != ZUPD_OK)
        abort();
    lim.max_json_bytes = len + 1;
    if (zupd_meta_parse(text, len, &lim, zupd_meta_type(m), &r, err, sizeof(err)) != ZUPD_OK)
        abort();
    same(m, r);
    zupd_meta_free(r);
    free(text);
}

/* The mirror's changes on an arbitrary valid document: whatever succeeds
 * must leave a document that parses back to itself. */
static void
mutate(struct zupd_meta *m)
{
    static const char key[] =
        "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":"
        "\"3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\"}}";
    const char *const paths[] = {"fuzz/*"};
    struct zupd_hashes h = {.has_sha256 = true};
    struct zupd_meta_file f = {.version = 1, .has_length = true, .length = 7};
    char id[65];
    uint64_t v = zupd_meta_version(m);

    if (v < (uint64_t)INT64_MAX)
        ignore(zupd_meta_set_version(m, v + 1));
    ignore(zupd_meta_set_expires(m, zupd_meta_expires(m) + 86400));
    switch (zupd_meta_type(m)) {
    case ZUPD_META_ROOT:
        if (zupd_meta_add_key(m, "timestamp", (const uint8_t *)key, sizeof(key) - 1, id,
                              sizeof(id)) == ZUPD_OK) {
            ignore(zupd_meta_set_threshold(m, "timestamp", 2));
            ignore(zupd_meta_revoke_key(m, "timestamp", id));
        }
        ignore(zupd_meta_set_consistent_snapshot(m, true));
        break;
    case ZUPD_META_TARGETS:
        ignore(zupd_meta_set_target(m, "fuzz/x", 1, &h, (const uint8_t *)"{\"a\":[1]}", 9));
        if (zupd_meta_add_delegation(m, "fz", false, paths, 1, NULL, 0) == ZUPD_OK) {
            ignore(
                zupd_meta_add_key(m, "fz", (const uint8_t *)key, sizeof(key) - 1, id, sizeof(id)));
            roundtrip(m, 0);
            ignore(zupd_meta_remove_delegation(m, "fz"));
        } else {
            ignore(
                zupd_meta_add_key(m, NULL, (const uint8_t *)key, sizeof(key) - 1, id, sizeof(id)));
        }
        ignore(zupd_meta_remove_target(m, "fuzz/x"));
        break;
    case ZUPD_META_SNAPSHOT:
        ignore(zupd_meta_set_file(m, "fz.json", &f));
        break;
    case ZUPD_META_TIMESTAMP:
        ignore(zupd_meta_set_file(m, "snapshot.json", &f));
        break;
    case ZUPD_META_ANY:
        abort();
    }
    ignore(zupd_meta_add_signature(m, "fz", "00"));
    roundtrip(m, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_meta *m = NULL;
    char err[256], name[ZUPD_ROLE_NAME_MAX];
    unsigned bits;
    const char *prefix;

    lim.max_json_bytes = 1u << 20;
    if (zupd_meta_parse(data, size, &lim, ZUPD_META_ANY, &m, err, sizeof(err)) != ZUPD_OK)
        return 0;
    ignore(zupd_meta_file_foreach(m, visit_file, NULL));
    ignore(zupd_meta_target_foreach(m, visit_target, m));
    if (zupd_meta_succinct(m, &bits, &prefix) == ZUPD_OK &&
        zupd_meta_succinct_bin_name(m, (uint32_t)((1ull << bits) - 1), name, sizeof(name)) !=
            ZUPD_OK)
        abort();
    /* self-verification runs the whole verify path; the result does not matter */
    ignore(zupd_meta_verify_role(m, "root", m, err, sizeof(err)));
    if (zupd_meta_delegation_count(m) > 0)
        ignore(zupd_meta_verify_role(m, zupd_meta_delegation_name(m, 0), m, err, sizeof(err)));
    if (zupd_meta_succinct(m, &bits, &prefix) == ZUPD_OK &&
        zupd_meta_succinct_bin_name(m, 0, name, sizeof(name)) == ZUPD_OK)
        ignore(zupd_meta_verify_role(m, name, m, err, sizeof(err)));
    roundtrip(m, ZUPD_META_PRETTY);
    roundtrip(m, 0);
    mutate(m);
    zupd_meta_free(m);
    return 0;
}
