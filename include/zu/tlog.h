/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/tlog.h -- the transparency log's Merkle tree: RFC 6962 hashing,
 * C2SP tlog-tiles (tiles, entry bundles, paths), appending, and RFC 9162
 * inclusion and consistency proofs (docs/transparency.md). */
#ifndef ZU_TLOG_H
#define ZU_TLOG_H

#include "zu/internal.h"

#define ZU_TLOG_HASH 32    /* SHA-256 */
#define ZU_TLOG_TILE_H 8   /* tile height, fixed by tlog-tiles */
#define ZU_TLOG_TILE_W 256 /* hashes in a full tile */
#define ZU_TLOG_TILE_BYTES (ZU_TLOG_TILE_W * ZU_TLOG_HASH)
#define ZU_TLOG_LEVELS 8        /* tile levels of a tree of up to 2^63 leaves */
#define ZU_TLOG_ENTRY_MAX 65535 /* an entry's length is a big-endian uint16 in a bundle */
/* A full bundle: 256 entries of at most 65535 bytes, each with its 2-byte length. */
#define ZU_TLOG_BUNDLE_MAX ((size_t)ZU_TLOG_TILE_W * (ZU_TLOG_ENTRY_MAX + 2))
#define ZU_TLOG_SIZE_MAX ((uint64_t)INT64_MAX) /* tree sizes are int64 in Go's tlog */
#define ZU_TLOG_PROOF_MAX 64                   /* hashes in an inclusion or consistency proof */
#define ZU_TLOG_PATH_MAX 96                    /* "tile/entries/x..." with room to spare */
#define ZU_TLOG_ENTRIES (-1)                   /* the level argument that names entry bundles */

/* RFC 6962 leaf hash SHA-256(0x00 || entry) and node hash SHA-256(0x01 || l || r). */
void zu_tlog_leaf_hash(const uint8_t *entry, size_t len, uint8_t out[ZU_TLOG_HASH]);
void zu_tlog_node_hash(const uint8_t l[ZU_TLOG_HASH], const uint8_t r[ZU_TLOG_HASH],
                       uint8_t out[ZU_TLOG_HASH]);
/* The root of the empty tree, SHA-256(""). */
void zu_tlog_empty_root(uint8_t out[ZU_TLOG_HASH]);

/* The path of tile (level, n) of width w (1..255 partial, 256 full) under the
 * log's prefix: "tile/<L>/<N>[.p/<W>]", N in 3-digit elements "x001/x234/067";
 * level ZU_TLOG_ENTRIES gives "tile/entries/<N>[.p/<W>]". Returns ZUPD_OK or
 * ZUPD_E_MISUSE (bad level or width, dst too small). */
ZU_NODISCARD int zu_tlog_tile_path(char *dst, size_t cap, int level, uint64_t n, unsigned w);

/* The width of tile (level, n) in a tree of `size` leaves: 256 for a full
 * tile, 1..255 for the partial one, 0 if the tree has no such tile. */
unsigned zu_tlog_tile_width(uint64_t size, int level, uint64_t n);

/* Check an untrusted tile: exactly w hashes (w * 32 bytes, 1 <= w <= 256).
 * Returns ZUPD_OK or ZUPD_E_FORMAT. */
ZU_NODISCARD int zu_tlog_tile_check(const uint8_t *data, size_t len, unsigned w);

/* Walk an untrusted entry bundle of exactly w entries (big-endian uint16
 * length, then the entry), calling fn for each with a borrowed view
 * (fn may be NULL: only check). Trailing bytes, a short entry or a wrong
 * count are ZUPD_E_FORMAT; fn's non-zero return stops the walk and is
 * returned. */
typedef int (*zu_tlog_entry_fn)(void *opaque, uint64_t index, const uint8_t *entry, size_t len);
ZU_NODISCARD int zu_tlog_bundle_parse(const uint8_t *data, size_t len, unsigned w,
                                      uint64_t first_index, zu_tlog_entry_fn fn, void *opaque);

/* Where tiles and bundles come from: a directory on the publisher, HTTP on
 * an endpoint or a monitor. read() returns the bytes of `path` (relative to
 * the log's prefix, as zu_tlog_tile_path() writes it) in a malloc'd *data
 * the library frees, at most max bytes (more is ZUPD_E_TOOBIG); a missing
 * file is ZUPD_E_NOTFOUND. Everything read is untrusted: the library checks
 * lengths, and hashes are only believed through a proof against a signed
 * root. */
struct zu_tlog_reader {
    void *opaque;
    int (*read)(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                size_t err_cap);
};
/* Where the appender puts new tiles and bundles (the publisher's commit). */
struct zu_tlog_writer {
    void *opaque;
    int (*write)(void *opaque, const char *path, const uint8_t *data, size_t len, char *err,
                 size_t err_cap);
};

/* A tree of `size` leaves seen through its tiles, with a small tile cache.
 * Ownership: *out new, zu_tlog_tiles_free(); the reader is borrowed and
 * must outlive it. Returns ZUPD_OK, ZUPD_E_MISUSE (size too big), ZUPD_E_NOMEM. */
struct zu_tlog_tiles;
ZU_NODISCARD int zu_tlog_tiles_new(uint64_t size, const struct zu_tlog_reader *rd,
                                   struct zu_tlog_tiles **out);
void zu_tlog_tiles_free(struct zu_tlog_tiles *t); /* NULL ok */

/* The Merkle tree hash of the first n leaves (n <= size), MTH(D[0:n]). */
ZU_NODISCARD int zu_tlog_tree_hash(struct zu_tlog_tiles *t, uint64_t n, uint8_t out[ZU_TLOG_HASH],
                                   char *err, size_t err_cap);
/* The inclusion proof of leaf `index` in the tree of n leaves (index < n <=
 * size), RFC 9162 PATH, leaf to root, into proof[0..*len). */
ZU_NODISCARD int zu_tlog_prove_inclusion(struct zu_tlog_tiles *t, uint64_t index, uint64_t n,
                                         uint8_t proof[][ZU_TLOG_HASH], size_t *len, char *err,
                                         size_t err_cap);
/* The consistency proof from the tree of m leaves to the tree of n (m <= n <=
 * size), RFC 9162 PROOF; empty when m == 0 or m == n. */
ZU_NODISCARD int zu_tlog_prove_consistency(struct zu_tlog_tiles *t, uint64_t m, uint64_t n,
                                           uint8_t proof[][ZU_TLOG_HASH], size_t *len, char *err,
                                           size_t err_cap);

/* RFC 9162 2.1.3.2: whether proof[0..len) proves that leaf hash `leaf` is
 * entry `index` of the tree of `size` leaves with root `root`.
 * Returns ZUPD_OK or ZUPD_E_HASH (any failure, including bad arguments). */
ZU_NODISCARD int zu_tlog_verify_inclusion(uint64_t index, uint64_t size,
                                          const uint8_t leaf[ZU_TLOG_HASH],
                                          const uint8_t proof[][ZU_TLOG_HASH], size_t len,
                                          const uint8_t root[ZU_TLOG_HASH]);
/* RFC 9162 2.1.4.2: whether proof[0..len) proves the tree (m, root_m) is a
 * prefix of (n, root_n). m == n needs an empty proof and equal roots; m == 0
 * needs an empty proof (the empty tree is a prefix of every tree).
 * Returns ZUPD_OK or ZUPD_E_HASH; m > n is ZUPD_E_ROLLBACK. */
ZU_NODISCARD int zu_tlog_verify_consistency(uint64_t m, const uint8_t root_m[ZU_TLOG_HASH],
                                            uint64_t n, const uint8_t root_n[ZU_TLOG_HASH],
                                            const uint8_t proof[][ZU_TLOG_HASH], size_t len);

/* Appending. zu_tlog_appender_new() reads the right edge of the tree of
 * `size` leaves (its partial tiles and partial bundle) and checks it against
 * the signed `root` (NULL only for size 0), so a damaged tile on the
 * publisher's disk stops the append instead of being built upon.
 * zu_tlog_append() adds one entry (1..65535 bytes) and writes each tile or
 * bundle that becomes full; zu_tlog_appender_finish() writes the partial
 * tiles and bundle of the new size and gives the new size and root. Nothing
 * already written is ever rewritten: full tiles are immutable, partial ones
 * get a new path (their width). Ownership: *out new, zu_tlog_appender_free();
 * rd and wr are borrowed. */
struct zu_tlog_appender;
ZU_NODISCARD int zu_tlog_appender_new(uint64_t size, const uint8_t *root,
                                      const struct zu_tlog_reader *rd,
                                      const struct zu_tlog_writer *wr,
                                      struct zu_tlog_appender **out, char *err, size_t err_cap);
ZU_NODISCARD int zu_tlog_append(struct zu_tlog_appender *a, const uint8_t *entry, size_t len,
                                uint64_t *index, char *err, size_t err_cap);
ZU_NODISCARD int zu_tlog_appender_finish(struct zu_tlog_appender *a, uint64_t *size,
                                         uint8_t root[ZU_TLOG_HASH], char *err, size_t err_cap);
void zu_tlog_appender_free(struct zu_tlog_appender *a); /* NULL ok */

/* Check a whole tree of `size` leaves against its signed root: every tile
 * and bundle is read, every entry hashes to its level-0 tile, every full
 * tile hashes to its hash in the tile above, and the partial tiles give
 * root. fn (may be NULL) sees every entry in order. Returns ZUPD_OK,
 * ZUPD_E_HASH (a tile or bundle does not match), ZUPD_E_FORMAT, the
 * reader's errors or fn's. */
ZU_NODISCARD int zu_tlog_verify_tree(uint64_t size, const uint8_t root[ZU_TLOG_HASH],
                                     const struct zu_tlog_reader *rd, zu_tlog_entry_fn fn,
                                     void *opaque, char *err, size_t err_cap);

#endif
