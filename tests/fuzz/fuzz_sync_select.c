/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_sync_select.c -- the sync selection file parser
 * (DIR/.zupd/sync-selection, read by `verify` and `policy`) and the
 * classification and choice of the target paths it lists (the paths of a
 * vendor's metadata): no crash; whatever parses is sorted and writes back
 * to bytes that parse to the same set (parse(make(x)) == x); classification
 * takes the path apart exactly; --keep 1 keeps the newest manifest of each
 * component and every release a kept channel names, --channel keeps only
 * that channel's pointers and releases. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repo/select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* choice is quadratic in the number of paths: enough to cover it */
#define CHOOSE_MAX 256

static void
check(int ok)
{
    if (!ok)
        abort();
}

/* The classification of path is the path taken apart. */
static void
check_classify(const struct zp_sel *s, const char *path)
{
    size_t len = strlen(path), g = s->group_len;
    const char *rest = path + g;

    switch (s->kind) {
    case ZP_SEL_OTHER:
        check(g == 0);
        break;
    case ZP_SEL_MANIFEST: {
        size_t vl = strlen(s->version);
        /* "<role>/<component>" "/" version "/manifest.json" */
        check(g > 2 && g + 1 + vl + 14 == len && memchr(path, '/', g) != NULL);
        check(rest[0] == '/' && memcmp(rest + 1, s->version, vl) == 0 &&
              strcmp(rest + 1 + vl, "/manifest.json") == 0);
        check(zupd_name_is_safe(s->version) && s->channel[0] == '\0');
        break;
    }
    case ZP_SEL_CHANNEL: {
        size_t cl = strlen(s->channel);
        check(g > 2 && g + 10 + cl + 5 == len && memchr(path, '/', g) != NULL);
        check(memcmp(rest, "/channels/", 10) == 0 && memcmp(rest + 10, s->channel, cl) == 0 &&
              strcmp(rest + 10 + cl, ".json") == 0);
        check(zupd_name_is_safe(s->channel) && s->version[0] == '\0');
        break;
    }
    default:
        abort();
    }
    if (s->kind != ZP_SEL_OTHER) { /* four segments, the first two not empty */
        const char *a = strchr(path, '/');
        size_t slashes = 0;

        for (size_t i = 0; i < len; i++)
            slashes += path[i] == '/';
        check(slashes == 3 && a != NULL && a > path && a + 1 < rest);
    }
}

static int
same_group(const struct zp_sel *a, const char *pa, const struct zp_sel *b, const char *pb)
{
    return a->group_len == b->group_len && memcmp(pa, pb, a->group_len) == 0;
}

/* Is manifest i named by a channel pointer of its component that is kept? */
static int
named_by_kept_channel(const struct zp_sel *v, char *const *p, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++)
        if (v[j].kind == ZP_SEL_CHANNEL && v[j].keep && same_group(&v[j], p[j], &v[i], p[i]) &&
            strcmp(v[j].version, v[i].version) == 0)
            return 1;
    return 0;
}

static void
check_choose(struct zp_sel *v, char *const *p, size_t n)
{
    const char *const *paths = (const char *const *)p;
    const char *const stable[] = {"stable"};

    /* no retention: everything */
    check(zp_sel_choose(v, paths, n, NULL, 0, 0) == ZUPD_OK);
    for (size_t i = 0; i < n; i++)
        check(v[i].keep);
    /* --keep 1: every channel; per component the newest manifest (ties:
     * one of them) and what the channels name */
    check(zp_sel_choose(v, paths, n, NULL, 0, 1) == ZUPD_OK);
    for (size_t i = 0; i < n; i++) {
        size_t kept_newest = 0;

        if (v[i].kind != ZP_SEL_MANIFEST) {
            check(v[i].keep);
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            if (v[j].kind != ZP_SEL_MANIFEST || !same_group(&v[i], p[i], &v[j], p[j]))
                continue;
            if (v[j].keep && !named_by_kept_channel(v, p, n, j)) {
                kept_newest++;
                check(zupd_version_cmp(v[j].version, v[i].version) >= 0);
            }
        }
        check(kept_newest <= 1);
        if (named_by_kept_channel(v, p, n, i))
            check(v[i].keep);
        if (!v[i].keep) { /* a newer (or as new) one is kept */
            size_t j;
            for (j = 0; j < n; j++)
                if (v[j].kind == ZP_SEL_MANIFEST && v[j].keep &&
                    same_group(&v[i], p[i], &v[j], p[j]) &&
                    zupd_version_cmp(v[j].version, v[i].version) >= 0)
                    break;
            check(j < n);
        }
    }
    /* --channel stable: its pointers and the releases they name, nothing else */
    check(zp_sel_choose(v, paths, n, stable, 1, 0) == ZUPD_OK);
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == ZP_SEL_OTHER)
            check(v[i].keep);
        else if (v[i].kind == ZP_SEL_CHANNEL)
            check(v[i].keep == (strcmp(v[i].channel, "stable") == 0));
        else
            check(v[i].keep == (named_by_kept_channel(v, p, n, i) != 0));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_sel_set set, back;
    struct zp_sel *v;
    uint8_t *text = NULL;
    size_t len = 0, n;

    if (zp_sel_set_parse(data, size, &set) != ZUPD_OK)
        return 0;
    for (size_t i = 0; i < set.n; i++) {
        check(set.v[i][0] != '\0' && strchr(set.v[i], '\n') == NULL);
        check(i == 0 || strcmp(set.v[i - 1], set.v[i]) <= 0);
        check(zp_sel_set_has(&set, set.v[i]));
    }
    check(!zp_sel_set_has(&set, "") && !zp_sel_set_has(&set, "\n"));
    /* round trip: the file written from the set is no longer than what was
     * read (empty lines go) and reads back as the same set */
    check(zp_sel_file_make((const char *const *)set.v, set.n, &text, &len) == ZUPD_OK);
    check(len <= size);
    check(zp_sel_set_parse(text, len, &back) == ZUPD_OK && back.n == set.n);
    for (size_t i = 0; i < set.n; i++)
        check(strcmp(set.v[i], back.v[i]) == 0);
    zp_sel_set_release(&back);
    free(text);

    /* the paths as a sync sees them; each channel pointer names the first
     * release listed for its component, if any */
    n = set.n < CHOOSE_MAX ? set.n : CHOOSE_MAX;
    v = calloc(n > 0 ? n : 1, sizeof(*v));
    if (v == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        zp_sel_classify(&v[i], set.v[i]);
        check_classify(&v[i], set.v[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; v[i].kind == ZP_SEL_CHANNEL && j < n; j++)
            if (v[j].kind == ZP_SEL_MANIFEST && same_group(&v[i], set.v[i], &v[j], set.v[j])) {
                memcpy(v[i].version, v[j].version, sizeof(v[i].version));
                break;
            }
    check_choose(v, set.v, n);
    free(v);
    zp_sel_set_release(&set);
    return 0;
}
