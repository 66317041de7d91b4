/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_buf.c -- capped growing buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zu/internal.h"

static void
test_grow_and_detach(void **state)
{
    struct zu_buf b;
    uint8_t *out;
    size_t len;

    (void)state;
    zu_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(zu_buf_addf(&b, "%03d", i), ZUPD_OK);
    assert_int_equal(b.len, 3000);
    assert_memory_equal(b.p + 2997, "999", 3);
    assert_int_equal(zu_buf_detach(&b, &out, &len), ZUPD_OK);
    assert_int_equal(len, 3000);
    assert_int_equal(out[3000], 0);
    assert_null(b.p);
    free(out);
    zu_buf_release(&b);
}

static void
test_cap_is_enforced(void **state)
{
    struct zu_buf b;

    (void)state;
    zu_buf_init(&b, 8);
    assert_int_equal(zu_buf_addstr(&b, "12345678"), ZUPD_OK);
    assert_int_equal(zu_buf_addstr(&b, "9"), ZUPD_E_TOOBIG);
    assert_int_equal(b.len, 8);
    assert_int_equal(zu_buf_add(&b, "x", SIZE_MAX), ZUPD_E_TOOBIG);
    zu_buf_release(&b);
}

static void
test_detach_empty(void **state)
{
    struct zu_buf b;
    uint8_t *out;
    size_t len;

    (void)state;
    zu_buf_init(&b, 0);
    assert_int_equal(zu_buf_detach(&b, &out, &len), ZUPD_OK);
    assert_non_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    free(out);
}

/* ZU_GROW: doubles from 8, stops at the cap, and leaves the array and its
 * capacity as they were when it refuses. */
static void
test_zu_grow(void **state)
{
    uint32_t *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(ZU_GROW(&v, &cap, 1, 100), ZUPD_OK);
    assert_non_null(v);
    assert_int_equal(cap, 8);
    assert_int_equal(ZU_GROW(&v, &cap, 8, 100), ZUPD_OK); /* fits: no change */
    assert_int_equal(cap, 8);
    assert_int_equal(ZU_GROW(&v, &cap, 9, 100), ZUPD_OK);
    assert_int_equal(cap, 16);
    v[15] = 7;
    assert_int_equal(ZU_GROW(&v, &cap, 70, 100), ZUPD_OK); /* 64 is short: 100 */
    assert_int_equal(cap, 100);
    assert_int_equal(v[15], 7);
    assert_int_equal(ZU_GROW(&v, &cap, 101, 100), ZUPD_E_TOOBIG);
    assert_int_equal(cap, 100);
    assert_int_equal(v[15], 7);
    /* no cap: only the size_t bound, which a huge need trips */
    assert_int_equal(ZU_GROW(&v, &cap, SIZE_MAX / 2, 0), ZUPD_E_TOOBIG);
    assert_int_equal(cap, 100);
    free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_detach),
        cmocka_unit_test(test_cap_is_enforced),
        cmocka_unit_test(test_detach_empty),
        cmocka_unit_test(test_zu_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
