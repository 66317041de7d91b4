/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/create_int.h -- what the delta creation files share (delta_create.c, scan.c,
 * candidates.c, write.c); private to mirror/delta/. */
#ifndef ZP_DELTA_CREATE_INT_H
#define ZP_DELTA_CREATE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "delta/create.h"

/* -DZU_DELTA_TRACE prints the time of each phase to stderr (development only). */
#ifdef ZU_DELTA_TRACE
#include <stdio.h>
#include <time.h>
static inline double
tr_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
#define TR(name, stmt)                                                                             \
    do {                                                                                           \
        double t0_ = tr_now();                                                                     \
        stmt;                                                                                      \
        fprintf(stderr, "delta: %-12s %7.2f s\n", name, tr_now() - t0_);                           \
    } while (0)
#else
#define TR(name, stmt)                                                                             \
    do {                                                                                           \
        stmt;                                                                                      \
    } while (0)
#endif

/* What a level means. Levels up to 19 are for every publish: the suffix
 * search skips ahead in long stretches without a better match (0.8 %
 * larger, 2-3x faster on big executables), diff streams are split
 * (docs/delta-format.md), the extra stream gets the old file as its zstd
 * prefix only where the new file is mostly new bytes, and zstd patch-from
 * is tried on new files up to 1 MiB only (on bigger ones, where it could
 * win, that hybrid won). Levels 20-22 search
 * exhaustively, compress every stream at the level, always give the extra
 * stream the old file as prefix, and also try patch-from. */
struct prof {
    int skip;         /* skip ahead in the suffix search */
    int z_small;      /* zstd level of ctrl/extra streams and of small diff streams */
    int z_big;        /* zstd level of diff streams over BIG_STREAM bytes */
    int extra_prefix; /* extra stream compressed with old as prefix */
    int lzma;         /* LZMA2 streams tried (format version 10), and versions 12 to 15 */
    int pf_always;    /* also try zstd patch-from (auto) */
    int pf_level;
};
#define BIG_STREAM (8u << 20)
#define TWO_SCAN_MAX (8u << 20) /* new files up to this size: every threshold of the ladder */
#define LADDER_MAX 6
#define HYBRID_THR 32 /* the one scan of a new file made mostly of new bytes */
#define EST_LEVEL 3   /* zstd level of the estimates that rank plans */

/* ------------------------------------------------------------------ plan (scan.c) */

/* One control entry: add `add` bytes (diff + old), copy `copy` bytes of
 * extra, then move the old position by `seek`. */
struct ctl {
    uint64_t add;
    uint64_t copy;
    int64_t seek;
};

/* The bsdiff-style decomposition of new against old: the control entries;
 * the diff and extra streams they imply are only made (zp_plan_fill) for the
 * plans that get compressed, after the suffix array is gone. */
struct zu_x86;
struct plan {
    struct ctl *c;
    size_t n, cap;
    uint8_t *diff; /* sum of adds; NULL until zp_plan_fill */
    size_t diff_len;
    uint8_t *extra; /* sum of copies; NULL until zp_plan_fill */
    size_t extra_len;
    const struct zu_x86 *x86; /* not NULL: zp_plan_fill filters extra (ZU_FLAG_EXTRA_X86) */
};

void zp_plan_release(struct plan *p);
void zp_plan_empty(struct plan *p);
int zp_plan_fill(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen);
int zp_plan_fill_extra(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw,
                       size_t nlen);

/* ------------------------------------------------------------------ scan (scan.c) */

/* The gram filter (GRAM, scan.c). */
struct gram_filter {
    uint64_t *bits;
    unsigned shift;
};

/* The suffix searches of the scans of one new file (scan.c, struct
 * smemo); one for each half. */
struct smemo;

/* The index of old the scan searches: suffix array, its two-byte buckets,
 * and (levels up to 19) the gram filter. Built once for every scan. memo:
 * the scans' record of their suffix searches, which the next scan of the
 * same new file reads instead of searching again (the searches do not
 * depend on the threshold); scratch of the scans, not part of the index,
 * hence not const where the index is. */
struct sindex {
    int32_t *sa;
    uint32_t *bkt;
    struct gram_filter gf;
    struct smemo *memo; /* [2]; NULL: none */
    size_t memo_max;    /* entries each memo holds at most (scan.c, MEMO_SHARE) */
};

/* How many bytes a[0..n) and b[0..n) have equal from the start, eight at
 * a time (the scan's match lengths, block.c's extensions). */
static inline size_t
zp_same_len(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;

    while (i + 8 <= n) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return i + (size_t)(__builtin_ctzll(x ^ y) >> 3);
        i += 8;
    }
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* How many i in [from, to) have old[i + off] == nw[i] (i + off inside
 * old): the scan's score of an alignment (scan.c), block.c's too. */
size_t zp_count_eq(const uint8_t *old, size_t olen, const uint8_t *nw, size_t from, size_t to,
                   int64_t off);

int zp_sindex_build(const uint8_t *old, size_t olen, int skip, struct sindex *ix);
void zp_sindex_release(struct sindex *ix);
/* Searches the memos of ix hold (for the tests). */
size_t zp_sindex_memo_len(const struct sindex *ix);
int zp_plan_scan(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                 const struct sindex *ix, int skip, size_t thr, struct plan *p);
int zp_plan_scan_from(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                      const struct sindex *ix, int skip, size_t thr, size_t pos0, struct plan *p);

/* ------------------------------------------------------------------ block matching (block.c) */

/* Where new is mostly long exact copies of old (a database a day changed
 * in a few spots), the blocks of old are hashed and new is rolled over
 * them (zp_block_match); where the rule says so (zp_block_wanted), only
 * the part of old the rest of new can need is suffix-sorted
 * (zp_block_reduce, zp_block_index), and each scan (zp_block_scan) scans
 * only the stretches of new between the covers, each with some of the
 * covers around it, the covers' insides entering the plan as they are. */
#define ZP_BLOCK_MIN 32             /* block size (bigger for old over 128 MiB) */
#define ZP_BLOCK_THR_MAX 256        /* the highest threshold the index is made for */
#define ZP_BLOCK_NEW_MIN (1u << 20) /* the rule (block.c): new files this big at least, */
#define ZP_BLOCK_COVER_PCT 90       /* this much of them in covers */
#define ZP_BLOCK_LONG 1024          /* of this many bytes or more */

/* new[nw, nw + len) aligned with old[old, old + len): equal, but where a
 * copy elsewhere was no longer than the alignment before by SWITCH_MIN
 * (block.c) and that alignment was kept, as the scan keeps it */
struct zp_cover {
    size_t nw, old, len;
};
/* old[old, old + len) is at r in the string indexed */
struct zp_piece {
    size_t old, len, r;
};
struct zp_blocks {
    struct zp_cover *cv; /* in the order of new, not overlapping */
    size_t n, cap;
    size_t covered;      /* bytes of new in covers */
    size_t covered_long; /* in covers of ZP_BLOCK_LONG bytes or more */
    int partial;         /* the matcher stopped early (zp_block_wanted is 0) */
    struct zp_piece *piece;
    size_t npiece;
    size_t rlen; /* bytes of old indexed */
};

uint64_t zp_block_hash(const uint8_t *p, size_t bs);
size_t zp_block_slot(uint64_t h, unsigned bits);
void zp_block_geometry(size_t olen, size_t *bs, unsigned *bits);
int zp_block_match(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                   struct zp_blocks *b);
int zp_block_reduce(struct zp_blocks *b, const uint8_t *old, size_t olen, const uint8_t *nw,
                    size_t nlen);
int zp_block_wanted(const struct zp_blocks *b, size_t olen, size_t nlen);
int zp_block_index(const struct zp_blocks *b, const uint8_t *old, size_t olen, int skip,
                   struct sindex *ix);
int zp_block_scan(const struct zp_blocks *b, const uint8_t *old, size_t olen, const uint8_t *nw,
                  size_t nlen, const struct sindex *ix, int skip, size_t thr, struct plan *p);
void zp_block_release(struct zp_blocks *b);
/* The extensions between the match before (lastscan in new, lastpos in
 * old) and the new one (scan, pos): *lenf bytes forward, *lenb backward
 * (scan.c; shared with t_delta, which holds it against the byte loops). */
void zp_scan_extend(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                    size_t lastscan, size_t lastpos, size_t scan, size_t pos, size_t *lenf,
                    size_t *lenb);

/* ------------------------------------------------------------------ write (write.c) */

/* Longest native header: fixed 8 bytes, two size varints, two hashes, and
 * room for the two stream-length varints of the bsdiff method and the
 * radius of its extra context. */
#define HDR_MAX (8 + 10 + 10 + 64 + 30)
/* The format version every patch is written in (the compact header,
 * docs/delta-format.md; the flags of versions 2 to 5 come with it). */
#define ZP_VERSION 7
/* The version of patches with rep-coded seeks (ZU_FLAG_CTRL_REP) or the
 * executable stage over PE files: only they need it, the others stay
 * readable by version 7 endpoints. */
#define ZP_VERSION_8 8
/* The version of patches whose zstd extra stream has no prefix
 * (ZU_FLAG_EXTRA_NOPFX: the executable stage over old files above
 * ZU_EXE_WHOLE_MAX, which apply then takes a piece at a time), or whose
 * executable stage rewrites jump tables (ZU_EXE_K_JTAB). */
#define ZP_VERSION_9 9
/* The version of patches whose extra stream is LZMA2 (ZU_CODECS_EXTRA_LZMA). */
#define ZP_VERSION_10 10
/* The version of patch-from in LZMA2 (ZUPD_DELTA_LZMA). */
#define ZP_VERSION_11 11
/* The version of the executable stage with the CIE pointers of .eh_frame
 * (ZU_EXE_K_EHCIE). */
#define ZP_VERSION_12 12
/* The version of the executable stage with Go's function table
 * (ZU_EXE_K_GOFN). */
#define ZP_VERSION_13 13
/* The version of the executable stage with the LSDA pointers of
 * .eh_frame (ZU_EXE_K_EHLSDA) or the nearest span (ZU_EXE_K_NEAR). */
#define ZP_VERSION_14 14
/* The version of patches whose control stream is in columns
 * (ZU_FLAG_CTRL_COLS). */
#define ZP_VERSION_15 15

/* At least version v for the patch p: a patch keeps the newest any of its
 * parts needs. */
static inline void
zp_version_raise(uint8_t *p, uint8_t v)
{
    if (p[4] < v)
        p[4] = v;
}

int zp_hdr_make(uint8_t *h, size_t *hlen, int method, const uint8_t *old, size_t olen,
                const uint8_t *nw, size_t nlen);
/* The estimate of plan pl, whose extra stream is made (zp_plan_fill or
 * zp_plan_fill_extra), from old[0..olen) and nw[0..nlen) as it was made. */
int zp_plan_estimate(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
                     size_t nlen, size_t *est);
/* The split coding of pl's diff stream (the runs and the literals,
 * ZU_FLAG_DIFF_SPLIT), made from its entries with no diff stream:
 * ownership of *runs and *lits passes to the caller (NULL on error). */
int zp_plan_split(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
                  size_t nlen, uint8_t **runs, size_t *runs_len, uint8_t **lits, size_t *lits_len);
/* Whether the native patch tries bzip2 of the diff stream's zero-run
 * bytes: not where its nlits literals are sparser than one in
 * ZRUN_BZ_SPARSE of its diff_len bytes (write.c). */
int zp_zrun_bz_wanted(size_t diff_len, size_t nlits);
int zp_write_bsdiff(const struct plan *pl, const uint8_t *hdr, size_t hdr_len, const uint8_t *old,
                    size_t olen, size_t nlen, const struct prof *f, int want_native, int want_b40,
                    uint8_t **native, size_t *native_len, uint8_t **b40, size_t *b40_len);
int zp_ctx_try(struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
               const struct prof *f, uint8_t **patch, size_t *patch_len);
int zp_exe_mark(uint8_t **patch, size_t *patch_len, const uint8_t *par, size_t pn);
/* Patch-from tuned for text, at PF_TEXT_LEVEL (write.c says how). */
#define PF_TEXT_LEVEL 12
int zp_pf_text_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, uint8_t **out,
                    size_t *out_len);
int zp_extra_estimate(const uint8_t *ex, size_t n, size_t *est);
/* 1: an extra stream compressed without old as its prefix, in a small
 * dictionary, as zstd at EST_LEVEL cannot make 1 % smaller (write.c). */
int zp_extra_random(const uint8_t *ex, size_t n);
int zp_x86_mark(uint8_t **patch, size_t *patch_len, const struct zu_x86 *x);
int zp_pf_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int level,
               uint8_t **out, size_t *out_len);
int zp_pf_lzma_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int text,
                    uint8_t **out, size_t *out_len);

/* ------------------------------------------------------------------ realign (realign.c) */

/* Into *out, pl with its entries over new's ELF RELA tables realigned
 * row by row against old transformed xo (old's length; the tables from
 * eo's and en's PT_DYNAMIC); *changed: *out was made (the caller
 * releases it). ZUPD_E_NOMEM. */
struct zu_elf;
int zp_rela_realign(const struct plan *pl, const uint8_t *old, const uint8_t *xo,
                    const struct zu_elf *eo, const uint8_t *nw, const struct zu_elf *en,
                    struct plan *out, int *changed);
/* Into *out, pl with new's .eh_frame_hdr (PT_GNU_EH_FRAME) header from
 * old's, and with xo (old transformed under a map that holds that) its
 * table's rows from their equal rows of xo; *changed as above.
 * ZUPD_E_NOMEM. */
int zp_eh_realign(const struct plan *pl, const uint8_t *old, const uint8_t *xo,
                  const struct zu_elf *eo, const uint8_t *nw, const struct zu_elf *en,
                  struct plan *out, int *changed);
/* Into *out, pl with the rows and records of new's Go function table
 * (pclntab, go1.20 and later) taken from those of old's function of the
 * same name; *changed as above. ZUPD_E_NOMEM. */
int zp_go_realign(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
                  size_t nlen, struct plan *out, int *changed);
/* ZU_EXE_K_GOFN's parameters into *g, where old and new (segments eo,
 * en) each have a Go function table and the module data that names it:
 * 1, else 0. */
struct zu_gofn;
int zp_go_params(const uint8_t *old, size_t olen, const struct zu_elf *eo, const uint8_t *nw,
                 size_t nlen, const struct zu_elf *en, struct zu_gofn *g);

/* ------------------------------------------------------------------ candidates (candidates.c) */

/* One creation: the files, the methods still wanted, the level's
 * profile, and the smallest patch so far. */
struct cand {
    const uint8_t *old, *new_;
    size_t old_len, new_len;
    int method; /* ZP_DELTA_AUTO or enum zupd_delta_method */
    int want_bsd, want_b40, want_zstd, want_lzma;
    int pf_text;  /* patch-from is zp_pf_text_make's (text over PF_SMALL) */
    int pf_moved; /* the first plan's pieces moved (candidates.c, PF_LZ_FAR) */
    struct prof f;
    struct zp_delta_report *rep; /* NULL: no report */
    const struct zp_blocks *blk; /* not NULL: the scans are zp_block_scan's */
    uint8_t *best;               /* malloc'ed; NULL: none yet */
    size_t best_len;
};

/* The bsdiff-style candidates (native and/or BSDIFF40): the index of old,
 * the ladder of scans, the plans kept written, the winner's extra context.
 * Where the new file is mostly new bytes it turns on c->f.extra_prefix
 * (and off want_b40 for auto); for auto below level 20 it turns off
 * want_zstd (patch-from) for new files over 1 MiB, or turns on pf_text
 * instead for text up to 64 MiB that its first plan matches in short
 * pieces (candidates.c, PF_TEXT_ADD). */
int zp_cand_bsdiff(struct cand *c);
/* The patch-from candidate (method zstd). */
int zp_cand_zstd(struct cand *c);
int zp_cand_lzma(struct cand *c);

#endif
