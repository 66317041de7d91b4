/* SPDX-License-Identifier: Apache-2.0 */
/* lib/tlog.c -- the transparency log's Merkle tree: RFC 6962 hashing, C2SP
 * tlog-tiles paths, tiles and entry bundles, appending, and RFC 9162 proofs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zu/tlog.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define TILE_CACHE 8 /* tiles a proof keeps: one per tile level it crosses, and some */

void
zu_tlog_leaf_hash(const uint8_t *entry, size_t len, uint8_t out[ZU_TLOG_HASH])
{
    crypto_hash_sha256_state st;
    const uint8_t prefix = 0x00;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    if (len > 0)
        crypto_hash_sha256_update(&st, entry, len);
    crypto_hash_sha256_final(&st, out);
}

void
zu_tlog_node_hash(const uint8_t l[ZU_TLOG_HASH], const uint8_t r[ZU_TLOG_HASH],
                  uint8_t out[ZU_TLOG_HASH])
{
    uint8_t in[1 + 2 * ZU_TLOG_HASH];

    in[0] = 0x01;
    memcpy(in + 1, l, ZU_TLOG_HASH);
    memcpy(in + 1 + ZU_TLOG_HASH, r, ZU_TLOG_HASH);
    crypto_hash_sha256(out, in, sizeof(in));
}

void
zu_tlog_empty_root(uint8_t out[ZU_TLOG_HASH])
{
    crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* ---- paths and widths ---- */

int
zu_tlog_tile_path(char *dst, size_t cap, int level, uint64_t n, unsigned w)
{
    unsigned group[8];
    size_t groups = 0, at;
    int k;

    if (level < ZU_TLOG_ENTRIES || level >= ZU_TLOG_LEVELS || w < 1 || w > ZU_TLOG_TILE_W ||
        cap == 0)
        return ZUPD_E_MISUSE;
    do {
        group[groups++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);
    if (level == ZU_TLOG_ENTRIES)
        k = snprintf(dst, cap, "tile/entries/");
    else
        k = snprintf(dst, cap, "tile/%d/", level);
    while (k >= 0 && (size_t)k < cap && groups > 0) {
        at = (size_t)k;
        groups--;
        k = snprintf(dst + at, cap - at, groups > 0 ? "x%03u/" : "%03u", group[groups]);
        k = k < 0 ? k : k + (int)at;
    }
    if (k >= 0 && (size_t)k < cap && w < ZU_TLOG_TILE_W) {
        at = (size_t)k;
        k = snprintf(dst + at, cap - at, ".p/%u", w);
        k = k < 0 ? k : k + (int)at;
    }
    if (k < 0 || (size_t)k >= cap) {
        dst[0] = '\0';
        return ZUPD_E_MISUSE;
    }
    return ZUPD_OK;
}

/* Hashes at tree level 8 * level that a tree of `size` leaves has. */
static uint64_t
level_count(uint64_t size, int level)
{
    if (level <= 0)
        return size;
    if (level >= ZU_TLOG_LEVELS)
        return 0;
    return size >> (ZU_TLOG_TILE_H * (unsigned)level);
}

unsigned
zu_tlog_tile_width(uint64_t size, int level, uint64_t n)
{
    uint64_t c = level_count(size, level);

    if (n > UINT64_MAX / ZU_TLOG_TILE_W || c <= n * ZU_TLOG_TILE_W)
        return 0;
    return (unsigned)MIN(c - n * ZU_TLOG_TILE_W, (uint64_t)ZU_TLOG_TILE_W);
}

int
zu_tlog_tile_check(const uint8_t *data, size_t len, unsigned w)
{
    (void)data;
    if (w < 1 || w > ZU_TLOG_TILE_W || len != (size_t)w * ZU_TLOG_HASH)
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}

int
zu_tlog_bundle_parse(const uint8_t *data, size_t len, unsigned w, uint64_t first_index,
                     zu_tlog_entry_fn fn, void *opaque)
{
    size_t at = 0;

    if (w < 1 || w > ZU_TLOG_TILE_W)
        return ZUPD_E_FORMAT;
    for (unsigned i = 0; i < w; i++) {
        size_t n;
        int rc;

        if (len - at < 2)
            return ZUPD_E_FORMAT;
        n = (size_t)data[at] << 8 | data[at + 1];
        at += 2;
        if (n > len - at)
            return ZUPD_E_FORMAT;
        if (fn != NULL && (rc = fn(opaque, first_index + i, data + at, n)) != ZUPD_OK)
            return rc;
        at += n;
    }
    return at == len ? ZUPD_OK : ZUPD_E_FORMAT;
}

/* The root of 2^r consecutive hashes (r <= 8), reduced pairwise in tmp. */
static void
reduce(const uint8_t (*h)[ZU_TLOG_HASH], unsigned count, uint8_t out[ZU_TLOG_HASH])
{
    uint8_t tmp[ZU_TLOG_TILE_W / 2][ZU_TLOG_HASH];

    zu_assert(count >= 1 && count <= ZU_TLOG_TILE_W && (count & (count - 1)) == 0);
    if (count == 1) {
        memcpy(out, h[0], ZU_TLOG_HASH);
        return;
    }
    for (unsigned i = 0; i < count / 2; i++)
        zu_tlog_node_hash(h[2 * i], h[2 * i + 1], tmp[i]);
    for (count /= 2; count > 1; count /= 2)
        for (unsigned i = 0; i < count / 2; i++)
            zu_tlog_node_hash(tmp[2 * i], tmp[2 * i + 1], tmp[i]);
    memcpy(out, tmp[0], ZU_TLOG_HASH);
}

/* The right edge of a tree: the partial tile of each level. */
struct edge {
    uint8_t h[ZU_TLOG_LEVELS][ZU_TLOG_TILE_W][ZU_TLOG_HASH];
    unsigned w[ZU_TLOG_LEVELS];
};

/* MTH of the whole tree from its partial tiles: the complete subtrees of the
 * tree's size are, left to right, the power-of-two runs of each level's
 * partial tile from the top level down; fold them right to left. */
static void
edge_root(const struct edge *e, uint8_t out[ZU_TLOG_HASH])
{
    uint8_t piece[ZU_TLOG_LEVELS * ZU_TLOG_TILE_H][ZU_TLOG_HASH];
    size_t np = 0;

    for (int l = ZU_TLOG_LEVELS - 1; l >= 0; l--) {
        unsigned off = 0;
        for (int r = ZU_TLOG_TILE_H - 1; r >= 0; r--) {
            if (e->w[l] & (1u << r)) {
                reduce(e->h[l] + off, 1u << r, piece[np++]);
                off += 1u << r;
            }
        }
    }
    if (np == 0) {
        zu_tlog_empty_root(out);
        return;
    }
    memcpy(out, piece[np - 1], ZU_TLOG_HASH);
    while (np-- > 1)
        zu_tlog_node_hash(piece[np - 1], out, out);
}

/* Read path into dst, which must be exactly want bytes. */
static int
read_exact(const struct zu_tlog_reader *rd, const char *path, uint8_t *dst, size_t want, char *err,
           size_t cap)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    rc = rd->read(rd->opaque, path, want, &data, &len, err, cap);
    if (rc != ZUPD_OK) {
        free(data);
        return rc;
    }
    if (len != want) {
        free(data);
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s': %zu bytes, expected %zu", path, len, want);
    }
    memcpy(dst, data, want);
    free(data);
    return ZUPD_OK;
}

static int
read_tile(const struct zu_tlog_reader *rd, int level, uint64_t n, unsigned w, uint8_t *dst,
          char *err, size_t cap)
{
    char path[ZU_TLOG_PATH_MAX];
    int rc = zu_tlog_tile_path(path, sizeof(path), level, n, w);

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "no path for tile %d/%llu", level, (unsigned long long)n);
    return read_exact(rd, path, dst, (size_t)w * ZU_TLOG_HASH, err, cap);
}

/* ---- a tree seen through its tiles ---- */

struct cached_tile {
    int level; /* -1: slot unused */
    uint64_t n;
    unsigned w;
    uint8_t h[ZU_TLOG_TILE_W][ZU_TLOG_HASH];
};

struct zu_tlog_tiles {
    uint64_t size;
    const struct zu_tlog_reader *rd;
    struct cached_tile cache[TILE_CACHE];
    unsigned next; /* the slot the next miss replaces */
};

int
zu_tlog_tiles_new(uint64_t size, const struct zu_tlog_reader *rd, struct zu_tlog_tiles **out)
{
    struct zu_tlog_tiles *t;

    *out = NULL;
    if (size > ZU_TLOG_SIZE_MAX || rd == NULL || rd->read == NULL)
        return ZUPD_E_MISUSE;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ZUPD_E_NOMEM;
    t->size = size;
    t->rd = rd;
    for (size_t i = 0; i < TILE_CACHE; i++)
        t->cache[i].level = -1;
    *out = t;
    return ZUPD_OK;
}

void
zu_tlog_tiles_free(struct zu_tlog_tiles *t)
{
    free(t);
}

static int
get_tile(struct zu_tlog_tiles *t, int level, uint64_t n, const struct cached_tile **out, char *err,
         size_t cap)
{
    unsigned w = zu_tlog_tile_width(t->size, level, n);
    struct cached_tile *c;
    int rc;

    if (w == 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "tile %d/%llu is outside the tree", level,
                       (unsigned long long)n);
    for (size_t i = 0; i < TILE_CACHE; i++) {
        if (t->cache[i].level == level && t->cache[i].n == n && t->cache[i].w == w) {
            *out = &t->cache[i];
            return ZUPD_OK;
        }
    }
    c = &t->cache[t->next];
    t->next = (t->next + 1) % TILE_CACHE;
    c->level = -1;
    rc = read_tile(t->rd, level, n, w, &c->h[0][0], err, cap);
    if (rc != ZUPD_OK)
        return rc;
    c->level = level;
    c->n = n;
    c->w = w;
    *out = c;
    return ZUPD_OK;
}

/* The hash of the complete subtree of 2^h leaves number k. */
static int
node(struct zu_tlog_tiles *t, unsigned h, uint64_t k, uint8_t out[ZU_TLOG_HASH], char *err,
     size_t cap)
{
    int level = (int)(h / ZU_TLOG_TILE_H);
    unsigned r = h % ZU_TLOG_TILE_H;
    uint64_t first = k << r;
    const struct cached_tile *c = NULL;
    unsigned off;
    int rc;

    if (level >= ZU_TLOG_LEVELS)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "subtree height %u", h);
    rc = get_tile(t, level, first / ZU_TLOG_TILE_W, &c, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    off = (unsigned)(first % ZU_TLOG_TILE_W);
    if (off + (1u << r) > c->w)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "subtree %u/%llu past its tile", h,
                       (unsigned long long)k);
    reduce((const uint8_t(*)[ZU_TLOG_HASH])c->h + off, 1u << r, out);
    return ZUPD_OK;
}

/* MTH(D[lo:hi]) for 0 <= lo < hi <= size, lo aligned to the largest
 * power of two in hi - lo (always so for the ranges RFC 9162 asks for). */
static int
range_hash(struct zu_tlog_tiles *t, uint64_t lo, uint64_t hi, uint8_t out[ZU_TLOG_HASH], char *err,
           size_t cap)
{
    uint8_t piece[64][ZU_TLOG_HASH];
    size_t np = 0;
    int rc;

    if (lo >= hi || hi > t->size)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "range [%llu, %llu) outside the tree",
                       (unsigned long long)lo, (unsigned long long)hi);
    for (int h = 63; h >= 0; h--) {
        uint64_t s = (uint64_t)1 << h;
        if (!((hi - lo) & s))
            continue;
        if (lo % s != 0)
            return zu_fail(err, cap, ZUPD_E_MISUSE, "range [%llu, %llu) is not aligned",
                           (unsigned long long)lo, (unsigned long long)hi);
        rc = node(t, (unsigned)h, lo >> h, piece[np++], err, cap);
        if (rc != ZUPD_OK)
            return rc;
        lo += s;
    }
    memcpy(out, piece[np - 1], ZU_TLOG_HASH);
    while (np-- > 1)
        zu_tlog_node_hash(piece[np - 1], out, out);
    return ZUPD_OK;
}

int
zu_tlog_tree_hash(struct zu_tlog_tiles *t, uint64_t n, uint8_t out[ZU_TLOG_HASH], char *err,
                  size_t cap)
{
    if (n > t->size)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "tree of %llu leaves past the size %llu",
                       (unsigned long long)n, (unsigned long long)t->size);
    if (n == 0) {
        zu_tlog_empty_root(out);
        return ZUPD_OK;
    }
    return range_hash(t, 0, n, out, err, cap);
}

/* The largest power of two below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

struct proof {
    uint8_t (*h)[ZU_TLOG_HASH];
    size_t len;
};

static int
proof_add(struct zu_tlog_tiles *t, struct proof *p, uint64_t lo, uint64_t hi, char *err, size_t cap)
{
    if (p->len >= ZU_TLOG_PROOF_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "proof longer than %d hashes", ZU_TLOG_PROOF_MAX);
    return range_hash(t, lo, hi, p->h[p->len++], err, cap);
}

/* RFC 9162 2.1.3.1 PATH(m, D[lo:hi]). */
static int
path(struct zu_tlog_tiles *t, uint64_t m, uint64_t lo, uint64_t hi, struct proof *p, char *err,
     size_t cap)
{
    uint64_t k;
    int rc;

    if (hi - lo <= 1)
        return ZUPD_OK;
    k = split_point(hi - lo);
    if (m < k) {
        rc = path(t, m, lo, lo + k, p, err, cap);
        return rc != ZUPD_OK ? rc : proof_add(t, p, lo + k, hi, err, cap);
    }
    rc = path(t, m - k, lo + k, hi, p, err, cap);
    return rc != ZUPD_OK ? rc : proof_add(t, p, lo, lo + k, err, cap);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
static int
subproof(struct zu_tlog_tiles *t, uint64_t m, uint64_t lo, uint64_t hi, bool b, struct proof *p,
         char *err, size_t cap)
{
    uint64_t k;
    int rc;

    if (m == hi - lo)
        return b ? ZUPD_OK : proof_add(t, p, lo, hi, err, cap);
    k = split_point(hi - lo);
    if (m <= k) {
        rc = subproof(t, m, lo, lo + k, b, p, err, cap);
        return rc != ZUPD_OK ? rc : proof_add(t, p, lo + k, hi, err, cap);
    }
    rc = subproof(t, m - k, lo + k, hi, false, p, err, cap);
    return rc != ZUPD_OK ? rc : proof_add(t, p, lo, lo + k, err, cap);
}

int
zu_tlog_prove_inclusion(struct zu_tlog_tiles *t, uint64_t index, uint64_t n,
                        uint8_t proof[][ZU_TLOG_HASH], size_t *len, char *err, size_t cap)
{
    struct proof p = {proof, 0};
    int rc;

    *len = 0;
    if (index >= n || n > t->size)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "no entry %llu in a tree of %llu",
                       (unsigned long long)index, (unsigned long long)n);
    rc = path(t, index, 0, n, &p, err, cap);
    if (rc == ZUPD_OK)
        *len = p.len;
    return rc;
}

int
zu_tlog_prove_consistency(struct zu_tlog_tiles *t, uint64_t m, uint64_t n,
                          uint8_t proof[][ZU_TLOG_HASH], size_t *len, char *err, size_t cap)
{
    struct proof p = {proof, 0};
    int rc;

    *len = 0;
    if (m > n || n > t->size)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "no consistency from %llu to %llu",
                       (unsigned long long)m, (unsigned long long)n);
    if (m == 0 || m == n)
        return ZUPD_OK;
    rc = subproof(t, m, 0, n, true, &p, err, cap);
    if (rc == ZUPD_OK)
        *len = p.len;
    return rc;
}

/* ---- verification (RFC 9162) ---- */

static bool
hash_eq(const uint8_t a[ZU_TLOG_HASH], const uint8_t b[ZU_TLOG_HASH])
{
    return sodium_memcmp(a, b, ZU_TLOG_HASH) == 0;
}

int
zu_tlog_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[ZU_TLOG_HASH],
                         const uint8_t proof[][ZU_TLOG_HASH], size_t len,
                         const uint8_t root[ZU_TLOG_HASH])
{
    uint64_t fn = index, sn;
    uint8_t r[ZU_TLOG_HASH];

    if (index >= size || size > ZU_TLOG_SIZE_MAX || len > ZU_TLOG_PROOF_MAX)
        return ZUPD_E_HASH;
    sn = size - 1;
    memcpy(r, leaf, ZU_TLOG_HASH);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return ZUPD_E_HASH;
        if ((fn & 1) || fn == sn) {
            zu_tlog_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            zu_tlog_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(r, root) ? ZUPD_OK : ZUPD_E_HASH;
}

int
zu_tlog_verify_consistency(uint64_t m, const uint8_t root_m[ZU_TLOG_HASH], uint64_t n,
                           const uint8_t root_n[ZU_TLOG_HASH], const uint8_t proof[][ZU_TLOG_HASH],
                           size_t len)
{
    uint8_t fr[ZU_TLOG_HASH], sr[ZU_TLOG_HASH];
    uint64_t fn, sn;
    size_t i = 0;

    if (m > n)
        return ZUPD_E_ROLLBACK;
    if (n > ZU_TLOG_SIZE_MAX || len > ZU_TLOG_PROOF_MAX)
        return ZUPD_E_HASH;
    if (m == n)
        return len == 0 && hash_eq(root_m, root_n) ? ZUPD_OK : ZUPD_E_HASH;
    if (m == 0)
        return len == 0 ? ZUPD_OK : ZUPD_E_HASH;
    if (len == 0)
        return ZUPD_E_HASH;
    /* When m is a power of two the old root is the first node of the path. */
    if ((m & (m - 1)) == 0) {
        memcpy(fr, root_m, ZU_TLOG_HASH);
    } else {
        memcpy(fr, proof[0], ZU_TLOG_HASH);
        i = 1;
    }
    memcpy(sr, fr, ZU_TLOG_HASH);
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < len; i++) {
        if (sn == 0)
            return ZUPD_E_HASH;
        if ((fn & 1) || fn == sn) {
            zu_tlog_node_hash(proof[i], fr, fr);
            zu_tlog_node_hash(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            zu_tlog_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(fr, root_m) && hash_eq(sr, root_n) ? ZUPD_OK : ZUPD_E_HASH;
}

/* ---- appending ---- */

struct zu_tlog_appender {
    uint64_t size;
    const struct zu_tlog_writer *wr;
    struct edge e;
    uint64_t tile_n[ZU_TLOG_LEVELS]; /* index of each level's partial tile */
    unsigned start_w[ZU_TLOG_LEVELS];
    uint64_t start_n[ZU_TLOG_LEVELS];
    struct zu_buf bundle; /* the partial entry bundle */
    unsigned bundle_w;
};

struct edge_check {
    const uint8_t (*tile)[ZU_TLOG_HASH];
    uint64_t first;
};

static int
check_leaf(void *opaque, uint64_t index, const uint8_t *entry, size_t len)
{
    const struct edge_check *c = opaque;
    uint8_t h[ZU_TLOG_HASH];

    zu_tlog_leaf_hash(entry, len, h);
    return hash_eq(h, c->tile[index - c->first]) ? ZUPD_OK : ZUPD_E_HASH;
}

static int
read_bundle(const struct zu_tlog_reader *rd, uint64_t n, unsigned w, const uint8_t (*tile)[32],
            struct zu_buf *keep, zu_tlog_entry_fn fn, void *opaque, char *err, size_t cap)
{
    struct edge_check chk = {tile, n * ZU_TLOG_TILE_W};
    char path[ZU_TLOG_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    rc = zu_tlog_tile_path(path, sizeof(path), ZU_TLOG_ENTRIES, n, w);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "no path for bundle %llu", (unsigned long long)n);
    rc = rd->read(rd->opaque, path, ZU_TLOG_BUNDLE_MAX, &data, &len, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_tlog_bundle_parse(data, len, w, chk.first, check_leaf, &chk);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, rc, "'%s': %s", path,
                     rc == ZUPD_E_HASH ? "an entry does not match its tile"
                                       : "not a bundle of its width");
        goto out;
    }
    if (fn != NULL) {
        rc = zu_tlog_bundle_parse(data, len, w, chk.first, fn, opaque);
        if (rc != ZUPD_OK)
            goto out;
    }
    if (keep != NULL)
        rc = zu_buf_add(keep, data, len);
out:
    free(data);
    return rc;
}

int
zu_tlog_appender_new(uint64_t size, const uint8_t *root, const struct zu_tlog_reader *rd,
                     const struct zu_tlog_writer *wr, struct zu_tlog_appender **out, char *err,
                     size_t cap)
{
    struct zu_tlog_appender *a;
    uint8_t have[ZU_TLOG_HASH];
    int rc = ZUPD_OK;

    *out = NULL;
    if (size > ZU_TLOG_SIZE_MAX || wr == NULL || wr->write == NULL ||
        (size > 0 && (root == NULL || rd == NULL || rd->read == NULL)))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "appender: bad arguments");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    a->size = size;
    a->wr = wr;
    zu_buf_init(&a->bundle, ZU_TLOG_BUNDLE_MAX);
    for (int l = 0; l < ZU_TLOG_LEVELS; l++) {
        uint64_t c = level_count(size, l);
        a->tile_n[l] = a->start_n[l] = c / ZU_TLOG_TILE_W;
        a->e.w[l] = a->start_w[l] = (unsigned)(c % ZU_TLOG_TILE_W);
        if (a->e.w[l] > 0) {
            rc = read_tile(rd, l, a->tile_n[l], a->e.w[l], &a->e.h[l][0][0], err, cap);
            if (rc != ZUPD_OK)
                goto out;
        }
    }
    a->bundle_w = a->e.w[0];
    if (a->bundle_w > 0) {
        rc = read_bundle(rd, a->tile_n[0], a->bundle_w, (const uint8_t(*)[32])a->e.h[0], &a->bundle,
                         NULL, NULL, err, cap);
        if (rc != ZUPD_OK)
            goto out;
    }
    edge_root(&a->e, have);
    if (root != NULL && !hash_eq(have, root)) {
        rc = zu_fail(err, cap, ZUPD_E_HASH,
                     "the log's partial tiles do not give the root of its checkpoint (size %llu)",
                     (unsigned long long)size);
        goto out;
    }
    *out = a;
    a = NULL;
out:
    zu_tlog_appender_free(a);
    return rc;
}

void
zu_tlog_appender_free(struct zu_tlog_appender *a)
{
    if (a == NULL)
        return;
    zu_buf_release(&a->bundle);
    free(a);
}

static int
emit(const struct zu_tlog_writer *wr, int level, uint64_t n, unsigned w, const uint8_t *data,
     size_t len, char *err, size_t cap)
{
    char path[ZU_TLOG_PATH_MAX];
    int rc = zu_tlog_tile_path(path, sizeof(path), level, n, w);

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "no path for tile %d/%llu", level, (unsigned long long)n);
    return wr->write(wr->opaque, path, data, len, err, cap);
}

/* Put hash h at the end of level l; a tile that fills is written and its
 * hash goes one level up. */
static int
push(struct zu_tlog_appender *a, int l, const uint8_t h[ZU_TLOG_HASH], char *err, size_t cap)
{
    uint8_t up[ZU_TLOG_HASH];
    int rc;

    for (;;) {
        if (l >= ZU_TLOG_LEVELS)
            return zu_fail(err, cap, ZUPD_E_TOOBIG, "the log is full");
        memcpy(a->e.h[l][a->e.w[l]++], h, ZU_TLOG_HASH);
        if (a->e.w[l] < ZU_TLOG_TILE_W)
            return ZUPD_OK;
        rc = emit(a->wr, l, a->tile_n[l], ZU_TLOG_TILE_W, &a->e.h[l][0][0], ZU_TLOG_TILE_BYTES, err,
                  cap);
        if (rc != ZUPD_OK)
            return rc;
        reduce((const uint8_t(*)[ZU_TLOG_HASH])a->e.h[l], ZU_TLOG_TILE_W, up);
        a->e.w[l] = 0;
        a->tile_n[l]++;
        h = up;
        l++;
    }
}

int
zu_tlog_append(struct zu_tlog_appender *a, const uint8_t *entry, size_t len, uint64_t *index,
               char *err, size_t cap)
{
    uint8_t leaf[ZU_TLOG_HASH];
    uint8_t hdr[2];
    int rc;

    if (len > ZU_TLOG_ENTRY_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "log entry of %zu bytes (at most %d)", len,
                       ZU_TLOG_ENTRY_MAX);
    if (a->size >= ZU_TLOG_SIZE_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "the log is full");
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)len;
    if ((rc = zu_buf_add(&a->bundle, hdr, 2)) != ZUPD_OK ||
        (len > 0 && (rc = zu_buf_add(&a->bundle, entry, len)) != ZUPD_OK))
        return zu_fail(err, cap, rc, "out of memory");
    if (++a->bundle_w == ZU_TLOG_TILE_W) {
        rc = emit(a->wr, ZU_TLOG_ENTRIES, a->tile_n[0], ZU_TLOG_TILE_W, a->bundle.p, a->bundle.len,
                  err, cap);
        if (rc != ZUPD_OK)
            return rc;
        a->bundle.len = 0;
        a->bundle_w = 0;
    }
    zu_tlog_leaf_hash(entry, len, leaf);
    rc = push(a, 0, leaf, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (index != NULL)
        *index = a->size;
    a->size++;
    return ZUPD_OK;
}

int
zu_tlog_appender_finish(struct zu_tlog_appender *a, uint64_t *size, uint8_t root[ZU_TLOG_HASH],
                        char *err, size_t cap)
{
    int rc;

    for (int l = 0; l < ZU_TLOG_LEVELS; l++) {
        unsigned w = a->e.w[l];
        if (w == 0 || (w == a->start_w[l] && a->tile_n[l] == a->start_n[l]))
            continue;
        rc = emit(a->wr, l, a->tile_n[l], w, &a->e.h[l][0][0], (size_t)w * ZU_TLOG_HASH, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        if (l == 0) {
            rc =
                emit(a->wr, ZU_TLOG_ENTRIES, a->tile_n[0], w, a->bundle.p, a->bundle.len, err, cap);
            if (rc != ZUPD_OK)
                return rc;
        }
        a->start_w[l] = w;
        a->start_n[l] = a->tile_n[l];
    }
    edge_root(&a->e, root);
    *size = a->size;
    return ZUPD_OK;
}

/* ---- checking a whole tree ---- */

struct tree_walk {
    uint8_t (*prev)[ZU_TLOG_HASH]; /* hashes of the full tiles of the level below */
    size_t nprev;
    uint8_t (*cur)[ZU_TLOG_HASH];
    size_t ncur, capcur;
};

static int
verify_level(const struct zu_tlog_reader *rd, uint64_t size, int l, struct tree_walk *tw,
             struct edge *e, zu_tlog_entry_fn fn, void *opaque, char *err, size_t cap)
{
    uint8_t tile[ZU_TLOG_TILE_W][ZU_TLOG_HASH];
    uint64_t c = level_count(size, l);
    int rc;

    tw->ncur = 0;
    for (uint64_t n = 0; n * ZU_TLOG_TILE_W < c; n++) {
        unsigned w = zu_tlog_tile_width(size, l, n);
        rc = read_tile(rd, l, n, w, &tile[0][0], err, cap);
        if (rc != ZUPD_OK)
            return rc;
        if (l == 0) {
            rc = read_bundle(rd, n, w, (const uint8_t(*)[32])tile, NULL, fn, opaque, err, cap);
            if (rc != ZUPD_OK)
                return rc;
        } else {
            for (unsigned i = 0; i < w; i++)
                if (n * ZU_TLOG_TILE_W + i >= tw->nprev ||
                    !hash_eq(tile[i], tw->prev[n * ZU_TLOG_TILE_W + i]))
                    return zu_fail(err, cap, ZUPD_E_HASH,
                                   "tile %d/%llu: hash %u does not match the tiles below", l,
                                   (unsigned long long)n, i);
        }
        if (w == ZU_TLOG_TILE_W) {
            rc = ZU_GROW(&tw->cur, &tw->capcur, tw->ncur + 1, 0);
            if (rc != ZUPD_OK)
                return zu_fail(err, cap, rc, "out of memory");
            reduce((const uint8_t(*)[ZU_TLOG_HASH])tile, ZU_TLOG_TILE_W, tw->cur[tw->ncur++]);
        } else {
            memcpy(e->h[l], tile, (size_t)w * ZU_TLOG_HASH);
            e->w[l] = w;
        }
    }
    return ZUPD_OK;
}

int
zu_tlog_verify_tree(uint64_t size, const uint8_t root[ZU_TLOG_HASH],
                    const struct zu_tlog_reader *rd, zu_tlog_entry_fn fn, void *opaque, char *err,
                    size_t cap)
{
    struct tree_walk tw = {0};
    struct edge *e = NULL;
    uint8_t have[ZU_TLOG_HASH];
    int rc = ZUPD_OK;

    if (size > ZU_TLOG_SIZE_MAX)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "tree size %llu", (unsigned long long)size);
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    for (int l = 0; l < ZU_TLOG_LEVELS && level_count(size, l) > 0; l++) {
        rc = verify_level(rd, size, l, &tw, e, fn, opaque, err, cap);
        if (rc != ZUPD_OK)
            goto out;
        /* this level's full tile hashes are what the next level must hold */
        free(tw.prev);
        tw.prev = tw.cur;
        tw.nprev = tw.ncur;
        tw.cur = NULL;
        tw.ncur = tw.capcur = 0;
    }
    if (tw.nprev != level_count(size, ZU_TLOG_LEVELS)) {
        rc = zu_fail(err, cap, ZUPD_E_HASH, "tree size %llu has full tiles past its top level",
                     (unsigned long long)size);
        goto out;
    }
    edge_root(e, have);
    if (!hash_eq(have, root))
        rc = zu_fail(err, cap, ZUPD_E_HASH, "the tiles do not give the checkpoint's root");
out:
    free(tw.prev);
    free(tw.cur);
    free(e);
    return rc;
}
