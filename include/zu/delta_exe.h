/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/delta_exe.h -- the executable stage of the delta format (ZU_FLAG_EXE, version 5),
 * shared by apply (lib/delta_exe.c) and creation (mirror/delta/). */
#ifndef ZU_DELTA_EXE_H
#define ZU_DELTA_EXE_H

#include <stddef.h>
#include <stdint.h>

/* Transform ids (the first varint of the stage's parameters): the format
 * of old and new, each with its header parser and the same reference
 * model. PE32+ x86-64 (Windows executables and DLLs) from format version
 * ZU_EXE_PE_VERSION. */
#define ZU_EXE_ELF_X86_64 1
#define ZU_EXE_PE_X86_64 2
#define ZU_EXE_PE_VERSION 8
#define ZU_EXE_JTAB_VERSION 9    /* the kind ZU_EXE_K_JTAB from this format version */
#define ZU_EXE_EHCIE_VERSION 12  /* the kind ZU_EXE_K_EHCIE from this format version */
#define ZU_EXE_GOFN_VERSION 13   /* the kind ZU_EXE_K_GOFN from this format version */
#define ZU_EXE_EHLSDA_VERSION 14 /* the kinds ZU_EXE_K_EHLSDA, ZU_EXE_K_NEAR from this version */

#define ZU_EXE_SEGS_MAX 16          /* PT_LOAD segments of one file */
#define ZU_EXE_SPANS_MAX (4u << 20) /* spans of the alignment map (96 MiB) */
#define ZU_EXE_SPAN_MIN 8           /* add entries shorter than this are not spans */

/* A PT_LOAD segment: its bytes in the file [off, off + filesz) (clipped
 * to the file), at virtual address vaddr; memsz >= filesz (the rest is
 * zero-filled: .bss). */
struct zu_seg {
    uint64_t off, filesz, vaddr, memsz;
    uint32_t flags; /* PF_X 1, PF_W 2, PF_R 4 */
};

/* ZU_EXE_K_GOFN's parameters: where old's Go function table (pclntab)
 * starts, and the bases its offsets count from in old and in new. */
struct zu_gofn {
    uint64_t hdr;                /* old: file offset of the pclntab header */
    uint64_t text_o, text_n;     /* the text's start (virtual addresses) */
    uint64_t names_n, pctab_n;   /* new: file offsets of the function names, the pc-value tables */
    uint64_t ftab_n;             /* new: file offset of the function table's rows */
    uint64_t gofunc_o, gofunc_n; /* funcdata's base (virtual addresses); 0: not rewritten */
};

struct zu_elf {
    struct zu_seg seg[ZU_EXE_SEGS_MAX];
    size_t n;
    struct zu_seg eh;    /* PT_GNU_EH_FRAME (.eh_frame_hdr); PE: the exception directory (.pdata);
                            filesz 0: none */
    struct zu_seg dyn;   /* ELF: PT_DYNAMIC (the creator reads its RELA tables); filesz 0: none */
    uint64_t image_base; /* PE: ImageBase (section addresses are above it) */
    unsigned kinds;      /* the stage's parameters only: ZU_EXE_K_* transformed */
    unsigned id;         /* ZU_EXE_ELF_X86_64 or ZU_EXE_PE_X86_64 */
    struct zu_gofn go;   /* the stage's parameters with ZU_EXE_K_GOFN */
};

/* Kinds of references the transform rewrites (a bit mask in the stage's
 * parameters; the creator picks by estimate). */
#define ZU_EXE_K_CODE 1u  /* rel32 calls/jumps, RIP-relative operands (executable segments) */
#define ZU_EXE_K_ABS64 2u /* 8-byte aligned absolute addresses (other segments) */
#define ZU_EXE_K_UNWIND                                                                            \
    4u /* the unwind tables: .eh_frame_hdr's table, .eh_frame's pc_begin; PE: .pdata */
#define ZU_EXE_K_JTAB                                                                              \
    8u /* jump tables: 32-bit offsets of code from the table (version 9; zu_exe_transform) */
#define ZU_EXE_K_EHCIE                                                                             \
    16u /* with ZU_EXE_K_UNWIND: each FDE's CIE pointer in .eh_frame (version 12) */
#define ZU_EXE_K_GOFN                                                                              \
    32u /* Go's function table: its offsets of text, names, pc-value tables, records (version 13)  \
         */
#define ZU_EXE_K_EHLSDA                                                                            \
    64u /* with ZU_EXE_K_UNWIND: each FDE's LSDA pointer in .eh_frame (version 14) */
#define ZU_EXE_K_NEAR                                                                              \
    128u /* a target in no span moves as the nearest span within ZU_EXE_NEAR_MAX (version 14) */
#define ZU_EXE_K_ALL 255u
#define ZU_EXE_NEAR_MAX (64u << 10)
#define ZU_EXE_ABS_MIN 0x10000u /* smaller values are taken for lengths and counts */

/* Parse p[0..len) as a little-endian ELF64 x86-64 file: the PT_LOAD
 * segments in program header order. ZUPD_E_FORMAT where it is not one, or
 * has more than ZU_EXE_SEGS_MAX of them, or its program headers lie
 * outside the file. Reads nothing outside p[0..len). */
int zu_elf_parse(const uint8_t *p, size_t len, struct zu_elf *e);
/* Parse p[0..len) as a PE32+ x86-64 file (a Windows executable or DLL):
 * a segment per section in section table order, at ImageBase plus its
 * virtual address, its file bytes its raw data up to its virtual size
 * (flags from its characteristics: execute 1, write 2, read 4); eh: the
 * exception directory (.pdata) where it lies in a section's file bytes
 * (clipped to them), else filesz 0. ZUPD_E_FORMAT where it is not one, has no section
 * or more than ZU_EXE_SEGS_MAX, or its headers lie outside the file. */
int zu_pe_parse(const uint8_t *p, size_t len, struct zu_elf *e);
/* zu_pe_parse where p starts with "MZ", else zu_elf_parse. */
int zu_exe_parse(const uint8_t *p, size_t len, struct zu_elf *e);

/* The alignment map: old bytes [o, o + len) became new bytes [n, n + len)
 * (the add regions of the control stream). zu_exe_map_done sorts the spans
 * by old position (then new) and clips overlaps, so that every old byte
 * is in at most one span, the first. */
struct zu_span {
    uint64_t o, n, len;
};
struct zu_exe_map {
    struct zu_span *s;
    size_t n, cap;
};
/* Add the span of an add entry (ignored when shorter than
 * ZU_EXE_SPAN_MIN); ZUPD_E_NOMEM, or ZUPD_E_FORMAT past ZU_EXE_SPANS_MAX. */
int zu_exe_map_add(struct zu_exe_map *m, uint64_t o, uint64_t n, uint64_t len);
void zu_exe_map_done(struct zu_exe_map *m);
void zu_exe_map_free(struct zu_exe_map *m);

/* The stage's parameters after the stream lengths (and the radius):
 * varint id, varint kinds (ZU_EXE_K_*, not zero), varint count, then per
 * segment of the new file varint off, varint filesz, varint vaddr; with ZU_EXE_K_GOFN then
 * struct zu_gofn's eight fields as varints, in its order. zu_exe_params_put writes them
 * into p (at most ZU_EXE_PARAMS_MAX bytes) and returns their length; zu_exe_params_get reads them
 * from p[*at..len), *at moved past (ZUPD_E_FORMAT: cut, an unknown id, too many segments). */
#define ZU_EXE_PARAMS_MAX (3 + ZU_EXE_SEGS_MAX * 30 + 8 * 10)
size_t zu_exe_params_put(uint8_t *p, const struct zu_elf *nw);
int zu_exe_params_get(const uint8_t *p, size_t len, size_t *at, struct zu_elf *nw);

/* The transform: dst (olen bytes) = old, with (kind ZU_EXE_K_CODE) the
 * 32-bit displacement of every rel32 call/jump and RIP-relative operand
 * found in old's executable segments replaced by the displacement that the
 * same instruction would have in the new file if both it and its target
 * moved as the map says (new segments: nw), and (ZU_EXE_K_ABS64) every
 * 8-byte aligned value in old's other segments that is an address of old
 * (at least ZU_EXE_ABS_MIN) by where that address goes, and
 * (ZU_EXE_K_UNWIND) the 32-bit offsets of the unwind tables (relative to
 * .eh_frame_hdr, or to the field) by what they become (with
 * ZU_EXE_K_EHCIE also each FDE's distance back to its CIE, with ZU_EXE_K_EHLSDA its
 * pointer to its LSDA), and (ZU_EXE_K_JTAB)
 * the entries of jump tables (lib/delta_exe.c, jtab_find) by the new
 * address of their target less the table's, and (ZU_EXE_K_GOFN) the
 * offsets in the rows and records of Go's function table (nw->go) by
 * what they become. Where the instruction or the
 * target is not mapped the bytes stay as in old (with ZU_EXE_K_NEAR a target whose file byte
 * lies in no span moves as the nearest span within ZU_EXE_NEAR_MAX does). dst may not overlap old.
 * Deterministic, reads only old[0..olen), and works for any old, map and segments. Gives the
 * bytes of the plain reading (every byte of code tried, a binary search per lookup:
 * tests/fuzz/exe_ref.h) while trying only candidate bytes and looking spans up through a page
 * index it allocates (without the memory for it, the binary search). ZUPD_E_NOMEM: no memory
 * for the list of jump tables (ZU_EXE_K_JTAB; dst is then not whole). */
int zu_exe_transform(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
                     const struct zu_elf *nw, const struct zu_exe_map *m, unsigned kinds);
/* Whether old holds a jump table that ZU_EXE_K_JTAB would read (the
 * creator takes the kind, and version 9, only then); ZUPD_E_NOMEM. */
int zu_exe_jtab_any(const uint8_t *old, size_t olen, const struct zu_elf *eo, int *any);

/* The transform a piece at a time, for apply where old transformed would
 * not fit beside old (lib/delta_bsdiff.c). zu_exe_win_new takes the map
 * (*m is left empty), notes where the scan of code for any piece starts
 * (a scan of old's code, writing nothing: a byte per 64 bytes of old and
 * code segment) and keeps the unwind tables' writes; it reads
 * old[0..olen) there and in every later call, so old stays. zu_exe_win_at
 * gives old transformed from pos (below olen): *n bytes asked, *n bytes
 * given (at least one; at most 64 KiB, and up to the end of old), the
 * bytes of zu_exe_transform byte for byte, for any old, map and segments;
 * the pointer holds until the next call. */
struct zu_exe_win;
int zu_exe_win_new(struct zu_exe_win **out, const uint8_t *old, size_t olen,
                   const struct zu_elf *eo, const struct zu_elf *nw, struct zu_exe_map *m,
                   unsigned kinds);
const uint8_t *zu_exe_win_at(struct zu_exe_win *w, uint64_t pos, size_t *n);
void zu_exe_win_free(struct zu_exe_win *w);

#endif
