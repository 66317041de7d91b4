/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/delta_x86.h -- the x86 filter of the extra stream (ZU_FLAG_EXTRA_X86, format
 * version 6), shared by apply (lib/delta_x86.c) and creation (mirror/delta/). */
#ifndef ZU_DELTA_X86_H
#define ZU_DELTA_X86_H

#include <stddef.h>
#include <stdint.h>

/* The filter's parameters: ranges of new file offsets [off, off + len)
 * (the new file's executable segments), in increasing order, apart. */
#define ZU_X86_RANGES_MAX 16
#define ZU_X86_PARAMS_MAX (1 + ZU_X86_RANGES_MAX * 20)

struct zu_x86 {
    uint64_t off[ZU_X86_RANGES_MAX], len[ZU_X86_RANGES_MAX];
    size_t n;
};

/* varint n (1 to ZU_X86_RANGES_MAX), then n times varint off, varint
 * len: len at least 1, each range after the one before, the last ending
 * at most at new_size. zu_x86_params_put writes them into p (at most
 * ZU_X86_PARAMS_MAX bytes) and returns their length; zu_x86_params_get
 * reads them from p[*at..len), *at moved past (ZUPD_E_FORMAT). */
size_t zu_x86_params_put(uint8_t *p, const struct zu_x86 *x);
int zu_x86_params_get(const uint8_t *p, size_t len, size_t *at, uint64_t new_size,
                      struct zu_x86 *x);

/* Filter (dir 1) or unfilter (dir -1) in place the piece b[0..len) of
 * extra bytes, whole, that stands at offset pos of the new file
 * (docs/delta-format.md, "x86 filter"). Reads and writes only b[0..len). */
void zu_x86_piece(uint8_t *b, size_t len, uint64_t pos, int dir);

/* Filter (dir 1) or unfilter (dir -1) the extra bytes b[0..n) that one
 * control entry copies to new offset pos: zu_x86_piece on each part of
 * them inside a range of x. */
void zu_x86_run(uint8_t *b, size_t n, uint64_t pos, const struct zu_x86 *x, int dir);

#endif
