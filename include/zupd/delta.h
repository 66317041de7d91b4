/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/delta.h -- apply binary deltas (zupd native format and classic BSDIFF40). */
#ifndef ZUPD_DELTA_H
#define ZUPD_DELTA_H

#include <zupd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Delta methods. The numbers are written in the native header: never renumber. */
enum zupd_delta_method {
    ZUPD_DELTA_BSDIFF = 1,   /* native: bsdiff-style control/diff/extra, zstd streams */
    ZUPD_DELTA_ZSTD = 2,     /* native: one zstd frame, old file as prefix (patch-from) */
    ZUPD_DELTA_BSDIFF40 = 3, /* classic bsdiff 4.x patch, bzip2 streams (no hashes) */
    ZUPD_DELTA_COPY = 4,     /* native, version 7: new == old, the header alone */
    ZUPD_DELTA_LZMA = 5      /* native, version 11: one LZMA2 stream, old file as its
                                preset dictionary (patch-from) */
};

/* Native deltas start with these 4 bytes and the format version
 * (docs/delta-format.md). ZUPD_DELTA_VERSION is the newest version this
 * library reads; it reads every older one too. */
#define ZUPD_DELTA_MAGIC "ZDLT"
#define ZUPD_DELTA_MAGIC_LEN 4
#define ZUPD_DELTA_VERSION 15

/* What a delta says about itself. For BSDIFF40 old_size is 0 and
 * has_hashes is 0 (the format carries neither the old size nor hashes).
 * Native versions 1 to 6 carry the whole SHA-256 of old and new; version 7
 * and later carry a prefix of each (8 bytes): old_sha256 and new_sha256
 * then hold that prefix, zeros after it. zupd_delta_digest_len() says how
 * many bytes are meaningful; compare only those. (The digests only refuse a
 * wrong base early and catch a bug: an updater checks its output against
 * the full signed hash of the target, and the delta is a signed target.) */
struct zupd_delta_info {
    int method;     /* enum zupd_delta_method */
    int version;    /* native format version, 0 for BSDIFF40 */
    int has_hashes; /* 1 when old/new sizes and (a prefix of) sha256 are present */
    uint64_t old_size;
    uint64_t new_size;
    uint8_t old_sha256[32]; /* the first zupd_delta_digest_len() bytes */
    uint8_t new_sha256[32];
};

/* Bytes of info->old_sha256 and info->new_sha256 that the delta carries:
 * 32 (native versions 1 to 6), 8 (version 7), 0 without hashes (BSDIFF40,
 * or info NULL). */
ZUPD_API size_t zupd_delta_digest_len(const struct zupd_delta_info *info);

/* Where apply writes the new file, in order, in pieces of at most 256 KiB.
 * write returns ZUPD_OK or an error code (e.g. ZUPD_E_IO, ZUPD_E_NOSPACE)
 * which stops apply and is returned by it. */
struct zupd_delta_sink {
    void *opaque;
    int (*write)(void *opaque, const uint8_t *buf, size_t len);
};

/* Parse the header of patch[0..patch_len) (untrusted) into *info. Checks only
 * the header, not the streams.
 * Returns ZUPD_OK, ZUPD_E_FORMAT (unknown magic, truncated or bad header),
 * ZUPD_E_SPEC (a native version this library does not know) or ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_delta_info(const uint8_t *patch, size_t patch_len,
                                            struct zupd_delta_info *info);

/* Apply patch[0..patch_len) to old[0..old_len) and stream the new file to
 * out. Both buffers are borrowed (map them); apply allocates a constant
 * amount on top (for the zstd method, plus the frame's window, at most the
 * new size). max_new_size caps the new size the patch may declare (0: no cap).
 *
 * For native deltas the old size and sha256 (the digest bytes the delta
 * carries) are checked before the first write (ZUPD_E_BASE when they
 * differ); the output is checked against the declared new size and sha256
 * as it is written, and the last write is
 * followed by the check: on ZUPD_E_HASH the caller must discard what was
 * written. BSDIFF40 carries no hashes: the caller must verify the output
 * (as zupd always does against signed metadata) before using it.
 *
 * Every control value is range-checked; a hostile patch can cause an error,
 * never an out-of-bounds access or unbounded allocation.
 * Returns ZUPD_OK, ZUPD_E_BASE, ZUPD_E_FORMAT (corrupt or truncated patch),
 * ZUPD_E_SPEC, ZUPD_E_TOOBIG (over max_new_size), ZUPD_E_HASH, ZUPD_E_NOMEM,
 * ZUPD_E_MISUSE, or an error returned by out->write.
 * If info is not NULL it receives the header (also on failure, when parsed). */
ZUPD_API ZUPD_NODISCARD int zupd_delta_apply(const uint8_t *old, size_t old_len,
                                             const uint8_t *patch, size_t patch_len,
                                             uint64_t max_new_size,
                                             const struct zupd_delta_sink *out,
                                             struct zupd_delta_info *info);

/* Flags of zupd_delta_apply_flags(). */
#define ZUPD_DELTA_NO_HASHES 1u /* hash neither the old file nor the output */
/* the executable stage's old file transformed a piece at a time, as apply
 * does anyway on old files over 36 MiB where the patch allows: no copy of
 * old, the same output (below 36 MiB up to a quarter slower) */
#define ZUPD_DELTA_LOW_MEMORY 2u

/* zupd_delta_apply() with flags. ZUPD_DELTA_NO_HASHES is for a caller that
 * checks the output against a hash it trusts (as zupd does against the
 * signed manifest) and whose old file was checked when it was installed:
 * the sizes are still checked, the two SHA-256 passes (old file, output)
 * are not made. A wrong base then gives a wrong output that the caller's
 * check refuses. Unknown flags: ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_delta_apply_flags(const uint8_t *old, size_t old_len,
                                                   const uint8_t *patch, size_t patch_len,
                                                   uint64_t max_new_size, unsigned flags,
                                                   const struct zupd_delta_sink *out,
                                                   struct zupd_delta_info *info);

/* Stable lower-case name of a method ("bsdiff", "zstd", "bsdiff40", "copy"), or "unknown". */
ZUPD_API const char *zupd_delta_method_name(int method);

#ifdef __cplusplus
}
#endif
#endif
