/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_plan.c -- delta chain planning: direct deltas, chains over
 * earlier releases, the blob's size as the budget, fewest steps on a tie,
 * the step bound, cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

/* Content 'x' is 32 bytes of x. */
static const uint8_t *
H(char x)
{
    static uint8_t h[256][32];
    memset(h[(unsigned char)x], x, 32);
    return h[(unsigned char)x];
}

struct rel {
    struct zupd_manifest m;
    struct zupd_file_entry f;
    struct zupd_delta_ref d[4];
};

/* A release whose file "bin/app" has content `to`, with deltas from
 * from[i] of sizes size[i] (from ends with 0). */
static void
rel_init(struct rel *r, char to, const char *from, const uint64_t *size)
{
    memset(r, 0, sizeof(*r));
    r->m.files = &r->f;
    r->m.n_files = 1;
    r->f.path = (char *)(uintptr_t) "bin/app";
    r->f.size = 1000;
    memcpy(r->f.sha256, H(to), 32);
    r->f.blob_size = 500;
    r->f.deltas = r->d;
    for (size_t i = 0; from[i] != 0; i++) {
        memcpy(r->d[i].from_sha256, H(from[i]), 32);
        memset(r->d[i].sha256, 'a' + (int)i, 32);
        r->d[i].size = size[i];
        r->f.n_deltas++;
    }
}

static const char *local_set;

static bool
is_local(void *opaque, const uint8_t *sha)
{
    (void)opaque;
    return sha[0] != 0 && strchr(local_set, (char)sha[0]) != NULL;
}

static void
direct(void **state)
{
    struct rel n;
    const struct zupd_manifest *ms[] = {&n.m};
    struct zu_plan p;

    (void)state;
    rel_init(&n, 'N', "AB", (const uint64_t[]){10, 5});
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 1, "bin/app", H('N'), 500, 1, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.cost, 10);
    assert_memory_equal(p.from_sha256, H('A'), 32);
    assert_ptr_equal(p.steps[0].delta, &n.d[0]);
    assert_memory_equal(p.steps[0].to_sha256, H('N'), 32);
    /* both installed: the smaller */
    local_set = "AB";
    assert_int_equal(zu_plan_chain(ms, 1, "bin/app", H('N'), 500, 1, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.cost, 5);
    /* nothing installed, or not cheaper than the blob */
    local_set = "C";
    assert_int_equal(zu_plan_chain(ms, 1, "bin/app", H('N'), 500, 1, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    assert_int_equal(p.n_steps, 0);
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 1, "bin/app", H('N'), 10, 1, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    /* another path has no edges */
    assert_int_equal(zu_plan_chain(ms, 1, "bin/other", H('N'), 500, 4, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
}

static void
chain(void **state)
{
    struct rel n, c, b;
    const struct zupd_manifest *ms[] = {&n.m, &c.m, &b.m};
    struct zu_plan p;

    (void)state;
    /* A -> B (20) -> C (30) -> N (40): installed A, K = 1 */
    rel_init(&n, 'N', "C", (const uint64_t[]){40});
    rel_init(&c, 'C', "B", (const uint64_t[]){30});
    rel_init(&b, 'B', "A", (const uint64_t[]){20});
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 500, 8, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 3);
    assert_int_equal(p.cost, 90);
    assert_memory_equal(p.from_sha256, H('A'), 32);
    assert_memory_equal(p.steps[0].to_sha256, H('B'), 32);
    assert_memory_equal(p.steps[1].to_sha256, H('C'), 32);
    assert_memory_equal(p.steps[2].to_sha256, H('N'), 32);
    assert_ptr_equal(p.steps[0].delta, &b.d[0]);
    assert_ptr_equal(p.steps[2].delta, &n.d[0]);
    assert_int_equal(p.steps[1].to_size, 1000);
    /* the sum must beat the blob */
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 90, 8, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    /* the step bound */
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 500, 2, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    /* a missing middle release breaks the chain */
    assert_int_equal(zu_plan_chain(ms, 2, "bin/app", H('N'), 500, 8, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    /* B installed too: the shorter, cheaper chain from B */
    local_set = "AB";
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 500, 8, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 2);
    assert_int_equal(p.cost, 70);
    assert_memory_equal(p.from_sha256, H('B'), 32);
}

static void
cheapest(void **state)
{
    struct rel n, b;
    const struct zupd_manifest *ms[] = {&n.m, &b.m};
    struct zu_plan p;

    (void)state;
    /* direct A -> N costs 100, A -> B -> N costs 60: the chain */
    rel_init(&n, 'N', "AB", (const uint64_t[]){100, 30});
    rel_init(&b, 'B', "A", (const uint64_t[]){30});
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 2, "bin/app", H('N'), 500, 8, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 2);
    assert_int_equal(p.cost, 60);
    /* a tie: the direct delta (fewer steps) */
    n.d[0].size = 60;
    assert_int_equal(zu_plan_chain(ms, 2, "bin/app", H('N'), 500, 8, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.cost, 60);
}

static void
cycles(void **state)
{
    struct rel n, b, a;
    const struct zupd_manifest *ms[] = {&n.m, &b.m, &a.m};
    struct zu_plan p;

    (void)state;
    /* B <-> A both ways, N from B; installed A; a delta to itself */
    rel_init(&n, 'N', "BN", (const uint64_t[]){5, 1});
    rel_init(&b, 'B', "A", (const uint64_t[]){7});
    rel_init(&a, 'A', "B", (const uint64_t[]){3});
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 500, 8, is_local, NULL, &p), ZUPD_OK);
    assert_int_equal(p.n_steps, 2);
    assert_int_equal(p.cost, 12);
    /* the wanted content installed is never a start (it is linked) */
    local_set = "N";
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), 500, 8, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
    /* huge signed sizes do not wrap */
    b.d[0].size = UINT64_MAX - 2;
    local_set = "A";
    assert_int_equal(zu_plan_chain(ms, 3, "bin/app", H('N'), UINT64_MAX, 8, is_local, NULL, &p),
                     ZUPD_E_NOTFOUND);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direct),
        cmocka_unit_test(chain),
        cmocka_unit_test(cheapest),
        cmocka_unit_test(cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
