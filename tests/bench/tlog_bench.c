/* SPDX-License-Identifier: Apache-2.0 */
/* tests/bench/tlog_bench.c -- the transparency log's costs (tests/bench/tlog.sh):
 *
 *   tlog_bench DIR N
 *
 * builds a log of N entries (about 200-byte JSON entries, a size like
 * zupd's release entries) in DIR with lib/tlog.c and prints:
 *   build     appending all N at once: entries per second (tiles on disk);
 *   append    one more entry as a publish does it at size N: read the right
 *             edge, append, write the new tiles (no fsync), time and bytes;
 *   endpoint  what an endpoint reads for one update at size N: the tiles of
 *             an inclusion proof of a recent entry and of the consistency
 *             proof from the size it last accepted (N - 5), counted as
 *             requests and bytes, first with an empty cache and then with
 *             the tiles it cached at the last update (size N - 5);
 *   verify    CPU of verifying those two proofs (mean of many runs);
 *   tree      zu_tlog_verify_tree over the whole log: entries per second
 *             (what `zupd-mirror log verify` does before its TUF cross-check).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "zu/tlog.h"

#define MAX_SEEN 4096

struct store {
    const char *dir;
    size_t reads;
    uint64_t read_bytes;
    size_t writes;
    uint64_t write_bytes;
    /* the endpoint's tile cache: paths read so far */
    char (*seen)[ZU_TLOG_PATH_MAX];
    size_t n_seen;
    size_t misses;
    uint64_t miss_bytes;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: the figures that do not depend on the load of
 * the machine (a shared CI box) */
static double
cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
mkdirs(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int
s_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
       size_t cap)
{
    struct store *s = opaque;
    char full[4096];
    FILE *f;
    long n;
    bool hit = false;

    snprintf(full, sizeof(full), "%s/%s", s->dir, path);
    f = fopen(full, "rb");
    if (f == NULL)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s': %s", full, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > max ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return ZUPD_E_TOOBIG;
    }
    *data = malloc((size_t)n + 1);
    if (*data == NULL || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return ZUPD_E_IO;
    }
    fclose(f);
    *len = (size_t)n;
    s->reads++;
    s->read_bytes += (uint64_t)n;
    if (s->seen != NULL) {
        for (size_t i = 0; i < s->n_seen && !hit; i++)
            hit = strcmp(s->seen[i], path) == 0;
        if (!hit && s->n_seen < MAX_SEEN) {
            snprintf(s->seen[s->n_seen++], ZU_TLOG_PATH_MAX, "%s", path);
            s->misses++;
            s->miss_bytes += (uint64_t)n;
        }
    }
    return ZUPD_OK;
}

static int
s_write(void *opaque, const char *path, const uint8_t *data, size_t len, char *err, size_t cap)
{
    struct store *s = opaque;
    char full[4096];
    FILE *f;

    snprintf(full, sizeof(full), "%s/%s", s->dir, path);
    if (mkdirs(full) != 0 || (f = fopen(full, "wb")) == NULL)
        return zu_fail(err, cap, ZUPD_E_IO, "cannot write '%s'", full);
    if (fwrite(data, 1, len, f) != len) {
        fclose(f);
        return ZUPD_E_IO;
    }
    fclose(f);
    s->writes++;
    s->write_bytes += len;
    return ZUPD_OK;
}

static size_t
entry(uint64_t i, uint8_t *buf, size_t cap)
{
    int n = snprintf((char *)buf, cap,
                     "{\"component\":\"agent-%03llu\",\"path\":\"products/agent/%llu.0/"
                     "manifest.json\",\"provenance\":{},\"role\":\"products\",\"target\":"
                     "{\"length\":%llu,\"sha256\":\"%064llx\"},\"type\":\"release\"}",
                     (unsigned long long)(i % 1000), (unsigned long long)i,
                     (unsigned long long)(1000 + i % 5000), (unsigned long long)i * 2654435761u);
    return (size_t)n;
}

static int
append_range(struct store *s, uint64_t from, uint64_t to, uint8_t root[ZU_TLOG_HASH])
{
    struct zu_tlog_reader rd = {s, s_read};
    struct zu_tlog_writer wr = {s, s_write};
    struct zu_tlog_appender *a = NULL;
    uint8_t e[512];
    char err[256] = "";
    uint64_t size;
    int rc = zu_tlog_appender_new(from, from ? root : NULL, &rd, &wr, &a, err, sizeof(err));

    for (uint64_t i = from; rc == ZUPD_OK && i < to; i++)
        rc = zu_tlog_append(a, e, entry(i, e, sizeof(e)), NULL, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zu_tlog_appender_finish(a, &size, root, err, sizeof(err));
    zu_tlog_appender_free(a);
    if (rc != ZUPD_OK)
        fprintf(stderr, "tlog_bench: append: %s\n", err);
    return rc;
}

/* The proofs of one update at size n (last accepted: m), read through s. */
static int
update_proofs(struct store *s, uint64_t m, uint64_t n, uint64_t idx, uint8_t incl[][ZU_TLOG_HASH],
              size_t *ilen, uint8_t cons[][ZU_TLOG_HASH], size_t *clen)
{
    struct zu_tlog_reader rd = {s, s_read};
    struct zu_tlog_tiles *t = NULL;
    char err[256] = "";
    int rc = zu_tlog_tiles_new(n, &rd, &t);

    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_inclusion(t, idx, n, incl, ilen, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_consistency(t, m, n, cons, clen, err, sizeof(err));
    zu_tlog_tiles_free(t);
    if (rc != ZUPD_OK)
        fprintf(stderr, "tlog_bench: proofs: %s\n", err);
    return rc;
}

int
main(int argc, char **argv)
{
    static uint8_t incl[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], cons[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH];
    struct store s = {0};
    uint8_t root[ZU_TLOG_HASH], root_m[ZU_TLOG_HASH], root_n[ZU_TLOG_HASH], leaf[ZU_TLOG_HASH];
    uint8_t e[512];
    struct zu_tlog_reader rd = {&s, s_read};
    char err[256] = "";
    uint64_t n, m;
    size_t ilen = 0, clen = 0;
    double t0, t1, c0, c1;
    const int runs = 20000;

    if (argc != 3 || sodium_init() < 0)
        return 2;
    /* sizes n - 1 (the last publish), m = n - 5 (the endpoint's last
     * update) and m - 5 (the one before) each have their checkpoint */
    s.dir = argv[1];
    n = strtoull(argv[2], NULL, 10);
    if (n < 20)
        return 2;
    m = n - 5;

    /* build: all but the last 10 entries at once, then checkpoints at the
     * sizes the endpoint saw (m - 5, m) and n - 1 */
    t0 = now_s();
    if (append_range(&s, 0, m - 5, root) != ZUPD_OK)
        return 1;
    t1 = now_s();
    printf("build     %llu entries in %.2f s: %.0f entries/s, %llu bytes of tiles and bundles\n",
           (unsigned long long)(m - 5), t1 - t0, (double)(m - 5) / (t1 - t0),
           (unsigned long long)s.write_bytes);
    if (append_range(&s, m - 5, m, root) != ZUPD_OK || append_range(&s, m, n - 1, root) != ZUPD_OK)
        return 1;

    /* append: one entry at size n - 1, as one publish */
    s.reads = s.writes = 0;
    s.read_bytes = s.write_bytes = 0;
    t0 = now_s();
    c0 = cpu_s();
    if (append_range(&s, n - 1, n, root) != ZUPD_OK)
        return 1;
    t1 = now_s();
    c1 = cpu_s();
    printf("append    1 entry at size %llu: %.3f ms (%.3f ms CPU); read %zu files (%llu bytes), wrote %zu "
           "(%llu bytes)\n",
           (unsigned long long)(n - 1), (t1 - t0) * 1e3, (c1 - c0) * 1e3, s.reads,
           (unsigned long long)s.read_bytes, s.writes, (unsigned long long)s.write_bytes);

    /* endpoint: proofs for an update at size n, last accepted m */
    {
        struct zu_tlog_tiles *t = NULL;
        if (zu_tlog_tiles_new(n, &rd, &t) != ZUPD_OK ||
            zu_tlog_tree_hash(t, m, root_m, err, sizeof(err)) != ZUPD_OK ||
            zu_tlog_tree_hash(t, n, root_n, err, sizeof(err)) != ZUPD_OK)
            return 1;
        zu_tlog_tiles_free(t);
    }
    s.seen = calloc(MAX_SEEN, sizeof(*s.seen));
    if (s.seen == NULL)
        return 1;
    /* the last update (at m, of entry m - 1) filled the cache */
    if (update_proofs(&s, m - 5, m, m - 1, incl, &ilen, cons, &clen) != ZUPD_OK)
        return 1;
    s.misses = 0;
    s.miss_bytes = 0;
    s.reads = 0;
    s.read_bytes = 0;
    if (update_proofs(&s, m, n, n - 1, incl, &ilen, cons, &clen) != ZUPD_OK)
        return 1;
    printf("endpoint  update at size %llu (entry %llu, from size %llu): %zu tiles (%llu bytes) "
           "cold; %zu requests (%llu bytes) beyond the tiles cached at the last update; proofs "
           "of %zu + %zu hashes\n",
           (unsigned long long)n, (unsigned long long)(n - 1), (unsigned long long)m, s.reads,
           (unsigned long long)s.read_bytes, s.misses, (unsigned long long)s.miss_bytes, ilen,
           clen);
    free(s.seen);
    s.seen = NULL;

    /* verify: CPU of the two checks */
    zu_tlog_leaf_hash(e, entry(n - 1, e, sizeof(e)), leaf);
    t0 = cpu_s();
    for (int i = 0; i < runs; i++)
        if (zu_tlog_verify_inclusion(n - 1, n, leaf, incl, ilen, root_n) != ZUPD_OK ||
            zu_tlog_verify_consistency(m, root_m, n, root_n, cons, clen) != ZUPD_OK)
            return 1;
    t1 = cpu_s();
    printf("verify    inclusion + consistency proof at size %llu: %.2f us CPU (mean of 20000)\n",
           (unsigned long long)n, (t1 - t0) * 1e6 / runs);

    /* tree: the whole-log check */
    t0 = now_s();
    c0 = cpu_s();
    if (zu_tlog_verify_tree(n, root, &rd, NULL, NULL, err, sizeof(err)) != ZUPD_OK) {
        fprintf(stderr, "tlog_bench: verify tree: %s\n", err);
        return 1;
    }
    t1 = now_s();
    c1 = cpu_s();
    printf("tree      whole-log check of %llu entries: %.2f s (%.2f s CPU), %.0f entries/s "
           "(%.0f per CPU second)\n",
           (unsigned long long)n, t1 - t0, c1 - c0, (double)n / (t1 - t0), (double)n / (c1 - c0));
    return 0;
}
