/* SPDX-License-Identifier: Apache-2.0 */
/* lib/abi.h -- reading and writing the growable public structs (options,
 * limits, statistics; docs/api.md): each starts with `size_t size`, set by
 * the caller's zupd_*_init() to sizeof the struct as the caller's headers
 * had it. Internal: lib/ only. */
#ifndef ZU_ABI_H
#define ZU_ABI_H

#include <stddef.h>

#include "zu/internal.h"

/* Bytes of type up to the end of member: the size of the first version of a
 * struct whose last field was member then (the smallest size accepted). */
#define ZU_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* Read the caller's struct src into the library's dst of dst_size bytes,
 * which holds the defaults: the first min(src size, dst_size) bytes are
 * copied, fields past the caller's size keep their defaults, and dst's size
 * becomes dst_size. ZUPD_E_MISUSE when the caller's size is below min_size
 * (size not set: no _init), or past dst_size with a byte there that is not
 * zero (built with newer headers, using a field this library lacks). */
ZU_NODISCARD int zu_struct_in(void *dst, size_t dst_size, const void *src, size_t min_size);

/* Write the library's src of src_size bytes into the caller's dst: the
 * first min(dst size, src_size) bytes, dst's size unchanged, the bytes of a
 * longer dst zeroed. ZUPD_E_MISUSE when dst's size is below min_size. */
ZU_NODISCARD int zu_struct_out(void *dst, const void *src, size_t src_size, size_t min_size);

/* The caller's limits (NULL: the defaults) as the library's whole struct:
 * fields past the caller's size, and the later fields max_roles,
 * max_entries, max_paths when 0, take the defaults. ZUPD_E_MISUSE as
 * zu_struct_in(). */
ZU_NODISCARD int zu_limits_get(struct zupd_limits *dst, const struct zupd_limits *src);

#endif
