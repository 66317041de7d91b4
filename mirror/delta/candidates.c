/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/candidates.c -- the candidate patches of a creation: the threshold ladder of
 * bsdiff plans, their estimates, the plans written, patch-from; the smallest is kept. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "delta/create.h"
#include "delta/create_int.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/delta_x86.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ ladder */

/* The scan's threshold (how much longer than the current alignment a new
 * match must be to move to it) decides between many short control entries
 * and more bytes in the extra stream, and which wins depends on the data:
 * 8 on caniuse-lite (14,264 bytes against 22,519 at 256), 32 on
 * disposable-email, 256 on mdn-bcd (30,485 against 37,389 at 16). New
 * files up to TWO_SCAN_MAX and text files of any size are scanned at
 * every threshold of the ladder, each plan's streams are estimated by a
 * fast zstd level, and the two best plans are compressed for real. Other
 * big files (executables, where a scan costs seconds) climb down from 16
 * to 8 and 4 while the estimate improves: which wins is a property of the
 * release, not of the kind of file (issue 18's tuning half: 4 on a Go
 * patch release, esbuild 517,304 -> 448,528 bytes, lefthook 179,852 ->
 * 171,689; 8 on a C library, libvips 836,467 -> 774,820; 16 on a Rust
 * executable, dprint 833,342 where 8 gives 926,733), and the estimate at
 * zstd level 3 ranked the three as the written patches did on every
 * one; a rung costs a scan and an estimate, 1-2 s on 11 MB. */

/* Text: under 1 % of control bytes in 64 samples of 16 KiB over p. */
static int
looks_text(const uint8_t *p, size_t n)
{
    const size_t chunk = 16384, nchunks = 64;
    size_t bad = 0, seen = 0;

    for (size_t c = 0; c < nchunks; c++) {
        size_t at = n > chunk ? (n - chunk) / (nchunks - 1) * c : 0;
        size_t len = n - at < chunk ? n - at : chunk;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = p[at + i];
            if (b < 0x09 || (b > 0x0d && b < 0x20) || b == 0x7f)
                bad++;
        }
        seen += len;
        if (n <= chunk)
            break;
    }
    return seen > 0 && bad * 100 <= seen;
}

static size_t
ladder_of(const uint8_t *nw, size_t nlen, size_t *ladder)
{
    static const size_t full[] = {8, 16, 32, 64, 128, 256}, text_big[] = {16, 64, 256},
                        bin_big[] = {16, 8, 4};
    const size_t *l = full;
    size_t n = ZU_ARRAY_LEN(full);
#ifdef ZU_DELTA_TRACE
    const char *env = getenv("ZU_DELTA_LADDER"); /* development: "16,64" */
    if (env != NULL && *env != '\0') {
        size_t k = 0;
        while (*env != '\0' && k < LADDER_MAX) {
            char *end;
            ladder[k++] = (size_t)strtoul(env, &end, 10);
            env = *end == ',' ? end + 1 : end;
            if (end == env && *end != '\0')
                break;
        }
        return k;
    }
#endif

    if (nlen > TWO_SCAN_MAX) {
        if (!looks_text(nw, nlen)) {
            l = bin_big;
            n = ZU_ARRAY_LEN(bin_big);
        } else {
            l = text_big;
            n = ZU_ARRAY_LEN(text_big);
        }
    }
    memcpy(ladder, l, n * sizeof(*l));
    return n;
}

/* ------------------------------------------------------------------ candidates */

/* One scan of the creation at threshold thr: of the stretches between
 * the covers where block matching is on (block.c), else of all of new. */
static int
cand_scan(const struct cand *c, const struct sindex *ix, size_t thr, struct plan *pl)
{
    if (c->blk != NULL)
        return zp_block_scan(c->blk, c->old, c->old_len, c->new_, c->new_len, ix, c->f.skip, thr,
                             pl);
    return zp_plan_scan(c->old, c->old_len, c->new_, c->new_len, ix, c->f.skip, thr, pl);
}

/* New files up to this size also get a patch-from candidate at levels up
 * to 19: it costs under a second there, and on small data that moved
 * around it wins (issue 18's tuning half: mime-db 1,034 against 1,044
 * bytes; held out: a tar of caniuse-lite's data directory, 56,270 against
 * 72,472). */
#define PF_SMALL (1u << 20)
/* Bigger new files that look like text, up to PF_TEXT_MAX bytes, whose
 * first plan matches in short pieces (its adds under PF_TEXT_ADD bytes on
 * average) get a patch-from candidate made for text (zp_pf_text_make) at
 * level PF_TEXT_LEVEL: about 0.1 s a MB, where the scans take 0.3-0.4 s a
 * MB. Text regenerated or reordered (a list sorted anew, records moved)
 * leaves bsdiff many short matches, each a control entry and diff bytes,
 * where an LZ over old copies whole lines. Issue 18's tuning half:
 * user-agents (adds of 298 bytes on average) 185,184 -> 143,670 bytes;
 * mdn-bcd-w (10,285: a database edited in place) stays with bsdiff, whose
 * 10,194 bytes the candidate does not reach (12,525), and is spared it. */
#define PF_TEXT_MAX (64u << 20)
#define PF_TEXT_ADD 1024u

/* The text candidate for this new file and its first plan pl? */
static int
pf_text_wanted(const struct cand *c, const struct plan *pl)
{
    uint64_t add = 0;

    if (c->new_len <= PF_SMALL || c->new_len > PF_TEXT_MAX || pl->n == 0)
        return 0;
    for (size_t i = 0; i < pl->n; i++)
        add += pl->c[i].add;
    return add < (uint64_t)PF_TEXT_ADD * pl->n && looks_text(c->new_, c->new_len);
}

/* A piece of new "moved" where its control entry seeks more than
 * PF_LZ_FAR bytes in old: new is old's records in another order, which
 * patch-from codes as matches where bsdiff needs a control entry and
 * its seek each (the plan of the smallest estimate: spdx, 1,713 of its
 * 1,996 entries seek further, user-agents 16,536 of 16,581), not a file
 * edited in place (disposable-email, a sorted list with entries added:
 * none of 3,289; mime-db none of 56), where the control entries are
 * cheap. (The ladder's first plan, at threshold 8, is no guide: on
 * disposable-email most of its 7,658 entries jump to short matches
 * anywhere.) */
#define PF_LZ_FAR 4096

/* Half or more of plan pl's pieces moved (or it has none). */
static int
pf_moved(const struct plan *pl)
{
    size_t far = 0;

    for (size_t i = 0; i < pl->n; i++)
        if (pl->c[i].seek > PF_LZ_FAR || pl->c[i].seek < -PF_LZ_FAR)
            far++;
    return far * 2 >= pl->n;
}

/* keep the smaller of *best and cand (freeing the other) */
static void
keep_best(uint8_t **best, size_t *best_len, uint8_t *cand, size_t cand_len)
{
    if (*best == NULL || cand_len < *best_len) {
        free(*best);
        *best = cand;
        *best_len = cand_len;
    } else {
        free(cand);
    }
}

/* The ladder of one creation: its thresholds, and the plans of the two
 * smallest estimates so far. */
struct ladder {
    size_t thr[LADDER_MAX];
    size_t n;
    size_t patience; /* stop after this many rungs in a row no better; 0: never */
    struct plan keep[2];
    size_t keep_est[2];
    size_t nkeep;
};

/* Which of the ladder's kept plans has the smaller estimate (it has one). */
static size_t
ladder_best(const struct ladder *l)
{
    return l->nkeep > 1 && l->keep_est[1] < l->keep_est[0] ? 1 : 0;
}

/* The scan at the ladder's first threshold into *pl; a new file made
 * mostly of new bytes is scanned once at HYBRID_THR instead. */
static int
first_scan(struct cand *c, const struct sindex *ix, struct ladder *l, struct plan *pl)
{
    size_t old_len = c->old_len, new_len = c->new_len, extra0 = 0;
    int rc;

    rc = cand_scan(c, ix, l->thr[0], pl);
    extra0 = pl->extra_len;
    if (rc == ZUPD_OK && extra0 >= new_len / 4 && old_len > 0) {
        /* A new file made mostly of new bytes (a quarter or more not
         * matched in old): one scan at HYBRID_THR and the extra stream
         * compressed with old as its prefix, where zstd finds the
         * shorter matches the scan left (oxc-parser: 908,719 bytes
         * against 913,880 by patch-from alone, in the same time).
         * Patch-from is then left to levels 20-22 (pf_always): levels
         * up to 19 try it on small files only (PF_SMALL). */
        c->f.extra_prefix = 1;
        if (c->method == ZP_DELTA_AUTO)
            c->want_b40 = 0; /* its bzip2 extra stream cannot win here */
        l->n = 1;
        if (l->thr[0] != HYBRID_THR) {
            l->thr[0] = HYBRID_THR;
            zp_plan_release(pl);
            rc = cand_scan(c, ix, HYBRID_THR, pl);
        }
    }
    return rc;
}

/* Keep the plan *pl of estimate est (taken over, or released): the two
 * plans of the smallest estimates, the second only while within 3 % of
 * the best. */
static void
ladder_keep(struct ladder *l, struct plan *pl, size_t est)
{
    if (l->nkeep < 2) {
        l->keep[l->nkeep] = *pl;
        l->keep_est[l->nkeep++] = est;
    } else {
        size_t w = l->keep_est[0] >= l->keep_est[1] ? 0 : 1;
        if (est < l->keep_est[w]) {
            zp_plan_release(&l->keep[w]);
            l->keep[w] = *pl;
            l->keep_est[w] = est;
        } else {
            zp_plan_release(pl);
        }
    }
    if (l->nkeep == 2) {
        size_t g = l->keep_est[0] <= l->keep_est[1] ? 0 : 1;
        if (l->keep_est[1 - g] - l->keep_est[g] > l->keep_est[g] / 33) {
            zp_plan_release(&l->keep[1 - g]);
            l->keep[0] = l->keep[g];
            l->keep_est[0] = l->keep_est[g];
            memset(&l->keep[1], 0, sizeof(l->keep[1]));
            l->nkeep = 1;
        }
    }
    memset(pl, 0, sizeof(*pl));
}

/* Up the ladder: the plan of each threshold (the first one's is *pl
 * already), estimated where there are more than two, kept by
 * ladder_keep. */
static int
ladder_climb(struct cand *c, const struct sindex *ix, struct ladder *l, struct plan *pl)
{
    const uint8_t *old = c->old, *new_ = c->new_;
    size_t old_len = c->old_len, new_len = c->new_len;
    size_t worse = 0, best_est = SIZE_MAX;
    int rc = ZUPD_OK;

    for (size_t t = 0; rc == ZUPD_OK && t < l->n; t++) {
        size_t est = 0;
        if (t > 0)
            rc = cand_scan(c, ix, l->thr[t], pl);
        if (rc != ZUPD_OK)
            break;
        if (l->n > 2) {
            rc = zp_plan_fill_extra(pl, old, old_len, new_, new_len);
            if (rc == ZUPD_OK)
                TR("estimate", rc = zp_plan_estimate(pl, old, old_len, new_, new_len, &est));
            zp_plan_empty(pl);
            if (rc != ZUPD_OK)
                break;
#ifdef ZU_DELTA_TRACE
            fprintf(stderr, "delta: thr %zu estimate %zu\n", l->thr[t], est);
#endif
        }
        /* the ladder ends after l->patience plans in a row estimated
         * no better than the best so far */
        if (l->nkeep > 0 && est >= best_est) {
            if (++worse == l->patience)
                l->n = t + 1;
        } else {
            worse = 0;
            best_est = est;
        }
        ladder_keep(l, pl, est);
    }
    return rc;
}

/* The code of the new file as ranges for the x86 filter: the executable
 * segments of en (new parsed by zu_exe_parse: ELF, or PE for a Windows
 * executable or DLL) in file order; x->n 0: none. */
static void
code_ranges(const struct zu_elf *en, struct zu_x86 *x)
{
    uint64_t end = 0;

    memset(x, 0, sizeof(*x));
    for (size_t i = 0; i < en->n && x->n < ZU_X86_RANGES_MAX; i++) {
        const struct zu_seg *s = &en->seg[i];
        if ((s->flags & 1) == 0 || s->filesz == 0 || s->off < end)
            continue; /* not executable, empty, or out of order */
        x->off[x->n] = s->off;
        x->len[x->n++] = s->filesz;
        end = s->off + s->filesz;
    }
}

/* The x86 filter of the extra stream (ZU_FLAG_EXTRA_X86) for the plan
 * pl, filled against old (old transformed with the executable stage), in
 * the code ranges x of new (code_ranges): where the extra stream's
 * estimate is 1 % smaller filtered, pl->extra is filtered and pl->x86 set
 * to x (zp_plan_fill filters it from then on). */
static int
x86_pick(struct plan *pl, const struct zu_x86 *x)
{
    uint8_t *ex;
    size_t e0 = 0, e1 = 0, xn = 0;
    uint64_t np = 0;
    int rc;

#ifdef ZU_DELTA_TRACE
    if (getenv("ZU_DELTA_NO_X86") != NULL)
        return ZUPD_OK;
#endif
    if (x->n == 0 || pl->extra_len == 0)
        return ZUPD_OK;
    ex = malloc(pl->extra_len);
    if (ex == NULL)
        return ZUPD_E_NOMEM;
    memcpy(ex, pl->extra, pl->extra_len);
    for (size_t i = 0; i < pl->n; i++) {
        np += pl->c[i].add;
        zu_x86_run(ex + xn, pl->c[i].copy, np, x, 1);
        xn += pl->c[i].copy;
        np += pl->c[i].copy;
    }
    rc = zp_extra_estimate(pl->extra, pl->extra_len, &e0);
    if (rc == ZUPD_OK)
        rc = zp_extra_estimate(ex, pl->extra_len, &e1);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: x86 extra estimate %zu -> %zu\n", e0, e1);
#endif
    /* 1 % less at least: less is within the estimate's noise (lefthook-a:
     * 6 bytes more written, its parameters) */
    if (rc == ZUPD_OK && e1 < e0 - e0 / 100) {
        memcpy(pl->extra, ex, pl->extra_len);
        pl->x86 = x;
    }
    free(ex);
    return rc;
}

/* Write the plans kept as native and/or BSDIFF40 patches; the smallest
 * goes to c->best. *win: the plan of c->best if it is native, else -1. */
static int
plans_write(struct cand *c, struct ladder *l, const uint8_t *hdr, size_t hdr_len, int *win)
{
    const uint8_t *old = c->old, *new_ = c->new_;
    size_t old_len = c->old_len, new_len = c->new_len;
    struct zp_delta_report *rep = c->rep;
    int rc = ZUPD_OK;

    struct zu_elf en;
    struct zu_x86 x86;

    /* the x86 filter without the executable stage: ELF x86-64 pairs the
     * stage is not for (old over ZU_EXE_WHOLE_MAX with the extra stream's
     * prefix, or the stage lost its
     * estimate), and PE x86-64 files (Windows); it needs no copy of old
     * on apply (biome-m, 84 MB: 11,921,691 -> see docs/internals/delta.md) */
    if (c->want_bsd && zu_exe_parse(new_, new_len, &en) == ZUPD_OK)
        code_ranges(&en, &x86);
    else
        memset(&x86, 0, sizeof(x86));
    for (size_t k = 0; rc == ZUPD_OK && k < l->nkeep; k++) {
        uint8_t *nat = NULL, *b40 = NULL;
        size_t nat_len = 0, b40_len = 0;
        rc = zp_plan_fill(&l->keep[k], old, old_len, new_, new_len);
        if (rc == ZUPD_OK)
            rc = x86_pick(&l->keep[k], &x86);
        if (rc == ZUPD_OK)
            rc = zp_write_bsdiff(&l->keep[k], hdr, hdr_len, old, old_len, new_len, &c->f,
                                 c->want_bsd, c->want_b40 && l->keep[k].x86 == NULL, &nat, &nat_len,
                                 &b40, &b40_len);
        zp_plan_empty(&l->keep[k]); /* the entries stay for zp_ctx_try */
        if (rc == ZUPD_OK && nat != NULL && l->keep[k].x86 != NULL)
            rc = zp_x86_mark(&nat, &nat_len, &x86);
        l->keep[k].x86 = NULL; /* zp_ctx_try takes the filter from the patch */
        if (rc != ZUPD_OK) {
            free(nat);
            free(b40);
            break;
        }
#ifdef ZU_DELTA_TRACE
        fprintf(stderr, "delta: plan %zu est %zu native %zu b40 %zu\n", k, l->keep_est[k], nat_len,
                b40_len);
#endif
        if (nat != NULL && (c->best == NULL || nat_len < c->best_len))
            *win = (int)k;
        if (b40 != NULL && (c->best == NULL || b40_len < c->best_len) &&
            (nat == NULL || b40_len < nat_len))
            *win = -1;
        if (rep != NULL && nat != NULL && (rep->bsdiff == 0 || nat_len < rep->bsdiff))
            rep->bsdiff = nat_len;
        if (rep != NULL && b40 != NULL && (rep->bsdiff40 == 0 || b40_len < rep->bsdiff40))
            rep->bsdiff40 = b40_len;
        if (nat != NULL)
            keep_best(&c->best, &c->best_len, nat, nat_len);
        if (b40 != NULL)
            keep_best(&c->best, &c->best_len, b40, b40_len);
    }
    return rc;
}

/* ------------------------------------------------------------------ executable stage */

/* The executable stage (include/zu/delta_exe.h): where old and new are
 * both ELF x86-64, the plan pl is written once more against old
 * transformed with pl's own map, so that a call, a RIP-relative operand or
 * an address in data whose place and target moved as the plan says
 * differs from its prediction by nothing; apply makes the same transform
 * from old and the control stream. The plan is estimated (zstd level
 * EST_LEVEL, a fraction of a second) with the stage, and written so only
 * where that beats its estimate without (est_raw, the ladder's; 0: made
 * here). The stage is estimated before any patch is written, on the plan
 * of the smallest estimate, and where it wins the estimate only its patch
 * is written: the patches without it are not (issue 18's exe pairs, both
 * halves: the stage's estimate won on all fourteen ELF pairs and its
 * written patch did too, each by 0.05-70 %; the patches without it were
 * a third to a half of the creation time). The kinds of
 * references: all of them. Each set was estimated on issue 18's tuning
 * half (code only; code and addresses; code and unwind tables; all):
 * all was the best or within 0.15 % of it on every pair (code only
 * 3-30 % worse on all but one), so one estimate is made, not four. */

/* The jump tables' kind (ZU_EXE_K_JTAB) is taken where the stage's
 * estimate with it is smaller by more than one JTAB_GAIN-th. On issue
 * 18's tuning half, with every kind against without it: rollup-m 10.8 %
 * smaller, libvips-a 1.9 %, dprint 1.4 %, oxc-parser-b 0.13 %,
 * lightningcss-p 0.004 % (there version 9 would cost more than it
 * gains); the Go pairs have no such table. */
#define JTAB_GAIN 1000

/* The executable stage of one creation: old and new parsed, the map of
 * the plan, old transformed, and the estimate with the stage. */
struct exe {
    struct zu_elf eo, en;
    struct zu_exe_map m;
    uint8_t *xo;    /* old transformed; NULL: the stage is not for this pair */
    size_t est;     /* the plan's estimate with the stage */
    size_t est_raw; /* and without */
};

/* The alignment map of pl's add entries (as apply makes it from the
 * control stream); ZUPD_E_FORMAT: more spans than apply takes. */
static int
exe_map(const struct plan *pl, struct zu_exe_map *m)
{
    uint64_t np = 0;
    int64_t op = 0;
    int rc = ZUPD_OK;

    for (size_t i = 0; rc == ZUPD_OK && i < pl->n; i++) {
        if (pl->c[i].add > 0)
            rc = zu_exe_map_add(m, (uint64_t)op, np, pl->c[i].add);
        np += pl->c[i].add + pl->c[i].copy;
        op += (int64_t)pl->c[i].add + pl->c[i].seek;
    }
    if (rc == ZUPD_OK)
        zu_exe_map_done(m);
    return rc;
}

/* q's estimate against old transformed (x->xo), into *est. */
static int
exe_est(struct cand *c, struct exe *x, struct plan *q, size_t *est)
{
    int rc = zp_plan_fill_extra(q, x->xo, c->old_len, c->new_, c->new_len);

    if (rc == ZUPD_OK)
        rc = zp_plan_estimate(q, x->xo, c->old_len, c->new_, c->new_len, est);
    zp_plan_empty(q);
    return rc;
}

/* Where est, q's estimate, is smaller than x's and than pl's without the
 * stage (x->est_raw: the plans without it are written from pl), q
 * becomes *pl and its map x's (*taken); where its map has more spans
 * than apply takes, pl stays. */
static int
exe_take(struct plan *pl, struct plan *q, struct exe *x, size_t est, int *taken)
{
    struct zu_exe_map m;
    int rc;

    *taken = 0;
    if (est >= x->est || est >= x->est_raw)
        return ZUPD_OK;
    memset(&m, 0, sizeof(m));
    rc = exe_map(q, &m);
    if (rc != ZUPD_OK) {
        zu_exe_map_free(&m);
        return rc == ZUPD_E_FORMAT ? ZUPD_OK : rc;
    }
    zu_exe_map_free(&x->m);
    x->m = m;
    zp_plan_release(pl);
    *pl = *q;
    memset(q, 0, sizeof(*q));
    x->est = est;
    *taken = 1;
    return ZUPD_OK;
}

/* pl realigned over new's relocation tables (realign.c), kept where its
 * estimate against old transformed is smaller (exe_take); x's map and
 * old transformed then follow it. The estimate is taken against old
 * transformed with pl's map: the two maps differ only over the tables,
 * which hold no address the transform writes but their own. */
static int
exe_realign(struct cand *c, struct plan *pl, struct exe *x)
{
    struct plan q;
    size_t est = SIZE_MAX;
    int changed = 0, taken = 0, rc;

    memset(&q, 0, sizeof(q));
    rc = zp_rela_realign(pl, c->old, x->xo, &x->eo, c->new_, &x->en, &q, &changed);
    if (rc == ZUPD_OK && changed)
        rc = exe_est(c, x, &q, &est);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: exe realign %d: %zu, before %zu\n", changed, est, x->est);
#endif
    if (rc == ZUPD_OK && changed)
        rc = exe_take(pl, &q, x, est, &taken);
    if (rc == ZUPD_OK && taken)
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &x->m, x->en.kinds);
    zp_plan_release(&q);
    return rc;
}

/* .eh_frame_hdr's table: pl with new's header from old's (so that the
 * transform rewrites old's rows: where the scan left the header out, it
 * does not), old transformed under that, then each row of new from its
 * equal row of old transformed (realign.c); kept as exe_realign's. No
 * new version: apply takes the map from the control stream as ever. */
static int
exe_eh(struct cand *c, struct plan *pl, struct exe *x)
{
    struct plan h, q;
    struct zu_exe_map m;
    size_t est = SIZE_MAX;
    int changed = 0, taken = 0, rc;

    memset(&h, 0, sizeof(h));
    memset(&q, 0, sizeof(q));
    memset(&m, 0, sizeof(m));
    rc = zp_eh_realign(pl, c->old, NULL, &x->eo, c->new_, &x->en, &h, &changed);
    if (rc == ZUPD_OK && changed)
        rc = exe_map(&h, &m);
    if (rc == ZUPD_OK && changed)
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &m, x->en.kinds);
    zu_exe_map_free(&m);
    if (rc == ZUPD_OK && changed)
        rc = zp_eh_realign(pl, c->old, x->xo, &x->eo, c->new_, &x->en, &q, &changed);
    /* the maps of h and q differ only over the table's rows, which no
     * reference names: q is estimated against old transformed under h's */
    if (rc == ZUPD_OK && changed)
        rc = exe_est(c, x, &q, &est);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: exe eh %d: %zu, before %zu\n", changed, est, x->est);
#endif
    if (rc == ZUPD_OK && changed)
        rc = exe_take(pl, &q, x, est, &taken);
    if (rc == ZUPD_OK && changed) /* old transformed under x's map */
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &x->m, x->en.kinds);
    zp_plan_release(&h);
    zp_plan_release(&q);
    return rc;
}

/* Go's function table: pl with the rows and records of new's table taken
 * from old's functions of the same names (realign.c), and the kind
 * ZU_EXE_K_GOFN, which predicts their offsets; kept where the estimate
 * against old transformed so is smaller by one JTAB_GAIN-th (version 13),
 * and smaller than pl's without the stage. The map changes over the
 * table, so old is transformed again (and back where it is not kept). */
static int
exe_go(struct cand *c, struct plan *pl, struct exe *x)
{
    struct plan q;
    struct zu_exe_map m;
    struct zu_elf en = x->en;
    size_t est = SIZE_MAX;
    int changed = 0, rc;

    if (!zp_go_params(c->old, c->old_len, &x->eo, c->new_, c->new_len, &x->en, &en.go))
        return ZUPD_OK;
    en.kinds |= ZU_EXE_K_GOFN;
    memset(&q, 0, sizeof(q));
    memset(&m, 0, sizeof(m));
    rc = zp_go_realign(pl, c->old, c->old_len, c->new_, c->new_len, &q, &changed);
    if (rc == ZUPD_OK && changed)
        rc = exe_map(&q, &m);
    if (rc == ZUPD_OK && changed)
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &en, &m, en.kinds);
    if (rc == ZUPD_OK && changed)
        rc = exe_est(c, x, &q, &est);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: exe go %d: %zu, before %zu (gofunc %d)\n", changed, est, x->est,
            en.go.gofunc_o != 0);
#endif
    if (rc == ZUPD_OK && changed && est < x->est && est / JTAB_GAIN < x->est - est &&
        est < x->est_raw) {
        zu_exe_map_free(&x->m);
        x->m = m;
        memset(&m, 0, sizeof(m));
        x->en = en;
        x->est = est;
        zp_plan_release(pl);
        *pl = q;
        memset(&q, 0, sizeof(q));
    } else if (changed && (rc == ZUPD_OK || rc == ZUPD_E_FORMAT)) {
        /* old transformed as it was */
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &x->m, x->en.kinds);
    }
    zu_exe_map_free(&m);
    zp_plan_release(&q);
    return rc;
}

static void
exe_release(struct exe *x)
{
    zu_exe_map_free(&x->m);
    free(x->xo);
    x->xo = NULL;
}

/* The stage's estimate of plan pl (est_raw: pl's estimate without, from
 * the ladder; 0: made here). x->xo stays NULL where the stage is not for
 * this pair (not ELF x86-64, old too big, native not wanted, a map
 * longer than apply takes). */
static int
exe_estimate(struct cand *c, struct plan *pl, size_t est_raw, struct exe *x)
{
    /* every kind but jump tables, CIE pointers, LSDA pointers and the
     * nearest span; then, where old has a jump table, with them; then,
     * where old has .eh_frame_hdr, the better of those with the CIE
     * pointers; then the best with the nearest span and (with
     * .eh_frame_hdr) the LSDA pointers: each taken where its estimate is
     * at least 1/JTAB_GAIN smaller, as the kinds need versions 9, 12 and
     * 14, which older endpoints do not read (Go's function table, version
     * 13, is exe_go's) */
    const unsigned base = ZU_EXE_K_ALL & ~(ZU_EXE_K_JTAB | ZU_EXE_K_EHCIE | ZU_EXE_K_GOFN |
                                           ZU_EXE_K_EHLSDA | ZU_EXE_K_NEAR);
    unsigned last = 0;
    int eh;
    int jt = 0;
    int rc = ZUPD_OK;

    memset(x, 0, sizeof(*x));
    x->est = SIZE_MAX;
#ifdef ZU_DELTA_TRACE
    if (getenv("ZU_DELTA_NO_EXE") != NULL)
        return ZUPD_OK;
#endif
    /* Apply holds old transformed beside old up to ZU_EXE_WHOLE_MAX
     * (lefthook-a: peak 40 -> 55 MiB; apply is to stay within old + 64
     * MiB, issue 18), and over it a piece at a time (zu_exe_win), which
     * an extra stream with old as its prefix would not allow. */
    if (!c->want_bsd || (c->old_len > ZU_EXE_WHOLE_MAX && c->f.extra_prefix) ||
        zu_exe_parse(c->old, c->old_len, &x->eo) != ZUPD_OK ||
        zu_exe_parse(c->new_, c->new_len, &x->en) != ZUPD_OK || x->eo.id != x->en.id)
        return ZUPD_OK;
    rc = exe_map(pl, &x->m);
    if (rc != ZUPD_OK) { /* more spans than apply takes: not for this pair */
        exe_release(x);
        return rc == ZUPD_E_FORMAT ? ZUPD_OK : rc;
    }
    rc = zu_exe_jtab_any(c->old, c->old_len, &x->eo, &jt);
    if (rc != ZUPD_OK) {
        exe_release(x);
        return rc;
    }

    x->xo = malloc(c->old_len > 0 ? c->old_len : 1);
    if (x->xo == NULL) {
        exe_release(x);
        return ZUPD_E_NOMEM;
    }
    x->est_raw = est_raw > 0 ? est_raw : SIZE_MAX;
    eh = x->eo.id == ZU_EXE_ELF_X86_64 && x->eo.eh.filesz >= 12;
    if (est_raw == 0) {
        rc = zp_plan_fill_extra(pl, c->old, c->old_len, c->new_, c->new_len);
        if (rc == ZUPD_OK)
            rc = zp_plan_estimate(pl, c->old, c->old_len, c->new_, c->new_len, &x->est_raw);
        zp_plan_empty(pl);
    }
    for (size_t k = 0; rc == ZUPD_OK && k < 4; k++) {
        unsigned kinds = k == 0   ? base
                         : k == 1 ? base | ZU_EXE_K_JTAB
                         : k == 2 ? x->en.kinds | ZU_EXE_K_EHCIE
                                  : x->en.kinds | ZU_EXE_K_NEAR | (eh ? ZU_EXE_K_EHLSDA : 0);
        size_t est = SIZE_MAX;
        /* the kinds of versions 12 and 14 not where the patches are to
         * stay within version 9 (no LZMA2: zp_delta_opts.no_lzma) */
        if ((k == 1 && !jt) || (k >= 2 && (x->en.kinds == 0 || !c->f.lzma)) || (k == 2 && !eh))
            continue;
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &x->m, kinds);
        last = kinds;
        if (rc == ZUPD_OK)
            rc = zp_plan_fill_extra(pl, x->xo, c->old_len, c->new_, c->new_len);
        if (rc == ZUPD_OK)
            rc = zp_plan_estimate(pl, x->xo, c->old_len, c->new_, c->new_len, &est);
        zp_plan_empty(pl);
#ifdef ZU_DELTA_TRACE
        fprintf(stderr, "delta: exe estimate kinds %u: %zu, without %zu\n", kinds, est, x->est_raw);
#endif
        if (rc == ZUPD_OK && est < x->est && (k == 0 || est / JTAB_GAIN < x->est - est)) {
            x->est = est;
            x->en.kinds = kinds;
        }
    }
    if (rc == ZUPD_OK && x->en.kinds != last)
        rc = zu_exe_transform(x->xo, c->old, c->old_len, &x->eo, &x->en, &x->m, x->en.kinds);
    if (rc == ZUPD_OK && x->en.kinds != 0 && x->eo.id == ZU_EXE_ELF_X86_64)
        rc = exe_realign(c, pl, x);
    if (rc == ZUPD_OK && (x->en.kinds & ZU_EXE_K_UNWIND) != 0 && x->eo.id == ZU_EXE_ELF_X86_64)
        rc = exe_eh(c, pl, x);
    if (rc == ZUPD_OK && x->en.kinds != 0)
        rc = c->f.lzma ? exe_go(c, pl, x) : ZUPD_OK; /* version 13: as above */
    if (rc != ZUPD_OK)
        exe_release(x);
    return rc;
}

/* Write plan pl against old transformed (x from exe_estimate), kept where
 * it is the smallest patch so far. */
static int
exe_write(struct cand *c, struct plan *pl, struct exe *x, const uint8_t *hdr, size_t hdr_len)
{
    struct zu_x86 x86;
    uint8_t *nat = NULL, *b40 = NULL, par[ZU_EXE_PARAMS_MAX];
    size_t nat_len = 0, b40_len = 0, pn;
    int rc, cx[3];

    code_ranges(&x->en, &x86);
    rc = zp_plan_fill(pl, x->xo, c->old_len, c->new_, c->new_len);
    if (rc == ZUPD_OK)
        rc = x86_pick(pl, &x86);
    if (rc == ZUPD_OK)
        TR("exe write", rc = zp_write_bsdiff(pl, hdr, hdr_len, x->xo, c->old_len, c->new_len, &c->f,
                                             1, 0, &nat, &nat_len, &b40, &b40_len));
    zp_plan_empty(pl);
    if (rc == ZUPD_OK && nat != NULL && !c->f.extra_prefix)
        rc = zp_ctx_try(pl, x->xo, c->old_len, c->new_, c->new_len, &c->f, &nat, &nat_len);
    pn = zu_exe_params_put(par, &x->en);
    if (rc == ZUPD_OK && nat != NULL)
        rc = zp_exe_mark(&nat, &nat_len, par, pn);
    if (rc == ZUPD_OK && nat != NULL && x->en.id == ZU_EXE_PE_X86_64)
        zp_version_raise(nat, ZP_VERSION_8); /* the stage over PE files */
    if (rc == ZUPD_OK && nat != NULL && (x->en.kinds & ZU_EXE_K_JTAB) != 0)
        zp_version_raise(nat, ZP_VERSION_9); /* jump tables */
    if (rc == ZUPD_OK && nat != NULL && (x->en.kinds & ZU_EXE_K_EHCIE) != 0)
        zp_version_raise(nat, ZP_VERSION_12); /* the CIE pointers */
    if (rc == ZUPD_OK && nat != NULL && (x->en.kinds & ZU_EXE_K_GOFN) != 0)
        zp_version_raise(nat, ZP_VERSION_13); /* Go's function table */
    if (rc == ZUPD_OK && nat != NULL && (x->en.kinds & (ZU_EXE_K_EHLSDA | ZU_EXE_K_NEAR)) != 0)
        zp_version_raise(nat, ZP_VERSION_14); /* the LSDA pointers, the nearest span */
    /* over ZU_EXE_WHOLE_MAX apply takes old transformed a window at a time
     * where the extra stream cannot copy from it: a zstd one without the
     * context has to say so (it was compressed without a prefix:
     * exe_estimate) */
    if (rc == ZUPD_OK && nat != NULL && c->old_len > ZU_EXE_WHOLE_MAX &&
        (nat[7] & ZU_FLAG_EXTRA_CTX) == 0 && zu_codecs(nat[6], cx) == 0 &&
        (cx[2] == ZU_CODEC_ZSTD || cx[2] == ZU_CODEC_LZMA)) {
        nat[7] |= ZU_FLAG_EXTRA_NOPFX;
        zp_version_raise(nat, ZP_VERSION_9);
    }
    if (rc == ZUPD_OK && nat != NULL && pl->x86 != NULL)
        rc = zp_x86_mark(&nat, &nat_len, &x86);
    pl->x86 = NULL;
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: exe patch %zu, best %zu\n", nat_len, c->best_len);
#endif
    if (rc == ZUPD_OK && nat != NULL) {
        keep_best(&c->best, &c->best_len, nat, nat_len);
        nat = NULL;
    }
    free(nat);
    free(b40);
    return rc;
}

/* The native header of a creation (zp_hdr_make), made on a thread. */
struct hdr_job {
    const struct cand *c;
    uint8_t *hdr;
    size_t hdr_len;
    int rc;
};

static void *
hdr_run(void *arg)
{
    struct hdr_job *h = arg;
    h->rc = zp_hdr_make(h->hdr, &h->hdr_len, ZUPD_DELTA_BSDIFF, h->c->old, h->c->old_len,
                        h->c->new_, h->c->new_len);
    return NULL;
}

/* The index of old the scans search: at levels up to 19, where block
 * matching covers enough of new (zp_block_wanted), only the part of old
 * the rest of new can need (c->blk set); else all of old. */
static int
index_build(struct cand *c, struct zp_blocks *b, struct sindex *ix)
{
    int rc = ZUPD_OK;

    memset(b, 0, sizeof(*b));
    memset(ix, 0, sizeof(*ix));
    if (c->f.skip && c->new_len >= ZP_BLOCK_NEW_MIN && c->old_len <= (size_t)INT32_MAX - 1) {
        /* the rule is asked twice: on the covers, then on the part of old
         * they leave to index */
        TR("blocks", rc = zp_block_match(c->old, c->old_len, c->new_, c->new_len, b));
        if (rc == ZUPD_OK && zp_block_wanted(b, c->old_len, c->new_len))
            TR("block reduce", rc = zp_block_reduce(b, c->old, c->old_len, c->new_, c->new_len));
        if (rc != ZUPD_OK) {
            zp_block_release(b);
            return rc;
        }
        if (b->piece != NULL && zp_block_wanted(b, c->old_len, c->new_len)) {
            c->blk = b;
            if (c->rep != NULL)
                c->rep->indexed = b->rlen;
            TR("block index", rc = zp_block_index(b, c->old, c->old_len, c->f.skip, ix));
            return rc;
        }
        zp_block_release(b);
    }
    if (c->rep != NULL)
        c->rep->indexed = c->old_len;
    return zp_sindex_build(c->old, c->old_len, c->f.skip, ix);
}

int
zp_cand_bsdiff(struct cand *c)
{
    struct ladder l;
    struct plan pl;
    struct sindex ix;
    struct zp_blocks blk;
    uint8_t hdr[HDR_MAX];
    size_t hdr_len = 0;
    struct exe x;
    struct hdr_job hj;
    pthread_t hj_th;
    int hj_on;
    size_t k0 = 0;
    int win = -1; /* the plan of the best patch so far, if native */
    int exe_only = 0;
    int rc;

    memset(&l, 0, sizeof(l));
    memset(&pl, 0, sizeof(pl));
    memset(&x, 0, sizeof(x));
    l.keep_est[0] = l.keep_est[1] = SIZE_MAX;
    l.n = ladder_of(c->new_, c->new_len, l.thr);
    /* on most files the estimates grow with the threshold: two rungs no
     * better end the ladder; text files big enough to reach the short
     * ladder need every rung (mdn-bcd is best at 256); the big binary
     * ladder goes down from 16 only while each rung is better */
    l.patience = c->new_len <= TWO_SCAN_MAX ? 2 : l.thr[0] < l.thr[1] ? 0 : 1;
    /* the header's two SHA-256 on a thread of their own while old is
     * suffix-sorted (one thread but for the gram filter's) */
    hj.c = c;
    hj.hdr = hdr;
    hj.rc = ZUPD_E_NOMEM;
    hj_on = pthread_create(&hj_th, NULL, hdr_run, &hj) == 0;
    rc = index_build(c, &blk, &ix);
    if (hj_on)
        pthread_join(hj_th, NULL);
    else
        hdr_run(&hj);
    hdr_len = hj.hdr_len;
    if (rc == ZUPD_OK)
        rc = hj.rc;
    if (rc == ZUPD_OK)
        rc = first_scan(c, &ix, &l, &pl);
    if (c->method == ZP_DELTA_AUTO && !c->f.pf_always && c->new_len > PF_SMALL) {
        c->pf_text = pf_text_wanted(c, &pl);
        c->want_zstd = c->pf_text;
        /* BSDIFF40 likewise: it is the native patch's bzip2 streams
         * with a shorter header (32 bytes, no hashes) and fixed 24-byte
         * control entries, and it lost to the native patch on every
         * pair of issue 18's corpus (by 52-58 bytes on the no-op and
         * small-change pairs, by 1-200 KB on the others); its bzip2 of
         * the whole diff stream was up to 2 s of a creation */
        c->want_b40 = 0;
    }
    if (rc == ZUPD_OK)
        rc = ladder_climb(c, &ix, &l, &pl);
    if (rc == ZUPD_OK && l.nkeep > 0) /* the plan of the smallest estimate */
        c->pf_moved = pf_moved(&l.keep[ladder_best(&l)]);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: best plan's pieces moved %d\n", c->pf_moved);
#endif
    zp_sindex_release(&ix); /* before the compressions need memory */
    c->blk = NULL;
    zp_block_release(&blk);
    /* The executable stage first, on the plan of the smallest estimate:
     * where its estimate beats that plan's own, only its patch is written
     * (creation speed, docs/internals/delta.md: the patches without the
     * stage were written only to lose to it, at a third of the time). */
    if (rc == ZUPD_OK && l.nkeep > 0) {
        k0 = ladder_best(&l);
        rc = exe_estimate(c, &l.keep[k0], l.keep_est[k0], &x);
        exe_only = rc == ZUPD_OK && x.xo != NULL && x.est < x.est_raw;
        if (!exe_only)
            exe_release(&x); /* old transformed: not needed */
    }
    if (rc == ZUPD_OK && !exe_only)
        rc = plans_write(c, &l, hdr, hdr_len, &win);
    /* the extra stream of the plan that won, with its context */
    if (rc == ZUPD_OK && win >= 0 && !c->f.extra_prefix)
        TR("extra ctx", rc = zp_ctx_try(&l.keep[win], c->old, c->old_len, c->new_, c->new_len,
                                        &c->f, &c->best, &c->best_len));
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: after ctx best %zu\n", c->best_len);
#endif
    if (rc == ZUPD_OK && exe_only)
        rc = exe_write(c, &l.keep[k0], &x, hdr, hdr_len);
    exe_release(&x);
    for (size_t k = 0; k < 2; k++)
        zp_plan_release(&l.keep[k]);
    zp_plan_release(&pl);
    if (rc != ZUPD_OK)
        return rc;
    if (c->rep != NULL && c->best != NULL && c->best[5] == ZUPD_DELTA_BSDIFF &&
        memcmp(c->best, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN) == 0)
        c->rep->bsdiff = c->best_len;
    return ZUPD_OK;
}

/* Patch-from in LZMA2 (zp_pf_lzma_make) where auto tries it: old and new
 * of PF_LZ_MAX bytes at most together, new text or at most PF_SMALL, the
 * first plan's pieces moved (pf_moved), and the best patch so far at
 * least 1/PF_LZ_WORTH of old and new. LZMA2's
 * match finder takes about 0.3 s a MB of old and new (spdx, 9.8 MB: 12
 * times the creation without it): it is tried where a patch is large
 * enough for a few per cent of it to be worth that, not on no-op
 * releases (types-node: 265 bytes of 5.3 MB) or databases edited in
 * place (mdn-bcd-w: 41 MB). What it wins: data that moved, whose records
 * LZMA2 finds anywhere in old and codes more tightly than zstd at 22
 * (issue 18's corpus, against zstd --patch-from -22: caniuse-tree 54,366
 * bytes against 56,002, spdx 14,311 against 14,670, user-agents 135,647
 * against 136,800; mime-db's 986 stay zstd's, LZMA2 is 1,090 there). */
#define PF_LZ_MAX (16u << 20)
#define PF_LZ_WORTH 1024u

int
zp_cand_lzma(struct cand *c)
{
    uint8_t *z = NULL;
    size_t zn = 0, in = c->old_len + c->new_len;
    int text, rc;

    if (c->method == ZP_DELTA_AUTO &&
        (!c->f.lzma || c->new_len == 0 || in > PF_LZ_MAX || !c->pf_moved ||
         (c->best != NULL && c->best_len < in / PF_LZ_WORTH)))
        return ZUPD_OK;
    text = looks_text(c->new_, c->new_len); /* only where the rest holds: it reads 1 MiB */
    if (c->method == ZP_DELTA_AUTO && c->new_len > PF_SMALL && !text)
        return ZUPD_OK;
    rc = zp_pf_lzma_make(c->old, c->old_len, c->new_, c->new_len, text, &z, &zn);
    if (rc != ZUPD_OK)
        return rc;
    if (c->rep != NULL)
        c->rep->lzma = zn;
    keep_best(&c->best, &c->best_len, z, zn);
    return ZUPD_OK;
}

int
zp_cand_zstd(struct cand *c)
{
    uint8_t *z = NULL;
    size_t zn = 0;
    int rc = c->pf_text
                 ? zp_pf_text_make(c->old, c->old_len, c->new_, c->new_len, &z, &zn)
                 : zp_pf_make(c->old, c->old_len, c->new_, c->new_len, c->f.pf_level, &z, &zn);

    if (rc != ZUPD_OK)
        return rc;
    if (c->rep != NULL)
        c->rep->zstd = zn;
    keep_best(&c->best, &c->best_len, z, zn);
    return ZUPD_OK;
}
