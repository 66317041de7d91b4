/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_delta.c -- delta create/apply: round trips, hostile patches, golden files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <bzlib.h>
#include <lzma.h>
#include <zstd.h>

#include <zupd/delta.h>
#include <zupd/hash.h>

#include "delta/create.h"
#include "delta/create_int.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/delta_x86.h"
#include "zu/internal.h"

#include "../fuzz/exe_ref.h"

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state;

static uint32_t
rng(void)
{
    /* xorshift64*: deterministic test data */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* n bytes of rng() from seed (rng then goes on from there). */
static uint8_t *
rand_buf(size_t n, uint64_t seed)
{
    uint8_t *b = malloc(n ? n : 1);

    assert_non_null(b);
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng();
    return b;
}

struct mem_sink {
    uint8_t *p;
    size_t len, cap;
    unsigned calls;
    int fail_with; /* non-zero: every write fails with this */
};

static int
mem_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct mem_sink *m = opaque;
    m->calls++;
    if (m->fail_with != 0)
        return m->fail_with;
    if (m->len + len > m->cap) {
        size_t nc = (m->len + len) * 2 + 16;
        uint8_t *np = realloc(m->p, nc);
        if (np == NULL)
            return ZUPD_E_NOMEM;
        m->p = np;
        m->cap = nc;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return ZUPD_OK;
}

static int
apply_mem(const uint8_t *old, size_t olen, const uint8_t *patch, size_t plen, struct mem_sink *m)
{
    struct zupd_delta_sink s = {m, mem_write};
    free(m->p);
    memset(m, 0, sizeof(*m));
    return zupd_delta_apply(old, olen, patch, plen, 0, &s, NULL);
}

/* apply_mem through zupd_delta_apply_flags with flags */
static int
apply_mem_flags(const uint8_t *old, size_t olen, const uint8_t *patch, size_t plen, unsigned flags,
                struct mem_sink *m)
{
    struct zupd_delta_sink s = {m, mem_write};
    free(m->p);
    memset(m, 0, sizeof(*m));
    return zupd_delta_apply_flags(old, olen, patch, plen, 0, flags, &s, NULL);
}

static const int methods[] = {ZP_DELTA_AUTO, ZUPD_DELTA_BSDIFF, ZUPD_DELTA_ZSTD,
                              ZUPD_DELTA_BSDIFF40, ZUPD_DELTA_LZMA};

static void
round_trip(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen)
{
    for (size_t i = 0; i < ZU_ARRAY_LEN(methods); i++) {
        struct zp_delta_opts o = {methods[i], 3, 0};
        struct zupd_delta_info info;
        struct mem_sink m = {0};
        uint8_t *patch = NULL;
        size_t plen = 0;

        assert_int_equal(zp_delta_create(old, olen, nw, nlen, &o, &patch, &plen, NULL), ZUPD_OK);
        assert_int_equal(zupd_delta_info(patch, plen, &info), ZUPD_OK);
        if (methods[i] != ZP_DELTA_AUTO)
            assert_int_equal(info.method, methods[i]);
        assert_int_equal(info.new_size, nlen);
        assert_int_equal(apply_mem(old, olen, patch, plen, &m), ZUPD_OK);
        assert_int_equal(m.len, nlen);
        if (nlen > 0)
            assert_memory_equal(m.p, nw, nlen);
        free(m.p);
        free(patch);
    }
}

/* old: a "binary" of pseudo-random code with 4-byte pointers; new: the same
 * with an insertion, a deletion and pointers shifted, as a rebuild does. */
static void
make_binary_pair(size_t n, uint8_t **old, uint8_t **nw, size_t *nlen)
{
    uint8_t *o = malloc(n), *w = malloc(n + 4096);
    size_t j = 0;

    assert_non_null(o);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)(i % 64 < 8 ? i / 64 : rng() % 32);
    for (size_t i = 0; i < n; i++) {
        if (i == n / 3)
            for (int k = 0; k < 1000; k++)
                w[j++] = (uint8_t)rng();
        if (i >= n / 2 && i < n / 2 + 500)
            continue;
        w[j++] = (uint8_t)(i % 64 < 8 ? (i / 64) + 3 : o[i]);
    }
    *old = o;
    *nw = w;
    *nlen = j;
}

/* ------------------------------------------------------------------ round trips */

static void
test_round_trip_kinds(void **state)
{
    uint8_t *o, *w, *t1, *t2;
    size_t wl, n = 200000;
    char line[64];
    size_t l1 = 0, l2 = 0;

    (void)state;
    rng_state = 42;
    make_binary_pair(n, &o, &w, &wl);
    round_trip(o, n, w, wl);
    /* random data against unrelated random data */
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)rng();
    for (size_t i = 0; i < wl; i++)
        w[i] = (uint8_t)rng();
    round_trip(o, n, w, wl);
    /* zeros vs ones: long runs */
    memset(o, 0, n);
    memset(w, 1, wl);
    round_trip(o, n, w, wl);
    /* text: sorted lines, some removed and added */
    t1 = malloc(n * 2);
    t2 = malloc(n * 2);
    assert_non_null(t1);
    assert_non_null(t2);
    for (unsigned i = 0; l1 < n; i++) {
        int k = snprintf(line, sizeof(line), "domain-%06u.example\n", i * 7);
        memcpy(t1 + l1, line, (size_t)k);
        l1 += (size_t)k;
        if (i % 97 == 5)
            continue;
        if (i % 89 == 3) {
            k = snprintf(line, sizeof(line), "new-%06u.example\n", i);
            memcpy(t2 + l2, line, (size_t)k);
            l2 += (size_t)k;
        }
        k = snprintf(line, sizeof(line), "domain-%06u.example\n", i * 7);
        memcpy(t2 + l2, line, (size_t)k);
        l2 += (size_t)k;
    }
    round_trip(t1, l1, t2, l2);
    free(t1);
    free(t2);
    free(o);
    free(w);
}

/* New files over 8 MiB are scanned as two halves whose plans are joined. */
static void
test_round_trip_halves(void **state)
{
    static const int m2[] = {ZUPD_DELTA_BSDIFF, ZUPD_DELTA_BSDIFF40};
    uint8_t *o, *w;
    size_t wl, n = (9u << 20) + 12345;

    (void)state;
    rng_state = 9;
    make_binary_pair(n, &o, &w, &wl);
    for (size_t i = 0; i < ZU_ARRAY_LEN(m2); i++) {
        struct zp_delta_opts opt = {m2[i], 3, 0};
        struct mem_sink m = {0};
        uint8_t *patch = NULL;
        size_t plen = 0;

        assert_int_equal(zp_delta_create(o, n, w, wl, &opt, &patch, &plen, NULL), ZUPD_OK);
        assert_true(plen < wl / 10);
        if (m2[i] == ZUPD_DELTA_BSDIFF) {
            /* identical halves: the join adds no control entry (three
             * varints, a header of 82 bytes, three tiny streams) */
            uint8_t *same = NULL;
            size_t slen = 0;
            assert_int_equal(zp_delta_create(o, n, o, n, &opt, &same, &slen, NULL), ZUPD_OK);
            assert_true(slen <= 110);
            free(same);
        }
        assert_int_equal(apply_mem(o, n, patch, plen, &m), ZUPD_OK);
        assert_int_equal(m.len, wl);
        assert_memory_equal(m.p, w, wl);
        free(m.p);
        free(patch);
    }
    free(o);
    free(w);
}

/* o[0..n) as text from rng(): words of ws[0..nw), each followed by a space
 * or (one in four) a newline. */
static void
put_words(uint8_t *o, size_t n, const char *const *ws, size_t nw)
{
    for (size_t i = 0; i < n;) {
        const char *t = ws[rng() % nw];
        size_t k = strlen(t);
        if (i + k + 1 > n)
            k = n - i - 1;
        memcpy(o + i, t, k);
        i += k;
        o[i++] = (uint8_t)(rng() % 4 == 0 ? '\n' : ' ');
    }
}

/* A new file mostly made of new bytes, those built of short pieces found
 * in old: one scan, the extra stream compressed with old as its prefix
 * (the hybrid), smaller than patch-from alone at the same level. */
static void
test_mostly_new_hybrid(void **state)
{
    static const char *const words[] = {"mov", "rax", "rbx", "call", "ret",  "push",   "pop",
                                        "lea", "jmp", "cmp", "0x40", "0x1f", "[rsp+8]"};
    size_t n = 400000, wl = 0;
    uint8_t *o = malloc(n + 16), *w = malloc(2 * n);
    struct zp_delta_opts a = {ZP_DELTA_AUTO, 0, 0}, z = {ZUPD_DELTA_ZSTD, 0, 0},
                         b = {ZUPD_DELTA_BSDIFF, 0, 0};
    uint8_t *pa = NULL, *pz = NULL, *pb = NULL;
    size_t la = 0, lz = 0, lb = 0;
    struct mem_sink m = {0};

    (void)state;
    assert_non_null(o);
    assert_non_null(w);
    rng_state = 77;
    put_words(o, n, words, ZU_ARRAY_LEN(words)); /* "code": words and operands */
    /* a third copied from old with a few changed bytes, the rest pieces of
     * 12-40 bytes from anywhere in old */
    memcpy(w, o, n / 3);
    for (size_t i = 0; i < n / 3; i += 997)
        w[i] ^= 0x20;
    wl = n / 3;
    while (wl < n + n / 4) {
        size_t k = 12 + rng() % 29, at = rng() % (n - k);
        memcpy(w + wl, o + at, k);
        wl += k;
    }
    assert_int_equal(zp_delta_create(o, n, w, wl, &b, &pb, &lb, NULL), ZUPD_OK);
    assert_int_equal(zp_delta_create(o, n, w, wl, &z, &pz, &lz, NULL), ZUPD_OK);
    assert_int_equal(pb[5], ZUPD_DELTA_BSDIFF);
    assert_true(lb < lz);
    assert_int_equal(apply_mem(o, n, pb, lb, &m), ZUPD_OK);
    assert_int_equal(m.len, wl);
    assert_memory_equal(m.p, w, wl);
    /* auto: the smallest of them and patch-from in LZMA2 (which wins
     * on this text) */
    assert_int_equal(zp_delta_create(o, n, w, wl, &a, &pa, &la, NULL), ZUPD_OK);
    assert_true(la <= lb);
    assert_int_equal(apply_mem(o, n, pa, la, &m), ZUPD_OK);
    assert_int_equal(m.len, wl);
    assert_memory_equal(m.p, w, wl);
    free(m.p);
    free(pa);
    free(pb);
    free(pz);
    free(o);
    free(w);
}

/* The overnight level (exhaustive search, every stream at 22, extra with
 * old as prefix, patch-from too) round-trips and is no larger than the
 * default level. */
static void
test_round_trip_overnight(void **state)
{
    uint8_t *o, *w;
    size_t wl, n = 120000;

    (void)state;
    rng_state = 5;
    make_binary_pair(n, &o, &w, &wl);
    for (int m = 0; m < 2; m++) {
        struct zp_delta_opts d = {m ? ZUPD_DELTA_BSDIFF : ZP_DELTA_AUTO, 0, 0};
        struct zp_delta_opts x = {d.method, ZP_DELTA_LEVEL_MAX, 0};
        uint8_t *pd = NULL, *px = NULL;
        size_t ld = 0, lx = 0;
        struct mem_sink s = {0};

        assert_int_equal(zp_delta_create(o, n, w, wl, &d, &pd, &ld, NULL), ZUPD_OK);
        assert_int_equal(zp_delta_create(o, n, w, wl, &x, &px, &lx, NULL), ZUPD_OK);
        assert_true(lx <= ld);
        assert_int_equal(apply_mem(o, n, px, lx, &s), ZUPD_OK);
        assert_int_equal(s.len, wl);
        assert_memory_equal(s.p, w, wl);
        free(s.p);
        free(pd);
        free(px);
    }
    free(o);
    free(w);
}

static void
test_round_trip_edges(void **state)
{
    static const uint8_t a[] = "the quick brown fox jumps over the lazy dog";
    static const uint8_t b[] = "the quick brown cat jumps over the lazy dog!";

    (void)state;
    round_trip(NULL, 0, NULL, 0);           /* both empty */
    round_trip(a, sizeof(a), NULL, 0);      /* new empty */
    round_trip(NULL, 0, b, sizeof(b));      /* old empty */
    round_trip(a, sizeof(a), a, sizeof(a)); /* identical */
    round_trip(a, 1, b, 1);                 /* one byte */
    round_trip(a, sizeof(a), b, sizeof(b));
}

static void
test_identical_is_small(void **state)
{
    uint8_t *o, *w, *patch = NULL;
    size_t wl, plen = 0;
    struct zp_delta_opts opt = {ZP_DELTA_AUTO, 0, 0};

    (void)state;
    rng_state = 7;
    make_binary_pair(300000, &o, &w, &wl);
    assert_int_equal(zp_delta_create(o, 300000, o, 300000, &opt, &patch, &plen, NULL), ZUPD_OK);
    assert_true(plen < 200);
    free(patch);
    free(o);
    free(w);
}

/* Sink that tells writes straight from old (zero-copy) from gathered ones. */
struct where_sink {
    struct mem_sink m;
    const uint8_t *old;
    size_t old_len, direct, writes;
};

static int
where_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct where_sink *w = opaque;
    w->writes++;
    if ((uintptr_t)buf >= (uintptr_t)w->old && (uintptr_t)buf < (uintptr_t)w->old + w->old_len)
        w->direct += len;
    return mem_write(&w->m, buf, len);
}

static void
test_unchanged_from_old(void **state)
{
    /* 4 MiB: closer changes (every 5 KB) in the first 256 KiB, sparse ones
     * (every 50 KB) after: long zero runs of the diff go out from old, short
     * ones are gathered, and the output is the same either way */
    const size_t n = 4u << 20;
    uint8_t *o = malloc(n), *w = malloc(n), *patch = NULL;
    struct zp_delta_opts opt = {ZUPD_DELTA_BSDIFF, 3, 0};
    struct where_sink ws = {0};
    struct zupd_delta_sink s = {&ws, where_write};
    size_t plen = 0;

    (void)state;
    assert_non_null(o);
    assert_non_null(w);
    rng_state = 1234;
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)rng();
    memcpy(w, o, n);
    for (size_t i = 50; i < n / 16; i += 5001) /* 16 new random bytes each */
        for (size_t k = 0; k < 16; k++)
            w[i + k] = (uint8_t)(w[i + k] + 1 + rng() % 255);
    for (size_t i = n / 16; i + 16 < n; i += 50001)
        for (size_t k = 0; k < 16; k++)
            w[i + k] = (uint8_t)(w[i + k] + 1 + rng() % 255);
    assert_int_equal(zp_delta_create(o, n, w, n, &opt, &patch, &plen, NULL), ZUPD_OK);
    /* the diff stream is zero runs: one zero-run stream, or split (flag bit
     * 0 of byte 7: runs and literals as two streams) */
    assert_true(((patch[6] >> 2) & 3) == 3 || (patch[7] & 1) != 0);
    for (unsigned flags = 0; flags <= ZUPD_DELTA_NO_HASHES; flags += ZUPD_DELTA_NO_HASHES) {
        free(ws.m.p);
        memset(&ws, 0, sizeof(ws));
        ws.old = o;
        ws.old_len = n;
        assert_int_equal(zupd_delta_apply_flags(o, n, patch, plen, n, flags, &s, NULL), ZUPD_OK);
        assert_int_equal(ws.m.len, n);
        assert_memory_equal(ws.m.p, w, n);
        assert_true(ws.direct > n / 3);    /* the sparse half, mostly */
        assert_true(ws.writes < n / 4096); /* not one write per run */
    }
    free(ws.m.p);
    free(patch);
    free(o);
    free(w);
}

/* ------------------------------------------------------------------ refusals */

static void
make_patch(int method, uint8_t **old, size_t *olen, uint8_t **patch, size_t *plen)
{
    uint8_t *w;
    size_t wl;
    struct zp_delta_opts opt = {method, 3, 0};

    rng_state = 99;
    make_binary_pair(50000, old, &w, &wl);
    *olen = 50000;
    assert_int_equal(zp_delta_create(*old, *olen, w, wl, &opt, patch, plen, NULL), ZUPD_OK);
    free(w);
}

static void
test_wrong_base_refused_before_write(void **state)
{
    static const int native[] = {ZUPD_DELTA_BSDIFF, ZUPD_DELTA_ZSTD};
    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(native); i++) {
        uint8_t *o, *p;
        size_t ol, pl;
        struct mem_sink m = {0};
        make_patch(native[i], &o, &ol, &p, &pl);
        o[ol / 2] ^= 1; /* same size, other content */
        assert_int_equal(apply_mem(o, ol, p, pl, &m), ZUPD_E_BASE);
        assert_int_equal(m.calls, 0);
        assert_int_equal(apply_mem(o, ol - 1, p, pl, &m), ZUPD_E_BASE); /* other size */
        assert_int_equal(m.calls, 0);
        assert_int_equal(apply_mem(NULL, 0, p, pl, &m), ZUPD_E_BASE);
        assert_int_equal(m.calls, 0);
        {
            /* without hashes: the size is still checked, the content is not
             * (the caller checks the output); unknown flags are refused */
            struct zupd_delta_sink s = {&m, mem_write};
            uint8_t *w = NULL;
            size_t wl = 0;
            struct zupd_delta_info info;
            assert_int_equal(
                zupd_delta_apply_flags(o, ol - 1, p, pl, 0, ZUPD_DELTA_NO_HASHES, &s, NULL),
                ZUPD_E_BASE);
            assert_int_equal(zupd_delta_apply_flags(o, ol, p, pl, 0, 4, &s, NULL), ZUPD_E_MISUSE);
            o[ol / 2] ^= 1; /* the right base: the same output as with hashes */
            assert_int_equal(apply_mem(o, ol, p, pl, &m), ZUPD_OK);
            w = m.p;
            wl = m.len;
            m.p = NULL;
            m.len = m.cap = 0;
            assert_int_equal(
                zupd_delta_apply_flags(o, ol, p, pl, 0, ZUPD_DELTA_NO_HASHES, &s, &info), ZUPD_OK);
            assert_int_equal(m.len, wl);
            assert_memory_equal(m.p, w, wl);
            assert_int_equal(info.new_size, wl);
            free(w);
        }
        free(m.p);
        free(o);
        free(p);
    }
}

static void
test_truncated_refused(void **state)
{
    (void)state;
    for (size_t i = 1; i < ZU_ARRAY_LEN(methods); i++) {
        uint8_t *o, *p;
        size_t ol, pl;
        struct mem_sink m = {0};
        make_patch(methods[i], &o, &ol, &p, &pl);
        for (size_t cut = 0; cut < pl; cut += (cut < 200 ? 1 : 37)) {
            uint8_t *t = malloc(cut + 1); /* exact copy: ASan sees overreads */
            assert_non_null(t);
            memcpy(t, p, cut);
            assert_int_not_equal(apply_mem(o, ol, t, cut, &m), ZUPD_OK);
            free(t);
        }
        free(m.p);
        free(o);
        free(p);
    }
}

static void
test_corrupted_refused(void **state)
{
    (void)state;
    for (size_t i = 1; i < ZU_ARRAY_LEN(methods); i++) {
        uint8_t *o, *p;
        size_t ol, pl;
        struct mem_sink m = {0};
        uint8_t *w;
        size_t w_len;
        make_patch(methods[i], &o, &ol, &p, &pl);
        assert_int_equal(apply_mem(o, ol, p, pl, &m), ZUPD_OK);
        w = m.p;
        w_len = m.len;
        m.p = NULL;
        for (size_t at = 0; at < pl; at += (at < 300 ? 1 : 13)) {
            int rc;
            p[at] ^= 0x5a;
            rc = apply_mem(o, ol, p, pl, &m);
            /* native: the hashes catch every change of the output; a flip
             * that does not change it (e.g. a zstd window bit) may pass */
            if (methods[i] != ZUPD_DELTA_BSDIFF40 && rc == ZUPD_OK) {
                assert_int_equal(m.len, w_len);
                assert_memory_equal(m.p, w, w_len);
            }
            p[at] ^= 0x5a;
        }
        free(w);
        free(m.p);
        free(o);
        free(p);
    }
}

static void
test_sink_error_and_limits(void **state)
{
    uint8_t *o, *p;
    size_t ol, pl;
    struct mem_sink m = {0};
    struct zupd_delta_sink s = {&m, mem_write};
    struct zupd_delta_info info;

    (void)state;
    make_patch(ZUPD_DELTA_BSDIFF, &o, &ol, &p, &pl);
    m.fail_with = ZUPD_E_NOSPACE;
    assert_int_equal(zupd_delta_apply(o, ol, p, pl, 0, &s, NULL), ZUPD_E_NOSPACE);
    m.fail_with = 0;
    assert_int_equal(zupd_delta_apply(o, ol, p, pl, 1000, &s, &info), ZUPD_E_TOOBIG);
    assert_int_equal(info.method, ZUPD_DELTA_BSDIFF);
    assert_int_equal(zupd_delta_apply(o, ol, p, pl, 0, NULL, NULL), ZUPD_E_MISUSE);
    /* unknown version, reserved bits, unknown method, codec bits */
    p[4] = ZUPD_DELTA_VERSION + 1;
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_SPEC);
    p[4] = 0;
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_SPEC);
    p[4] = 14;
    p[7] = ZU_FLAG_CTRL_COLS; /* a flag of version 15 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 7;
    p[7] = ZU_FLAG_CTRL_REP; /* a flag of version 8 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 8;
    p[7] = ZU_FLAG_EXTRA_NOPFX; /* a flag of version 9 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 5;
    p[7] = ZU_FLAG_EXTRA_X86; /* a flag of version 6 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 4;
    p[7] = ZU_FLAG_EXE; /* a flag of version 5 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 3;
    p[7] = ZU_FLAG_EXTRA_CTX; /* a flag of version 4 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 1;
    p[7] = 1; /* no flags in version 1 */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[4] = 1;
    p[7] = 0;
    p[5] = 9;
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
    p[5] = ZUPD_DELTA_BSDIFF;
    {
        uint8_t c6 = p[6];
        p[6] = (uint8_t)(c6 | 0x40); /* no such stream codec */
        assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_E_FORMAT);
        p[6] = c6;
    }
    assert_int_equal(zupd_delta_info(p, 30, &info), ZUPD_E_FORMAT); /* cut in the hashes */
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
    assert_string_equal(zupd_delta_method_name(ZUPD_DELTA_BSDIFF40), "bsdiff40");
    assert_string_equal(zupd_delta_method_name(77), "unknown");
    free(m.p);
    free(o);
    free(p);
}

/* ------------------------------------------------------------------ crafted control values */

#define put_varint zu_put_varint

/* The native header of a bsdiff-method patch into p (zeroed, room for 92
 * bytes): magic, version, method, codecs, flags, sizes, hashes. Returns its
 * length; the two stream-length varints follow. */
static size_t
native_head(uint8_t *p, int version, uint8_t codecs, uint8_t flags, const uint8_t *old, size_t olen,
            const uint8_t *nw, size_t nlen)
{
    size_t at = 8, n, dl = version >= 7 ? ZU_DIGEST_SHORT : 32; /* a prefix from version 7 */
    uint8_t d[32];

    memcpy(p, ZUPD_DELTA_MAGIC, 4);
    p[4] = (uint8_t)version;
    p[5] = ZUPD_DELTA_BSDIFF;
    p[6] = codecs;
    p[7] = flags;
    at += zu_put_varint(p + at, olen);
    at += zu_put_varint(p + at, nlen);
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, old, olen, d, 32, &n), ZUPD_OK);
    memcpy(p + at, d, dl);
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, nw, nlen, d, 32, &n), ZUPD_OK);
    memcpy(p + at + dl, d, dl);
    return at + 2 * dl;
}

/* The version the creator writes a native patch p in: 10 where its extra
 * stream is LZMA2, 8 where its seeks are rep-coded (ZU_FLAG_CTRL_REP),
 * else 7 (the compact header), so that version 7 endpoints read every
 * patch that needs nothing newer. */
static int
written_version(const uint8_t *p)
{
    if (p[5] == ZUPD_DELTA_BSDIFF && (p[6] & 0xc0) == ZU_CODECS_EXTRA_LZMA)
        return 10;
    return p[5] == ZUPD_DELTA_BSDIFF && (p[7] & ZU_FLAG_CTRL_REP) != 0 ? 8 : 7;
}

/* After a native header p[0..at): the control and diff stream lengths,
 * then the control, diff and extra streams; returns the patch's length. */
static size_t
put_body(uint8_t *p, size_t at, const uint8_t *c, size_t cn, const uint8_t *d, size_t dn,
         const uint8_t *x, size_t xn)
{
    const uint8_t *s[3] = {c, d, x};
    size_t n[3] = {cn, dn, xn};

    at += zu_put_varint(p + at, cn);
    at += zu_put_varint(p + at, dn);
    for (int i = 0; i < 3; i++) {
        if (n[i] > 0)
            memcpy(p + at, s[i], n[i]);
        at += n[i];
    }
    return at;
}

/* Apply p to old (zupd_delta_apply, or with flags zupd_delta_apply_flags);
 * where it succeeds the output must be nw. */
static int
apply_expect_flags(const uint8_t *old, size_t olen, const uint8_t *p, size_t plen, unsigned flags,
                   const uint8_t *nw, size_t nlen)
{
    struct mem_sink m = {0};
    int rc = flags != 0 ? apply_mem_flags(old, olen, p, plen, flags, &m)
                        : apply_mem(old, olen, p, plen, &m);

    if (rc == ZUPD_OK) {
        assert_int_equal(m.len, nlen);
        assert_memory_equal(m.p, nw, nlen);
    }
    free(m.p);
    return rc;
}

static int
apply_expect(const uint8_t *old, size_t olen, const uint8_t *p, size_t plen, const uint8_t *nw,
             size_t nlen)
{
    return apply_expect_flags(old, olen, p, plen, 0, nw, nlen);
}

/* A native bsdiff patch with the given raw streams (zstd) and correct hashes. */
static uint8_t *
craft_native(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, const uint8_t *ctrl,
             size_t cl, const uint8_t *diff, size_t dl, const uint8_t *extra, size_t el,
             size_t *plen)
{
    size_t cap = 200 + ZSTD_compressBound(cl) + ZSTD_compressBound(dl) + ZSTD_compressBound(el);
    uint8_t *p = calloc(1, cap), *cz, *dz, *ez;
    size_t at, zc, zd, ze;

    assert_non_null(p);
    cz = malloc(ZSTD_compressBound(cl));
    dz = malloc(ZSTD_compressBound(dl));
    ez = malloc(ZSTD_compressBound(el));
    assert_true(cz != NULL && dz != NULL && ez != NULL);
    at = native_head(p, ZUPD_DELTA_VERSION, 0, 0, old, olen, nw, nlen);
    zc = ZSTD_compress(cz, ZSTD_compressBound(cl), ctrl, cl, 3);
    zd = ZSTD_compress(dz, ZSTD_compressBound(dl), diff, dl, 3);
    ze = ZSTD_compress(ez, ZSTD_compressBound(el), extra, el, 3);
    assert_false(ZSTD_isError(zc) || ZSTD_isError(zd) || ZSTD_isError(ze));
    *plen = put_body(p, at, cz, zc, dz, zd, ez, ze);
    free(cz);
    free(dz);
    free(ez);
    return p;
}

/* test_ctrl_rep's new: old[0, 8), old[32, 40), old[48, 56), old[24, 32)
 * of rep_rc's old (byte i is i * 7 + 1). */
static void
rep_new(uint8_t nw[32])
{
    static const size_t from[4] = {0, 32, 48, 24};
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < 8; i++)
            nw[8 * k + i] = (uint8_t)((from[k] + i) * 7 + 1);
}

/* Rep-coded seeks (ZU_FLAG_CTRL_REP, version 8), crafted over a 64-byte
 * old file: the control varints vals[0..n) (add, copy, v), with flags,
 * the diff bytes zero, no extra bytes; new must come out as nw[0..nl). */
static int
rep_rc(const uint64_t *vals, size_t n, uint8_t flags, const uint8_t *nw, size_t nl)
{
    static const uint8_t none[1] = {0};
    uint8_t old[64], ctrl[256], zeros[64] = {0};
    size_t cl = 0, pl;
    uint8_t *p;
    int rc;

    for (size_t i = 0; i < sizeof(old); i++)
        old[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < n; i++)
        cl += put_varint(ctrl + cl, vals[i]);
    p = craft_native(old, sizeof(old), nw, nl, ctrl, cl, zeros, nl, none, 0, &pl);
    p[7] = flags;
    rc = apply_expect(old, sizeof(old), p, pl, nw, nl);
    free(p);
    return rc;
}

static void
test_ctrl_rep(void **state)
{
    /* new: old[0, 8), old[32, 40), old[48, 56), old[24, 32); the entries
     * start at alignments 0, 24, 32 and 0 (old position less new) */
    uint8_t nw[32];
    /* e1 seek 24 (selector 0); e2 to alignment 32 as rep[0] = 0 plus 32
     * (selector 1); e3 back to alignment 0, rep[1] (selector 2: the
     * history is 24, 0); e4 the last */
    uint64_t good[12] = {8, 0, 48 << 2, 8, 0, 64 << 2 | 1, 8, 0, 0 << 2 | 2, 8, 0, 0};
    uint64_t v[12];

    (void)state;
    rep_new(nw);
    assert_int_equal(rep_rc(good, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_OK);
    /* the same stream read as plain seeks: the first seek, 96, leaves old */
    assert_int_equal(rep_rc(good, 12, 0, nw, 32), ZUPD_E_FORMAT);
    /* a selector beyond the history: none before the first entry, one
     * alignment before the second, two before the third */
    memcpy(v, good, sizeof(v));
    v[2] = 1;
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    memcpy(v, good, sizeof(v));
    v[5] = 64 << 2 | 2;
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    memcpy(v, good, sizeof(v));
    v[8] = 3;
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    /* the history is the alignments in the order last used: selector 1
     * at the third entry is 24 (e2's), 8 bytes past where new wants */
    memcpy(v, good, sizeof(v));
    v[8] = 0 << 2 | 1;
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_HASH);
    /* alignments far out of old, and at the ends of the varint's range */
    memcpy(v, good, sizeof(v));
    v[5] = ((UINT64_C(1) << 61) - 1) << 2 | 1; /* m = -2^60 */
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    v[5] = ((UINT64_C(1) << 61) - 2) << 2 | 1; /* m = 2^60 - 1 */
    assert_int_equal(rep_rc(v, 12, ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
}

/* The control stream in columns (ZU_FLAG_CTRL_COLS, version 15), crafted
 * as test_ctrl_rep's: the same four entries in one block (4, the adds,
 * the copies, the seeks), in two blocks, rep-coded or not; refused with
 * an empty block, a block over ZU_CTRL_BLOCK, entries left in the last
 * block, a block cut short, and in version 14. */
static void
test_ctrl_cols(void **state)
{
    uint8_t nw[32];
    const uint64_t rep1[16] = {4, 8, 8, 8, 8, 0, 0, 0, 0, 48 << 2, 64 << 2 | 1, 0 << 2 | 2, 0};
    /* plain seeks 24, 8, -32, 0 (zigzag 48, 16, 63, 0), two blocks of two */
    const uint64_t plain2[14] = {2, 8, 8, 0, 0, 48, 16, 2, 8, 8, 0, 0, 63, 0};
    uint64_t v[18];
    uint8_t *p;
    size_t pl;

    (void)state;
    rep_new(nw);
    assert_int_equal(rep_rc(rep1, 13, ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP, nw, 32), ZUPD_OK);
    assert_int_equal(rep_rc(plain2, 14, ZU_FLAG_CTRL_COLS, nw, 32), ZUPD_OK);
    /* read entry by entry, they are other entries */
    assert_int_not_equal(rep_rc(plain2, 14, 0, nw, 32), ZUPD_OK);
    memcpy(v, rep1, sizeof(rep1));
    v[0] = 0; /* an empty block */
    assert_int_equal(rep_rc(v, 13, ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    v[0] = ZU_CTRL_BLOCK + 1;
    assert_int_equal(rep_rc(v, 13, ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    /* five entries in the block, new made by four: one left */
    {
        const uint64_t five[16] = {5, 8, 8, 8,       8,           0,          0, 0,
                                   0, 0, 0, 48 << 2, 64 << 2 | 1, 0 << 2 | 2, 0, 0};
        assert_int_equal(rep_rc(five, 16, ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP, nw, 32),
                         ZUPD_E_FORMAT);
    }
    /* a block cut: its seeks missing */
    assert_int_equal(rep_rc(rep1, 9, ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP, nw, 32), ZUPD_E_FORMAT);
    /* version 14 has no such flag */
    {
        uint8_t old[64], ctrl[64], zeros[32] = {0};
        static const uint8_t none[1] = {0};
        size_t cl = 0;
        struct mem_sink m = {0};
        for (size_t i = 0; i < sizeof(old); i++)
            old[i] = (uint8_t)(i * 7 + 1);
        for (size_t i = 0; i < 13; i++)
            cl += put_varint(ctrl + cl, rep1[i]);
        p = craft_native(old, sizeof(old), nw, 32, ctrl, cl, zeros, 32, none, 0, &pl);
        p[7] = ZU_FLAG_CTRL_COLS | ZU_FLAG_CTRL_REP;
        assert_int_equal(apply_expect(old, sizeof(old), p, pl, nw, 32), ZUPD_OK);
        p[4] = 14;
        assert_int_equal(apply_mem(old, sizeof(old), p, pl, &m), ZUPD_E_FORMAT);
        free(m.p);
        free(p);
    }
}

/* A database edited in place: a third of its records take the value of a
 * record further on. The plan jumps to that record and back, and the
 * creator codes the jumps back as rep seeks (version 8). */
static void
test_ctrl_rep_create(void **state)
{
    enum { N = 4000 };
    static const char hex[] = "0123456789abcdef";
    char(*val)[41] = calloc(N, sizeof(*val));
    size_t cap = (size_t)N * 96, ol = 0, nl = 0, pl, al;
    uint8_t *o = malloc(cap), *w = malloc(cap), *p = NULL, *a = NULL;
    uint64_t seed = 5;

    (void)state;
    assert_true(val != NULL && o != NULL && w != NULL);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            val[i][k] = hex[(seed >> 33) & 15];
        }
    for (int i = 0; i < N; i++) {
        int j = i % 3 == 0 && i + 37 < N ? i + 37 : i;
        ol += (size_t)snprintf((char *)o + ol, cap - ol,
                               "{\"id\":%d,\"name\":\"n%u\",\"value\":\"%s\"},\n", i,
                               (unsigned)(i * 2654435761u % 997), val[i]);
        nl += (size_t)snprintf((char *)w + nl, cap - nl,
                               "{\"id\":%d,\"name\":\"n%u\",\"value\":\"%s\"},\n", i,
                               (unsigned)(i * 2654435761u % 997), val[j]);
    }
    assert_int_equal(zp_delta_create(o, ol, w, nl, NULL, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(p[5], ZUPD_DELTA_BSDIFF);
    assert_true((p[7] & ZU_FLAG_CTRL_REP) != 0);
    assert_int_equal(p[4], 8);
    assert_int_equal(apply_expect(o, ol, p, pl, w, nl), ZUPD_OK);
    /* every level codes them so */
    for (int level = 1; level <= 22; level += 7) {
        struct zp_delta_opts opt = {ZUPD_DELTA_BSDIFF, level, 0};
        free(a);
        a = NULL;
        assert_int_equal(zp_delta_create(o, ol, w, nl, &opt, &a, &al, NULL), ZUPD_OK);
        assert_int_equal(a[4], written_version(a));
        assert_int_equal(apply_expect(o, ol, a, al, w, nl), ZUPD_OK);
    }
    free(a);
    free(p);
    free(o);
    free(w);
    free(val);
}

static int
native_ctrl_rc(const uint64_t *vals, size_t nvals, size_t diff_len, size_t extra_len)
{
    static const uint8_t old[16] = "0123456789abcdef";
    static const uint8_t nw[16] = "0123456789abcdeX";
    uint8_t ctrl[256], zeros[64] = {0};
    size_t cl = 0, pl;
    uint8_t *p;
    struct mem_sink m = {0};
    int rc;

    for (size_t i = 0; i < nvals; i++)
        cl += put_varint(ctrl + cl, vals[i]);
    p = craft_native(old, sizeof(old), nw, sizeof(nw), ctrl, cl, zeros, diff_len,
                     (const uint8_t *)"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", extra_len, &pl);
    rc = apply_mem(old, sizeof(old), p, pl, &m);
    free(m.p);
    free(p);
    return rc;
}

static void
test_native_control_ranges(void **state)
{
    (void)state;
    /* valid: add 15 from old, copy 1 'X' */
    {
        const uint64_t v[] = {15, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 15, 1), ZUPD_OK);
    }
    { /* add past the end of old */
        const uint64_t v[] = {0, 0, 2 * 10, 15, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 6, 15, 1), ZUPD_E_FORMAT);
    }
    { /* add past the new size */
        const uint64_t v[] = {17, 0, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 17, 0), ZUPD_E_FORMAT);
    }
    { /* copy past the new size */
        const uint64_t v[] = {15, 2, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 15, 2), ZUPD_E_FORMAT);
    }
    { /* huge values */
        const uint64_t v[] = {UINT64_MAX, 0, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 0, 0), ZUPD_E_FORMAT);
    }
    { /* seek to a negative position, then add */
        const uint64_t v[] = {0, 0, 2 * 5 - 1, 15, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 6, 15, 1), ZUPD_E_FORMAT);
    }
    { /* entries that write nothing: 16 more than the others pass, 17 do not
       * (zeros of a control stream would loop for ever) */
        uint64_t v[18 * 3] = {0};
        v[16 * 3] = 15;
        v[16 * 3 + 1] = 1;
        assert_int_equal(native_ctrl_rc(v, 17 * 3, 15, 1), ZUPD_OK);
        v[16 * 3] = v[16 * 3 + 1] = 0;
        v[17 * 3] = 15;
        v[17 * 3 + 1] = 1;
        assert_int_equal(native_ctrl_rc(v, 18 * 3, 15, 1), ZUPD_E_FORMAT);
    }
    { /* huge seek */
        const uint64_t v[] = {1, 0, UINT64_MAX, 14, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 6, 15, 1), ZUPD_E_FORMAT);
    }
    { /* control stream ends early */
        const uint64_t v[] = {15, 0, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 15, 0), ZUPD_E_FORMAT);
    }
    { /* trailing control entry */
        const uint64_t v[] = {15, 1, 0, 0, 0, 0};
        assert_int_equal(native_ctrl_rc(v, 6, 15, 1), ZUPD_E_FORMAT);
    }
    { /* diff stream shorter than the control says */
        const uint64_t v[] = {15, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 10, 1), ZUPD_E_FORMAT);
    }
    { /* extra bytes left over */
        const uint64_t v[] = {15, 1, 0};
        assert_int_equal(native_ctrl_rc(v, 3, 15, 5), ZUPD_E_FORMAT);
    }
}

/* Sink that fails at call fail_at (1-based) and records the largest write. */
struct count_sink {
    struct mem_sink m;
    unsigned fail_at;
    size_t max_write;
};

static int
count_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct count_sink *c = opaque;
    if (len > c->max_write)
        c->max_write = len;
    if (c->fail_at != 0 && c->m.calls + 1 == c->fail_at) {
        c->m.calls++;
        return ZUPD_E_IO;
    }
    return mem_write(&c->m, buf, len);
}

static int
count_apply(const uint8_t *old, size_t olen, const uint8_t *p, size_t pl, unsigned flags,
            unsigned fail_at, struct count_sink *c)
{
    struct zupd_delta_sink s = {c, count_write};
    free(c->m.p);
    memset(c, 0, sizeof(*c));
    c->fail_at = fail_at;
    return zupd_delta_apply_flags(old, olen, p, pl, 0, flags, &s, NULL);
}

static void
test_large_threaded(void **state)
{
    /* over 16 MiB of output: the hashes run on two threads and the output
     * ring (16 MiB) wraps; the old file is checked before the first write */
    const size_t a = (20u << 20) + 12345, e = 300000;
    uint8_t *o = rand_buf(a, 99), *w = malloc(a + e), *diff = calloc(1, a), *p, ctrl[32];
    size_t cl = 0, pl;
    struct count_sink c = {0};

    (void)state;
    assert_true(w != NULL && diff != NULL);
    for (size_t i = 7; i < a; i += 100003)
        diff[i] = (uint8_t)(1 + rng() % 255);
    for (size_t i = 0; i < a; i++)
        w[i] = (uint8_t)(o[i] + diff[i]);
    for (size_t i = a; i < a + e; i++)
        w[i] = (uint8_t)rng();
    cl += put_varint(ctrl + cl, a);
    cl += put_varint(ctrl + cl, e);
    cl += put_varint(ctrl + cl, 0);
    p = craft_native(o, a, w, a + e, ctrl, cl, diff, a, w + a, e, &pl);

    assert_int_equal(count_apply(o, a, p, pl, 0, 0, &c), ZUPD_OK);
    assert_int_equal(c.m.len, a + e);
    assert_memory_equal(c.m.p, w, a + e);
    assert_true(c.max_write <= (256u << 10));
    assert_int_equal(count_apply(o, a, p, pl, ZUPD_DELTA_NO_HASHES, 0, &c), ZUPD_OK);
    assert_memory_equal(c.m.p, w, a + e);
    /* the sink fails: before, within and after the ring's first round */
    assert_int_equal(count_apply(o, a, p, pl, 0, 1, &c), ZUPD_E_IO);
    assert_int_equal(count_apply(o, a, p, pl, 0, 70, &c), ZUPD_E_IO);
    assert_int_equal(c.m.calls, 70);
    /* a truncated patch; and the same behind a wrong base: wrong base */
    assert_int_equal(count_apply(o, a, p, pl - 100, 0, 0, &c), ZUPD_E_FORMAT);
    o[a - 1] ^= 1;
    assert_int_equal(count_apply(o, a, p, pl - 100, 0, 0, &c), ZUPD_E_BASE);
    assert_int_equal(c.m.calls, 0);
    /* wrong base: refused, nothing written */
    assert_int_equal(count_apply(o, a, p, pl, 0, 0, &c), ZUPD_E_BASE);
    assert_int_equal(c.m.calls, 0);
    o[a - 1] ^= 1;
    /* wrong new hash: everything written, then refused */
    p[8 + zu_varint_len(a) + zu_varint_len(a + e) + 2 * ZU_DIGEST_SHORT - 1] ^= 1;
    assert_int_equal(count_apply(o, a, p, pl, 0, 0, &c), ZUPD_E_HASH);
    assert_int_equal(c.m.len, a + e);
    free(c.m.p);
    free(p);
    free(diff);
    free(w);
    free(o);
}

/* Many small pieces between long unchanged stretches of old, with the
 * hash thread: each control entry adds 50,000 bytes (unchanged but the last
 * three, so most go out as pieces of old itself) and copies extra bytes
 * (100 B or about 40 KB, through the output buffers). The buffers are
 * filled on after each piece and the ring wraps (11 MB of extra): no byte
 * may be overwritten before it is written and hashed. */
static void
test_threaded_pieces(void **state)
{
    const size_t n = 420, add = 50000;
    size_t a = n * add, e = 0, cl = 0, dl = 0, at, pl, czn, np = 0, xp = 0;
    uint8_t *o = rand_buf(a, 7), *w, *ctrl = malloc(n * 30), *zr = malloc(n * 20), *ex, *p, *cz;
    struct count_sink c = {0};

    (void)state;
    assert_true(ctrl != NULL && zr != NULL);
    for (size_t i = 0; i < n; i++)
        e += i % 3 == 0 ? 100 : 40000 + i;
    w = malloc(a + e);
    ex = malloc(e);
    assert_true(w != NULL && ex != NULL);
    for (size_t i = 0; i < n; i++) {
        size_t copy = i % 3 == 0 ? 100 : 40000 + i;
        memcpy(w + np, o + i * add, add);
        /* the zero-run diff: add - 3 zeros, then 3 nonzero bytes */
        dl += put_varint(zr + dl, add - 3);
        dl += put_varint(zr + dl, 3);
        for (size_t k = add - 3; k < add; k++) {
            uint8_t d = (uint8_t)(1 + rng() % 255);
            zr[dl++] = d;
            w[np + k] = (uint8_t)(o[i * add + k] + d);
        }
        np += add;
        for (size_t k = 0; k < copy; k++)
            ex[xp + k] = w[np + k] = (uint8_t)rng();
        np += copy;
        xp += copy;
        cl += put_varint(ctrl + cl, add);
        cl += put_varint(ctrl + cl, copy);
        cl += put_varint(ctrl + cl, 0);
    }
    cz = malloc(ZSTD_compressBound(cl));
    p = malloc(200 + ZSTD_compressBound(cl) + dl + e);
    assert_true(cz != NULL && p != NULL);
    czn = ZSTD_compress(cz, ZSTD_compressBound(cl), ctrl, cl, 3);
    assert_false(ZSTD_isError(czn));
    at = native_head(p, ZUPD_DELTA_VERSION, (uint8_t)(ZU_CODEC_ZRLE << 2 | ZU_CODEC_RAW << 4), 0, o,
                     a, w, a + e);
    pl = put_body(p, at, cz, czn, zr, dl, ex, e);

    assert_int_equal(count_apply(o, a, p, pl, 0, 0, &c), ZUPD_OK);
    assert_int_equal(c.m.len, a + e);
    assert_memory_equal(c.m.p, w, a + e);
    /* most of old went out as pieces of its own: more writes than buffers */
    assert_true(c.m.calls > 2 * n / 3);
    /* the sink fails after some pieces: the error, not a hash mismatch */
    assert_int_equal(count_apply(o, a, p, pl, 0, 300, &c), ZUPD_E_IO);
    free(c.m.p);
    free(cz);
    free(p);
    free(ex);
    free(w);
    free(zr);
    free(ctrl);
    free(o);
}

/* A version-2 native patch whose diff stream is split (ZU_FLAG_DIFF_SPLIT)
 * into the given runs varints and literals; old "0123456789abcdef", new
 * "0123456789abcdeX": control add 16, copy 0, seek 0. */
static int
split_rc(const uint64_t *runs, size_t nruns, const uint8_t *lits, size_t nl, int version,
         int cut_runs_len)
{
    static const uint8_t old[16] = "0123456789abcdef";
    static const uint8_t nw[16] = "0123456789abcdeX";
    uint8_t p[1024], rraw[256], craw[8], rz[256], lz[256], cz[64], d[600];
    size_t at, rl = 0, cl = 0, rzn, lzn, czn, dl;

    for (size_t i = 0; i < nruns; i++)
        rl += put_varint(rraw + rl, runs[i]);
    cl += put_varint(craw + cl, 16);
    cl += put_varint(craw + cl, 0);
    cl += put_varint(craw + cl, 0);
    rzn = ZSTD_compress(rz, sizeof(rz), rraw, rl, 3);
    lzn = nl > 0 ? ZSTD_compress(lz, sizeof(lz), lits, nl, 3) : 0;
    czn = ZSTD_compress(cz, sizeof(cz), craw, cl, 3);
    assert_false(ZSTD_isError(rzn) || ZSTD_isError(lzn) || ZSTD_isError(czn));
    memset(p, 0, sizeof(p));
    at = native_head(p, version, 0, ZU_FLAG_DIFF_SPLIT, old, sizeof(old), nw, sizeof(nw));
    dl = zu_put_varint(d, rzn + (size_t)cut_runs_len); /* the split diff stream */
    memcpy(d + dl, rz, rzn);
    memcpy(d + dl + rzn, lz, lzn);
    dl += rzn + lzn;
    at = put_body(p, at, cz, czn, d, dl, NULL, 0);
    return apply_expect(old, sizeof(old), p, at, nw, sizeof(nw));
}

static void
test_split_diff(void **state)
{
    const uint8_t lit[2] = {(uint8_t)('X' - 'f'), 7};

    (void)state;
    { /* an empty split diff stream under a control that adds: short, not
       * a read through its missing sub-streams (found by fuzz_delta_apply) */
        static const uint8_t old[16] = "0123456789abcdef";
        uint8_t p[256], craw[8], cz[64];
        size_t at, cl = 0, czn;
        cl += put_varint(craw + cl, 16);
        cl += put_varint(craw + cl, 0);
        cl += put_varint(craw + cl, 0);
        czn = ZSTD_compress(cz, sizeof(cz), craw, cl, 3);
        assert_false(ZSTD_isError(czn));
        for (int codec = ZU_CODEC_ZSTD; codec <= ZU_CODEC_BZIP2; codec++) {
            at = native_head(p, 2, (uint8_t)(codec << 2), ZU_FLAG_DIFF_SPLIT, old, 16, old, 16);
            at = put_body(p, at, cz, czn, NULL, 0, NULL, 0);
            assert_int_equal(apply_expect(old, 16, p, at, old, 16), ZUPD_E_FORMAT);
        }
    }
    {
        const uint64_t r[] = {15, 1};
        assert_int_equal(split_rc(r, 2, lit, 1, 2, 0), ZUPD_OK);
        /* the flag is a version-2 feature */
        assert_int_equal(split_rc(r, 2, lit, 1, 1, 0), ZUPD_E_FORMAT);
        /* the runs length runs past the diff stream */
        assert_int_equal(split_rc(r, 2, lit, 1, 2, 100), ZUPD_E_FORMAT);
        /* a literal left over */
        assert_int_equal(split_rc(r, 2, lit, 2, 2, 0), ZUPD_E_FORMAT);
        /* no literal where the runs want one */
        assert_int_equal(split_rc(r, 2, lit, 0, 2, 0), ZUPD_E_FORMAT);
    }
    { /* the same bytes in more pairs */
        const uint64_t r[] = {10, 0, 5, 1};
        assert_int_equal(split_rc(r, 4, lit, 1, 2, 0), ZUPD_OK);
    }
    { /* an empty pair: refused, so that no stream loops without output */
        const uint64_t r[] = {15, 0, 0, 0, 0, 1};
        assert_int_equal(split_rc(r, 6, lit, 1, 2, 0), ZUPD_E_FORMAT);
    }
    { /* a run past the new size, a trailing pair */
        const uint64_t r1[] = {16, 1};
        const uint64_t r2[] = {15, 1, 3, 0};
        assert_int_equal(split_rc(r1, 2, lit, 1, 2, 0), ZUPD_E_FORMAT);
        assert_int_equal(split_rc(r2, 4, lit, 1, 2, 0), ZUPD_E_FORMAT);
    }
}

static size_t
bz(uint8_t *dst, size_t cap, const uint8_t *src, size_t len)
{
    unsigned dl = (unsigned)cap;
    assert_int_equal(
        BZ2_bzBuffToBuffCompress((char *)dst, &dl, (char *)(uintptr_t)src, (unsigned)len, 9, 0, 0),
        BZ_OK);
    return dl;
}

/* A native patch (version given) whose diff stream holds the zero-run bytes zr
 * (ZU_FLAG_DIFF_ZRUN, and extra flags), in bzip2 (or zstd where use_zstd);
 * old: 40 bytes, new: the same with its last byte 'X'; control add 40. */
static int
zrun_rc(const uint8_t *zr, size_t n, int use_zstd, uint8_t flags, int version)
{
    uint8_t old[40], nw[40], p[1024], craw[8], cz[64], dz[256];
    size_t at, cl = 0, czn, dzn;

    for (size_t i = 0; i < sizeof(old); i++)
        old[i] = nw[i] = (uint8_t)('a' + i % 26);
    nw[39] = 'X';
    cl += put_varint(craw + cl, sizeof(old));
    cl += put_varint(craw + cl, 0);
    cl += put_varint(craw + cl, 0);
    czn = ZSTD_compress(cz, sizeof(cz), craw, cl, 3);
    assert_false(ZSTD_isError(czn));
    if (use_zstd) {
        dzn = ZSTD_compress(dz, sizeof(dz), zr, n, 3);
        assert_false(ZSTD_isError(dzn));
    } else {
        dzn = bz(dz, sizeof(dz), zr, n);
    }
    memset(p, 0, sizeof(p));
    at = native_head(p, version, (uint8_t)((use_zstd ? ZU_CODEC_ZSTD : ZU_CODEC_BZIP2) << 2),
                     (uint8_t)(ZU_FLAG_DIFF_ZRUN | flags), old, sizeof(old), nw, sizeof(nw));
    at = put_body(p, at, cz, czn, dz, dzn, NULL, 0);
    return apply_expect(old, sizeof(old), p, at, nw, sizeof(nw));
}

static void
test_zrun_diff(void **state)
{
    const uint8_t d = (uint8_t)('X' - ('a' + 39 % 26));

    (void)state;
    { /* 39 zeros: four, then a count of 35; the changed byte */
        const uint8_t z[] = {0, 0, 0, 0, 35, d};
        assert_int_equal(zrun_rc(z, sizeof(z), 0, 0, 3), ZUPD_OK);
        /* a version-3 feature, for bzip2 only, not with the split flag */
        assert_int_equal(zrun_rc(z, sizeof(z), 0, 0, 2), ZUPD_E_FORMAT);
        assert_int_equal(zrun_rc(z, sizeof(z), 0, 0, 1), ZUPD_E_FORMAT);
        assert_int_equal(zrun_rc(z, sizeof(z), 1, 0, 3), ZUPD_E_FORMAT);
        assert_int_equal(zrun_rc(z, sizeof(z), 0, ZU_FLAG_DIFF_SPLIT, 3), ZUPD_E_FORMAT);
    }
    { /* the same zeros in two runs, a count of 0, and three short zeros */
        const uint8_t z[] = {0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, d};
        assert_int_equal(zrun_rc(z, sizeof(z), 0, 0, 3), ZUPD_OK);
    }
    { /* a count past the new size; four zeros without their count */
        const uint8_t z1[] = {0, 0, 0, 0, 36, d};
        const uint8_t z2[] = {0, 0, 0, 0, 35, d, 0, 0, 0, 0};
        const uint8_t z3[] = {0, 0, 0, 0};
        assert_int_equal(zrun_rc(z1, sizeof(z1), 0, 0, 3), ZUPD_E_FORMAT);
        assert_int_equal(zrun_rc(z2, sizeof(z2), 0, 0, 3), ZUPD_E_FORMAT);
        assert_int_equal(zrun_rc(z3, sizeof(z3), 0, 0, 3), ZUPD_E_FORMAT);
    }
}

/* Zero-run bytes over more than two buffers of the bzip2 reader (its
 * thread where there are two CPUs, which fills the lowest buffer free;
 * 256 KiB each): short literals, groups (four zeros, count) and, now and
 * then, runs of groups chained by counts of 255; the output must be old
 * plus their expansion. The same stream ending in four zeros without
 * their count is refused. */
static void
test_zrun_groups(void **state)
{
    const size_t zcap = 600000;
    uint8_t *zr = malloc(zcap), *diff, *old, *nw, *p, *dz, craw[32], cz[64];
    size_t zn = 0, n = 0, cl = 0, czn, at, cap;
    unsigned dzn, run = 0;
    uint32_t x = 2463534242u;

    (void)state;
    assert_non_null(zr);
#define RND() (x ^= x << 13, x ^= x >> 17, x ^= x << 5, x)
    while (zn < zcap - 64) {
        unsigned lits = RND() % 6, groups = 1 + (RND() % 8 == 0 ? RND() % 5 : 0);
        for (unsigned i = 0; i < lits; i++)
            zr[zn++] = (uint8_t)(1 + RND() % 255);
        for (unsigned g = 0; g < groups; g++) {
            memset(zr + zn, 0, 4);
            zn += 4;
            zr[zn++] = (uint8_t)(g + 1 < groups ? 255 : RND() % 16);
        }
    }
#undef RND
    zr[zn++] = 7; /* a literal last */
    diff = malloc(zn * 260);
    assert_non_null(diff);
    for (size_t i = 0; i < zn; i++) { /* the expansion, as docs/delta-format.md says */
        if (run == ZU_ZRUN_MIN) {
            memset(diff + n, 0, zr[i]);
            n += zr[i];
            run = 0;
            continue;
        }
        diff[n++] = zr[i];
        run = zr[i] == 0 ? run + 1 : 0;
    }
    old = malloc(n);
    nw = malloc(n);
    cap = zn + zn / 8 + 4096;
    dz = malloc(cap);
    p = malloc(cap + 256);
    assert_true(old != NULL && nw != NULL && dz != NULL && p != NULL);
    for (size_t i = 0; i < n; i++) {
        old[i] = (uint8_t)(i * 7 + (i >> 9));
        nw[i] = (uint8_t)(old[i] + diff[i]);
    }
    cl += put_varint(craw + cl, n);
    cl += put_varint(craw + cl, 0);
    cl += put_varint(craw + cl, 0);
    czn = ZSTD_compress(cz, sizeof(cz), craw, cl, 3);
    assert_false(ZSTD_isError(czn));
    dzn = (unsigned)cap;
    assert_int_equal(BZ2_bzBuffToBuffCompress((char *)dz, &dzn, (char *)zr, (unsigned)zn, 9, 0, 0),
                     BZ_OK);
    at = native_head(p, ZUPD_DELTA_VERSION, ZU_CODEC_BZIP2 << 2, ZU_FLAG_DIFF_ZRUN, old, n, nw, n);
    at = put_body(p, at, cz, czn, dz, dzn, NULL, 0);
    assert_int_equal(apply_expect(old, n, p, at, nw, n), ZUPD_OK);
    /* a chain cut short: four zeros, no count, at the end of the stream */
    zr[zn - 1] = 0;
    memset(zr + zn, 0, 3);
    dzn = (unsigned)cap;
    assert_int_equal(
        BZ2_bzBuffToBuffCompress((char *)dz, &dzn, (char *)zr, (unsigned)zn + 3, 9, 0, 0), BZ_OK);
    at = native_head(p, ZUPD_DELTA_VERSION, ZU_CODEC_BZIP2 << 2, ZU_FLAG_DIFF_ZRUN, old, n, nw, n);
    at = put_body(p, at, cz, czn, dz, dzn, NULL, 0);
    assert_int_equal(apply_expect(old, n, p, at, nw, n), ZUPD_E_FORMAT);
    free(zr);
    free(diff);
    free(old);
    free(nw);
    free(dz);
    free(p);
}

static int
b40_rc(const int64_t *ctrl, size_t n, int64_t new_size, size_t diff_len, size_t extra_len)
{
    static const uint8_t old[16] = "0123456789abcdef";
    uint8_t raw[24 * 8], zeros[64] = {0}, p[4096];
    size_t cl, dl, el;
    struct mem_sink m = {0};
    int rc;

    for (size_t i = 0; i < n; i++)
        zu_offtout(raw + 8 * i, ctrl[i]);
    memcpy(p, "BSDIFF40", 8);
    cl = bz(p + 32, 1000, raw, 8 * n);
    dl = bz(p + 32 + cl, 1000, zeros, diff_len);
    el = bz(p + 32 + cl + dl, 1000, zeros, extra_len);
    zu_offtout(p + 8, (int64_t)cl);
    zu_offtout(p + 16, (int64_t)dl);
    zu_offtout(p + 24, new_size);
    rc = apply_mem(old, sizeof(old), p, 32 + cl + dl + el, &m);
    free(m.p);
    return rc;
}

/* Text whose new lines are made of pieces (6 bytes) of the old line above
 * them: too short for the scan, so they go to the extra stream, where zstd
 * finds them in the extra context (ZU_FLAG_EXTRA_CTX) and nowhere else.
 * The patch uses the context and applies; a hostile radius, codec or
 * version is refused. */
static void
make_ctx_pair(uint8_t **old, size_t *olen, uint8_t **nw, size_t *nlen)
{
    const size_t lines = 300, cap = lines * 400;
    uint8_t *o = malloc(cap), *w = malloc(cap);
    size_t on = 0, wn = 0;

    assert_true(o != NULL && w != NULL);
    rng_state = 77;
    for (size_t i = 0; i < lines; i++) {
        char t[2][49], m[2][65], line[300];
        int n;
        for (int f = 0; f < 2; f++) {
            for (size_t k = 0; k < 48; k++)
                t[f][k] = "0123456789abcdef"[rng() % 16];
            t[f][48] = 0;
        }
        n = snprintf(line, sizeof(line), "{\"id\":\"%s\",\"spec\":\"%s\",\"v\":%zu},\n", t[0], t[1],
                     i);
        memcpy(o + on, line, (size_t)n);
        memcpy(w + wn, line, (size_t)n);
        on += (size_t)n;
        wn += (size_t)n;
        if (i % 5 != 2)
            continue;
        for (int f = 0; f < 2; f++) {
            for (size_t k = 0, mn = 0; k < 48; k += 6, mn += 8) {
                memcpy(m[f] + mn, t[f] + k, 6);
                m[f][mn + 6] = (char)('g' + rng() % 10);
                m[f][mn + 7] = (char)('q' + rng() % 10);
            }
            m[f][64] = 0;
        }
        n = snprintf(line, sizeof(line), "{\"id\":\"%s\",\"spec\":\"%s\",\"v\":%zu},\n", m[0], m[1],
                     i + 1000);
        memcpy(w + wn, line, (size_t)n);
        wn += (size_t)n;
    }
    *old = o;
    *olen = on;
    *nw = w;
    *nlen = wn;
}

static void
test_extra_ctx(void **state)
{
    uint8_t *o, *w, *p = NULL, *a = NULL;
    size_t ol, wl, pl = 0, al = 0, at = 8, wat;
    struct mem_sink m = {0};
    struct zupd_delta_info info;
    struct zp_delta_opts bsd = {ZUPD_DELTA_BSDIFF, 0, 0};
    struct zp_delta_report rep;
    uint64_t v;

    (void)state;
    make_ctx_pair(&o, &ol, &w, &wl);
    /* method bsdiff: auto also tries patch-from on a new file this small
     * (PF_SMALL), and keeps it when smaller */
    assert_int_equal(zp_delta_create(o, ol, w, wl, &bsd, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(zp_delta_create(o, ol, w, wl, NULL, &a, &al, &rep), ZUPD_OK);
    assert_true(rep.zstd > 0 && rep.bsdiff > 0);
    assert_true(al <= pl && al <= rep.zstd && al <= rep.bsdiff);
    assert_int_equal(apply_expect(o, ol, a, al, w, wl), ZUPD_OK);
    free(a);
    assert_int_equal(p[4], written_version(p));
    assert_int_equal(p[5], ZUPD_DELTA_BSDIFF);
    assert_true((p[7] & ZU_FLAG_EXTRA_CTX) != 0);
    assert_int_equal((p[6] >> 4) & 3, ZU_CODEC_ZSTD);
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
    assert_int_equal(info.version, written_version(p));
    /* the radius: after old and new sizes, the hashes, two stream lengths */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(zu_get_varint(p, pl, &at, &v), ZUPD_OK);
        if (i == 1)
            at += 2 * ZU_DIGEST_SHORT;
    }
    wat = at;
    assert_int_equal(zu_get_varint(p, pl, &at, &v), ZUPD_OK);
    assert_int_equal(v, 256);
    /* radius 0; another radius (the prefix differs: refused either way) */
    p[wat] = 0x80;
    p[wat + 1] = 0x00;
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_E_FORMAT);
    p[wat] = 0xff;
    p[wat + 1] = 0x01;
    assert_int_not_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    p[wat] = 0x80;
    p[wat + 1] = 0x02;
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    /* an extra stream in bzip2 with the flag; the flag in version 3 */
    p[6] = (uint8_t)(p[6] | ZU_CODEC_BZIP2 << 4);
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_E_FORMAT);
    p[6] = (uint8_t)(p[6] & 0x0f);
    p[4] = 3;
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_E_FORMAT);
    p[4] = 4;
    /* cut inside the radius */
    assert_int_equal(apply_expect(o, ol, p, wat + 1, w, wl), ZUPD_E_FORMAT);
    free(m.p);
    free(p);
    free(o);
    free(w);
}

/* Long bzip2 streams decode on a thread of their own (lib/delta_stream.c,
 * struct aq): a BSDIFF40 patch with a diff stream and an extra stream of
 * 32 KiB and more applies exactly; a corrupt or truncated stream is refused
 * (the error comes from the thread); a sink error and a short control
 * stream stop apply while the threads are still decoding. */
static void
test_bz_thread(void **state)
{
    const size_t n = 3u << 20, e = 300000;
    uint8_t *o = rand_buf(n, 31), *w = malloc(n + e), *diff = calloc(1, n), *p, raw[24];
    size_t cap = n + e + (n + e) / 50 + 4096, cl, dl, el, pl;
    struct count_sink c = {0};

    (void)state;
    p = malloc(cap);
    assert_true(w != NULL && diff != NULL && p != NULL);
    for (size_t i = 0; i < n; i += 1 + rng() % 16)
        diff[i] = (uint8_t)(1 + rng() % 255);
    for (size_t i = 0; i < n; i++)
        w[i] = (uint8_t)(o[i] + diff[i]);
    for (size_t i = n; i < n + e; i++)
        w[i] = (uint8_t)rng();
    zu_offtout(raw, (int64_t)n);
    zu_offtout(raw + 8, (int64_t)e);
    zu_offtout(raw + 16, 0);
    memcpy(p, "BSDIFF40", 8);
    cl = bz(p + 32, 1000, raw, sizeof(raw));
    dl = bz(p + 32 + cl, (unsigned)(cap - 32 - cl), diff, n);
    el = bz(p + 32 + cl + dl, (unsigned)(cap - 32 - cl - dl), w + n, e);
    assert_true(dl >= (32u << 10) && el >= (32u << 10));
    zu_offtout(p + 8, (int64_t)cl);
    zu_offtout(p + 16, (int64_t)dl);
    zu_offtout(p + 24, (int64_t)(n + e));
    pl = 32 + cl + dl + el;

    assert_int_equal(count_apply(o, n, p, pl, 0, 0, &c), ZUPD_OK);
    assert_int_equal(c.m.len, n + e);
    assert_memory_equal(c.m.p, w, n + e);
    /* the sink fails at once, and halfway */
    assert_int_equal(count_apply(o, n, p, pl, 0, 1, &c), ZUPD_E_IO);
    assert_int_equal(count_apply(o, n, p, pl, 0, 6, &c), ZUPD_E_IO);
    /* truncated extra stream; corrupt diff stream: in the first block
     * (found by the thread), and its first block's magic */
    assert_int_equal(count_apply(o, n, p, pl - 1000, 0, 0, &c), ZUPD_E_FORMAT);
    {
        const size_t bad[] = {32 + cl + dl / 16, 32 + cl + 4};
        for (size_t k = 0; k < 2; k++) {
            p[bad[k]] ^= 0x10;
            assert_int_equal(count_apply(o, n, p, pl, 0, 0, &c), ZUPD_E_FORMAT);
            p[bad[k]] ^= 0x10;
        }
    }
    /* the control says less than the new size: stop with both threads busy */
    zu_offtout(p + 24, (int64_t)(n + e + 1));
    assert_int_equal(count_apply(o, n, p, pl, 0, 0, &c), ZUPD_E_FORMAT);
    free(c.m.p);
    free(p);
    free(diff);
    free(w);
    free(o);
}

static void
test_bsdiff40_control_ranges(void **state)
{
    (void)state;
    { /* valid, including reads of old out of range (they read as zero) */
        const int64_t c[] = {4, 2, 20, 4, 0, -30, 6, 0, 0};
        assert_int_equal(b40_rc(c, 9, 16, 14, 2), ZUPD_OK);
    }
    { /* negative add */
        const int64_t c[] = {-4, 20, 0};
        assert_int_equal(b40_rc(c, 3, 16, 0, 20), ZUPD_E_FORMAT);
    }
    { /* negative copy */
        const int64_t c[] = {4, -2, 0};
        assert_int_equal(b40_rc(c, 3, 16, 4, 0), ZUPD_E_FORMAT);
    }
    { /* add past new size */
        const int64_t c[] = {17, 0, 0};
        assert_int_equal(b40_rc(c, 3, 16, 17, 0), ZUPD_E_FORMAT);
    }
    { /* copy past new size */
        const int64_t c[] = {10, 7, 0};
        assert_int_equal(b40_rc(c, 3, 16, 10, 7), ZUPD_E_FORMAT);
    }
    { /* seek overflow */
        const int64_t c[] = {1, 0, INT64_MAX, 1, 0, INT64_MAX, 14, 0, 0};
        assert_int_equal(b40_rc(c, 9, 16, 16, 0), ZUPD_E_FORMAT);
    }
    { /* negative new size */
        const int64_t c[] = {1, 0, 0};
        assert_int_equal(b40_rc(c, 3, -1, 1, 0), ZUPD_E_FORMAT);
    }
    { /* extra stream shorter than copy */
        const int64_t c[] = {10, 6, 0};
        assert_int_equal(b40_rc(c, 3, 16, 10, 3), ZUPD_E_FORMAT);
    }
}

/* ------------------------------------------------------------------ executable stage */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ELF64 x86-64 header and n program headers at 64: ph[i] = {type, flags,
 * off, vaddr, filesz, memsz}. */
static void
elf_head(uint8_t *p, const uint64_t (*ph)[6], size_t n)
{
    memset(p, 0, 64 + n * 56);
    memcpy(p, "\177ELF", 4);
    p[4] = 2;
    p[5] = 1;
    p[6] = 1;
    put16(p + 16, 2);
    put16(p + 18, 62);
    zu_put_le64(p + 32, 64);
    put16(p + 52, 64);
    put16(p + 54, 56);
    put16(p + 56, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *h = p + 64 + i * 56;
        put32(h, (uint32_t)ph[i][0]);
        put32(h + 4, (uint32_t)ph[i][1]);
        zu_put_le64(h + 8, ph[i][2]);
        zu_put_le64(h + 16, ph[i][3]);
        zu_put_le64(h + 32, ph[i][4]);
        zu_put_le64(h + 40, ph[i][5]);
    }
}

/* A synthetic executable: nf functions (ids; id 1000 is the one a new
 * release adds at index 50 when `grow`), each made of the same
 * instructions in both releases: rel32 calls to other functions, a jcc,
 * RIP-relative lea/mov to a data segment after the code, and filler. The
 * code and data segments move with every function inserted or grown. */
static size_t
make_elf(uint8_t *p, size_t cap, int grow)
{
    enum { NF = 160, CODE = 0x1000, BASE = 0x400000 };
    uint32_t start[NF + 1], sz[NF + 1], id[NF + 1], at_id[NF]; /* at_id: start by id */
    size_t nf = 0, at = CODE, data_off;
    uint64_t ph[2][6];

    for (uint32_t k = 0; k < NF; k++) {
        if (grow && k == 50)
            id[nf++] = 1000;
        id[nf++] = k;
    }
    for (size_t f = 0; f < nf; f++) { /* sizes first: calls need every start */
        rng_state = 77 + id[f];
        sz[f] = 40 + rng() % 80 + (grow && id[f] == 120 ? 9 : 0);
        start[f] = (uint32_t)at;
        if (id[f] < NF)
            at_id[id[f]] = (uint32_t)at;
        at += sz[f];
    }
    data_off = (at + 0xfff) & ~(size_t)0xfff;
    assert_true(data_off + 0x1000 <= cap);
    memset(p, 0, data_off + 0x1000);
    for (size_t f = 0; f < nf; f++) {
        uint8_t *c = p + start[f], *end = c + sz[f];
        rng_state = 77 + id[f];
        (void)rng();
        while (end - c >= 8) {
            uint32_t r = rng() % 8, pc = BASE + (uint32_t)(c - p);
            if (r == 0 || r == 1) { /* call another function */
                c[0] = 0xe8;
                put32(c + 1, at_id[rng() % NF] + BASE - (pc + 5));
                c += 5;
            } else if (r == 2) { /* lea rax, [rip + data] */
                uint32_t d = (uint32_t)(data_off + (rng() % 512) * 8);
                c[0] = 0x48;
                c[1] = 0x8d;
                c[2] = 0x05;
                put32(c + 3, d + BASE - (pc + 7));
                c += 7;
            } else if (r == 3) { /* je within the function */
                c[0] = 0x0f;
                c[1] = 0x84;
                put32(c + 2, (uint32_t)(rng() % 16));
                c += 6;
            } else { /* filler that is no reference */
                c[0] = 0x48;
                c[1] = 0x89;
                c[2] = (uint8_t)(0xc0 | (rng() & 0x3f));
                c += 3;
            }
        }
        memset(c, 0x90, (size_t)(end - c));
    }
    for (size_t i = 0; i < 0x1000; i += 8) /* data: pointers into the code */
        zu_put_le64(p + data_off + i, BASE + at_id[(i / 8) % NF]);
    ph[0][0] = 1, ph[0][1] = 5, ph[0][2] = 0, ph[0][3] = BASE, ph[0][4] = at, ph[0][5] = at;
    ph[1][0] = 1, ph[1][1] = 6, ph[1][2] = data_off, ph[1][3] = BASE + data_off, ph[1][4] = 0x1000,
    ph[1][5] = 0x3000;
    elf_head(p, ph, 2);
    return data_off + 0x1000;
}

/* Create (auto, the given level) and apply; returns the patch. */
static uint8_t *
exe_round_trip(const uint8_t *o, size_t ol, const uint8_t *w, size_t wl, int level, size_t *plen)
{
    struct zp_delta_opts opts = {ZP_DELTA_AUTO, level, 0};
    uint8_t *patch = NULL;

    assert_int_equal(zp_delta_create(o, ol, w, wl, &opts, &patch, plen, NULL), ZUPD_OK);
    assert_int_equal(apply_expect(o, ol, patch, *plen, w, wl), ZUPD_OK);
    /* old transformed a piece at a time where the patch allows: the same */
    assert_int_equal(apply_expect_flags(o, ol, patch, *plen, ZUPD_DELTA_LOW_MEMORY, w, wl),
                     ZUPD_OK);
    return patch;
}

/* The byte after the stream lengths (and radius) of a native patch. */
static size_t
params_at(const uint8_t *p, size_t plen)
{
    size_t at = 8;
    uint64_t v;
    int nv = (p[7] & ZU_FLAG_EXTRA_CTX) != 0 ? 5 : 4;

    for (int i = 0; i < nv; i++) {
        assert_int_equal(zu_get_varint(p, plen, &at, &v), ZUPD_OK);
        if (i == 1)
            at += 2 * (p[4] >= 7 ? ZU_DIGEST_SHORT : 32); /* a prefix from version 7 */
    }
    return at;
}

/* A synthetic release pair: the creator takes the stage (it is smaller),
 * the patch round-trips, and a hostile variant of its parameters or base
 * is refused. */
static void
test_exe_stage(void **state)
{
    size_t cap = 64 << 10, ol, wl, plen, at;
    uint8_t *o = malloc(cap), *w = malloc(cap), *patch, *bad;
    struct mem_sink m = {0};
    struct zupd_delta_sink s = {&m, mem_write};

    (void)state;
    assert_non_null(o);
    assert_non_null(w);
    ol = make_elf(o, cap, 0);
    wl = make_elf(w, cap, 1);
    for (int level = 3; level <= 19; level += 16) {
        patch = exe_round_trip(o, ol, w, wl, level, &plen);
        assert_int_equal(patch[4], written_version(patch));
        assert_true((patch[7] & ZU_FLAG_EXE) != 0);
        free(patch);
    }
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    bad = malloc(plen + ol);
    assert_non_null(bad);
    at = params_at(patch, plen);
    /* the flag in version 4 */
    memcpy(bad, patch, plen);
    bad[4] = 4;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    /* an unknown transform (PE would be another id), no kind, an unknown
     * kind, no segment, too many */
    memcpy(bad, patch, plen);
    bad[at] = 2;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    memcpy(bad, patch, plen);
    bad[at + 1] = 0;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    bad[at + 1] = 0x80; /* kinds 256 and more: two bytes, the second replacing n */
    bad[at + 2] = 0x02;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    memcpy(bad, patch, plen);
    bad[at + 2] = 0;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    bad[at + 2] = ZU_EXE_SEGS_MAX + 1;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    /* cut inside the parameters */
    assert_int_equal(apply_mem(o, ol, patch, at + 3, &m), ZUPD_E_FORMAT);
    /* the new file's code segment elsewhere: the transform predicts other
     * values, the hash refuses the result */
    {
        struct zu_elf nw;
        uint8_t par[ZU_EXE_PARAMS_MAX], *q = malloc(plen + ZU_EXE_PARAMS_MAX);
        size_t end = at, pn;
        assert_non_null(q);
        assert_int_equal(zu_exe_params_get(patch, plen, &end, &nw), ZUPD_OK);
        assert_int_equal(nw.n, 2);
        nw.seg[0].vaddr += 0x1000;
        pn = zu_exe_params_put(par, &nw);
        memcpy(q, patch, at);
        memcpy(q + at, par, pn);
        memcpy(q + at + pn, patch + end, plen - end);
        assert_int_equal(apply_mem(o, ol, q, at + pn + plen - end, &m), ZUPD_E_HASH);
        free(q);
    }
    /* an old file that is not ELF (the base check off, as the endpoint
     * applies): refused, not transformed */
    memcpy(bad, o, ol);
    bad[0] = 0;
    free(m.p);
    memset(&m, 0, sizeof(m));
    assert_int_equal(
        zupd_delta_apply_flags(bad, ol, patch, plen, 0, ZUPD_DELTA_NO_HASHES, &s, NULL),
        ZUPD_E_FORMAT);
    free(m.p);
    free(bad);
    free(patch);
    /* an ELF old against random new, and a random old against an ELF new:
     * round trips whatever the creator picks */
    rng_state = 5;
    for (size_t i = 0; i < wl; i++)
        w[i] = (uint8_t)rng();
    free(exe_round_trip(o, ol, w, wl, 3, &plen));
    wl = make_elf(w, cap, 1);
    for (size_t i = 0; i < ol; i++)
        o[i] = (uint8_t)rng();
    free(exe_round_trip(o, ol, w, wl, 3, &plen));
    free(o);
    free(w);
}

/* A synthetic executable with switch statements: NF functions and `ins`
 * inserted (ids 1000 on, at indexes 20, 150, 300), each `lea rcx, [rip +
 * table]`, `movsxd rax, dword [rcx + 4 * rax]`, `add rax, rcx`, `jmp rax`
 * and eight cases of filler; the tables (eight 32-bit offsets of the
 * cases from the table) in a data segment after the code, in function
 * order, or with `perm` in an order of their ids. *tabs: the file offset
 * of the first table, *ntab the number of entries. */
static size_t
make_jt_elf(uint8_t *p, size_t cap, unsigned ins, int perm, size_t *tabs, size_t *ntab)
{
    enum { NF = 400, NC = 8, CASE = 12, FN = 15 + NC * CASE, BASE = 0x400000 };
    static const uint32_t at_ins[3] = {20, 150, 300};
    size_t nf = 0, data_off, data_len;
    uint32_t id[NF + 3];
    uint64_t ph[2][6];

    for (uint32_t k = 0; k < NF; k++) {
        for (unsigned j = 0; j < ins && j < 3; j++)
            if (k == at_ins[j])
                id[nf++] = 1000 + j;
        id[nf++] = k;
    }
    data_off = (0x1000 + nf * FN + 0xfff) & ~(size_t)0xfff;
    data_len = 0x100 + (NF + 3) * NC * 4;
    assert_true(data_off + data_len <= cap);
    memset(p, 0, data_off + data_len);
    for (size_t f = 0; f < nf; f++) {
        uint8_t *c = p + 0x1000 + f * FN;
        const uint32_t slot =
            perm ? (id[f] < NF ? id[f] * 7 % NF : NF + id[f] - 1000) : (uint32_t)f;
        const size_t tab = data_off + 0x100 + slot * NC * 4;
        const uint32_t pc = BASE + (uint32_t)(c - p);
        static const uint8_t head[] = {0x48, 0x63, 0x04, 0x81, 0x48, 0x01, 0xc8, 0xff, 0xe0};
        c[0] = 0x48;
        c[1] = 0x8d;
        c[2] = 0x0d;
        put32(c + 3, (uint32_t)(BASE + tab - (pc + 7)));
        memcpy(c + 7, head, sizeof(head));
        rng_state = 5 + id[f];
        for (size_t k = 0; k < NC; k++) {
            uint8_t *cs = c + 16 + k * CASE;
            for (size_t b = 0; b + 1 < CASE; b++)
                cs[b] = (uint8_t)(rng() % 0x30 + 0x10); /* no lea, no movsxd */
            cs[CASE - 1] = 0xc3;
            put32(p + tab + k * 4, (uint32_t)(BASE + (size_t)(cs - p)) - (uint32_t)(BASE + tab));
        }
    }
    ph[0][0] = 1, ph[0][1] = 5, ph[0][2] = 0, ph[0][3] = BASE, ph[0][4] = 0x1000 + nf * FN,
    ph[0][5] = ph[0][4];
    ph[1][0] = 1, ph[1][1] = 4, ph[1][2] = data_off, ph[1][3] = BASE + data_off,
    ph[1][4] = data_len, ph[1][5] = ph[1][4];
    elf_head(p, (const uint64_t(*)[6])ph, 2);
    *tabs = data_off + 0x100;
    *ntab = nf * NC;
    return data_off + data_len;
}

/* An ELF file of nf functions at CODE (function k's bytes its own, the
 * same in every file; FN bytes each, or with vary 16 to 63), an
 * .eh_frame at EH after its header at EHH (PT_GNU_EH_FRAME, a table of
 * no entries): a CIE, then an FDE per function (CIE pointer, pc_begin to
 * its function, its length, CFA bytes of its own). With ins 1, function
 * 1000 is inserted after the 40th, with its FDE: the FDEs after it move
 * against the CIE; with ins 2 a new function after every tenth. Into p;
 * its length. */
static size_t
make_eh_elf(uint8_t *p, size_t cap, size_t nf, int ins, int vary)
{
    enum { BASE = 0x400000, EHH = 0x200, EH = 0x240, CODE = 0x8000, FN = 48, FDE = 24 };
    const size_t n = nf + (ins == 1 ? 1 : ins == 2 ? nf / 10 : 0), end = CODE + n * FN;
    uint64_t ph[2][6] = {{1, 5, 0, BASE, end, end}, {0x6474e550, 4, EHH, BASE + EHH, 12, 12}};
    size_t c = CODE, next = 0;

    assert_true(end <= cap && EH + (n + 1) * FDE <= CODE);
    memset(p, 0, end);
    elf_head(p, ph, 2);
    p[EHH] = 1;
    p[EHH + 1] = 0x1b;
    p[EHH + 2] = 0x03;
    p[EHH + 3] = 0x3b;
    put32(p + EHH + 4, (uint32_t)(EH - (EHH + 4))); /* eh_frame_ptr, pcrel */
    put32(p + EHH + 8, 0);                          /* no table entries */
    put32(p + EH, FDE - 4);                         /* the CIE: length, id 0, the rest */
    memcpy(p + EH + 8, "\1zR\0\1\x78\x10\1\x1b\x0c\7\x08\x90\1", 15);
    for (size_t i = 0; i < n; i++) {
        size_t id = ins == 1 && i == 40 ? 1000 : ins == 2 && i % 11 == 10 ? 1000 + i : next++;
        size_t f = EH + (i + 1) * FDE, len = vary ? 16 + (id * 13) % 48 : FN;
        put32(p + f, FDE - 4);
        put32(p + f + 4, (uint32_t)(f + 4 - EH));  /* back to the CIE */
        put32(p + f + 8, (uint32_t)(c - (f + 8))); /* pc_begin */
        put32(p + f + 12, (uint32_t)len);          /* pc_range */
        for (size_t k = 17; k < FDE; k++)          /* CFA bytes */
            p[f + k] = (uint8_t)(id * 7 + k);
        for (size_t k = 0; k < len; k++)
            p[c + k] = (uint8_t)(id * 31 + k * 5 + 1);
        c += len;
    }
    return end;
}

/* The CIE pointers of .eh_frame (ZU_EXE_K_EHCIE, version 12): with an FDE
 * inserted, every FDE after it has its CIE pointer as in new in old
 * transformed (and without the kind as in old), the same bytes as the
 * plain reading and a piece at a time; a creation takes the kind, version
 * 12, which version 11 refuses. */
static void
test_exe_ehcie(void **state)
{
    const size_t nf = 300, cap = 0x8000 + (nf + nf / 10) * 48, fde = 24, fn = 48;
    uint8_t *o = malloc(cap), *w = malloc(cap), *x1 = malloc(cap), *x2 = malloc(cap), *patch;
    size_t ol, wl, plen, at, cut = 0x240 + 41 * fde;
    struct zu_elf eo, en, got;
    struct zu_exe_map m = {0};
    struct mem_sink ms = {0};

    (void)state;
    assert_true(o != NULL && w != NULL && x1 != NULL && x2 != NULL);
    ol = make_eh_elf(o, cap, nf, 0, 0);
    wl = make_eh_elf(w, cap, nf, 1, 0);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    /* the map of a plan: .eh_frame up to the FDE inserted in place, the
     * rest one FDE on; the code likewise, one function on */
    assert_int_equal(zu_exe_map_add(&m, 0, 0, cut), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, cut, cut + fde, (nf - 40) * fde), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0x8000, 0x8000, 40 * fn), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0x8000 + 40 * fn, 0x8000 + 41 * fn, (nf - 40) * fn),
                     ZUPD_OK);
    zu_exe_map_done(&m);
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL), ZUPD_OK);
    ref_transform(x2, o, ol, &eo, &en, &m, ZU_EXE_K_ALL);
    assert_memory_equal(x1, x2, ol);
    assert_true(ref_win_same(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL, 7));
    for (size_t i = 40; i < nf; i++) { /* the FDEs after the one inserted */
        size_t f = 0x240 + (i + 1) * fde;
        assert_memory_equal(x1 + f + 4, w + f + fde + 4, 8); /* CIE pointer, pc_begin */
        assert_memory_not_equal(o + f + 4, w + f + fde + 4, 4);
    }
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL & ~ZU_EXE_K_EHCIE),
                     ZUPD_OK);
    for (size_t i = 40; i < nf; i++) {
        size_t f = 0x240 + (i + 1) * fde;
        assert_memory_equal(x1 + f + 4, o + f + 4, 4);
    }
    zu_exe_map_free(&m);
    /* a creation (a function after every tenth, of sizes that vary) takes
     * it: version 12, refused as 11 */
    ol = make_eh_elf(o, cap, nf, 0, 1);
    wl = make_eh_elf(w, cap, nf, 2, 1);
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    assert_true((patch[7] & ZU_FLAG_EXE) != 0);
    at = params_at(patch, plen);
    assert_int_equal(zu_exe_params_get(patch, plen, &at, &got), ZUPD_OK);
    assert_true((got.kinds & ZU_EXE_K_EHCIE) != 0);
    assert_int_equal(patch[4], (patch[7] & ZU_FLAG_CTRL_COLS) != 0 ? 15 : 12); /* or in columns */
    patch[4] = 11;
    assert_int_equal(apply_mem(o, ol, patch, plen, &ms), ZUPD_E_FORMAT);
    free(patch);
    /* without LZMA2 the patch stays within version 9: no CIE pointers */
    {
        struct zp_delta_opts nl = {ZP_DELTA_AUTO, 19, 1};
        assert_int_equal(zp_delta_create(o, ol, w, wl, &nl, &patch, &plen, NULL), ZUPD_OK);
        assert_true(patch[4] <= 9);
        assert_int_equal(apply_expect(o, ol, patch, plen, w, wl), ZUPD_OK);
        if ((patch[7] & ZU_FLAG_EXE) != 0) {
            at = params_at(patch, plen);
            assert_int_equal(zu_exe_params_get(patch, plen, &at, &got), ZUPD_OK);
            assert_int_equal(got.kinds & (ZU_EXE_K_EHCIE | ZU_EXE_K_EHLSDA | ZU_EXE_K_NEAR), 0);
        }
        free(patch);
    }
    free(ms.p);
    free(o);
    free(w);
    free(x1);
    free(x2);
}

/* A Go-like ELF file (go1.20's pclntab): nf functions of FN bytes at
 * GO_TEXT, each with its name "f%06u" (8 bytes), an 8-byte pc-value table,
 * a record of 56 bytes (two pcdata, one funcdata) and a funcdata object
 * of 8 bytes (a stack map: count 1, width by id) in the read-only
 * segment; the module data in the writable one. With ins, a new function
 * after every tenth (in every part in the same order): old item j is
 * then new item j + j / 10. Into p, its length; *h the pclntab header. */
enum { GO_BASE = 0x400000, GO_TEXT = 0x1000, GO_FN = 48, GO_REC = 56 };
struct go_lay {
    size_t n, h, names, pctab, ftab, recs, gofunc, md;
};

static size_t
make_go_elf(uint8_t *p, size_t cap, size_t nf, int ins, struct go_lay *L)
{
    const size_t n = nf + (ins ? nf / 10 : 0);
    const size_t ro = (GO_TEXT + n * GO_FN + 0xfff) & ~(size_t)0xfff;
    size_t rw, end, next = 0;
    uint64_t ph[3][6];
    uint8_t *md;

    L->n = n;
    L->h = ro;
    L->names = ro + 72;
    L->pctab = L->names + 8 * n + 4 + 8; /* after the cutab and the filetab */
    L->ftab = L->pctab + 8 + 8 * n;
    L->recs = L->ftab + 8 * (n + 1);
    L->gofunc = L->recs + GO_REC * n;
    rw = (L->gofunc + 8 * n + 0xfff) & ~(size_t)0xfff;
    L->md = rw;
    end = rw + 512;
    assert_true(end <= cap);
    memset(p, 0, end);
    ph[0][0] = 1, ph[0][1] = 5, ph[0][2] = 0, ph[0][3] = GO_BASE, ph[0][4] = ro, ph[0][5] = ro;
    ph[1][0] = 1, ph[1][1] = 4, ph[1][2] = ro, ph[1][3] = GO_BASE + ro, ph[1][4] = rw - ro;
    ph[1][5] = rw - ro;
    ph[2][0] = 1, ph[2][1] = 6, ph[2][2] = rw, ph[2][3] = GO_BASE + rw, ph[2][4] = end - rw;
    ph[2][5] = end - rw;
    elf_head(p, (const uint64_t(*)[6])ph, 3);
    memcpy(p + ro, "\xf1\xff\xff\xff\0\0\1\x08", 8);
    zu_put_le64(p + ro + 8, n);
    zu_put_le64(p + ro + 16, 1);
    zu_put_le64(p + ro + 32, L->names - ro);
    zu_put_le64(p + ro + 40, L->names + 8 * n - ro);     /* cutab */
    zu_put_le64(p + ro + 48, L->names + 8 * n + 4 - ro); /* filetab */
    zu_put_le64(p + ro + 56, L->pctab - ro);
    zu_put_le64(p + ro + 64, L->ftab - ro);
    memcpy(p + L->names + 8 * n + 4, "a.go", 4);
    for (size_t i = 0; i < n; i++) {
        const size_t id = ins && i % 11 == 10 ? 1000 + i : next++;
        uint8_t *r = p + L->recs + GO_REC * i, *c = p + GO_TEXT + i * GO_FN;
        char name[9];
        snprintf(name, sizeof(name), "f%06u", (unsigned)id);
        memcpy(p + L->names + 8 * i, name, 8);
        for (size_t k = 0; k < 8; k++)
            p[L->pctab + 8 + 8 * i + k] = (uint8_t)(id * 11 + k + 1);
        for (size_t k = 0; k < GO_FN; k++)
            c[k] = (uint8_t)(id * 31 + k * 5 + 1);
        put32(p + L->ftab + 8 * i, (uint32_t)(i * GO_FN));
        put32(p + L->ftab + 8 * i + 4, (uint32_t)(L->recs - L->ftab + GO_REC * i));
        put32(r, (uint32_t)(i * GO_FN));          /* entry */
        put32(r + 4, (uint32_t)(8 * i));          /* name */
        put32(r + 8, (uint32_t)(id % 5 * 8));     /* args */
        put32(r + 16, (uint32_t)(8 + 8 * i));     /* pcsp */
        put32(r + 20, (uint32_t)(8 + 8 * i + 2)); /* pcfile */
        put32(r + 24, (uint32_t)(8 + 8 * i + 4)); /* pcln */
        put32(r + 28, 2);                         /* npcdata */
        put32(r + 36, (uint32_t)id);              /* startLine */
        r[43] = 1;                                /* nfuncdata */
        put32(r + 44, (uint32_t)(8 + 8 * i + 6)); /* pcdata[0]; pcdata[1] 0 */
        put32(r + 52, (uint32_t)(8 * i));         /* funcdata[0] */
        put32(p + L->gofunc + 8 * i, 1);          /* the stack map */
        put32(p + L->gofunc + 8 * i + 4, (uint32_t)(id % 8 + 1));
    }
    put32(p + L->ftab + 8 * n, (uint32_t)(n * GO_FN));
    md = p + rw;
    zu_put_le64(md, GO_BASE + ro);
    zu_put_le64(md + 8, GO_BASE + L->names);
    zu_put_le64(md + 160, GO_BASE + GO_TEXT); /* minpc */
    zu_put_le64(md + 176, GO_BASE + GO_TEXT); /* text */
    zu_put_le64(md + 328, GO_BASE + L->gofunc);
    return end;
}

/* Old item j of size sz at bo to new item j + j / 10 at bn, ten at a time. */
static void
go_map_runs(struct zu_exe_map *m, size_t bo, size_t bn, size_t sz, size_t n)
{
    for (size_t j = 0; j < n; j += 10)
        assert_int_equal(
            zu_exe_map_add(m, bo + j * sz, bn + (j + j / 10) * sz, (n - j < 10 ? n - j : 10) * sz),
            ZUPD_OK);
}

/* Go's function table (ZU_EXE_K_GOFN, version 13): with a function
 * added after every tenth, every row and record of old transformed is its
 * function's row and record in new (without the kind, none is), the
 * bytes of the plain reading and a piece at a time; the realignment takes
 * each record of new from its function's in old; a creation takes the
 * kind, version 13, which version 12 refuses. */
static void
test_exe_gofn(void **state)
{
    enum { NF = 200, CAP = 0x10000 };
    uint8_t *o = malloc(CAP), *w = malloc(CAP), *x1 = malloc(CAP), *x2 = malloc(CAP), *patch;
    struct go_lay lo, ln;
    size_t ol, wl, plen, at, ok = 0;
    struct zu_elf eo, en, got;
    struct zu_exe_map m = {0};
    struct mem_sink ms = {0};
    struct plan pl, q;
    int changed = 0;

    (void)state;
    assert_true(o != NULL && w != NULL && x1 != NULL && x2 != NULL);
    ol = make_go_elf(o, CAP, NF, 0, &lo);
    wl = make_go_elf(w, CAP, NF, 1, &ln);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    assert_int_equal(zp_go_params(o, ol, &eo, w, wl, &en, &en.go), 1);
    assert_int_equal(en.go.hdr, lo.h);
    assert_int_equal(en.go.ftab_n, ln.ftab);
    assert_int_equal(en.go.gofunc_n, GO_BASE + ln.gofunc);
    go_map_runs(&m, GO_TEXT, GO_TEXT, GO_FN, NF);
    go_map_runs(&m, lo.names, ln.names, 8, NF);
    go_map_runs(&m, lo.pctab + 8, ln.pctab + 8, 8, NF);
    go_map_runs(&m, lo.recs, ln.recs, GO_REC, NF);
    go_map_runs(&m, lo.gofunc, ln.gofunc, 8, NF);
    zu_exe_map_done(&m);
    en.kinds = ZU_EXE_K_ALL;
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL), ZUPD_OK);
    ref_transform(x2, o, ol, &eo, &en, &m, ZU_EXE_K_ALL);
    assert_memory_equal(x1, x2, ol);
    assert_true(ref_win_same(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL, 11));
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_GOFN), ZUPD_OK);
    for (size_t j = 0; j < NF; j++) {
        const size_t k = j + j / 10;
        assert_memory_equal(x1 + lo.recs + GO_REC * j, w + ln.recs + GO_REC * k, GO_REC);
        assert_memory_equal(x1 + lo.ftab + 8 * j, w + ln.ftab + 8 * k, 8);
        if (j >= 10) /* the functions after the first one added */
            assert_memory_not_equal(o + lo.recs + GO_REC * j, w + ln.recs + GO_REC * k, 8);
    }
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL & ~ZU_EXE_K_GOFN),
                     ZUPD_OK);
    assert_memory_equal(x1 + lo.recs + GO_REC * 50, o + lo.recs + GO_REC * 50, GO_REC);
    zu_exe_map_free(&m);
    /* the realignment: new all extra at first, then each record of a
     * function of old from its record */
    memset(&pl, 0, sizeof(pl));
    memset(&q, 0, sizeof(q));
    pl.c = malloc(sizeof(*pl.c));
    assert_non_null(pl.c);
    pl.c[0] = (struct ctl){0, wl, 0};
    pl.n = pl.cap = 1;
    pl.extra_len = wl;
    assert_int_equal(zp_go_realign(&pl, o, ol, w, wl, &q, &changed), ZUPD_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(zp_plan_fill(&q, o, ol, w, wl), ZUPD_OK);
    assert_int_equal(q.diff_len + q.extra_len, wl);
    {
        uint64_t np = 0;
        int64_t op = 0;
        for (size_t i = 0; i < q.n; i++) {
            for (uint64_t b = np; b < np + q.c[i].add; b++)
                if (b >= ln.recs && b < ln.recs + GO_REC * ln.n) {
                    const size_t k = (size_t)(b - ln.recs) / GO_REC, j = k - k / 11;
                    assert_true(k % 11 != 10);
                    assert_int_equal(op + (int64_t)(b - np),
                                     lo.recs + GO_REC * j + (b - ln.recs) % GO_REC);
                    ok++;
                }
            np += q.c[i].add + q.c[i].copy;
            op += (int64_t)q.c[i].add + q.c[i].seek;
        }
    }
    assert_int_equal(ok, GO_REC * NF); /* every record of a function of old */
    zp_plan_release(&q);
    zp_plan_release(&pl);
    /* a creation takes the kind: version 13, refused as 12 */
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    assert_true((patch[7] & ZU_FLAG_EXE) != 0);
    at = params_at(patch, plen);
    assert_int_equal(zu_exe_params_get(patch, plen, &at, &got), ZUPD_OK);
    assert_true((got.kinds & ZU_EXE_K_GOFN) != 0);
    assert_int_equal(got.go.hdr, lo.h);
    assert_int_equal(patch[4], 13);
    patch[4] = 12;
    assert_int_equal(apply_mem(o, ol, patch, plen, &ms), ZUPD_E_FORMAT);
    free(patch);
    free(ms.p);
    free(o);
    free(w);
    free(x1);
    free(x2);
}

/* An ELF file of nf functions (FN bytes each, from CODE), an .eh_frame at
 * EH (a CIE "zPLR": personality, LSDA and FDE pointers pcrel sdata4;
 * then an FDE per function with its LSDA pointer) and the LSDAs at LS
 * (16 bytes per function, bytes by id). With ins, function 1000 is
 * added after the 40th, with its FDE and LSDA. Into p; its length. */
enum { LS_EH = 0x240, LS_FDE = 32, LS_LS = 0x3000, LS_CODE = 0x8000, LS_FN = 48 };
static size_t
make_lsda_elf(uint8_t *p, size_t cap, size_t nf, int ins)
{
    enum { BASE = 0x400000, EHH = 0x200 };
    const size_t n = nf + (ins ? 1 : 0), end = LS_CODE + n * LS_FN;
    uint64_t ph[2][6] = {{1, 5, 0, BASE, end, end}, {0x6474e550, 4, EHH, BASE + EHH, 12, 12}};
    size_t next = 0;
    static const uint8_t cie[] = {1,    'z', 'P', 'L', 'R', 0,    1,    0x78, 0x10, 7,
                                  0x9b, 0,   0,   0,   0,   0x1b, 0x1b, 0x0c, 7,    8};

    assert_true(end <= cap && LS_EH + (n + 1) * LS_FDE <= LS_LS && LS_LS + n * 16 <= LS_CODE);
    memset(p, 0, end);
    elf_head(p, (const uint64_t(*)[6])ph, 2);
    p[EHH] = 1;
    p[EHH + 1] = 0x1b;
    p[EHH + 2] = 0x03;
    p[EHH + 3] = 0x3b;
    put32(p + EHH + 4, (uint32_t)(LS_EH - (EHH + 4)));
    put32(p + LS_EH, LS_FDE - 4); /* the CIE */
    memcpy(p + LS_EH + 8, cie, sizeof(cie));
    for (size_t i = 0; i < n; i++) {
        const size_t id = ins && i == 40 ? 1000 : next++;
        const size_t f = LS_EH + (i + 1) * LS_FDE, c = LS_CODE + i * LS_FN, l = LS_LS + i * 16;
        put32(p + f, LS_FDE - 4);
        put32(p + f + 4, (uint32_t)(f + 4 - LS_EH));
        put32(p + f + 8, (uint32_t)(c - (f + 8)));
        put32(p + f + 12, LS_FN);
        p[f + 16] = 4; /* the augmentation data: the LSDA pointer */
        put32(p + f + 17, (uint32_t)(l - (f + 17)));
        for (size_t k = 0; k < 16; k++)
            p[l + k] = (uint8_t)(id * 3 + k);
        for (size_t k = 0; k < LS_FN; k++)
            p[c + k] = (uint8_t)(id * 31 + k * 5 + 1);
    }
    return end;
}

/* The LSDA pointers of .eh_frame (ZU_EXE_K_EHLSDA, version 14): with an
 * FDE and an LSDA added, every LSDA pointer after them is as in new in old
 * transformed (without the kind as in old), the bytes of the plain
 * reading and a piece at a time; a CIE whose augmentation the kind does
 * not read (an unknown letter, an LSDA pointer of another encoding)
 * leaves its FDEs alone. */
static void
test_exe_lsda(void **state)
{
    enum { NF = 200, CAP = LS_CODE + (NF + 1) * LS_FN };
    uint8_t *o = malloc(CAP), *w = malloc(CAP), *x1 = malloc(CAP), *x2 = malloc(CAP);
    const size_t cut = LS_EH + 41 * LS_FDE;
    size_t ol, wl;
    struct zu_elf eo, en;
    struct zu_exe_map m = {0};

    (void)state;
    assert_true(o != NULL && w != NULL && x1 != NULL && x2 != NULL);
    ol = make_lsda_elf(o, CAP, NF, 0);
    wl = make_lsda_elf(w, CAP, NF, 1);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0, 0, cut), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, cut, cut + LS_FDE, (NF - 40) * LS_FDE), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, LS_LS, LS_LS, 40 * 16), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, LS_LS + 40 * 16, LS_LS + 41 * 16, (NF - 40) * 16), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, LS_CODE, LS_CODE, 40 * LS_FN), ZUPD_OK);
    assert_int_equal(
        zu_exe_map_add(&m, LS_CODE + 40 * LS_FN, LS_CODE + 41 * LS_FN, (NF - 40) * LS_FN), ZUPD_OK);
    zu_exe_map_done(&m);
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL), ZUPD_OK);
    ref_transform(x2, o, ol, &eo, &en, &m, ZU_EXE_K_ALL);
    assert_memory_equal(x1, x2, ol);
    assert_true(ref_win_same(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL, 5));
    for (size_t i = 40; i < NF; i++) { /* the FDEs after the one added */
        const size_t f = LS_EH + (i + 1) * LS_FDE;
        assert_memory_equal(x1 + f + 4, w + f + LS_FDE + 4, LS_FDE - 4);
        assert_memory_not_equal(o + f + 17, w + f + LS_FDE + 17, 4);
    }
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL & ~ZU_EXE_K_EHLSDA),
                     ZUPD_OK);
    assert_memory_equal(x1 + LS_EH + 51 * LS_FDE + 17, o + LS_EH + 51 * LS_FDE + 17, 4);
    /* augmentations it does not read: "zPLRX", an LSDA pointer udata4 */
    for (int k = 0; k < 2; k++) {
        memcpy(x2, o, ol);
        if (k == 0)
            memcpy(x2 + LS_EH + 9, "zPLRX", 5); /* over the NUL: "zPLRX\1..." stays in the CIE */
        else
            x2[LS_EH + 23] = 0x03;
        assert_int_equal(zu_exe_transform(x1, x2, ol, &eo, &en, &m, ZU_EXE_K_ALL), ZUPD_OK);
        assert_memory_equal(x1 + LS_EH + 51 * LS_FDE + 17, x2 + LS_EH + 51 * LS_FDE + 17, 4);
    }
    zu_exe_map_free(&m);
    free(o);
    free(w);
    free(x1);
    free(x2);
}

/* The nearest span (ZU_EXE_K_NEAR, version 14): a call to a function
 * whose first bytes the map does not hold (changed at its start) is
 * predicted from the span just after them: as in new in old transformed,
 * as in old without the kind; the bytes of the plain reading. */
static void
test_exe_near(void **state)
{
    enum { BASE = 0x400000, END = 0x3000 };
    uint8_t *o = calloc(1, END), *w = calloc(1, END), *x1 = malloc(END), *x2 = malloc(END);
    uint64_t ph[1][6] = {{1, 5, 0, BASE, END, END}};
    struct zu_elf eo, en;
    struct zu_exe_map m = {0};

    (void)state;
    assert_true(o != NULL && w != NULL && x1 != NULL && x2 != NULL);
    elf_head(o, (const uint64_t(*)[6])ph, 1);
    elf_head(w, (const uint64_t(*)[6])ph, 1);
    for (size_t k = 0; k < 0x100; k++) { /* the function: at 0x2000 in old, 0x2040 in new */
        o[0x2000 + k] = (uint8_t)(k * 7 + 0x10);
        w[0x2040 + k] = (uint8_t)(k * 7 + 0x10);
    }
    w[0x2040] = 0x55;             /* changed at its start */
    o[0x1000] = w[0x1000] = 0xe8; /* the call */
    put32(o + 0x1001, (uint32_t)(0x2000 - 0x1005));
    put32(w + 0x1001, (uint32_t)(0x2040 - 0x1005));
    assert_int_equal(zu_elf_parse(o, END, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, END, &en), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0x1000, 0x1000, 0x100), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0x2010, 0x2050, 0xf0), ZUPD_OK);
    zu_exe_map_done(&m);
    assert_int_equal(zu_exe_transform(x1, o, END, &eo, &en, &m, ZU_EXE_K_CODE | ZU_EXE_K_NEAR),
                     ZUPD_OK);
    assert_memory_equal(x1 + 0x1001, w + 0x1001, 4);
    ref_transform(x2, o, END, &eo, &en, &m, ZU_EXE_K_CODE | ZU_EXE_K_NEAR);
    assert_memory_equal(x1, x2, END);
    assert_true(ref_win_same(x1, o, END, &eo, &en, &m, ZU_EXE_K_CODE | ZU_EXE_K_NEAR, 3));
    assert_int_equal(zu_exe_transform(x1, o, END, &eo, &en, &m, ZU_EXE_K_CODE), ZUPD_OK);
    assert_memory_equal(x1 + 0x1001, o + 0x1001, 4);
    zu_exe_map_free(&m);
    /* a span 64 KiB and a byte away is not near */
    assert_int_equal(zu_exe_map_add(&m, 0x1000, 0x1000, 0x100), ZUPD_OK);
    zu_exe_map_done(&m);
    assert_int_equal(zu_exe_transform(x1, o, END, &eo, &en, &m, ZU_EXE_K_CODE | ZU_EXE_K_NEAR),
                     ZUPD_OK);
    ref_transform(x2, o, END, &eo, &en, &m, ZU_EXE_K_CODE | ZU_EXE_K_NEAR);
    assert_memory_equal(x1, x2, END);
    zu_exe_map_free(&m);
    free(o);
    free(w);
    free(x1);
    free(x2);
}

/* An ELF file of nf functions (FN bytes each at its code, bytes by id), an
 * .eh_frame (a CIE, an FDE per function) and before it the
 * .eh_frame_hdr with its table (a row per function: its address and its
 * FDE's, from the header). With ins, a new function after every tenth,
 * in the code, the FDEs and the rows alike: old item j is new item j + j
 * / 10. Into p, its length; *ehh, *eh, *code where the parts start. */
static size_t
make_ehtab_elf(uint8_t *p, size_t cap, size_t nf, int ins, size_t *ehh, size_t *eh, size_t *code)
{
    enum { BASE = 0x400000, EHH = 0x400, FN = 48, FDE = 24 };
    const size_t n = nf + (ins ? nf / 10 : 0);
    const size_t e = (EHH + 12 + 8 * n + 7) & ~(size_t)7;
    const size_t c0 = (e + (n + 1) * FDE + 0xfff) & ~(size_t)0xfff, end = c0 + n * FN;
    uint64_t ph[2][6] = {{1, 5, 0, BASE, end, end},
                         {0x6474e550, 4, EHH, BASE + EHH, 12 + 8 * n, 12 + 8 * n}};
    size_t next = 0;

    assert_true(end <= cap);
    memset(p, 0, end);
    elf_head(p, (const uint64_t(*)[6])ph, 2);
    p[EHH] = 1;
    p[EHH + 1] = 0x1b;
    p[EHH + 2] = 0x03;
    p[EHH + 3] = 0x3b;
    put32(p + EHH + 4, (uint32_t)(e - (EHH + 4)));
    put32(p + EHH + 8, (uint32_t)n);
    put32(p + e, FDE - 4); /* the CIE */
    memcpy(p + e + 8, "\1zR\0\1\x78\x10\1\x1b\x0c\7\x08\x90\1", 15);
    for (size_t i = 0; i < n; i++) {
        const size_t id = ins && i % 11 == 10 ? 1000 + i : next++;
        const size_t f = e + (i + 1) * FDE, c = c0 + i * FN;
        put32(p + f, FDE - 4);
        put32(p + f + 4, (uint32_t)(f + 4 - e));
        put32(p + f + 8, (uint32_t)(c - (f + 8)));
        put32(p + f + 12, FN);
        for (size_t k = 17; k < FDE; k++)
            p[f + k] = (uint8_t)(id * 7 + k);
        for (size_t k = 0; k < FN; k++)
            p[c + k] = (uint8_t)(id * 31 + k * 5 + 1);
        put32(p + EHH + 12 + 8 * i, (uint32_t)(c - EHH));
        put32(p + EHH + 16 + 8 * i, (uint32_t)(f - EHH));
    }
    *ehh = EHH;
    *eh = e;
    *code = c0;
    return end;
}

/* A plan of pieces of new (len bytes at n: from old at o, or o < 0: extra
 * bytes), in new's order. */
static void
plan_of_pieces(struct plan *pl, const int64_t (*pc)[3], size_t npc)
{
    int64_t op = 0;

    memset(pl, 0, sizeof(*pl));
    pl->c = calloc(npc + 1, sizeof(*pl->c));
    assert_non_null(pl->c);
    pl->cap = npc + 1;
    pl->c[pl->n++] = (struct ctl){0, 0, 0};
    for (size_t i = 0; i < npc; i++) {
        if (pc[i][2] < 0) {
            pl->c[pl->n - 1].copy += (uint64_t)pc[i][1];
            pl->extra_len += (uint64_t)pc[i][1];
            continue;
        }
        pl->c[pl->n - 1].seek = pc[i][2] - op;
        pl->c[pl->n++] = (struct ctl){(uint64_t)pc[i][1], 0, 0};
        pl->diff_len += (uint64_t)pc[i][1];
        op = pc[i][2] + pc[i][1];
    }
}

/* The map apply makes from pl's control entries. */
static void
map_of_plan(const struct plan *pl, struct zu_exe_map *m)
{
    uint64_t np = 0;
    int64_t op = 0;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < pl->n; i++) {
        if (pl->c[i].add > 0)
            assert_int_equal(zu_exe_map_add(m, (uint64_t)op, np, pl->c[i].add), ZUPD_OK);
        np += pl->c[i].add + pl->c[i].copy;
        op += (int64_t)pl->c[i].add + pl->c[i].seek;
    }
    zu_exe_map_done(m);
}

/* The plan realigned over .eh_frame_hdr's table (mirror/delta/realign.c):
 * a plan that found the code and the FDEs but took the header and its
 * table as extra bytes leaves old's rows as they are under its map; with
 * the header from old's, old's rows transformed are new's rows of the
 * same functions, and realigned every such row of new comes from its row
 * of old. */
static void
test_eh_realign(void **state)
{
    enum { NF = 300, CAP = 0x8000 + 330 * 48, FN = 48, FDE = 24 };
    uint8_t *o = malloc(CAP), *w = malloc(CAP), *xo = malloc(CAP);
    size_t ol, wl, hO, hN, eO, eN, cO, cN, np = 0, rows = 0;
    int64_t pc[4 + 4 * (NF / 10 + 1)][3];
    struct zu_elf eo, en;
    struct zu_exe_map m;
    struct plan pl, h, q;
    int changed = 0;

    (void)state;
    assert_true(o != NULL && w != NULL && xo != NULL);
    ol = make_ehtab_elf(o, CAP, NF, 0, &hO, &eO, &cO);
    wl = make_ehtab_elf(w, CAP, NF, 1, &hN, &eN, &cN);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    /* the plan: the headers, the header and table as extra, then the CIE and
     * the FDEs, then the code, ten at a time from old, the new ones extra */
    pc[np][0] = 0, pc[np][1] = (int64_t)hN, pc[np][2] = 0, np++;
    pc[np][0] = (int64_t)hN, pc[np][1] = (int64_t)(eN - hN), pc[np][2] = -1, np++;
    for (int part = 0; part < 2; part++) {
        const size_t bo = part == 0 ? eO + FDE : cO, bn = part == 0 ? eN + FDE : cN;
        const size_t sz = part == 0 ? FDE : FN;
        if (part == 0) { /* the CIE with the first ten FDEs */
            pc[np][0] = (int64_t)eN, pc[np][1] = (int64_t)(FDE + 10 * sz), pc[np][2] = (int64_t)eO,
            np++;
        } else {
            pc[np][0] = (int64_t)(eN + (NF + NF / 10 + 1) * FDE);
            pc[np][1] = (int64_t)(cN - (size_t)pc[np][0]), pc[np][2] = -1, np++;
            pc[np][0] = (int64_t)cN, pc[np][1] = (int64_t)(10 * sz), pc[np][2] = (int64_t)cO, np++;
        }
        for (size_t j = 10; j < NF; j += 10) {
            pc[np][0] = (int64_t)(bn + (j + j / 10 - 1) * sz), pc[np][1] = (int64_t)sz;
            pc[np][2] = -1, np++;
            pc[np][0] = (int64_t)(bn + (j + j / 10) * sz), pc[np][1] = (int64_t)(10 * sz);
            pc[np][2] = (int64_t)(bo + j * sz), np++;
        }
        pc[np][0] = (int64_t)(bn + (NF + NF / 10 - 1) * sz), pc[np][1] = (int64_t)sz; /* the last */
        pc[np][2] = -1, np++;
    }
    assert_true(np <= ZU_ARRAY_LEN(pc));
    plan_of_pieces(&pl, (const int64_t(*)[3])pc, np);
    assert_int_equal(zp_plan_fill(&pl, o, ol, w, wl), ZUPD_OK);
    assert_int_equal(pl.diff_len + pl.extra_len, wl);
    zp_plan_empty(&pl);
    /* under its map old's rows stay as they are: the header is not mapped */
    map_of_plan(&pl, &m);
    assert_int_equal(zu_exe_transform(xo, o, ol, &eo, &en, &m, ZU_EXE_K_UNWIND), ZUPD_OK);
    assert_memory_equal(xo + hO + 12, o + hO + 12, 8 * NF);
    zu_exe_map_free(&m);
    /* the header from old's: then every row of old transformed is new's */
    assert_int_equal(zp_eh_realign(&pl, o, NULL, &eo, w, &en, &h, &changed), ZUPD_OK);
    assert_int_equal(changed, 1);
    map_of_plan(&h, &m);
    assert_int_equal(zu_exe_transform(xo, o, ol, &eo, &en, &m, ZU_EXE_K_UNWIND), ZUPD_OK);
    for (size_t j = 0; j < NF; j++)
        assert_memory_equal(xo + hO + 12 + 8 * j, w + hN + 12 + 8 * (j + j / 10), 8);
    zu_exe_map_free(&m);
    /* and realigned, each such row of new from its row of old */
    assert_int_equal(zp_eh_realign(&pl, o, xo, &eo, w, &en, &q, &changed), ZUPD_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(zp_plan_fill(&q, xo, ol, w, wl), ZUPD_OK);
    assert_int_equal(q.diff_len + q.extra_len, wl);
    {
        uint64_t n = 0, dn = 0;
        int64_t op = 0;
        for (size_t i = 0; i < q.n; i++) {
            for (uint64_t b = n; b < n + q.c[i].add; b++)
                if (b >= hN + 12 && b < hN + 12 + 8 * (NF + NF / 10)) {
                    const size_t k = (size_t)(b - hN - 12) / 8;
                    if (k % 11 == 10)
                        continue; /* a row added: the guess, the row after the one before */
                    assert_int_equal(op + (int64_t)(b - n),
                                     hO + 12 + 8 * (k - k / 11) + (b - hN - 12) % 8);
                    assert_int_equal(q.diff[dn + (b - n)], 0);
                    rows++;
                }
            n += q.c[i].add + q.c[i].copy;
            dn += q.c[i].add;
            op += (int64_t)q.c[i].add + q.c[i].seek;
        }
    }
    assert_int_equal(rows, 8 * NF);
    zp_plan_release(&q);
    zp_plan_release(&h);
    zp_plan_release(&pl);
    free(o);
    free(w);
    free(xo);
}

/* An ELF file with a RELA table (PT_DYNAMIC: DT_RELA, DT_RELASZ,
 * DT_RELAENT) at 0x400 of rows (r_offset, R_X86_64_RELATIVE, r_addend)
 * for ids[0..n) (the row of id k is the same in every file), then 4 KiB
 * of other bytes; into p, its length returned. */
static size_t
make_rela_elf(uint8_t *p, size_t cap, const unsigned *ids, size_t n)
{
    const uint64_t base = 0x200000, tab = 0x400, end = tab + n * 24 + 4096;
    uint64_t ph[2][6] = {{1, 5, 0, base, end, end}, {2, 6, 0x100, base + 0x100, 64, 64}};

    assert_true(end <= cap);
    memset(p, 0, end);
    elf_head(p, ph, 2);
    zu_put_le64(p + 0x100, 7); /* DT_RELA */
    zu_put_le64(p + 0x108, base + tab);
    zu_put_le64(p + 0x110, 8); /* DT_RELASZ */
    zu_put_le64(p + 0x118, n * 24);
    zu_put_le64(p + 0x120, 9); /* DT_RELAENT */
    zu_put_le64(p + 0x128, 24);
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = p + tab + i * 24;
        zu_put_le64(r, 0x900000 + (uint64_t)ids[i] * 8);
        zu_put_le64(r + 8, 8);
        zu_put_le64(r + 16, 0x500000 + (uint64_t)ids[i] * 0x40 + (ids[i] * 7919u) % 64);
    }
    for (uint64_t i = tab + n * 24; i < end; i++)
        p[i] = (uint8_t)(i * 13);
    return (size_t)end;
}

/* The executable stage's plan over a RELA table (mirror/delta/realign.c):
 * new has rows added among old's, so the plan that aligns row i with row i
 * (as a scan of old as it is does) changes most rows; realigned, every row
 * of old comes from its own row, the diff over the table is zero but for
 * the rows added, and the plan still makes new (the plan it started from
 * as it was). A file without a table, or one whose table lies outside
 * the file, is left as it is. */
static void
test_rela_realign(void **state)
{
    enum { NO = 2000, CAP = 0x400 + 2200 * 24 + 8192 };
    unsigned io[NO], iw[NO + 200];
    uint8_t *o = malloc(CAP), *w = malloc(CAP), *r;
    size_t ol, wl, nw = 0, added = 0;
    struct plan pl, q;
    struct zu_elf eo, en;
    int changed = 0;

    (void)state;
    assert_true(o != NULL && w != NULL);
    for (unsigned i = 0; i < NO; i++) {
        io[i] = i * 2;
        if (i % 10 == 3) { /* new: a row added before every tenth */
            iw[nw++] = i * 2 + 1;
            added++;
        }
        iw[nw++] = i * 2;
    }
    ol = make_rela_elf(o, CAP, io, NO);
    wl = make_rela_elf(w, CAP, iw, nw);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    memset(&pl, 0, sizeof(pl));
    memset(&q, 0, sizeof(q));
    pl.c = malloc(sizeof(*pl.c));
    assert_non_null(pl.c);
    pl.c[0] = (struct ctl){ol, wl - ol, 0}; /* row i from row i */
    pl.n = pl.cap = 1;
    pl.diff_len = ol;
    pl.extra_len = wl - ol;
    assert_int_equal(zp_rela_realign(&pl, o, o, &eo, w, &en, &q, &changed), ZUPD_OK);
    assert_int_equal(changed, 1);
    assert_true(pl.n == 1 && pl.c[0].add == ol); /* as it was */
    assert_int_equal(zp_plan_fill(&q, o, ol, w, wl), ZUPD_OK);
    assert_int_equal(q.diff_len + q.extra_len, wl);
    /* new again from old and the plan, and the table's changed rows */
    r = malloc(wl);
    assert_non_null(r);
    {
        uint64_t np = 0, dn = 0, xn = 0, rows = 0;
        int64_t op = 0;
        for (size_t i = 0; i < q.n; i++) {
            assert_true(op >= 0 && (uint64_t)op + q.c[i].add <= ol);
            for (uint64_t k = 0; k < q.c[i].add; k++) {
                r[np + k] = (uint8_t)(q.diff[dn + k] + o[op + k]);
                if (np + k >= 0x400 && np + k < 0x400 + nw * 24 && q.diff[dn + k] != 0 &&
                    (np + k - 0x400) % 24 == 0)
                    rows++; /* a row with a changed first byte */
            }
            np += q.c[i].add;
            dn += q.c[i].add;
            op += (int64_t)q.c[i].add;
            memcpy(r + np, q.extra + xn, q.c[i].copy);
            np += q.c[i].copy;
            xn += q.c[i].copy;
            op += q.c[i].seek;
        }
        assert_int_equal(np, wl);
        assert_memory_equal(r, w, wl);
        assert_true(rows <= added);
    }
    zp_plan_release(&q);
    /* no PT_DYNAMIC, or the table outside the file: nothing is made */
    put32(o + 64 + 56, 4); /* the second program header: PT_NOTE */
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(eo.dyn.filesz, 0);
    assert_int_equal(zp_rela_realign(&pl, o, o, &eo, w, &en, &q, &changed), ZUPD_OK);
    assert_int_equal(changed, 0);
    put32(o + 64 + 56, 2);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    zu_put_le64(o + 0x118, (uint64_t)ol); /* DT_RELASZ past the segment */
    assert_int_equal(zp_rela_realign(&pl, o, o, &eo, w, &en, &q, &changed), ZUPD_OK);
    assert_int_equal(changed, 0);
    zp_plan_release(&pl);
    free(r);
    free(o);
    free(w);
}

/* The jump tables (ZU_EXE_K_JTAB): found, their entries predicted as new
 * has them where the code moved (the function inserted), the same bytes
 * as the plain reading and a piece at a time; a creation takes the kind
 * (version 9) and round-trips; as version 8 the patch is refused; an old
 * without tables gets no kind (version 8 or less). */
static void
test_exe_jtab(void **state)
{
    size_t cap = 128 << 10, ol, wl, ot, wt, on, wn, plen, at;
    uint8_t *o = malloc(cap), *w = malloc(cap), *x1 = malloc(cap), *x2 = malloc(cap), *patch;
    struct zu_elf eo, en, got;
    struct zu_exe_map m = {0};
    struct mem_sink ms = {0};
    int any = 0;

    (void)state;
    assert_non_null(o);
    assert_non_null(w);
    assert_non_null(x1);
    assert_non_null(x2);
    ol = make_jt_elf(o, cap, 0, 0, &ot, &on);
    wl = make_jt_elf(w, cap, 1, 0, &wt, &wn);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_elf_parse(w, wl, &en), ZUPD_OK);
    assert_int_equal(zu_exe_jtab_any(o, ol, &eo, &any), ZUPD_OK);
    assert_true(any);
    /* the map a plan would give: everything before the inserted function
     * in place, everything after it moved by one function (code) and by
     * one table (data) */
    {
        const size_t fn = 15 + 8 * 12, cut = 0x1000 + 20 * fn;
        assert_int_equal(zu_exe_map_add(&m, 0, 0, cut), ZUPD_OK);
        assert_int_equal(zu_exe_map_add(&m, cut, cut + fn, 0x1000 + 400 * fn - cut), ZUPD_OK);
        assert_int_equal(zu_exe_map_add(&m, ot - 0x100, wt - 0x100, 0x100 + 20 * 32), ZUPD_OK);
        assert_int_equal(zu_exe_map_add(&m, ot + 20 * 32, wt + 21 * 32, 380 * 32), ZUPD_OK);
        zu_exe_map_done(&m);
    }
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL), ZUPD_OK);
    ref_transform(x2, o, ol, &eo, &en, &m, ZU_EXE_K_ALL);
    assert_memory_equal(x1, x2, ol);
    assert_true(ref_win_same(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL, 7));
    /* every table of a function after the inserted one: as in new */
    assert_memory_equal(x1 + ot + 20 * 32, w + wt + 21 * 32, 380 * 32);
    assert_memory_not_equal(o + ot + 20 * 32, w + wt + 21 * 32, 380 * 32);
    /* without the kind they stay as in old */
    assert_int_equal(zu_exe_transform(x1, o, ol, &eo, &en, &m, ZU_EXE_K_ALL & ~ZU_EXE_K_JTAB),
                     ZUPD_OK);
    assert_memory_equal(x1 + ot, o + ot, on * 4);
    zu_exe_map_free(&m);
    /* a creation (three functions inserted, the tables in another order
     * than the code) takes the kind, version 9; refused as version 8 */
    ol = make_jt_elf(o, cap, 0, 1, &ot, &on);
    wl = make_jt_elf(w, cap, 3, 1, &wt, &wn);
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    assert_true((patch[7] & ZU_FLAG_EXE) != 0);
    at = params_at(patch, plen);
    assert_int_equal(zu_exe_params_get(patch, plen, &at, &got), ZUPD_OK);
    assert_int_equal(got.kinds & ~ZU_EXE_K_NEAR, /* no .eh_frame, no Go */
                     ZU_EXE_K_CODE | ZU_EXE_K_ABS64 | ZU_EXE_K_UNWIND | ZU_EXE_K_JTAB);
    assert_int_equal(patch[4], (got.kinds & ZU_EXE_K_NEAR) != 0 ? 14
                               : written_version(patch) == 10
                                   ? 10
                                   : 9); /* or LZMA2's, or the nearest span's */
    patch[4] = 8;
    assert_int_equal(apply_mem(o, ol, patch, plen, &ms), ZUPD_E_FORMAT);
    free(patch);
    /* an executable without tables: no kind, no version 9 */
    ol = make_elf(o, cap, 0);
    wl = make_elf(w, cap, 1);
    assert_int_equal(zu_elf_parse(o, ol, &eo), ZUPD_OK);
    assert_int_equal(zu_exe_jtab_any(o, ol, &eo, &any), ZUPD_OK);
    assert_false(any);
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    at = params_at(patch, plen);
    assert_int_equal(zu_exe_params_get(patch, plen, &at, &got), ZUPD_OK);
    assert_int_equal(got.kinds, ZU_EXE_K_CODE | ZU_EXE_K_ABS64 | ZU_EXE_K_UNWIND);
    assert_true(patch[4] <= 8);
    free(patch);
    free(ms.p);
    free(o);
    free(w);
    free(x1);
    free(x2);
}

/* The extra stream without a prefix (ZU_FLAG_EXTRA_NOPFX, version 9), as
 * the creator marks it over ZU_EXE_WHOLE_MAX: a patch of the stage whose
 * zstd extra stream was compressed without a prefix (new text a tenth of
 * the new file: no prefix) applies the same with the flag, whole and a
 * piece at a time. The flag is refused in version 8, with a bzip2 extra
 * stream, and with the context. */
static void
test_exe_nopfx(void **state)
{
    size_t cap = 64 << 10, ol, wl, plen;
    uint8_t *o = malloc(cap), *w = malloc(cap), *patch, *bad;
    struct mem_sink m = {0};

    (void)state;
    assert_non_null(o);
    assert_non_null(w);
    ol = make_elf(o, cap, 0);
    wl = make_elf(w, cap, 1);
    for (size_t i = 0; i < 1500; i++) /* text at the end of the data segment */
        w[wl - 1500 + i] = (uint8_t) "a window at a time, "[i % 20];
    patch = exe_round_trip(o, ol, w, wl, 19, &plen);
    assert_true((patch[7] & ZU_FLAG_EXE) != 0);
    assert_int_equal(patch[7] & (ZU_FLAG_EXTRA_CTX | ZU_FLAG_EXTRA_NOPFX), 0);
    assert_int_equal((patch[6] >> 4) & 3, ZU_CODEC_ZSTD);
    bad = malloc(plen);
    assert_non_null(bad);
    memcpy(bad, patch, plen);
    bad[7] |= ZU_FLAG_EXTRA_NOPFX;
    bad[4] = 8;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    bad[4] = patch[4] > 9 ? patch[4] : 9; /* its kinds may need a later version */
    assert_int_equal(apply_expect(o, ol, bad, plen, w, wl), ZUPD_OK);
    assert_int_equal(apply_expect_flags(o, ol, bad, plen, ZUPD_DELTA_LOW_MEMORY, w, wl), ZUPD_OK);
    bad[6] = (uint8_t)((bad[6] & ~0x30) | ZU_CODEC_BZIP2 << 4);
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    memcpy(bad, patch, plen);
    bad[7] |= ZU_FLAG_EXTRA_NOPFX | ZU_FLAG_EXTRA_CTX; /* the radius read from the next varint */
    bad[4] = 9;
    assert_int_equal(apply_mem(o, ol, bad, plen, &m), ZUPD_E_FORMAT);
    free(m.p);
    free(bad);
    free(patch);
    free(o);
    free(w);
}

/* ------------------------------------------------------------------ LZMA2 extra stream */

/* x[0..n) as an LZMA2 extra stream (ZU_CODEC_LZMA) into out: the property
 * byte of dictionary dict, then raw LZMA2 at preset 6, the last bytes of
 * pd[0..pn) that fit as its preset dictionary. Returns its length. */
static size_t
lz_stream(uint8_t *out, size_t cap, const uint8_t *x, size_t n, const uint8_t *pd, size_t pn,
          uint32_t dict)
{
    lzma_options_lzma o;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &o}, {LZMA_VLI_UNKNOWN, NULL}};
    uint32_t pb;
    size_t pos = 0;

    assert_false(lzma_lzma_preset(&o, 6));
    o.dict_size = dict;
    if (pd != NULL) {
        size_t keep = pn < dict ? pn : dict;
        o.preset_dict = pd + pn - keep;
        o.preset_dict_size = (uint32_t)keep;
    }
    assert_int_equal(lzma_properties_size(&pb, f), LZMA_OK);
    assert_int_equal(pb, 1);
    assert_int_equal(lzma_properties_encode(f, out), LZMA_OK);
    pos = 1;
    assert_int_equal(lzma_raw_buffer_encode(f, NULL, x, n, out, &pos, cap), LZMA_OK);
    return pos;
}

/* A patch from o to w crafted with an LZMA2 extra stream (version 10): add
 * 32 KiB (diff zero), then copy the rest of w from the extra stream, made
 * with old as its preset dictionary where pfx says. *xat: where the extra
 * stream starts. */
static uint8_t *
lz_patch(const uint8_t *o, size_t ol, const uint8_t *w, size_t wl, int pfx, int all, size_t *plen,
         size_t *xat)
{
    size_t cap = 1u << 20, at, xn, cl = 0, add = 32u << 10;
    uint8_t *p = calloc(1, cap), *x = malloc(cap), ctrl[32], *zeros = calloc(1, add);
    uint8_t cz[64], *dz = malloc(cap);
    size_t zc, zd;

    assert_true(p != NULL && x != NULL && zeros != NULL && dz != NULL);
    cl += put_varint(ctrl + cl, add);
    cl += put_varint(ctrl + cl, wl - add);
    cl += put_varint(ctrl + cl, 0);
    if (all) { /* ZU_CODECS_LZMA_ALL: the control and diff streams too */
        zc = lz_stream(cz, sizeof(cz), ctrl, cl, NULL, 0, 1u << 12);
        zd = lz_stream(dz, cap, zeros, add, NULL, 0, 1u << 16);
    } else {
        zc = ZSTD_compress(cz, sizeof(cz), ctrl, cl, 3);
        zd = ZSTD_compress(dz, ZSTD_compressBound(add), zeros, add, 3);
    }
    assert_false(ZSTD_isError(zc) || ZSTD_isError(zd));
    xn = lz_stream(x, cap, w + add, wl - add, pfx ? o : NULL, ol, 1u << 17);
    at = native_head(p, ZU_LZMA_VERSION, all ? ZU_CODECS_LZMA_ALL : ZU_CODECS_EXTRA_LZMA, 0, o, ol,
                     w, wl);
    *plen = put_body(p, at, cz, zc, dz, zd, x, xn);
    *xat = *plen - xn;
    free(x);
    free(zeros);
    free(dz);
    return p;
}

/* Old: 64 KiB of random bytes. New: its first 32 KiB, then 8 KiB of extra
 * bytes: words, or pieces of old far from where the add ended (copies from
 * the preset dictionary). The crafted patch applies, also a piece at a
 * time; every hostile change to the codec bits, the version, the property
 * byte, the stream's bytes or end, or the prefix is refused. */
static void
test_lzma_extra(void **state)
{
    const size_t ol = 64u << 10, wl = 40u << 10;
    uint8_t *o = rand_buf(ol, 91), *w = malloc(wl), *p, *q;
    size_t pl, xat;
    struct mem_sink m = {0};

    (void)state;
    assert_non_null(w);
    memcpy(w, o, 32u << 10);
    for (int t = 0; t < 4; t++) {
        int pfx = t & 1, all = t >> 1;
        for (size_t i = 32u << 10; i < wl; i += 64) /* words, or old's bytes 40 KiB on */
            if (pfx)
                memcpy(w + i, o + (40u << 10) + (i * 7) % (20u << 10), 64);
            else
                for (size_t k = 0; k < 64; k++)
                    w[i + k] = (uint8_t) "return lzma(x, n); "[(i / 64 + k) % 19];
        p = lz_patch(o, ol, w, wl, pfx, all, &pl, &xat);
        q = malloc(pl + 1);
        assert_non_null(q);
        assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
        assert_int_equal(apply_expect_flags(o, ol, p, pl, ZUPD_DELTA_LOW_MEMORY, w, wl), ZUPD_OK);
        /* versions before 10 do not know bits 6-7 of the codecs */
        memcpy(q, p, pl);
        q[4] = 9;
        assert_int_equal(apply_mem(o, ol, q, pl, &m), ZUPD_E_FORMAT);
        /* bits 6-7 3, the streams in another family than they are, or
         * 1 with codec bits 4-5 set */
        for (int c = 0; c < 4; c++) {
            static const uint8_t bad[4] = {0xc0, 0x40 | ZU_CODEC_BZIP2 << 4,
                                           0x40 | ZU_CODEC_RAW << 4, 0};
            memcpy(q, p, pl);
            q[6] = c < 3 ? bad[c] : (all ? ZU_CODECS_EXTRA_LZMA : ZU_CODECS_LZMA_ALL);
            assert_int_not_equal(apply_expect(o, ol, q, pl, w, wl), ZUPD_OK);
        }
        /* the zero-run diff flag wants bzip2 */
        memcpy(q, p, pl);
        q[7] |= ZU_FLAG_DIFF_ZRUN;
        assert_int_equal(apply_mem(o, ol, q, pl, &m), ZUPD_E_FORMAT);
        /* the dictionary: 64 MiB is the most (property 28), 96 MiB is
         * refused, as is a property LZMA2 does not have */
        memcpy(q, p, pl);
        q[xat] = 28;
        assert_int_equal(apply_expect(o, ol, q, pl, w, wl), ZUPD_OK);
        q[xat] = 29;
        assert_int_equal(apply_mem(o, ol, q, pl, &m), ZUPD_E_FORMAT);
        q[xat] = 41;
        assert_int_equal(apply_mem(o, ol, q, pl, &m), ZUPD_E_FORMAT);
        /* a byte of the stream changed */
        memcpy(q, p, pl);
        q[xat + (pl - xat) / 2] ^= 0x20;
        assert_int_not_equal(apply_expect(o, ol, q, pl, w, wl), ZUPD_OK);
        /* cut short, or a byte after the end marker */
        assert_int_equal(apply_mem(o, ol, p, pl - 1, &m), ZUPD_E_FORMAT);
        memcpy(q, p, pl);
        q[pl] = 0;
        assert_int_equal(apply_mem(o, ol, q, pl + 1, &m), ZUPD_E_FORMAT);
        /* no prefix (ZU_FLAG_EXTRA_NOPFX): the stream without a preset
         * dictionary still applies; the one that copies from old does not */
        memcpy(q, p, pl);
        q[7] |= ZU_FLAG_EXTRA_NOPFX;
        if (pfx)
            assert_int_not_equal(apply_expect(o, ol, q, pl, w, wl), ZUPD_OK);
        else
            assert_int_equal(apply_expect(o, ol, q, pl, w, wl), ZUPD_OK);
        free(p);
        free(q);
    }
    free(m.p);
    free(o);
    free(w);
}

/* n records of 16 bytes into b: offsets, sizes, kinds (gen-delta.sh's
 * lzma pair, bigger): LZMA2 codes such fields by position. */
static void
put_records(uint8_t *b, size_t n, uint32_t base)
{
    static const uint32_t tgt[3] = {0x401000, 0x402340, 0x40a000};
    for (size_t i = 0; i < n; i++, b += 16) {
        uint32_t v[4] = {base + (uint32_t)i * 24, (uint32_t)(rng() % 4096) * 16,
                         (uint32_t)("\1\2\3\7"[rng() % 4]) | (uint32_t)(rng() % 2) << 24,
                         tgt[rng() % 3] + (uint32_t)(rng() % 64) * 8};
        for (int k = 0; k < 4; k++)
            zu_put_le32(b + 4 * k, v[k]);
    }
}

/* The LZMA2 dictionary property of a created native patch's extra stream
 * (no executable stage, x86 filter or context), or -1 where the extra
 * stream is not LZMA2. */
static int
extra_lzma_prop(const uint8_t *p, size_t pl)
{
    size_t at = 8;
    uint64_t v, c, d;
    int hi = p[6] & 0xc0;

    assert_int_equal(p[7] & (ZU_FLAG_EXE | ZU_FLAG_EXTRA_X86 | ZU_FLAG_EXTRA_CTX), 0);
    if (hi != ZU_CODECS_EXTRA_LZMA && !(hi == ZU_CODECS_LZMA_ALL && (p[6] & 0x30) == 0))
        return -1;
    assert_int_equal(zu_get_varint(p, pl, &at, &v), ZUPD_OK); /* old size */
    assert_int_equal(zu_get_varint(p, pl, &at, &v), ZUPD_OK); /* new size */
    at += 2 * ZU_DIGEST_SHORT;
    assert_int_equal(zu_get_varint(p, pl, &at, &c), ZUPD_OK);
    assert_int_equal(zu_get_varint(p, pl, &at, &d), ZUPD_OK);
    assert_true(at + c + d < pl);
    return p[at + c + d];
}

/* Compressed data in new (issue 18: swc's section) is compressed without
 * old as its prefix, in a 64 KiB dictionary at most (write.c,
 * zp_extra_random): LZMA2's tree over old was most of the time and saved
 * nothing. New bytes that are pieces of old keep old as the prefix (a
 * dictionary as long as old). Both apply. */
static void
test_extra_random(void **state)
{
    static const char *const words[] = {"mov", "rax", "rbx", "call", "ret", "push", "pop", "lea"};
    const size_t n = 512u << 10, keep = 128u << 10, nl = keep + (384u << 10);
    uint8_t *o = malloc(n), *w = malloc(nl), *t = malloc(n), *p = NULL;
    size_t pl = 0, tl;
    struct zp_delta_opts b = {ZUPD_DELTA_BSDIFF, 0, 0};

    (void)state;
    assert_true(o != NULL && w != NULL && t != NULL);
    rng_state = 78;
    put_words(o, n, words, ZU_ARRAY_LEN(words));
    /* the rule: random bytes of 16 KiB or more, not text, not short */
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)rng();
    assert_true(zp_extra_random(t, 64u << 10));
    assert_false(zp_extra_random(t, 8u << 10));
    assert_false(zp_extra_random(o, 64u << 10));
    /* new: a quarter of old, then bytes each of whose top 3 bits follow
     * from the byte before (its top 3 bits plus one), the rest random:
     * zstd's order-0 coding sees 8 bits a byte, LZMA2's literal context
     * (the byte before) codes them in about 5 */
    tl = nl - keep;
    for (size_t i = 0, c = 0; i < tl; i++) {
        c = (c + 1) % 8;
        w[keep + i] = (uint8_t)(c << 5 | (rng() & 31));
    }
    assert_true(zp_extra_random(w + keep, tl));
    memcpy(w, o, keep);
    assert_int_equal(zp_delta_create(o, n, w, keep + tl, &b, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(apply_expect(o, n, p, pl, w, keep + tl), ZUPD_OK);
    assert_int_equal(extra_lzma_prop(p, pl), 8); /* 64 KiB */
    free(p);
    /* new bytes in pieces of 5-9 bytes of old, too short for the scan:
     * old is the prefix */
    for (size_t i = keep; i < nl;) {
        size_t k = 5 + rng() % 5, at = rng() % (n - k);
        if (k > nl - i)
            k = nl - i;
        memcpy(w + i, o + at, k);
        i += k;
    }
    assert_int_equal(zp_delta_create(o, n, w, nl, &b, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(apply_expect(o, n, p, pl, w, nl), ZUPD_OK);
    assert_true(extra_lzma_prop(p, pl) >= 14); /* 512 KiB: old */
    free(p);
    free(o);
    free(w);
    free(t);
}

/* A creation whose extra stream is LZMA2 long enough to decode on its
 * thread (lib/delta_stream.c, struct aq): it applies, also a piece at a
 * time, and a cut or changed stream is refused (the error comes from the
 * thread). */
static void
test_lzma_create(void **state)
{
    const size_t on = 4000, nn = 24000, ol = on * 16, wl = (on + nn) * 16;
    uint8_t *o = malloc(ol), *w = malloc(wl), *p = NULL;
    size_t pl = 0;
    struct zp_delta_opts bsd = {ZUPD_DELTA_BSDIFF, 0, 0};
    struct mem_sink m = {0};

    (void)state;
    assert_true(o != NULL && w != NULL);
    rng_state = 10;
    put_records(o, on, 0x1000);
    memcpy(w, o, ol / 2);
    put_records(w + ol / 2, nn, 0x90000);
    memcpy(w + ol / 2 + nn * 16, o + ol / 2, ol / 2);
    assert_int_equal(zp_delta_create(o, ol, w, wl, &bsd, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(p[4], 10);
    assert_int_equal(p[6] & 0xf0, ZU_CODECS_EXTRA_LZMA);
    assert_true(pl > (64u << 10)); /* the extra stream decodes on its thread */
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    assert_int_equal(apply_expect_flags(o, ol, p, pl, ZUPD_DELTA_LOW_MEMORY, w, wl), ZUPD_OK);
    assert_int_equal(apply_mem(o, ol, p, pl - 1, &m), ZUPD_E_FORMAT);
    p[pl - 5000] ^= 0x10;
    assert_int_not_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    free(m.p);
    free(p);
    free(o);
    free(w);
}

/* Every stream in LZMA2 (ZU_CODECS_LZMA_ALL): code-like bytes without an
 * executable's header (so no stage): instructions from a small set and
 * every third a call (E8 rel32) to one of 256 places. New has 40-200
 * bytes inserted every 0.5-1.5 KB, pieces of the 64 bytes before them,
 * and every call's offset follows its target: thousands of control
 * entries, and changed bytes in most calls, as a big executable's diff
 * has them without the stage (biome-m: 2.31 MB of changed bytes in zstd,
 * 2.12 in LZMA2). The creation takes the family and the extra context
 * (its extra stream then LZMA2 with the context as preset dictionary),
 * applies (also a piece at a time), and is refused cut or with a byte
 * changed. */
static void
test_lzma_all_create(void **state)
{
    static const uint8_t ins[6][4] = {{0x48, 0x89, 0xc7, 0}, {0x48, 0x8b, 0x45, 0xf8},
                                      {0x31, 0xc0, 0, 0},    {0x48, 0x83, 0xc4, 0x08},
                                      {0x5d, 0xc3, 0, 0},    {0x41, 0x54, 0x55, 0x53}};
    static const size_t ilen[6] = {3, 4, 2, 4, 2, 4};
    const size_t cap = 3u << 20, np = 2048;
    uint8_t *o = malloc(cap), *w = malloc(cap + np * 256), *p = NULL;
    size_t ol = 0, n = 0, pl = 0, *ps = malloc(np * sizeof(size_t)),
           *sh = malloc(np * sizeof(size_t));
    uint32_t fn[256];
    struct zp_delta_opts bsd = {ZUPD_DELTA_BSDIFF, 0, 0};
    struct mem_sink m = {0};

    (void)state;
    assert_true(o != NULL && w != NULL && ps != NULL && sh != NULL);
    rng_state = 11;
    for (int i = 0; i < 256; i++)
        fn[i] = (uint32_t)(rng() % (cap - 16));
    while (ol + 8 <= cap) {
        if (rng() % 3 == 0) {
            o[ol] = 0xe8;
            zu_put_le32(o + ol + 1, fn[rng() % 256] - (uint32_t)(ol + 5));
            ol += 5;
        } else {
            size_t k = rng() % 6;
            memcpy(o + ol, ins[k], ilen[k]);
            ol += ilen[k];
        }
    }
    /* new: np pieces of old, bytes inserted after each; ps[i] where piece
     * i starts in old, sh[i] how far it moved */
    for (size_t i = 0, at = 0; i < np && at < ol; i++) {
        size_t piece = i + 1 == np ? ol - at : 500 + rng() % 1000, add = 40 + rng() % 160;
        if (piece > ol - at)
            piece = ol - at;
        ps[i] = at;
        sh[i] = n - at;
        memcpy(w + n, o + at, piece);
        n += piece;
        at += piece;
        for (size_t k = 0; k < add; k++) /* pieces of the bytes before it */
            w[n++] = (uint8_t)(k % 7 == 6 ? rng() : o[at - 64 + k % 64]);
    }
    for (size_t i = 0, pi = 0; i + 5 <= ol; i++) { /* each call in old, where it went */
        uint32_t t;
        size_t lo = 0, hi = np;
        if (o[i] != 0xe8)
            continue;
        while (pi + 1 < np && ps[pi + 1] <= i)
            pi++;
        if (pi + 1 < np && i + 5 > ps[pi + 1])
            continue; /* cut by an insertion */
        t = (uint32_t)(i + 5) + (uint32_t)(o[i + 1] | o[i + 2] << 8 | o[i + 3] << 16) +
            ((uint32_t)o[i + 4] << 24);
        while (hi - lo > 1) { /* the piece of the target */
            size_t mid = (lo + hi) / 2;
            if (ps[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        zu_put_le32(w + i + sh[pi] + 1, (uint32_t)(t + sh[lo] - (i + sh[pi] + 5)));
    }
    assert_int_equal(zp_delta_create(o, ol, w, n, &bsd, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(p[4], (p[7] & ZU_FLAG_CTRL_COLS) != 0 ? 15 : 10); /* or in columns */
    assert_int_equal(p[6] & 0xc0, ZU_CODECS_LZMA_ALL);
    assert_true((p[7] & ZU_FLAG_EXTRA_CTX) != 0);
    assert_int_equal(apply_expect(o, ol, p, pl, w, n), ZUPD_OK);
    assert_int_equal(apply_expect_flags(o, ol, p, pl, ZUPD_DELTA_LOW_MEMORY, w, n), ZUPD_OK);
    assert_int_equal(apply_mem(o, ol, p, pl - 1, &m), ZUPD_E_FORMAT);
    p[pl / 2] ^= 0x10;
    assert_int_not_equal(apply_expect(o, ol, p, pl, w, n), ZUPD_OK);
    free(p);
    /* no_lzma: no LZMA2 stream, a version 9 endpoint reads the patch */
    bsd.no_lzma = 1;
    assert_int_equal(zp_delta_create(o, ol, w, n, &bsd, &p, &pl, NULL), ZUPD_OK);
    assert_true(p[4] <= 9);
    assert_int_equal(p[6] & 0xc0, 0);
    assert_int_equal(apply_expect(o, ol, p, pl, w, n), ZUPD_OK);
    free(m.p);
    free(p);
    free(o);
    free(w);
    free(ps);
    free(sh);
}

/* zu_elf_parse on every truncation and on hostile program headers, and
 * the transform on random bytes with random segments and maps: no read or
 * write outside the buffers (ASan), the same output twice, and bytes
 * outside executable segments untouched. */
static void
test_exe_hostile(void **state)
{
    size_t cap = 64 << 10, ol;
    uint8_t *o = malloc(cap), *x1 = malloc(cap), *x2 = malloc(cap);
    struct zu_elf e, nw;
    uint64_t ph[ZU_EXE_SEGS_MAX + 1][6];

    (void)state;
    assert_non_null(o);
    assert_non_null(x1);
    assert_non_null(x2);
    ol = make_elf(o, cap, 0);
    assert_int_equal(zu_elf_parse(o, ol, &e), ZUPD_OK);
    assert_int_equal(e.n, 2);
    for (size_t n = 0; n < 64 + 2 * 56; n++)
        assert_int_equal(zu_elf_parse(o, n, &e), ZUPD_E_FORMAT);
    assert_int_equal(zu_elf_parse(o, 64 + 2 * 56, &e), ZUPD_OK);
    assert_int_equal(e.seg[0].filesz, 64 + 2 * 56); /* clipped to the file */
    assert_int_equal(e.seg[1].filesz, 0);
    /* phoff past the end, at the end, phnum 0xffff, wrong machine, class,
     * program header size */
    {
        static const struct {
            size_t at;
            uint8_t v;
        } bad[] = {{39, 0x80}, {33, 0xff}, {57, 0xff}, {18, 3}, {4, 1}, {5, 2}, {54, 32}};
        for (size_t i = 0; i < ZU_ARRAY_LEN(bad); i++) {
            uint8_t keep = o[bad[i].at];
            o[bad[i].at] = bad[i].v;
            assert_int_equal(zu_elf_parse(o, ol, &e), ZUPD_E_FORMAT);
            o[bad[i].at] = keep;
        }
    }
    /* too many PT_LOADs; none */
    for (size_t i = 0; i <= ZU_EXE_SEGS_MAX; i++) {
        ph[i][0] = 1, ph[i][1] = 5, ph[i][2] = 0, ph[i][3] = 0, ph[i][4] = 10, ph[i][5] = 10;
    }
    elf_head(x1, (const uint64_t(*)[6])ph, ZU_EXE_SEGS_MAX + 1);
    assert_int_equal(zu_elf_parse(x1, 64 + 17 * 56, &e), ZUPD_E_FORMAT);
    ph[0][0] = 2;
    elf_head(x1, (const uint64_t(*)[6])ph, 1);
    assert_int_equal(zu_elf_parse(x1, 64 + 56, &e), ZUPD_E_FORMAT);
    /* random segments (out of bounds, overlapping, wrapping addresses),
     * random maps and random bytes in the code */
    rng_state = 99;
    for (int it = 0; it < 300; it++) {
        struct zu_exe_map m = {0};
        size_t n = 1 + rng() % 6, len = 64 + n * 56 + rng() % 8192;
        for (size_t i = 0; i < n; i++) {
            int wild = rng() % 4 == 0;
            ph[i][0] = rng() % 5 == 0 ? 2 : rng() % 4 == 0 ? 0x6474e550 : 1; /* PT_GNU_EH_FRAME */
            ph[i][1] = rng() % 8;
            ph[i][2] = wild ? (uint64_t)rng() << 32 | rng() : rng() % (len + 100);
            ph[i][3] = rng() % 3 == 0 ? UINT64_MAX - rng() % 4096 : (uint64_t)rng() % 0x100000;
            ph[i][4] = wild ? UINT64_MAX - rng() : rng() % (len + 100);
            ph[i][5] = ph[i][4] + rng() % 4096;
        }
        for (size_t i = 64 + n * 56; i < len; i++)
            o[i] = (uint8_t)(rng() % 3 == 0 ? 0xe8 : rng());
        elf_head(o, (const uint64_t(*)[6])ph, n);
        if (zu_elf_parse(o, len, &e) != ZUPD_OK)
            continue;
        if (e.eh.filesz >= 12) { /* a header the unwind kind reads, a random count */
            static const uint8_t hdr[4] = {1, 0x1b, 0x03, 0x3b};
            memcpy(o + e.eh.off, hdr, 4);
        }
        for (size_t i = 0, k = rng() % 40; i < k; i++)
            assert_int_equal(zu_exe_map_add(&m, rng() % (len + 64), rng() % (len + 64),
                                            rng() % 4 == 0 ? UINT64_MAX / 4 : rng() % 600),
                             ZUPD_OK);
        zu_exe_map_done(&m);
        for (size_t i = 1; i < m.n; i++) /* sorted, no overlap */
            assert_true(m.s[i].o >= m.s[i - 1].o + m.s[i - 1].len);
        nw = e;
        nw.seg[0].vaddr += rng() % 4096;
        assert_int_equal(zu_exe_transform(x1, o, len, &e, &nw, &m, ZU_EXE_K_ALL), ZUPD_OK);
        assert_int_equal(zu_exe_transform(x2, o, len, &e, &nw, &m, ZU_EXE_K_ALL), ZUPD_OK);
        assert_memory_equal(x1, x2, len);
        ref_transform(x2, o, len, &e, &nw, &m, ZU_EXE_K_ALL); /* the plain reading */
        assert_memory_equal(x1, x2, len);
        /* a piece at a time: the same bytes */
        assert_true(ref_win_same(x1, o, len, &e, &nw, &m, ZU_EXE_K_ALL, rng()));
        assert_int_equal(zu_exe_transform(x1, o, len, &e, &nw, &m, ZU_EXE_K_CODE), ZUPD_OK);
        ref_transform(x2, o, len, &e, &nw, &m, ZU_EXE_K_CODE);
        assert_memory_equal(x1, x2, len);
        for (size_t i = 0; i < len; i++) {
            int in_x = 0;
            for (size_t k = 0; k < e.n; k++)
                if ((e.seg[k].flags & 1) && i - e.seg[k].off < e.seg[k].filesz)
                    in_x = 1;
            if (!in_x)
                assert_int_equal(x1[i], o[i]);
        }
        zu_exe_map_free(&m);
    }
    free(o);
    free(x1);
    free(x2);
}

/* New files over 1 MiB that look like text get the patch-from candidate
 * made for text (zp_pf_text_make); other big files do not. */
static void
test_pf_text(void **state)
{
    const size_t lines = 16000, cap = lines * 100;
    uint8_t *o = malloc(cap), *w = malloc(cap), *p = NULL;
    size_t ol = 0, wl = 0, pl = 0;
    struct zp_delta_report rep;

    (void)state;
    assert_true(o != NULL && w != NULL);
    rng_state = 31;
    for (size_t i = 0; i < lines; i++) /* a list of records, then redrawn */
        ol += (size_t)snprintf((char *)o + ol, cap - ol,
                               "Mozilla/5.0 (X11; Linux x86_64; rv:%u.0) Gecko/20100101 n%u\n",
                               rng() % 140, rng() % 100000);
    for (size_t i = 0; i < ol && wl + 200 < cap; i++) {
        size_t at = (size_t)(rng() % (ol - 200)), n = 60 + rng() % 120;
        memcpy(w + wl, o + at, n);
        wl += n;
    }
    assert_true(wl > (1u << 20));
    assert_int_equal(zp_delta_create(o, ol, w, wl, NULL, &p, &pl, &rep), ZUPD_OK);
    assert_true(rep.zstd > 0 && rep.bsdiff > 0);
    assert_true(pl <= rep.zstd && pl <= rep.bsdiff);
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    free(p);
    /* not text: no patch-from over 1 MiB below level 20 */
    for (size_t i = 0; i < wl; i += 50)
        w[i] = 0;
    assert_int_equal(zp_delta_create(o, ol, w, wl, NULL, &p, &pl, &rep), ZUPD_OK);
    assert_int_equal(rep.zstd, 0);
    assert_int_equal(apply_expect(o, ol, p, pl, w, wl), ZUPD_OK);
    free(p);
    free(o);
    free(w);
}

/* Records of text (a license list: name, id, a text of words) into b,
 * those of the indexes idx[0..n); record i is the same wherever it is. */
static size_t
put_text_records(char *b, size_t cap, const unsigned *idx, size_t n)
{
    static const char *const words[] = {
        "software", "license", "copy",       "permission", "notice", "warranty",
        "the",      "of",      "and",        "any",        "shall",  "be",
        "included", "in",      "all",        "copies",     "or",     "substantial",
        "portions", "without", "limitation", "rights",     "use"};
    size_t at = 0;

    for (size_t k = 0; k < n; k++) {
        rng_state = 1000 + idx[k];
        at += (size_t)snprintf(b + at, cap - at,
                               "\"LIC-%u\": {\"name\": \"License %u\", \"text\": \"", idx[k],
                               (unsigned)(rng() % 100000));
        for (unsigned w = 0, nw = 20 + (unsigned)(rng() % 60); w < nw; w++)
            at += (size_t)snprintf(b + at, cap - at, "%s ", words[rng() % ZU_ARRAY_LEN(words)]);
        at += (size_t)snprintf(b + at, cap - at, "\"},\n");
        assert_true(at + 1024 < cap);
    }
    return at;
}

/* Patch-from in LZMA2 (method 5, version 11): a list of records that a
 * release wrote in another order, with some new (as spdx's license list
 * moved between releases). Auto takes it there, smaller than zstd's
 * patch-from and the native patch; not with no_lzma (nor asked for then),
 * and does not try it where the records stayed in place; it applies,
 * also a piece at a time, and every damage is refused. */
static void
test_pf_lzma(void **state)
{
    const size_t n = 3000, cap = n * 700;
    unsigned *io = malloc(n * sizeof(*io)), *iw = malloc(n * sizeof(*iw));
    char *o = malloc(cap), *w = malloc(cap);
    uint8_t *p = NULL, *q;
    size_t ol, wl, pl = 0, ql = 0;
    struct zp_delta_report rep;
    struct zp_delta_opts nolz = {ZP_DELTA_AUTO, 0, 1}, lz_nolz = {ZUPD_DELTA_LZMA, 0, 1};
    struct zupd_delta_info info;
    struct mem_sink m = {0};

    (void)state;
    assert_true(io != NULL && iw != NULL && o != NULL && w != NULL);
    for (size_t i = 0; i < n; i++)
        io[i] = iw[i] = (unsigned)i;
    rng_state = 77;
    for (size_t i = n - 1; i > 0; i--) { /* new: shuffled, every 50th record new */
        size_t j = (size_t)(rng() % (i + 1));
        unsigned t = iw[i];
        iw[i] = iw[j];
        iw[j] = t;
    }
    for (size_t i = 0; i < n; i += 50)
        iw[i] = (unsigned)(n + i);
    ol = put_text_records(o, cap, io, n);
    wl = put_text_records(w, cap, iw, n);
    assert_int_equal(zp_delta_create((uint8_t *)o, ol, (uint8_t *)w, wl, NULL, &p, &pl, &rep),
                     ZUPD_OK);
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
    assert_int_equal(info.method, ZUPD_DELTA_LZMA);
    assert_int_equal(info.version, 11);
    assert_string_equal(zupd_delta_method_name(info.method), "lzma");
    assert_true(rep.lzma == pl && rep.bsdiff > pl && rep.zstd > pl);
    assert_int_equal(apply_expect((uint8_t *)o, ol, p, pl, (uint8_t *)w, wl), ZUPD_OK);
    assert_int_equal(
        apply_expect_flags((uint8_t *)o, ol, p, pl, ZUPD_DELTA_LOW_MEMORY, (uint8_t *)w, wl),
        ZUPD_OK);
    /* no_lzma: neither tried nor asked for */
    assert_int_equal(zp_delta_create((uint8_t *)o, ol, (uint8_t *)w, wl, &nolz, &q, &ql, &rep),
                     ZUPD_OK);
    assert_int_equal(rep.lzma, 0);
    assert_int_not_equal(q[5], ZUPD_DELTA_LZMA);
    assert_true(q[4] <= 10 && ql > pl);
    free(q);
    assert_int_equal(zp_delta_create((uint8_t *)o, ol, (uint8_t *)w, wl, &lz_nolz, &q, &ql, NULL),
                     ZUPD_E_MISUSE);
    /* the records edited in place (a letter changed every 20-60 bytes,
     * the order kept): the pieces did not move, auto does not try it */
    {
        char *e = malloc(ol);
        size_t el = ol, xl = 0;
        uint8_t *x = NULL;
        assert_non_null(e);
        memcpy(e, o, ol);
        rng_state = 5;
        for (size_t i = 20; i < ol; i += 20 + rng() % 40)
            if (e[i] >= 'a' && e[i] <= 'z')
                e[i] = (char)('a' + rng() % 26);
        assert_int_equal(zp_delta_create((uint8_t *)o, ol, (uint8_t *)e, el, NULL, &x, &xl, &rep),
                         ZUPD_OK);
        assert_int_equal(rep.lzma, 0);
        assert_true(xl >= (ol + el) / 1024); /* large enough: it is the moves that decide */
        assert_int_equal(apply_expect((uint8_t *)o, ol, x, xl, (uint8_t *)e, el), ZUPD_OK);
        free(x);
        free(e);
    }
    /* damage: the method in version 10, header bytes 6 or 7 set, the
     * dictionary over 64 MiB, unknown or too small to hold old, a byte of
     * the stream changed, cut short, a byte after the end marker, another
     * old file */
    q = malloc(pl + 1);
    assert_non_null(q);
    memcpy(q, p, pl);
    q[4] = 10;
    assert_int_equal(apply_mem((uint8_t *)o, ol, q, pl, &m), ZUPD_E_FORMAT);
    for (int b = 6; b <= 7; b++) {
        memcpy(q, p, pl);
        q[b] = b == 6 ? ZU_CODECS_EXTRA_LZMA : 1;
        assert_int_equal(apply_mem((uint8_t *)o, ol, q, pl, &m), ZUPD_E_FORMAT);
    }
    {
        size_t body = 8; /* the property byte: after the sizes and the digests */
        while (p[body++] & 0x80)
            ;
        while (p[body++] & 0x80)
            ;
        body += 2 * ZU_DIGEST_SHORT;
        memcpy(q, p, pl);
        q[body] = 28; /* 64 MiB: allowed */
        assert_int_equal(apply_expect((uint8_t *)o, ol, q, pl, (uint8_t *)w, wl), ZUPD_OK);
        for (int k = 0; k < 3; k++) {
            static const uint8_t prop[3] = {29, 41, 0};
            q[body] = prop[k];
            assert_int_not_equal(apply_expect((uint8_t *)o, ol, q, pl, (uint8_t *)w, wl), ZUPD_OK);
        }
        memcpy(q, p, pl);
        q[body + (pl - body) / 2] ^= 0x08;
        assert_int_not_equal(apply_expect((uint8_t *)o, ol, q, pl, (uint8_t *)w, wl), ZUPD_OK);
    }
    assert_int_equal(apply_mem((uint8_t *)o, ol, p, pl - 1, &m), ZUPD_E_FORMAT);
    memcpy(q, p, pl);
    q[pl] = 0;
    assert_int_equal(apply_mem((uint8_t *)o, ol, q, pl + 1, &m), ZUPD_E_FORMAT);
    o[ol / 2] ^= 1;
    assert_int_equal(apply_mem((uint8_t *)o, ol, p, pl, &m), ZUPD_E_BASE);
    free(m.p);
    free(q);
    free(p);
    free(o);
    free(w);
    free(io);
    free(iw);
}

/* ------------------------------------------------------------------ version 7 */

/* The copy method (new == old: the header alone) and the compact header
 * (digest prefixes) of version 7. */
static void
test_v7_copy(void **state)
{
    struct zp_delta_opts autoo = {ZP_DELTA_AUTO, 0, 0}, bsd = {ZUPD_DELTA_BSDIFF, 3, 0};
    const size_t ol = 300000;
    uint8_t *o = rand_buf(ol, 5), *p = NULL, *q = NULL;
    size_t pl = 0;
    struct zupd_delta_info info;
    struct mem_sink m = {0};
    struct zupd_delta_sink s = {&m, mem_write};

    (void)state;
    assert_int_equal(zp_delta_create(o, ol, o, ol, &autoo, &p, &pl, NULL), ZUPD_OK);
    /* magic, version, method, two zero bytes, varint 300000, 8 bytes */
    assert_int_equal(pl, 8 + 3 + ZU_DIGEST_SHORT);
    assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
    assert_int_equal(info.version, 7);
    assert_int_equal(info.method, ZUPD_DELTA_COPY);
    assert_string_equal(zupd_delta_method_name(info.method), "copy");
    assert_int_equal(info.old_size, ol);
    assert_int_equal(info.new_size, ol);
    assert_int_equal(zupd_delta_digest_len(&info), ZU_DIGEST_SHORT);
    assert_memory_equal(info.old_sha256, info.new_sha256, ZU_DIGEST_SHORT);
    assert_int_equal(apply_expect(o, ol, p, pl, o, ol), ZUPD_OK);
    assert_int_equal(zupd_delta_apply_flags(o, ol, p, pl, 0, ZUPD_DELTA_NO_HASHES, &s, NULL),
                     ZUPD_OK);
    assert_int_equal(m.len, ol);
    assert_memory_equal(m.p, o, ol);
    /* a wrong base (content, size) is refused before a write */
    o[ol - 1] ^= 1;
    assert_int_equal(apply_mem(o, ol, p, pl, &m), ZUPD_E_BASE);
    assert_int_equal(m.calls, 0);
    o[ol - 1] ^= 1;
    assert_int_equal(apply_mem(o, ol - 1, p, pl, &m), ZUPD_E_BASE);
    assert_int_equal(m.calls, 0);
    /* every cut, a byte more, another version or method, bytes 6 and 7 */
    for (size_t cut = 0; cut < pl; cut++) {
        uint8_t *t = malloc(cut + 1);
        assert_non_null(t);
        memcpy(t, p, cut);
        assert_int_equal(apply_mem(o, ol, t, cut, &m), ZUPD_E_FORMAT);
        free(t);
    }
    q = malloc(pl + 1);
    assert_non_null(q);
    memcpy(q, p, pl);
    q[pl] = 0;
    assert_int_equal(apply_mem(o, ol, q, pl + 1, &m), ZUPD_E_FORMAT);
    for (int v = 1; v <= 6; v++) { /* the copy method is version 7's */
        q[4] = (uint8_t)v;
        assert_int_equal(zupd_delta_info(q, pl, &info), ZUPD_E_FORMAT);
    }
    q[4] = 7;
    for (int i = 6; i <= 7; i++) {
        q[i] = 1;
        assert_int_equal(zupd_delta_info(q, pl, &info), ZUPD_E_FORMAT);
        q[i] = 0;
    }
    for (size_t at = 8; at < pl; at++) { /* the size or the digest */
        q[at] ^= 0x21;
        assert_int_not_equal(apply_mem(o, ol, q, pl, &m), ZUPD_OK);
        assert_int_equal(m.calls, 0);
        q[at] ^= 0x21;
    }
    free(q);
    free(p);
    /* asked for a method, the creator makes that one */
    assert_int_equal(zp_delta_create(o, ol, o, ol, &bsd, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(p[5], ZUPD_DELTA_BSDIFF);
    assert_int_equal(apply_expect(o, ol, p, pl, o, ol), ZUPD_OK);
    free(p);
    /* empty old and new */
    assert_int_equal(zp_delta_create(o, 0, o, 0, &autoo, &p, &pl, NULL), ZUPD_OK);
    assert_int_equal(pl, 8 + 1 + ZU_DIGEST_SHORT);
    assert_int_equal(apply_expect(NULL, 0, p, pl, NULL, 0), ZUPD_OK);
    free(p);
    free(m.p);
    free(o);
}

/* Small pairs in version 7: 16 bytes of digests instead of 64; every cut
 * of the header is refused, a changed header byte never gives a wrong
 * output, a wrong base is refused before a write. */
static void
test_v7_compact(void **state)
{
    static const uint8_t a[] = "the old file, short: 1.2.3 released on a Monday\n";
    static const uint8_t b[] = "the new file, short: 1.2.4 released on a Tuesday\n";
    struct zupd_delta_info info;
    struct mem_sink m = {0};

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(methods); i++) {
        struct zp_delta_opts o = {methods[i], 0, 0};
        uint8_t *p = NULL, old[sizeof(a)];
        size_t pl = 0, h;
        assert_int_equal(zp_delta_create(a, sizeof(a), b, sizeof(b), &o, &p, &pl, NULL), ZUPD_OK);
        assert_int_equal(apply_expect(a, sizeof(a), p, pl, b, sizeof(b)), ZUPD_OK);
        assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
        if (info.method == ZUPD_DELTA_BSDIFF40) {
            assert_int_equal(zupd_delta_digest_len(&info), 0);
            free(p);
            continue;
        }
        assert_int_equal(info.version, info.method == ZUPD_DELTA_LZMA ? 11 : 7);
        assert_int_equal(zupd_delta_digest_len(&info), ZU_DIGEST_SHORT);
        h = 8 + 2 + 2 * ZU_DIGEST_SHORT; /* the header: sizes of one byte each */
        assert_true(pl > h);
        for (size_t cut = 0; cut < h; cut++)
            assert_int_equal(zupd_delta_info(p, cut, &info), ZUPD_E_FORMAT);
        for (size_t at = 0; at < h; at++) {
            int rc;
            p[at] ^= 0x01;
            rc = apply_expect(a, sizeof(a), p, pl, b, sizeof(b)); /* OK only with b */
            if (at >= 4 && at < 8) /* version, method, codecs, flags */
                assert_int_not_equal(rc, ZUPD_OK);
            p[at] ^= 0x01;
        }
        memcpy(old, a, sizeof(a));
        old[3] ^= 1;
        assert_int_equal(apply_mem(old, sizeof(old), p, pl, &m), ZUPD_E_BASE);
        assert_int_equal(m.calls, 0);
        free(p);
    }
    free(m.p);
}

/* ------------------------------------------------------------------ x86 filter */

/* Bytes that make many (and overlapping) candidate instructions: opcodes,
 * prefixes, REX, ModRM [rip + disp32], and 00/FF high bytes. */
static uint8_t
x86_byte(void)
{
    static const uint8_t alpha[] = {0xe8, 0xe9, 0x0f, 0x84, 0x85, 0x48, 0x4c, 0x66, 0xf2, 0x8d,
                                    0x8b, 0x05, 0x0d, 0x81, 0xc7, 0xe8, 0x00, 0xff, 0x00, 0xff};
    uint32_t r = rng();
    return (r & 0x300) == 0 ? (uint8_t)(r >> 16) : alpha[(r >> 16) % sizeof(alpha)];
}

/* zu_x86_piece and zu_x86_run undo themselves, on dense made-up code
 * (instructions that overlap, share bytes, end at the piece's end) at
 * every length up to 64 and at hostile positions; and they convert. */
static void
test_x86_filter(void **state)
{
    uint8_t a[4096], b[4096];
    static const uint64_t poss[] = {
        0, 1, 0xffffff, 0x1000000, UINT64_MAX - 5000, UINT64_C(1) << 40};
    struct zu_x86 x = {{100, 1000, 3000}, {300, 1500, 1096}, 3};
    size_t changed = 0;

    (void)state;
    rng_state = 11;
    for (int round = 0; round < 2000; round++) {
        size_t len = round < 65 ? (size_t)round : 1 + rng() % sizeof(a);
        uint64_t pos = poss[round % ZU_ARRAY_LEN(poss)] + rng() % 64;
        for (size_t i = 0; i < len; i++)
            a[i] = x86_byte();
        memcpy(b, a, len);
        zu_x86_piece(b, len, pos, 1);
        changed += len > 0 && memcmp(a, b, len) != 0;
        zu_x86_piece(b, len, pos, -1);
        assert_memory_equal(a, b, len);
        zu_x86_run(b, len, pos % 4096, &x, 1);
        zu_x86_run(b, len, pos % 4096, &x, -1);
        assert_memory_equal(a, b, len);
    }
    assert_true(changed > 1000);
    /* a call to the same target from two places: the same bytes after */
    memset(a, 0x90, 64);
    a[0] = 0xe8;
    put32(a + 1, 100 - 5);
    a[20] = 0xe8;
    put32(a + 21, 100 - 25);
    zu_x86_piece(a, 64, 0, 1);
    assert_memory_equal(a + 1, a + 21, 4);
    /* 0F E8 (psubsb) whose ModRM is the first byte of the call after it:
     * the call is left alone, so that the inverse sees the same bytes */
    memset(a, 0x90, 64);
    a[0] = 0x0f;
    a[1] = 0xe8;
    put32(a + 2, 0x00000005 + 0x100);
    memcpy(b, a, 64);
    zu_x86_piece(b, 64, 0, 1);
    zu_x86_piece(b, 64, 0, -1);
    assert_memory_equal(a, b, 64);
}

/* A hand-made version 6 patch (stored streams, no executable stage) of
 * new = pieces of old (adds) and dense made-up code (copies) at random,
 * its extra stream filtered in three ranges: pieces longer than the
 * unfilter's buffer and instructions cut by entries and ranges. */
static size_t
x86_patch(uint8_t *p, const uint8_t *o, size_t ol, uint8_t *nw, size_t nl, const struct zu_x86 *x,
          uint8_t *ctl, uint8_t *ex)
{
    size_t np = 0, xn = 0, cn = 0, cur = 0, dn = 0, at;

    while (np < nl) {
        size_t add = rng() % 4 == 0 ? rng() % 64 : 0;
        size_t copy = rng() % 2 == 0 ? rng() % 40 : rng() % 200000, next = rng() % (ol - 64);
        int64_t s = (int64_t)next - (int64_t)(cur + add);
        if (add > nl - np)
            add = nl - np;
        if (copy > nl - np - add)
            copy = nl - np - add;
        memcpy(nw + np, o + cur, add);
        np += add;
        dn += add;
        for (size_t i = 0; i < copy; i++)
            nw[np + i] = x86_byte();
        memcpy(ex + xn, nw + np, copy);
        zu_x86_run(ex + xn, copy, np, x, 1);
        xn += copy;
        np += copy;
        cn += zu_put_varint(ctl + cn, add);
        cn += zu_put_varint(ctl + cn, copy);
        cn += zu_put_varint(ctl + cn, s >= 0 ? (uint64_t)s * 2 : (uint64_t)(-s) * 2 - 1);
        cur = next;
    }
    at = native_head(p, 6, ZU_CODEC_RAW | ZU_CODEC_RAW << 2 | ZU_CODEC_RAW << 4, ZU_FLAG_EXTRA_X86,
                     o, ol, nw, nl);
    at += zu_put_varint(p + at, cn);
    at += zu_put_varint(p + at, dn);
    at += zu_x86_params_put(p + at, x);
    memcpy(p + at, ctl, cn);
    memset(p + at + cn, 0, dn); /* the diff: the adds are old's bytes */
    memcpy(p + at + cn + dn, ex, xn);
    return at + cn + dn + xn;
}

/* The byte where the x86 filter's parameters start in the patch above. */
static size_t
x86_params_at(const uint8_t *p, size_t plen)
{
    size_t at = params_at(p, plen);
    assert_int_equal(p[7], ZU_FLAG_EXTRA_X86);
    return at;
}

static void
test_x86_patch(void **state)
{
    enum { OL = 1 << 16, NL = 600 << 10 };
    uint8_t *o = malloc(OL), *nw = malloc(NL), *ex = malloc(NL), *ctl = malloc(NL), *p, *bad;
    struct zu_x86 x = {{1000, 200000, 300001}, {150000, 90000, NL - 300001}, 3};
    size_t plen, at;

    (void)state;
    p = malloc(2 * NL + 512);
    bad = malloc(2 * NL + 512);
    assert_non_null(o);
    assert_non_null(nw);
    assert_non_null(ex);
    assert_non_null(ctl);
    assert_non_null(p);
    assert_non_null(bad);
    rng_state = 12;
    for (size_t i = 0; i < OL; i++)
        o[i] = (uint8_t)rng();
    for (int round = 0; round < 3; round++) {
        plen = x86_patch(p, o, OL, nw, NL, &x, ctl, ex);
        assert_int_equal(apply_expect(o, OL, p, plen, nw, NL), ZUPD_OK);
    }
    /* one range over all of new, and a range of one byte */
    x.n = 1;
    x.off[0] = 0;
    x.len[0] = NL;
    plen = x86_patch(p, o, OL, nw, NL, &x, ctl, ex);
    assert_int_equal(apply_expect(o, OL, p, plen, nw, NL), ZUPD_OK);
    x.off[0] = NL / 2;
    x.len[0] = 1;
    plen = x86_patch(p, o, OL, nw, NL, &x, ctl, ex);
    assert_int_equal(apply_expect(o, OL, p, plen, nw, NL), ZUPD_OK);
    /* hostile parameters: the flag in version 5, no range, too many, a
     * range of zero bytes, past the new file, before the one before, cut */
    at = x86_params_at(p, plen);
    memcpy(bad, p, plen);
    bad[4] = 5;
    assert_int_equal(apply_expect(o, OL, bad, plen, nw, NL), ZUPD_E_FORMAT);
    memcpy(bad, p, plen);
    bad[at] = 0;
    assert_int_equal(apply_expect(o, OL, bad, plen, nw, NL), ZUPD_E_FORMAT);
    bad[at] = ZU_X86_RANGES_MAX + 1;
    assert_int_equal(apply_expect(o, OL, bad, plen, nw, NL), ZUPD_E_FORMAT);
    assert_int_equal(apply_expect(o, OL, p, at + 2, nw, NL), ZUPD_E_FORMAT);
    {
        struct zu_x86 h[4] = {{{0}, {0}, 1},
                              {{NL - 10}, {11}, 1},
                              {{10, 15}, {10, 10}, 2},
                              {{UINT64_C(1) << 62}, {UINT64_C(1) << 62}, 1}};
        uint8_t par[ZU_X86_PARAMS_MAX];
        size_t end = at, pn, n;
        struct zu_x86 y;
        assert_int_equal(zu_x86_params_get(p, plen, &end, NL, &y), ZUPD_OK);
        for (size_t k = 0; k < ZU_ARRAY_LEN(h); k++) {
            pn = zu_x86_params_put(par, &h[k]);
            memcpy(bad, p, at);
            memcpy(bad + at, par, pn);
            memcpy(bad + at + pn, p + end, plen - end);
            n = at + pn + plen - end;
            assert_int_equal(apply_expect(o, OL, bad, n, nw, NL), ZUPD_E_FORMAT);
        }
        /* other ranges than the creator's: wrong bytes, the hash refuses */
        h[0].len[0] = NL;
        pn = zu_x86_params_put(par, &h[0]);
        memcpy(bad + at, par, pn);
        memcpy(bad + at + pn, p + end, plen - end);
        n = at + pn + plen - end;
        assert_int_equal(apply_expect(o, OL, bad, n, nw, NL), ZUPD_E_HASH);
    }
    free(o);
    free(nw);
    free(ex);
    free(ctl);
    free(p);
    free(bad);
}

/* ------------------------------------------------------------------ golden files */

static uint8_t *
slurp(const char *name, size_t *len)
{
    char path[4096];
    FILE *f;
    uint8_t *p;
    long n;

    snprintf(path, sizeof(path), "%s/%s", ZU_TESTDATA, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open '%s'", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* The golden patch `patch` is version `version` with the flags `flag`, and
 * applied to `old` it gives `nw`. */
static void
golden_pair(const char *patch, const char *old, const char *nw, int version, uint8_t flag)
{
    struct mem_sink m = {0};
    size_t pl, ol, nl;
    uint8_t *p = slurp(patch, &pl), *o = slurp(old, &ol), *w = slurp(nw, &nl);

    assert_int_equal(p[4], version);
    assert_int_equal(p[7] & flag, flag);
    assert_int_equal(apply_mem(o, ol, p, pl, &m), ZUPD_OK);
    assert_int_equal(m.len, nl);
    assert_memory_equal(m.p, w, nl);
    free(m.p);
    free(p);
    free(o);
    free(w);
}

static void
test_golden(void **state)
{
    static const struct {
        const char *file;
        int rc;
    } cases[] = {
        {"good/delta/base.zpd", ZUPD_OK},
        {"good/delta/base-zstd.zpd", ZUPD_OK},
        {"good/delta/base.bsdiff40", ZUPD_OK},
        {"good/delta/base-v7.zpd", ZUPD_OK},
        {"bad/delta/wrong-base-v7.zpd", ZUPD_E_BASE},
        {"bad/delta/wrong-base.zpd", ZUPD_E_BASE},
        {"bad/delta/truncated-delta.zpd", ZUPD_E_FORMAT},
        {"bad/delta/truncated-header.zpd", ZUPD_E_FORMAT},
        {"bad/delta/corrupt-stream.zpd", ZUPD_E_FORMAT},
        {"bad/delta/wrong-new-hash.zpd", ZUPD_E_HASH},
        {"bad/delta/ctrl-add-past-old.zpd", ZUPD_E_FORMAT},
        {"bad/delta/ctrl-copy-past-new.zpd", ZUPD_E_FORMAT},
        {"bad/delta/unknown-version.zpd", ZUPD_E_SPEC},
        {"bad/delta/truncated-delta.bsdiff40", ZUPD_E_FORMAT},
        {"bad/delta/negative-add.bsdiff40", ZUPD_E_FORMAT},
        {"bad/delta/seek-overflow.bsdiff40", ZUPD_E_FORMAT},
    };
    size_t ol, nl;
    uint8_t *old = slurp("good/delta/base.old", &ol);
    uint8_t *nw = slurp("good/delta/base.new", &nl);

    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(cases); i++) {
        struct mem_sink m = {0};
        size_t pl;
        uint8_t *p = slurp(cases[i].file, &pl);
        int rc = apply_mem(old, ol, p, pl, &m);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s, want %s", cases[i].file, zupd_errname(rc),
                     zupd_errname(cases[i].rc));
        if (rc == ZUPD_OK) {
            assert_int_equal(m.len, nl);
            assert_memory_equal(m.p, nw, nl);
        }
        if (rc == ZUPD_E_BASE || rc == ZUPD_E_SPEC)
            assert_int_equal(m.calls, 0);
        free(m.p);
        free(p);
    }
    free(old);
    free(nw);
    /* version 7: the compact header; the copy method */
    {
        struct mem_sink m = {0};
        struct zupd_delta_info info;
        size_t pl;
        uint8_t *p = slurp("good/delta/base-v7.zpd", &pl);
        old = slurp("good/delta/base.old", &ol);
        assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
        assert_int_equal(info.version, info.method == ZUPD_DELTA_LZMA ? 11 : 7);
        assert_int_equal(zupd_delta_digest_len(&info), ZU_DIGEST_SHORT);
        free(p);
        p = slurp("good/delta/base.zpd", &pl);
        assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
        assert_true(info.version < 7);
        assert_int_equal(zupd_delta_digest_len(&info), 32);
        free(p);
        p = slurp("good/delta/same-v7.zpd", &pl);
        assert_int_equal(zupd_delta_info(p, pl, &info), ZUPD_OK);
        assert_int_equal(info.method, ZUPD_DELTA_COPY);
        assert_int_equal(apply_mem(old, ol, p, pl, &m), ZUPD_OK);
        assert_int_equal(m.len, ol);
        assert_memory_equal(m.p, old, ol);
        free(m.p);
        free(p);
        free(old);
    }
    /* rep-coded seeks (version 8), the executable stage (version 5), made
     * by gen-delta.sh */
    golden_pair("good/delta/rep-v8.zpd", "good/delta/rep.old", "good/delta/rep.new", 8,
                ZU_FLAG_CTRL_REP);
    golden_pair("good/delta/exe.zpd", "good/delta/exe.old", "good/delta/exe.new", 5, ZU_FLAG_EXE);
    /* an LZMA2 extra stream (version 10) */
    golden_pair("good/delta/lzma-v10.zpd", "good/delta/lzma.old", "good/delta/lzma.new", 10, 0);
    {
        size_t pl;
        uint8_t *p = slurp("good/delta/lzma-v10.zpd", &pl);
        assert_int_equal(p[6] & 0xf0, ZU_CODECS_EXTRA_LZMA);
        free(p);
    }
    /* the executable stage's CIE pointers (version 12) */
    golden_pair("good/delta/eh-v12.zpd", "good/delta/eh.old", "good/delta/eh.new", 12, ZU_FLAG_EXE);
    golden_pair("good/delta/go-v13.zpd", "good/delta/go.old", "good/delta/go.new", 13, ZU_FLAG_EXE);
    golden_pair("good/delta/lsda-v14.zpd", "good/delta/lsda.old", "good/delta/lsda.new", 14,
                ZU_FLAG_EXE);
    golden_pair("good/delta/cols-v15.zpd", "good/delta/rep.old", "good/delta/rep.new", 15,
                ZU_FLAG_CTRL_COLS);
    /* patch-from in LZMA2 (method 5, version 11) */
    golden_pair("good/delta/base-lzma-v11.zpd", "good/delta/base.old", "good/delta/base.new", 11,
                0);
    {
        size_t pl;
        uint8_t *p = slurp("good/delta/base-lzma-v11.zpd", &pl);
        assert_int_equal(p[5], ZUPD_DELTA_LZMA);
        free(p);
    }
    /* the x86 filter (version 6), against the same old file */
    golden_pair("good/delta/exe-x86.zpd", "good/delta/exe.old", "good/delta/exe-x86.new", 6,
                ZU_FLAG_EXTRA_X86);
    {
        size_t pl;
        uint8_t *p;
        old = slurp("good/delta/exe.old", &ol);
        nw = slurp("good/delta/exe-x86.new", &nl);
        /* and the creator takes the filter on that pair at every level */
        for (int level = 3; level <= 19; level += 8) {
            p = exe_round_trip(old, ol, nw, nl, level, &pl);
            assert_int_equal(p[4], written_version(p)); /* every patch has the compact header */
            assert_int_equal(p[7] & (ZU_FLAG_EXE | ZU_FLAG_EXTRA_X86),
                             ZU_FLAG_EXE | ZU_FLAG_EXTRA_X86);
            free(p);
        }
        /* the filter without the stage: an old file that is not ELF (its
         * magic broken) leaves the stage out, the new file's code is still
         * filtered, and the patch applies */
        old[1] ^= 0x20;
        p = exe_round_trip(old, ol, nw, nl, 19, &pl);
        assert_int_equal(p[7] & (ZU_FLAG_EXE | ZU_FLAG_EXTRA_X86), ZU_FLAG_EXTRA_X86);
        free(p);
        free(old);
        free(nw);
    }
}

/* A PE32+ x86-64 file around img[0..n): headers in its first 0x400
 * bytes, then img, as an executable section .text of img's first code
 * bytes and a data section of the rest (in the table: data first, when
 * swap), at image base base + 0x1000. Returns the file's length (0x400 +
 * n). With base 0x3ff000 the addresses of make_elf's images stay true: a
 * byte at ELF offset f is at 0x400000 + f either way. */
static size_t
make_pe(uint8_t *p, const uint8_t *img, size_t n, size_t code, int swap, uint64_t base)
{
    const size_t sect = 0x98 + 0xf0;
    uint8_t *t = p + sect + (swap ? 40 : 0), *d = p + sect + (swap ? 0 : 40);

    memset(p, 0, 0x400);
    p[0] = 'M';
    p[1] = 'Z';
    put32(p + 0x3c, 0x80);
    memcpy(p + 0x80, "PE\0\0", 4);
    put16(p + 0x84, 0x8664); /* AMD64 */
    put16(p + 0x86, 2);      /* sections */
    put16(p + 0x94, 0xf0);   /* optional header */
    put16(p + 0x98, 0x20b);  /* PE32+ */
    zu_put_le64(p + 0x98 + 24, base);
    memcpy(t, ".text", 5);
    put32(t + 8, (uint32_t)code);
    put32(t + 12, 0x1000);
    put32(t + 16, (uint32_t)((code + 0x1ff) & ~(size_t)0x1ff)); /* raw: file-aligned */
    put32(t + 20, 0x400);
    put32(t + 36, 0x60000020); /* code, execute, read */
    memcpy(d, ".data", 5);
    put32(d + 8, (uint32_t)(n - code) + 0x800); /* and 2 KiB zero-filled */
    put32(d + 12, (uint32_t)(0x1000 + code));
    put32(d + 16, (uint32_t)(n - code));
    put32(d + 20, (uint32_t)(0x400 + code));
    put32(d + 36, 0xc0000040); /* data, read, write */
    memcpy(p + 0x400, img, n);
    return 0x400 + n;
}

/* zu_pe_parse: a segment per section, in table order; files that are not
 * PE32+ x86-64, or whose headers lie outside them. */
static void
test_pe_parse(void **state)
{
    enum { N = 0x3000 };
    uint8_t *img = calloc(1, N), *p = malloc(0x400 + N);
    struct zu_elf e;
    size_t n;

    (void)state;
    assert_true(img != NULL && p != NULL);
    for (int swap = 0; swap < 2; swap++) {
        const struct zu_seg *t, *d;
        n = make_pe(p, img, N, 0x1234, swap, 0x140000000);
        assert_int_equal(zu_exe_parse(p, n, &e), ZUPD_OK);
        assert_int_equal(e.id, ZU_EXE_PE_X86_64);
        assert_int_equal(e.n, 2);
        assert_int_equal(e.eh.filesz, 0);
        t = &e.seg[swap ? 1 : 0];
        d = &e.seg[swap ? 0 : 1];
        assert_true(t->off == 0x400 && t->vaddr == 0x140001000 && t->flags == 5);
        assert_true(t->filesz == 0x1234 && t->memsz == 0x1234); /* not the padding */
        assert_true(d->off == 0x400 + 0x1234 && d->vaddr == 0x140001000 + 0x1234);
        assert_true(d->flags == 6 && d->filesz == N - 0x1234 && d->memsz == N - 0x1234 + 0x800);
    }
    /* a section past the end of the file has no file bytes; one running
     * past it is cut */
    put32(p + 0x188 + 20, (uint32_t)n + 5);
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_OK);
    assert_true(e.seg[0].off == n && e.seg[0].filesz == 0);
    put32(p + 0x188 + 20, (uint32_t)n - 16);
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_OK);
    assert_int_equal(e.seg[0].filesz, 16);
    /* every cut of the headers */
    n = make_pe(p, img, N, 0x1234, 0, 0x140000000);
    for (size_t k = 0; k < 0x188 + 80; k++)
        assert_int_equal(zu_pe_parse(p, k, &e), ZUPD_E_FORMAT);
    assert_int_equal(zu_pe_parse(p, 0x188 + 80, &e), ZUPD_OK);
    /* not PE32+ x86-64, or headers out of the file */
    put16(p + 0x84, 0x14c); /* i386 */
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x84, 0x8664);
    put16(p + 0x98, 0x10b); /* PE32 */
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x98, 0x20b);
    for (uint32_t at = (uint32_t)n - 40; at != 0; at = at == 0xffffffffu ? 0 : 0xffffffffu) {
        put32(p + 0x3c, at); /* e_lfanew at the end, and far out */
        assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    }
    put32(p + 0x3c, 0x80);
    put16(p + 0x94, 0xfff0); /* optional header past the end */
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x94, 0x10); /* too short to hold the image base */
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x94, 0xf0);
    put16(p + 0x86, ZU_EXE_SEGS_MAX + 1);
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x86, 0);
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_E_FORMAT);
    put16(p + 0x86, 2);
    assert_int_equal(zu_exe_parse(p, n, &e), ZUPD_OK);
    p[1] = 'X'; /* neither PE nor ELF */
    assert_int_equal(zu_exe_parse(p, n, &e), ZUPD_E_FORMAT);
    free(p);
    free(img);
}

/* The exception directory (.pdata) of a PE file: found through data
 * directory 3, and its image offsets moved as the map moves what they
 * name (ZU_EXE_K_UNWIND), as the plain reading (exe_ref.h) says. */
static void
test_pe_pdata(void **state)
{
    enum { N = 0x3000, CODE = 0x2000 };
    uint8_t *img = calloc(1, N), *p = malloc(0x400 + N), *x1, *x2;
    struct zu_exe_map m = {0};
    struct zu_elf e;
    size_t n;

    (void)state;
    assert_true(img != NULL && p != NULL);
    /* .pdata at the start of the data section: begin, end, unwind info */
    for (uint32_t i = 0; i < 4; i++) {
        put32(img + CODE + 12 * i, 0x1000 + 0x100 * i);
        put32(img + CODE + 12 * i + 4, 0x1000 + 0x100 * i + 0x80);
        put32(img + CODE + 12 * i + 8, 0x1000 + CODE + 0x800 + 8 * i);
    }
    n = make_pe(p, img, N, CODE, 0, 0x140000000);
    put32(p + 0x98 + 108, 16);            /* NumberOfRvaAndSizes */
    put32(p + 0x98 + 136, 0x1000 + CODE); /* exception: RVA */
    put32(p + 0x98 + 140, 4 * 12 + 5);    /* and size (5 bytes past the last) */
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_OK);
    assert_int_equal(e.image_base, 0x140000000);
    assert_true(e.eh.off == 0x400 + CODE && e.eh.filesz == 53 && e.eh.vaddr == 0x140001000 + CODE);
    /* new: the code 0x40 bytes later in the file (and in memory), the
     * data where it was */
    assert_int_equal(zu_exe_map_add(&m, 0x400, 0x440, CODE - 0x40), ZUPD_OK);
    assert_int_equal(zu_exe_map_add(&m, 0x400 + CODE, 0x400 + CODE, N - CODE), ZUPD_OK);
    zu_exe_map_done(&m);
    x1 = malloc(n);
    x2 = malloc(n);
    assert_true(x1 != NULL && x2 != NULL);
    assert_int_equal(zu_exe_transform(x1, p, n, &e, &e, &m, ZU_EXE_K_UNWIND), ZUPD_OK);
    ref_transform(x2, p, n, &e, &e, &m, ZU_EXE_K_UNWIND);
    assert_memory_equal(x1, x2, n);
    for (uint32_t i = 0; i < 4; i++) {
        const uint8_t *q = x1 + 0x400 + CODE + 12 * i;
        assert_int_equal(zu_le64(q) & 0xffffffffu, 0x1040 + 0x100 * i);
        assert_int_equal(zu_le64(q + 4) & 0xffffffffu, 0x1040 + 0x100 * i + 0x80);
        assert_int_equal(zu_le64(q + 8) & 0xffffffffu, 0x1000 + CODE + 0x800 + 8 * i); /* data */
    }
    assert_memory_equal(x1 + 0x400 + CODE + 48, p + 0x400 + CODE + 48, N - CODE - 48);
    /* the directory outside every section's file bytes: none */
    put32(p + 0x98 + 136, 0x100000);
    assert_int_equal(zu_pe_parse(p, n, &e), ZUPD_OK);
    assert_int_equal(e.eh.filesz, 0);
    zu_exe_map_free(&m);
    free(x1);
    free(x2);
    free(p);
    free(img);
}

/* The executable stage and the x86 filter on Windows executables: the
 * golden exe pairs (exe.new: a function inserted and one grown; exe-x86:
 * sixty new functions calling old ones) as PE32+ files. The patches are
 * version 8 (transform id 2), and are refused as version 7, or against an
 * old file of the other format. */
static void
test_pe_exe(void **state)
{
    static const char *const news[] = {"good/delta/exe.new", "good/delta/exe-x86.new"};
    size_t ol, pl, on;
    uint8_t *old = slurp("good/delta/exe.old", &ol), *po = malloc(0x400 + ol), *p;
    struct zupd_delta_sink sink;
    struct mem_sink m = {0};

    (void)state;
    assert_non_null(po);
    on = make_pe(po, old, ol, ol - 0x2000, 0, 0x3ff000); /* code: all but data and tables */
    for (size_t i = 0; i < ZU_ARRAY_LEN(news); i++) {
        size_t nl, nn;
        uint8_t *nw = slurp(news[i], &nl), *pn = malloc(0x400 + nl);
        assert_non_null(pn);
        nn = make_pe(pn, nw, nl, nl - 0x2000, 0, 0x3ff000);
        p = exe_round_trip(po, on, pn, nn, 19, &pl);
        assert_true((p[7] & ZU_FLAG_EXE) != 0);
        assert_int_equal(p[4], 8);
        if (i == 1)
            assert_true((p[7] & ZU_FLAG_EXTRA_X86) != 0);
        /* version 7 has no PE transform */
        p[4] = 7;
        p[7] &= (uint8_t)~ZU_FLAG_CTRL_REP;
        assert_int_equal(apply_mem(po, on, p, pl, &m), ZUPD_E_FORMAT);
        free(p);
        free(pn);
        free(nw);
    }
    /* a PE patch over an ELF old file of the same size (the ELF old
     * file, zeros after it), the base check left out */
    {
        size_t nl, nn;
        uint8_t *nw = slurp(news[0], &nl), *pn = malloc(0x400 + nl), *eo = calloc(1, on);
        assert_true(pn != NULL && eo != NULL);
        memcpy(eo, old, ol);
        nn = make_pe(pn, nw, nl, nl - 0x2000, 0, 0x3ff000);
        p = exe_round_trip(po, on, pn, nn, 19, &pl);
        sink = (struct zupd_delta_sink){&m, mem_write};
        assert_int_equal(
            zupd_delta_apply_flags(eo, on, p, pl, 0, ZUPD_DELTA_NO_HASHES, &sink, NULL),
            ZUPD_E_FORMAT);
        free(eo);
        free(p);
        free(pn);
        free(nw);
    }
    free(m.p);
    free(po);
    free(old);
}

/* ------------------------------------------------------------------ block matching (block.c) */

/* p's control entries, diff and extra (zp_plan_fill) rebuild nw from old. */
static void
plan_rebuilds(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, struct plan *p)
{
    uint8_t *out = malloc(nlen + 1);
    size_t np = 0, dn = 0, xn = 0;
    int64_t op = 0;

    assert_non_null(out);
    assert_int_equal(zp_plan_fill(p, old, olen, nw, nlen), ZUPD_OK);
    for (size_t i = 0; i < p->n; i++) {
        const struct ctl *c = &p->c[i];
        assert_true(op >= 0 && (uint64_t)op + c->add <= olen);
        assert_true(np + c->add + c->copy <= nlen);
        for (size_t k = 0; k < c->add; k++)
            out[np + k] = (uint8_t)(old[(size_t)op + k] + p->diff[dn + k]);
        np += c->add;
        dn += c->add;
        op += (int64_t)c->add;
        memcpy(out + np, p->extra + xn, c->copy);
        np += c->copy;
        xn += c->copy;
        op += c->seek;
    }
    assert_int_equal(np, nlen);
    assert_int_equal(dn, p->diff_len);
    assert_int_equal(xn, p->extra_len);
    if (nlen > 0)
        assert_memory_equal(out, nw, nlen);
    free(out);
}

/* The index of the part of old (zp_block_index) is the suffix array of
 * the pieces joined, each place mapped back to old: each place of old in
 * the pieces once, in the order of the joined string's suffixes. A place
 * mapped through the wrong piece still finds matches (a search measures
 * them in old), so only this check sees it. */
static void
block_index_check(const struct zp_blocks *b, const uint8_t *old, const struct sindex *ix)
{
    uint8_t *r = malloc(b->rlen + 1), *seen = calloc(b->rlen + 1, 1);
    size_t prev = 0;

    assert_non_null(r);
    assert_non_null(seen);
    for (size_t k = 0; k < b->npiece; k++) {
        memcpy(r + b->piece[k].r, old + b->piece[k].old, b->piece[k].len);
        if (k > 0)
            assert_true(b->piece[k - 1].old + b->piece[k - 1].len < b->piece[k].old);
    }
    for (size_t i = 0; i < b->rlen; i++) {
        size_t p = (size_t)ix->sa[i], lo = 0, hi = b->npiece, at;
        while (hi - lo > 1) { /* the piece of old place p: pieces by old */
            size_t mid = lo + (hi - lo) / 2;
            if (b->piece[mid].old <= p)
                lo = mid;
            else
                hi = mid;
        }
        assert_true(p >= b->piece[lo].old && p < b->piece[lo].old + b->piece[lo].len);
        at = b->piece[lo].r + (p - b->piece[lo].old);
        assert_false(seen[at]);
        seen[at] = 1;
        if (i > 0) { /* the suffix before is smaller */
            size_t n = b->rlen - prev < b->rlen - at ? b->rlen - prev : b->rlen - at;
            int c = memcmp(r + prev, r + at, n);
            assert_true(c < 0 || (c == 0 && b->rlen - prev < b->rlen - at));
        }
        prev = at;
    }
    free(r);
    free(seen);
}

/* The block path by hand (match, reduce, index of the part of old, a
 * scan at each threshold of the ladder), each plan rebuilding nw; *b is
 * left for the caller to look at (zp_block_release). */
static void
block_plans(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, struct zp_blocks *b)
{
    static const size_t thr[] = {4, 8, 16, 32, 64, 256};
    struct sindex ix;

    assert_int_equal(zp_block_match(old, olen, nw, nlen, b), ZUPD_OK);
    assert_int_equal(zp_block_reduce(b, old, olen, nw, nlen), ZUPD_OK);
    assert_true(b->rlen <= olen);
    for (size_t k = 0; k < b->n; k++) {
        assert_true(b->cv[k].nw + b->cv[k].len <= nlen);
        assert_true(b->cv[k].old + b->cv[k].len <= olen);
        if (k > 0)
            assert_true(b->cv[k - 1].nw + b->cv[k - 1].len <= b->cv[k].nw);
    }
    assert_int_equal(zp_block_index(b, old, olen, 1, &ix), ZUPD_OK);
    if (b->rlen > 0)
        block_index_check(b, old, &ix);
    for (size_t t = 0; t < ZU_ARRAY_LEN(thr); t++) {
        struct plan p;
        assert_int_equal(zp_block_scan(b, old, olen, nw, nlen, &ix, 1, thr[t], &p), ZUPD_OK);
        plan_rebuilds(old, olen, nw, nlen, &p);
        zp_plan_release(&p);
    }
    zp_sindex_release(&ix);
}

/* Create (auto, default level) and apply; *indexed: the bytes of old the
 * creation suffix-sorted (old_len: all of it, the path of every pair
 * before block matching). */
static size_t
create_apply(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t *indexed)
{
    struct zp_delta_opts o = {ZP_DELTA_AUTO, 0, 0};
    struct zp_delta_report rep;
    struct mem_sink m = {0};
    uint8_t *patch = NULL;
    size_t plen = 0;

    assert_int_equal(zp_delta_create(old, olen, nw, nlen, &o, &patch, &plen, &rep), ZUPD_OK);
    assert_int_equal(apply_mem(old, olen, patch, plen, &m), ZUPD_OK);
    assert_int_equal(m.len, nlen);
    if (nlen > 0)
        assert_memory_equal(m.p, nw, nlen);
    free(m.p);
    free(patch);
    *indexed = rep.indexed;
    return plen;
}

/* Old of n bytes made of words, as a text database is (random words of a
 * small vocabulary: blocks repeat, so the table's chains are used). */
static uint8_t *
words_buf(size_t n, uint64_t seed)
{
    static const char *w[] = {"alpha", "beta",  "gamma", "delta", "\"version\":", "{\"id\":",
                              "true",  "false", "null",  "},\n",  "1.2.3",        "epsilon"};
    uint8_t *b = malloc(n + 1);
    size_t i = 0;

    assert_non_null(b);
    rng_state = seed;
    while (i < n) {
        const char *x = w[rng() % ZU_ARRAY_LEN(w)];
        for (size_t k = 0; x[k] != '\0' && i < n; k++)
            b[i++] = (uint8_t)x[k];
        if (i < n)
            b[i++] = (uint8_t)('0' + rng() % 10);
    }
    return b;
}

/* A near-identical pair takes the block path (less than old indexed) and
 * applies exactly; edits at block boundaries, single changed bytes inside
 * copies, a moved and a duplicated stretch, a deleted one. */
static void
test_block_near_identical(void **state)
{
    const size_t n = (3u << 20) / 2;
    uint8_t *old = words_buf(n, 77), *nw = malloc(n + 8192);
    size_t bs, nl = 0, indexed = 0, changed = 0, plen;
    unsigned bits;
    struct zp_blocks b;

    (void)state;
    assert_non_null(nw);
    zp_block_geometry(n, &bs, &bits);
    /* a moved stretch first, then old with edits, a duplicate, a gap */
    memcpy(nw, old + n - 20000, 10000);
    nl = 10000;
    memcpy(nw + nl, old, n - 30000);
    for (size_t k = 1; k < 40; k++) {
        size_t at = nl + k * 29 * bs; /* at, just before and just after a block edge */
        nw[at] ^= 0x5a;
        nw[at + bs - 1] ^= 0x21;
        nw[at + bs + 1] ^= 0x13;
        changed += 3;
    }
    nl += n - 30000;
    memcpy(nw + nl, old + 4096, 5000); /* duplicated */
    nl += 5000;
    memcpy(nw + nl, old + n - 10000, 10000); /* old[n-30000, n-20000) deleted */
    nl += 10000;
    block_plans(old, n, nw, nl, &b);
    assert_true(b.covered > nl / 2);
    zp_block_release(&b);
    plen = create_apply(old, n, nw, nl, &indexed);
    /* the fast path: only part of old indexed */
    assert_true(indexed > 0);
    assert_true(indexed < n / 4);
    /* each changed byte is a diff byte inside its copy, not an entry of
     * its own: far less than a control entry (3 varints) per change */
    assert_true(plen < changed * 3);
    free(old);
    free(nw);
}

/* All of new covered (old's halves swapped), and new with an edit in its
 * first and last byte. */
static void
test_block_all_covered(void **state)
{
    const size_t n = 1u << 21;
    uint8_t *old = rand_buf(n, 5), *nw = malloc(n);
    size_t indexed = 0;
    struct zp_blocks b;

    (void)state;
    assert_non_null(nw);
    memcpy(nw, old + n / 2, n / 2);
    memcpy(nw + n / 2, old, n / 2);
    block_plans(old, n, nw, n, &b);
    assert_int_equal(b.covered, n);
    zp_block_release(&b);
    (void)create_apply(old, n, nw, n, &indexed);
    assert_true(indexed < n / 4);
    nw[0] ^= 1;
    nw[n - 1] ^= 1;
    block_plans(old, n, nw, n, &b);
    zp_block_release(&b);
    (void)create_apply(old, n, nw, n, &indexed);
    assert_true(indexed < n / 4);
    free(old);
    free(nw);
}

/* A short piece of old (no whole block of old in it, so no cover) copied
 * into new between two covers, from the middle of a long cover's old: the
 * part of old indexed still holds it (zp_block_reduce's search for the
 * bytes between covers). */
static void
test_block_needed_inside_cover(void **state)
{
    const size_t n = 1u << 21;
    uint8_t *old = rand_buf(n, 9), *nw = malloc(n + 64);
    size_t bs, src, hit = 0;
    unsigned bits;
    struct zp_blocks b;

    (void)state;
    assert_non_null(nw);
    zp_block_geometry(n, &bs, &bits);
    src = n / 2 + 5; /* 40 bytes from 5 past a block edge: no block whole */
    memcpy(nw, old, n / 4);
    memcpy(nw + n / 4, old + src, 40);
    memcpy(nw + n / 4 + 40, old + n / 4, n - n / 4);
    block_plans(old, n, nw, n + 40, &b);
    /* old[src] is inside the cover of old[n/4, n), yet indexed */
    for (size_t k = 0; k < b.npiece; k++)
        if (b.piece[k].old <= src && src + 40 <= b.piece[k].old + b.piece[k].len)
            hit = 1;
    assert_true(hit);
    assert_true(b.rlen < n / 4);
    zp_block_release(&b);
    free(old);
    free(nw);
}

/* Tiny and empty files through the block path by hand, and created. */
static void
test_block_tiny(void **state)
{
    static const size_t sizes[] = {0, 1, 31, 32, 33, 64, 100, 4096};
    (void)state;
    for (size_t i = 0; i < ZU_ARRAY_LEN(sizes); i++) {
        for (size_t j = 0; j < ZU_ARRAY_LEN(sizes); j++) {
            uint8_t *old = rand_buf(sizes[i], 3), *nw = malloc(sizes[j] + 1);
            struct zp_blocks b;
            size_t indexed;
            assert_non_null(nw);
            for (size_t k = 0; k < sizes[j]; k++) /* old again, one byte changed */
                nw[k] = sizes[i] > 0 ? old[k % sizes[i]] : (uint8_t)k;
            if (sizes[j] > 2)
                nw[sizes[j] / 2] ^= 0xff;
            block_plans(old, sizes[i], nw, sizes[j], &b);
            zp_block_release(&b);
            (void)create_apply(old, sizes[i], nw, sizes[j], &indexed);
            if (sizes[i] != sizes[j] || (sizes[i] > 0 && memcmp(old, nw, sizes[i]) != 0))
                assert_int_equal(indexed, sizes[i]); /* too small for the block path */
            free(old);
            free(nw);
        }
    }
}

/* A block of new in the same table slot as a block of old, with other
 * bytes: the table's hit is checked against old and no cover takes it. */
static void
test_block_hash_collision(void **state)
{
    const size_t n = 1u << 20;
    uint8_t *old = rand_buf(n, 11), *nw = malloc(n), *blk;
    size_t bs, at, tries = 0, target = 5;
    unsigned bits;
    size_t slot;
    struct zp_blocks b;

    (void)state;
    assert_non_null(nw);
    zp_block_geometry(n, &bs, &bits);
    slot = zp_block_slot(zp_block_hash(old + target * bs, bs), bits);
    blk = rand_buf(bs, 1234);
    while (zp_block_slot(zp_block_hash(blk, bs), bits) != slot ||
           memcmp(blk, old + target * bs, bs) == 0) {
        for (size_t k = 0; k < bs; k++)
            blk[k] = (uint8_t)rng();
        tries++;
        assert_true(tries < ((size_t)64 << bits));
    }
    /* new: old with a changed region holding that block alone */
    memcpy(nw, old, n);
    at = n / 2 + 7;
    memset(nw + at - 64, 0, 64);
    memcpy(nw + at, blk, bs);
    memset(nw + at + bs, 0, 64);
    block_plans(old, n, nw, n, &b);
    for (size_t k = 0; k < b.n; k++) /* no cover holds the crafted block on target's */
        assert_false(b.cv[k].nw <= at && at < b.cv[k].nw + b.cv[k].len &&
                     b.cv[k].old + (at - b.cv[k].nw) == target * bs);
    zp_block_release(&b);
    free(blk);
    free(old);
    free(nw);
}

/* Where new shares little with old (no long copies) or the level searches
 * exhaustively, all of old is indexed as before block matching. */
static void
test_block_not_taken(void **state)
{
    const size_t n = 1u << 21;
    uint8_t *old = rand_buf(n, 21), *nw = rand_buf(n, 22);
    struct zp_delta_opts x = {ZP_DELTA_AUTO, ZP_DELTA_LEVEL_MAX, 0};
    struct zp_delta_report rep;
    uint8_t *patch = NULL;
    size_t plen = 0, indexed = 0;

    (void)state;
    (void)create_apply(old, n, nw, n, &indexed);
    assert_int_equal(indexed, n);
    memcpy(nw, old, n);
    nw[n / 3] ^= 1;
    (void)create_apply(old, n, nw, n, &indexed);
    assert_true(indexed < n);
    assert_int_equal(zp_delta_create(old, n, nw, n, &x, &patch, &plen, &rep), ZUPD_OK);
    assert_int_equal(rep.indexed, n);
    free(patch);
    free(old);
    free(nw);
}

/* The probes before the walk over new (block.c): a new file whose first
 * half is old's and whose second half is new bytes cannot meet the rule,
 * and no cover is looked for (the walk alone went through the first half
 * first); a text database edited every 4 KiB, whose blocks repeat (the
 * table's chains full), meets it. */
static void
test_block_probes(void **state)
{
    const size_t n = 1u << 21;
    uint8_t *old = rand_buf(n, 31), *nw = rand_buf(n, 32), *wo, *wn;
    struct zp_blocks b;

    (void)state;
    memcpy(nw, old, n / 2);
    assert_int_equal(zp_block_match(old, n, nw, n, &b), ZUPD_OK);
    assert_true(b.partial);
    assert_int_equal(b.n, 0);
    assert_false(zp_block_wanted(&b, n, n));
    zp_block_release(&b);
    wo = words_buf(n, 33);
    wn = malloc(n);
    assert_non_null(wn);
    memcpy(wn, wo, n);
    for (size_t at = 2048; at < n; at += 4096)
        wn[at] ^= 0x20;
    assert_int_equal(zp_block_match(wo, n, wn, n, &b), ZUPD_OK);
    assert_false(b.partial);
    assert_true(zp_block_wanted(&b, n, n));
    zp_block_release(&b);
    free(wo);
    free(wn);
    free(old);
    free(nw);
}

/* The extensions as the scan made them byte by byte before their
 * eight-byte path (mirror/delta/scan.c, zp_scan_extend): the reference. */
static void
extend_ref(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t lastscan,
           size_t lastpos, size_t scan, size_t pos, size_t *lenfp, size_t *lenbp)
{
    size_t lenf = 0, lenb = 0, i;
    int64_t s, sf = 0, sb = 0;

    s = 0;
    for (i = 0; lastscan + i < scan && lastpos + i < olen;) {
        if (old[lastpos + i] == nw[lastscan + i])
            s++;
        i++;
        if (s * 2 - (int64_t)i > sf * 2 - (int64_t)lenf) {
            sf = s;
            lenf = i;
        }
    }
    if (scan < nlen) {
        s = 0;
        for (i = 1; scan >= lastscan + i && pos >= i; i++) {
            if (old[pos - i] == nw[scan - i])
                s++;
            if (s * 2 - (int64_t)i > sb * 2 - (int64_t)lenb) {
                sb = s;
                lenb = i;
            }
        }
    }
    if (lastscan + lenf > scan - lenb) {
        size_t overlap = (lastscan + lenf) - (scan - lenb);
        size_t lens = 0;
        int64_t ss = 0;
        s = 0;
        for (i = 0; i < overlap; i++) {
            if (nw[lastscan + lenf - overlap + i] == old[lastpos + lenf - overlap + i])
                s++;
            if (nw[scan - lenb + i] == old[pos - lenb + i])
                s--;
            if (s > ss) {
                ss = s;
                lens = i + 1;
            }
        }
        lenf += lens - overlap;
        lenb -= lens;
    }
    *lenfp = lenf;
    *lenbp = lenb;
}

/* zp_scan_extend against the byte loops: old and new equal but for
 * changes at densities from none to every byte (so blocks of eight all
 * equal, all different, and the best just reached or just missed inside
 * a block), and spans that reach the ends of both buffers, start at 0,
 * are shorter than a block, or cross the new match's start. */
static void
test_scan_extend(void **state)
{
    static const unsigned every[] = {0, 1, 2, 3, 5, 9, 17, 64, 1000};
    const size_t n = 4099;
    uint8_t *o = rand_buf(n, 31), *w = malloc(n);

    (void)state;
    assert_non_null(w);
    for (size_t d = 0; d < ZU_ARRAY_LEN(every); d++) {
        for (int shape = 0; shape < 4; shape++) {
            memcpy(w, o, n);
            for (size_t i = 0; i < n; i++) {
                int change = every[d] == 0 ? 0 : every[d] == 1 ? 1 : (rng() % every[d]) == 0;
                if (shape == 1)
                    change = change || (i / 37) % 3 == 0; /* runs of changes */
                if (shape == 2)
                    change = (i / 8) % 2 == (rng() % 2); /* whole blocks */
                if (shape == 3)
                    change = (i / 8) % 2 == 1 && (every[d] == 0 || (i / 16) % every[d] != 1);
                if (change)
                    w[i] = (uint8_t)(o[i] + 1 + rng() % 255);
            }
            for (unsigned k = 0; k < 300; k++) {
                size_t lastscan = rng() % n, scan = lastscan + rng() % (n - lastscan + 1);
                size_t lastpos = rng() % n, pos = rng() % (n + 1);
                size_t a0, b0, a1, b1;
                if (k % 7 == 0)
                    lastpos = n - 1 - rng() % 12; /* old ends within a block */
                if (k % 11 == 0)
                    scan = n; /* the end of new: no backward extension */
                if (k % 13 == 0)
                    lastscan = 0, lastpos = 0, pos = rng() % 16;
                if (k % 5 == 0)
                    pos = scan < n ? scan : n - 1; /* aligned: long equal runs */
                if (shape == 3 && k % 2 == 0) {
                    /* on the blocks' edges: the score back at the best
                     * exactly at a block's end (a tie keeps the first) */
                    lastscan = lastpos = 8 * (rng() % 100);
                    scan = lastscan + 8 * (rng() % 60);
                    pos = k % 4 == 0 ? scan : scan - lastscan + 8 * (rng() % 300);
                }
                if (pos >= n)
                    pos = n - 1;
                extend_ref(o, n, w, n, lastscan, lastpos, scan, pos, &a0, &b0);
                zp_scan_extend(o, n, w, n, lastscan, lastpos, scan, pos, &a1, &b1);
                assert_int_equal(a1, a0);
                assert_int_equal(b1, b0);
            }
        }
    }
    free(o);
    free(w);
}

/* ------------------------------------------------------------------ scan memo */

/* The plan of one scan at threshold thr with the index ix. */
static void
scan_at(const uint8_t *old, size_t ol, const uint8_t *nw, size_t nl, struct sindex *ix, int skip,
        size_t thr, struct plan *p)
{
    assert_int_equal(zp_plan_scan(old, ol, nw, nl, ix, skip, thr, p), ZUPD_OK);
}

/* The scans of one pair through a ladder of thresholds, each read from the
 * searches of the scans before it (the memo of the index), against the
 * same scan with no memo (every search made): the same entries. */
static void
memo_check_at(const uint8_t *old, size_t ol, const uint8_t *nw, size_t nl, int skip, size_t max)
{
    static const size_t ladder[] = {16, 8, 4, 8, 256, 1, 32, 16};
    struct sindex ix, plain;
    struct smemo *saved;

    assert_int_equal(zp_sindex_build(old, ol, skip, &ix), ZUPD_OK);
    assert_int_equal(zp_sindex_build(old, ol, skip, &plain), ZUPD_OK);
    if (ol > 0)
        assert_non_null(ix.memo);
    if (max > 0)
        ix.memo_max = max;
    saved = plain.memo;
    plain.memo = NULL; /* the plain reading: no memo */
    for (size_t t = 0; t < ZU_ARRAY_LEN(ladder); t++) {
        struct plan a, b;
        scan_at(old, ol, nw, nl, &ix, skip, ladder[t], &a);
        scan_at(old, ol, nw, nl, &plain, skip, ladder[t], &b);
        assert_int_equal(a.n, b.n);
        assert_int_equal(a.diff_len, b.diff_len);
        assert_int_equal(a.extra_len, b.extra_len);
        if (a.n > 0)
            assert_memory_equal(a.c, b.c, a.n * sizeof(*a.c));
        zp_plan_release(&a);
        zp_plan_release(&b);
        /* the budget holds (one memo: new is not scanned in halves) */
        assert_true(zp_sindex_memo_len(&ix) <= ix.memo_max);
    }
    plain.memo = saved;
    zp_sindex_release(&ix);
    zp_sindex_release(&plain);
}

static void
memo_check(const uint8_t *old, size_t ol, const uint8_t *nw, size_t nl, int skip)
{
    memo_check_at(old, ol, nw, nl, skip, 0);
}

/* Crafted pairs for the memo: edits in random bytes, ends of buffers,
 * equal suffixes, long repeats and runs, periods that change, files
 * shorter than a gram, a new file over TWO_SCAN_MAX (two halves, a memo
 * each); both the skipping scan (levels up to 19) and the exhaustive one. */
static void
test_scan_memo(void **state)
{
    size_t n = 200000, wl;
    uint8_t *o, *w, *r;

    (void)state;
    for (int skip = 0; skip <= 1; skip++) {
        rng_state = 21;
        make_binary_pair(n, &o, &w, &wl);
        memo_check(o, n, w, wl, skip);
        /* memos that fill up: the searches left out are made again */
        memo_check_at(o, n, w, wl, skip, 1);
        memo_check_at(o, n, w, wl, skip, 100);
        memo_check_at(o, n, w, wl, skip, 5000);
        /* new = old's tail then its head: matches that reach both ends */
        memcpy(w, o + n / 2, n - n / 2);
        memcpy(w + (n - n / 2), o, n / 2);
        memo_check(o, n, w, n, skip);
        /* equal suffixes after different heads, and new a prefix of old */
        r = rand_buf(n, 5);
        memcpy(r + n / 3, o + n / 3, n - n / 3);
        memo_check(o, n, r, n, skip);
        memo_check(o, n, o, n / 2, skip);
        memo_check(o, n / 2, o, n, skip);
        free(r);
        /* long repeats: zeros with a few marks, period 3 then 4 */
        memset(o, 0, n);
        for (size_t i = 0; i < n; i += 9973)
            o[i] = (uint8_t)(i >> 8);
        for (size_t i = 0; i < n; i++)
            w[i] = i < n / 2 ? (uint8_t)("abc"[i % 3]) : (uint8_t)("abcd"[i % 4]);
        memo_check(o, n, o + 7, n - 7, skip);
        memo_check(w, n, o, n, skip);
        memo_check(w, n, w + 1, n - 1, skip);
        memo_check(w + n / 2, n / 2, w, n, skip);
        /* shorter than a gram, a byte, nothing */
        memo_check(w, 5, w + 1, 5, skip);
        memo_check(w, 1, w, 1, skip);
        memo_check(w, n, w + 3, 1, skip);
        memo_check(w, 0, w, 100, skip);
        free(o);
        free(w);
    }
    /* two halves (skipping scan only): a memo for each */
    n = TWO_SCAN_MAX + 4321;
    rng_state = 22;
    make_binary_pair(n, &o, &w, &wl);
    {
        static const size_t thr[] = {16, 8, 4};
        struct sindex ix, plain;
        struct smemo *saved;
        size_t held = 0;
        assert_int_equal(zp_sindex_build(o, n, 1, &ix), ZUPD_OK);
        assert_int_equal(zp_sindex_build(o, n, 1, &plain), ZUPD_OK);
        saved = plain.memo;
        plain.memo = NULL;
        for (size_t t = 0; t < ZU_ARRAY_LEN(thr); t++) {
            struct plan a, b;
            scan_at(o, n, w, wl, &ix, 1, thr[t], &a);
            scan_at(o, n, w, wl, &plain, 1, thr[t], &b);
            assert_int_equal(a.n, b.n);
            assert_memory_equal(a.c, b.c, a.n * sizeof(*a.c));
            zp_plan_release(&a);
            zp_plan_release(&b);
            /* the first rung's searches are noted, and no rung's past
             * the budget */
            assert_true(zp_sindex_memo_len(&ix) >= held);
            held = zp_sindex_memo_len(&ix);
            assert_true(held > 0);
            assert_true(held <= 2 * ix.memo_max);
        }
        plain.memo = saved;
        zp_sindex_release(&ix);
        zp_sindex_release(&plain);
    }
    free(o);
    free(w);
}

/* The rule of the zero-run bytes' bzip2 (write.c, ZRUN_BZ_SPARSE): made
 * for literals of one in 1,000 bytes of the diff stream or more, not for
 * sparser ones nor an empty stream; and a creation on a pair that sparse
 * still round-trips (its diff stream split or zero-run coded). */
static void
test_zrun_bz_rule(void **state)
{
    size_t n = 3u << 20, plen = 0;
    struct zp_delta_opts o = {ZP_DELTA_AUTO, 0, 0};
    struct mem_sink m = {0};
    uint8_t *old, *nw, *patch = NULL;

    (void)state;
    assert_false(zp_zrun_bz_wanted(0, 0));
    assert_false(zp_zrun_bz_wanted(1000000, 999));
    assert_true(zp_zrun_bz_wanted(1000000, 1000));
    assert_true(zp_zrun_bz_wanted(999, 0));
    assert_true(zp_zrun_bz_wanted(13803680, 160606)); /* lefthook-a, where it won */
    assert_false(zp_zrun_bz_wanted(20539141, 1483));  /* mdn-bcd-w */
    old = rand_buf(n, 41);
    nw = malloc(n);
    assert_non_null(nw);
    memcpy(nw, old, n);
    for (size_t i = 0; i < 40; i++) /* 40 bytes changed: 0.001 % */
        nw[(i * 77773) % n] ^= 0x5a;
    assert_int_equal(zp_delta_create(old, n, nw, n, &o, &patch, &plen, NULL), ZUPD_OK);
    assert_int_equal(apply_mem(old, n, patch, plen, &m), ZUPD_OK);
    assert_int_equal(m.len, n);
    assert_memory_equal(m.p, nw, n);
    assert_true(plen < 1000);
    free(m.p);
    free(patch);
    free(old);
    free(nw);
}

/* ------------------------------------------------------------------ split coding from a plan */

/* The split coding of d[0..len) byte by byte, as the writer makes it from
 * a diff stream (write.c, split_make): what zp_plan_split is held to. */
static void
split_ref(const uint8_t *d, size_t len, uint8_t *runs, size_t *nr, uint8_t *lits, size_t *nl)
{
    size_t i = 0;

    *nr = *nl = 0;
    while (i < len) {
        size_t z = i, l;
        while (z < len && d[z] == 0)
            z++;
        l = z;
        while (l < len && d[l] != 0)
            l++;
        *nr += zu_put_varint(runs + *nr, z - i);
        *nr += zu_put_varint(runs + *nr, l - z);
        memcpy(lits + *nl, d + z, l - z);
        *nl += l - z;
        i = l;
    }
}

/* zp_plan_split of p against the split coding of its diff stream. */
static void
split_check(const uint8_t *old, size_t ol, const uint8_t *nw, size_t nl, struct plan *p)
{
    uint8_t *runs, *lits, *rr, *rl;
    size_t nr, nlit, rnr, rnl;

    assert_int_equal(zp_plan_fill(p, old, ol, nw, nl), ZUPD_OK);
    rr = malloc(p->diff_len * 20 + 20);
    rl = malloc(p->diff_len + 1);
    assert_non_null(rr);
    assert_non_null(rl);
    split_ref(p->diff, p->diff_len, rr, &rnr, rl, &rnl);
    assert_int_equal(zp_plan_split(p, old, ol, nw, nl, &runs, &nr, &lits, &nlit), ZUPD_OK);
    assert_int_equal(nr, rnr);
    assert_int_equal(nlit, rnl);
    if (nr > 0)
        assert_memory_equal(runs, rr, nr);
    if (nlit > 0)
        assert_memory_equal(lits, rl, nlit);
    free(runs);
    free(lits);
    free(rr);
    free(rl);
    zp_plan_empty(p);
}

/* The estimates make the split coding from a plan's entries, without its
 * diff stream (zp_plan_split): the same runs and literals as from the
 * stream, on scans' plans and on random entries whose zero runs and
 * literal runs go on across entries (equal bytes are zeros), entries that
 * add nothing, streams that start or end on either, bytes changed at
 * every density; an entry outside old is refused. */
static void
test_plan_split(void **state)
{
    size_t n = 60000, wl;
    uint8_t *o, *w;

    (void)state;
    rng_state = 31;
    make_binary_pair(n, &o, &w, &wl);
    for (int skip = 0; skip <= 1; skip++) {
        struct sindex ix;
        struct plan p;
        assert_int_equal(zp_sindex_build(o, n, skip, &ix), ZUPD_OK);
        scan_at(o, n, w, wl, &ix, skip, 8, &p);
        split_check(o, n, w, wl, &p);
        zp_plan_release(&p);
        zp_sindex_release(&ix);
    }
    free(o);
    free(w);
    n = 3000;
    for (unsigned it = 0; it < 400; it++) {
        unsigned every = 1 + it % 40; /* one byte in every changed, about */
        struct plan p;
        size_t np = 0, cap = n + 1;
        int64_t op = 0;
        o = rand_buf(n, 1000 + it);
        w = malloc(n);
        assert_non_null(w);
        memcpy(w, o, n);
        for (size_t i = 0; i < n; i++)
            if (rng() % every == 0)
                w[i] = (uint8_t)(w[i] + 1 + rng() % 255);
        memset(&p, 0, sizeof(p));
        p.c = calloc(cap, sizeof(*p.c));
        assert_non_null(p.c);
        while (np < n && p.n < cap) {
            struct ctl *c = &p.c[p.n++];
            size_t room = n - np < n - (size_t)op ? n - np : n - (size_t)op;
            c->add = rng() % 4 == 0 ? 0 : rng() % 70;
            if (c->add > room)
                c->add = room;
            c->copy = rng() % 3 == 0 ? rng() % 5 : 0;
            if (c->copy > n - np - c->add)
                c->copy = n - np - c->add;
            if (c->add == 0 && c->copy == 0)
                c->copy = 1; /* every entry moves on in new */
            np += c->add + c->copy;
            op += (int64_t)c->add;
            /* mostly the alignment goes on (the runs go on across
             * entries), sometimes elsewhere in old */
            c->seek = rng() % 5 == 0 ? (int64_t)(rng() % n) - op : (int64_t)c->copy;
            if (op + c->seek >= (int64_t)n)
                c->seek = -op;
            op += c->seek;
            p.diff_len += c->add;
            p.extra_len += c->copy;
        }
        split_check(o, n, w, n, &p);
        if (it == 0) { /* entries past old's end: one adds too much, one
                        * starts past it after a seek */
            struct ctl bad[2][2] = {{{3001, 0, 0}, {0, 1, 0}}, {{10, 0, 3000}, {1, 0, 0}}};
            for (size_t b = 0; b < 2; b++) {
                struct plan q = {bad[b], 2, 2, NULL, 3001, NULL, 1, NULL};
                uint8_t *r, *l;
                size_t rn, ln;
                assert_int_equal(zp_plan_split(&q, o, n, w, n, &r, &rn, &l, &ln), ZUPD_E_MISUSE);
                assert_null(r);
                assert_null(l);
                /* zp_plan_fill's checks, which the split's are */
                assert_int_equal(zp_plan_fill(&q, o, n, w, n), ZUPD_E_MISUSE);
                assert_null(q.diff);
            }
        }
        zp_plan_release(&p);
        free(o);
        free(w);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_kinds),
        cmocka_unit_test(test_mostly_new_hybrid),
        cmocka_unit_test(test_extra_random),
        cmocka_unit_test(test_round_trip_overnight),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_round_trip_halves),
        cmocka_unit_test(test_identical_is_small),
        cmocka_unit_test(test_unchanged_from_old),
        cmocka_unit_test(test_wrong_base_refused_before_write),
        cmocka_unit_test(test_truncated_refused),
        cmocka_unit_test(test_corrupted_refused),
        cmocka_unit_test(test_sink_error_and_limits),
        cmocka_unit_test(test_native_control_ranges),
        cmocka_unit_test(test_split_diff),
        cmocka_unit_test(test_zrun_diff),
        cmocka_unit_test(test_zrun_groups),
        cmocka_unit_test(test_large_threaded),
        cmocka_unit_test(test_threaded_pieces),
        cmocka_unit_test(test_bz_thread),
        cmocka_unit_test(test_extra_ctx),
        cmocka_unit_test(test_bsdiff40_control_ranges),
        cmocka_unit_test(test_exe_stage),
        cmocka_unit_test(test_exe_nopfx),
        cmocka_unit_test(test_lzma_extra),
        cmocka_unit_test(test_lzma_create),
        cmocka_unit_test(test_lzma_all_create),
        cmocka_unit_test(test_exe_jtab),
        cmocka_unit_test(test_rela_realign),
        cmocka_unit_test(test_exe_ehcie),
        cmocka_unit_test(test_exe_gofn),
        cmocka_unit_test(test_exe_lsda),
        cmocka_unit_test(test_exe_near),
        cmocka_unit_test(test_eh_realign),
        cmocka_unit_test(test_exe_hostile),
        cmocka_unit_test(test_pf_text),
        cmocka_unit_test(test_pf_lzma),
        cmocka_unit_test(test_v7_copy),
        cmocka_unit_test(test_v7_compact),
        cmocka_unit_test(test_x86_filter),
        cmocka_unit_test(test_x86_patch),
        cmocka_unit_test(test_ctrl_rep),
        cmocka_unit_test(test_ctrl_cols),
        cmocka_unit_test(test_ctrl_rep_create),
        cmocka_unit_test(test_pe_parse),
        cmocka_unit_test(test_pe_pdata),
        cmocka_unit_test(test_pe_exe),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_block_near_identical),
        cmocka_unit_test(test_block_all_covered),
        cmocka_unit_test(test_block_needed_inside_cover),
        cmocka_unit_test(test_block_tiny),
        cmocka_unit_test(test_block_hash_collision),
        cmocka_unit_test(test_block_not_taken),
        cmocka_unit_test(test_block_probes),
        cmocka_unit_test(test_scan_memo),
        cmocka_unit_test(test_plan_split),
        cmocka_unit_test(test_zrun_bz_rule),
        cmocka_unit_test(test_scan_extend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
