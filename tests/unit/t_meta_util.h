/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_meta_util.h -- test data helpers of the metadata tests
 * (include after cmocka.h). */
#ifndef T_META_UTIL_H
#define T_META_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include <zupd/meta.h>

/* The bytes of tests/data/<rel>; fails the test when unreadable. */
static inline uint8_t *
t_slurp(const char *rel, size_t *len)
{
    char path[512];
    FILE *f;
    uint8_t *buf;
    long n = 0;

    snprintf(path, sizeof(path), "%s/%s", ZU_TESTDATA, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open '%s'", path);
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        fail_msg("cannot size '%s'", path);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parse tests/data/<rel>, asserting the result; the model when ZUPD_OK. */
static inline struct zupd_meta *
t_load(const char *rel, int want)
{
    size_t len;
    uint8_t *buf = t_slurp(rel, &len);
    struct zupd_meta *m = NULL;
    char err[256] = "";
    int rc = zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, err, sizeof(err));

    free(buf);
    if (rc != want)
        fail_msg("%s: %s (%s), want %s", rel, zupd_errname(rc), err, zupd_errname(want));
    return m;
}

#endif
