/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_delta_exe.c -- the executable stage of deltas (lib/delta_exe.c): the ELF
 * x86-64 program header and PE32+ section table parsers and the transform, on hostile files, maps
 * and segments, and creation against apply. The input is a 2-byte length n, an old file of n bytes,
 * then the new file (the rest). Checks: no crash and no access outside the buffers (ASan);
 * zu_exe_map_done leaves the spans sorted and disjoint; the transform is deterministic, gives the
 * bytes of the plain reading of the format (exe_ref.h), and with code references only leaves every
 * byte outside old's executable segments as it was; apply(create(old, new)) == new, whatever the
 * creator picked (with both files ELF, or both PE, it tries the stage); the x86 filter of the extra
 * stream (lib/delta_x86.c) undoes itself on the new file, whole and in a range. Go's function
 * table (ZU_EXE_K_GOFN) is read where old has its magic, with parameters from the new file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/delta.h>

#include "delta/create.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/delta_x86.h"
#include "zu/internal.h"

#include "exe_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

struct mem {
    uint8_t *p;
    size_t len, cap;
};

static int
mem_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct mem *m = opaque;
    if (len > m->cap - m->len)
        return ZUPD_E_TOOBIG;
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return ZUPD_OK;
}

/* The transform of old with spans taken from the bytes of src (three
 * little-endian 32-bit values each, the length cut to 16 bits). */
static void
transform_checks(const uint8_t *old, size_t olen, const struct zu_elf *eo, const struct zu_elf *nw,
                 const uint8_t *src, size_t slen)
{
    struct zu_exe_map m = {0};
    uint8_t *x1 = malloc(olen ? olen : 1), *x2 = malloc(olen ? olen : 1);

    if (x1 == NULL || x2 == NULL)
        goto out;
    for (size_t i = 0; i + 12 <= slen && i < 12 * 512; i += 12) {
        uint64_t o = zu_le64(src + i) & 0xffffffffu, n = zu_le64(src + i + 4) & 0xffffffffu;
        uint64_t len = (uint64_t)src[i + 8] | (uint64_t)src[i + 9] << 8;
        if (zu_exe_map_add(&m, o % (olen + 1), n, len) != ZUPD_OK)
            goto out;
    }
    zu_exe_map_done(&m);
    for (size_t i = 1; i < m.n; i++)
        check(m.s[i].o >= m.s[i - 1].o + m.s[i - 1].len);
    check(zu_exe_transform(x1, old, olen, eo, nw, &m, ZU_EXE_K_ALL) == ZUPD_OK);
    check(zu_exe_transform(x2, old, olen, eo, nw, &m, ZU_EXE_K_ALL) == ZUPD_OK);
    check(olen == 0 || memcmp(x1, x2, olen) == 0);
    ref_transform(x2, old, olen, eo, nw, &m, ZU_EXE_K_ALL); /* the plain reading */
    check(olen == 0 || memcmp(x1, x2, olen) == 0);
    /* a piece at a time */
    check(ref_win_same(x1, old, olen, eo, nw, &m, ZU_EXE_K_ALL, slen > 0 ? src[0] : 0));
    /* Go's function table: at the first magic of old (or where src says),
     * the other parameters from src */
    {
        struct zu_elf ng = *nw;
        uint64_t h = slen >= 4 ? zu_le64(src) % (olen + 1) : 0;
        for (size_t i = 0; i + 4 <= olen; i++)
            if (memcmp(old + i, "\xf1\xff\xff\xff", 4) == 0) {
                h = i;
                break;
            }
        ng.go.hdr = h;
        ng.go.text_o = eo->n > 0 ? eo->seg[0].vaddr + (slen > 1 ? src[1] : 0) : 0;
        ng.go.text_n = nw->n > 0 ? nw->seg[0].vaddr : 0;
        ng.go.names_n = slen > 2 ? src[2] : 0;
        ng.go.pctab_n = slen > 3 ? src[3] : 0;
        ng.go.ftab_n = slen > 4 ? src[4] : 0;
        ng.go.gofunc_o = eo->n > 1 && (slen <= 5 || src[5] != 0) ? eo->seg[1].vaddr : 0;
        ng.go.gofunc_n = nw->n > 1 ? nw->seg[1].vaddr : 0;
        check(zu_exe_transform(x1, old, olen, eo, &ng, &m, ZU_EXE_K_ALL) == ZUPD_OK);
        ref_transform(x2, old, olen, eo, &ng, &m, ZU_EXE_K_ALL);
        check(olen == 0 || memcmp(x1, x2, olen) == 0);
        check(ref_win_same(x1, old, olen, eo, &ng, &m, ZU_EXE_K_ALL, slen > 6 ? src[6] : 0));
    }
    check(zu_exe_transform(x1, old, olen, eo, nw, &m, ZU_EXE_K_CODE) == ZUPD_OK);
    ref_transform(x2, old, olen, eo, nw, &m, ZU_EXE_K_CODE);
    check(olen == 0 || memcmp(x1, x2, olen) == 0);
    for (size_t i = 0; i < olen; i++) {
        int in_x = 0;
        for (size_t k = 0; k < eo->n; k++)
            if ((eo->seg[k].flags & 1) != 0 && i - eo->seg[k].off < eo->seg[k].filesz)
                in_x = 1;
        check(in_x || x1[i] == old[i]);
    }
out:
    zu_exe_map_free(&m);
    free(x1);
    free(x2);
}

/* The x86 filter on b (the new file's bytes), whole at a position taken
 * from its first bytes and in a range of it: filtered, then unfiltered,
 * it is as it was (exact-size copy: ASan sees every access). */
static void
x86_checks(const uint8_t *nw, size_t nlen)
{
    struct zu_x86 x = {{nlen / 5}, {nlen / 2 + 1}, 1};
    uint8_t *b = malloc(nlen ? nlen : 1);
    uint64_t pos = nlen >= 8 ? zu_le64(nw) : nlen;

    if (b == NULL)
        return;
    if (nlen > 0)
        memcpy(b, nw, nlen);
    zu_x86_piece(b, nlen, pos, 1);
    zu_x86_piece(b, nlen, pos, -1);
    check(nlen == 0 || memcmp(b, nw, nlen) == 0);
    if (x.off[0] + x.len[0] <= nlen) {
        zu_x86_run(b, nlen, 0, &x, 1);
        zu_x86_run(b, nlen, 0, &x, -1);
        check(memcmp(b, nw, nlen) == 0);
    }
    free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zu_elf eo, en;
    struct zp_delta_opts opts = {ZP_DELTA_AUTO, 3, 0};
    struct mem m = {0};
    struct zupd_delta_sink sink = {&m, mem_write};
    uint8_t *old, *nw, *patch = NULL;
    size_t olen, nlen, plen = 0;
    int eo_ok, en_ok;

    if (size < 2)
        return 0;
    olen = (size_t)data[0] | (size_t)data[1] << 8;
    if (olen > size - 2)
        return 0;
    nlen = size - 2 - olen;
    /* exact-size copies so that reads past either end are caught */
    old = malloc(olen ? olen : 1);
    nw = malloc(nlen ? nlen : 1);
    if (old == NULL || nw == NULL)
        goto out;
    if (olen > 0)
        memcpy(old, data + 2, olen);
    if (nlen > 0)
        memcpy(nw, data + 2 + olen, nlen);
    eo_ok = zu_exe_parse(old, olen, &eo) == ZUPD_OK;
    en_ok = zu_exe_parse(nw, nlen, &en) == ZUPD_OK;
    if (eo_ok)
        transform_checks(old, olen, &eo, en_ok ? &en : &eo, nw, nlen);
    x86_checks(nw, nlen);
    if (zp_delta_create(old, olen, nw, nlen, &opts, &patch, &plen, NULL) != ZUPD_OK)
        goto out;
    m.cap = nlen;
    m.p = malloc(nlen ? nlen : 1);
    if (m.p == NULL)
        goto out;
    check(zupd_delta_apply(old, olen, patch, plen, 0, &sink, NULL) == ZUPD_OK);
    check(m.len == nlen && (nlen == 0 || memcmp(m.p, nw, nlen) == 0));
out:
    free(m.p);
    free(patch);
    free(old);
    free(nw);
    return 0;
}
