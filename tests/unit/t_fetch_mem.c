/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_fetch_mem.c -- the in-memory transport and the transport-free
 * download layer: mirror fallback, caps, 304, resume into a file, state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <zupd/fetch.h>

#include "fetch_int.h"
#include "zu/fsio.h"
#include "zu/fetch_state.h"

static const char *const two[] = {"http://m1/repo", "http://m2/repo/"};

static struct zupd_transport *
mk(void)
{
    struct zupd_transport *t = NULL;

    assert_int_equal(zu_mem_transport_new(&t), ZUPD_OK);
    return t;
}

static struct zupd_fetch_req
req_of(const char *path, uint64_t max)
{
    struct zupd_fetch_req r = {.bases = two, .n_bases = 2, .path = path, .max_bytes = max};
    return r;
}

static int
nop_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
        struct zupd_get_res *res)
{
    (void)opaque;
    (void)g;
    (void)sink;
    (void)res;
    return ZUPD_E_NET;
}

/* The transport's operations and statistics are growable structs
 * (docs/api.md): a size is required, a longer struct from newer headers is
 * accepted while its unknown tail is zero, a longer stats struct gets
 * zeros past what the library knows. */
static void
test_transport_growable(void **state)
{
    struct {
        struct zupd_transport_ops ops;
        void (*later)(void);
    } big;
    struct {
        struct zupd_fetch_stats st;
        uint64_t later;
    } bst;
    struct zupd_transport_ops ops;
    struct zupd_transport *t = NULL;
    struct zupd_fetch_stats st;

    (void)state;
    memset(&ops, 0, sizeof(ops));
    ops.get = nop_get;
    assert_int_equal(zupd_transport_new(&ops, NULL, &t), ZUPD_E_MISUSE); /* no size */
    assert_null(t);
    zupd_transport_ops_init(&ops);
    assert_int_equal(zupd_transport_new(&ops, NULL, &t), ZUPD_E_MISUSE); /* no get */
    memset(&big, 0, sizeof(big));
    big.ops.size = sizeof(big);
    big.ops.get = nop_get;
    big.later = (void (*)(void))nop_get;
    assert_int_equal(zupd_transport_new(&big.ops, NULL, &t), ZUPD_E_MISUSE);
    big.later = NULL;
    assert_int_equal(zupd_transport_new(&big.ops, NULL, &t), ZUPD_OK);
    assert_ptr_equal(t->ops.get, nop_get);
    assert_int_equal(t->ops.size, sizeof(struct zupd_transport_ops));
    t->stats.requests = 7;
    t->stats.bytes = 8;
    memset(&st, 0, sizeof(st));
    assert_int_equal(zupd_transport_stats(t, &st), ZUPD_E_MISUSE); /* no size */
    zupd_fetch_stats_init(&st);
    assert_int_equal(zupd_transport_stats(t, &st), ZUPD_OK);
    assert_int_equal(st.size, sizeof(st));
    assert_int_equal(st.requests, 7);
    assert_int_equal(st.bytes, 8);
    memset(&bst, 0xff, sizeof(bst));
    bst.st.size = sizeof(bst);
    assert_int_equal(zupd_transport_stats(t, &bst.st), ZUPD_OK);
    assert_int_equal(bst.st.size, sizeof(bst));
    assert_int_equal(bst.st.requests, 7);
    assert_int_equal(bst.later, 0);
    zupd_transport_free(t);
}

static void
test_get_and_count(void **state)
{
    struct zupd_transport *t = mk();
    struct zupd_fetch_req r = req_of("1.root.json", 100);
    struct zupd_fetch_res res;
    uint8_t *p = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/1.root.json", "hello", 5), ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "hello", 5);
    assert_int_equal(res.mirror, 0);
    assert_int_equal(res.status, 200);
    free(p);
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/1.root.json"), 1);
    /* missing on both mirrors: 404 ends e.g. a root walk */
    r.path = "2.root.json";
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_NOTFOUND);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(zu_mem_transport_count(t, "http://m2/repo/2.root.json"), 1);
    assert_int_equal(t->stats.requests, 3);
    assert_int_equal(t->stats.bytes, 5);
    /* misuse */
    r.first = 2;
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_MISUSE);
    zupd_transport_free(t);
    zupd_transport_free(NULL);
}

static void
test_mirror_fallback(void **state)
{
    struct zupd_transport *t = mk();
    struct zupd_fetch_req r = req_of("timestamp.json", 100);
    struct zupd_fetch_res res;
    uint8_t *p = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/timestamp.json", "bad", 3), ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m2/repo/timestamp.json", "good", 4), ZUPD_OK);
    assert_int_equal(zu_mem_transport_fail(t, "http://m1/repo/timestamp.json", ZUPD_E_NET, 0),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_int_equal(res.mirror, 1);
    assert_memory_equal(p, "good", 4);
    free(p);

    /* the content of mirror 0 failed a check above: ask from the next one */
    assert_int_equal(zu_mem_transport_fail(t, "http://m1/repo/timestamp.json", ZUPD_OK, 0),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_int_equal(res.mirror, 0);
    free(p);
    r.first = res.mirror + 1;
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_int_equal(res.mirror, 1);
    assert_memory_equal(p, "good", 4);
    free(p);
    r.first = 0;

    /* both busy: BUSY with the largest delay */
    assert_int_equal(zu_mem_transport_fail(t, "http://m1/repo/timestamp.json", ZUPD_E_BUSY, 30),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_fail(t, "http://m2/repo/timestamp.json", ZUPD_E_BUSY, 120),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_BUSY);
    assert_int_equal(res.retry_after, 120);
    /* priority: a 404 from a reachable mirror beats a network failure */
    assert_int_equal(zu_mem_transport_fail(t, "http://m1/repo/timestamp.json", ZUPD_E_NOTFOUND, 0),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_fail(t, "http://m2/repo/timestamp.json", ZUPD_E_TIMEOUT, 0),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_NOTFOUND);
    assert_int_equal(res.mirror, 0);
    /* errors of the machine do not fall back */
    assert_int_equal(zu_mem_transport_fail(t, "http://m1/repo/timestamp.json", ZUPD_E_NOMEM, 0),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_NOMEM);
    assert_int_equal(zu_mem_transport_count(t, "http://m2/repo/timestamp.json"), 4);
    zupd_transport_free(t);
}

static void
test_cap(void **state)
{
    struct zupd_transport *t = mk();
    struct zupd_fetch_req r = req_of("snapshot.json", 10);
    struct zupd_fetch_res res;
    uint8_t *p = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/snapshot.json", "0123456789A", 11),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m2/repo/snapshot.json", "0123456789", 10),
                     ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_int_equal(res.mirror, 1);
    assert_int_equal(n, 10);
    free(p);
    r.n_bases = 1;
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_TOOBIG);
    assert_null(p);
    zupd_transport_free(t);
}

static void
test_conditional(void **state)
{
    struct zupd_transport *t = mk();
    struct zupd_validators v;
    struct zupd_fetch_req r = req_of("timestamp.json", 100);
    struct zupd_fetch_res res;
    uint8_t *p = NULL;
    size_t n = 0;

    (void)state;
    memset(&v, 0, sizeof(v));
    r.cond = &v;
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/timestamp.json", "ts1", 3), ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_false(res.not_modified);
    assert_string_equal(v.etag, "\"1\"");
    free(p);
    /* idle check: 304, no body */
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_true(res.not_modified);
    assert_null(p);
    assert_int_equal(t->stats.not_modified, 1);
    assert_int_equal(t->stats.bytes, 3);
    /* a new timestamp: 200 and new validators */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/timestamp.json", "ts2", 3), ZUPD_OK);
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_OK);
    assert_false(res.not_modified);
    assert_memory_equal(p, "ts2", 3);
    assert_string_equal(v.etag, "\"2\"");
    free(p);
    /* validators with a CR are never sent */
    snprintf(v.etag, sizeof(v.etag), "%s", "\"x\"\r\nX-Evil: 1");
    assert_int_equal(zupd_fetch_mem(NULL, t, &r, &p, &n, &res), ZUPD_E_MISUSE);
    zupd_transport_free(t);
}

static void
fill(uint8_t *b, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

static int
mkdirfd(char *tmpl)
{
    int fd;

    assert_non_null(mkdtemp(tmpl));
    fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void
rmdirfd(int dfd, char *path, const char *const *names)
{
    for (; *names != NULL; names++)
        unlinkat(dfd, *names, 0);
    close(dfd);
    assert_int_equal(rmdir(path), 0);
}

static void
test_file_resume_and_hash(void **state)
{
    static uint8_t good[100000], bad[100000];
    struct zupd_transport *t = mk();
    struct zupd_fetch_req r = req_of("targets/blob", 0);
    struct zupd_fetch_res res;
    uint8_t digest[32], *p = NULL;
    size_t n;
    char dir[] = "/tmp/t_fetch_mem.XXXXXX";
    const char *const names[] = {"blob", "blob.part", "empty", NULL};
    int dfd = mkdirfd(dir), fd;

    (void)state;
    fill(good, sizeof(good), 1);
    memcpy(bad, good, sizeof(bad));
    bad[70000] ^= 1;
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, good, sizeof(good), digest, 32, &n), ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", good, sizeof(good)),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m2/repo/targets/blob", good, sizeof(good)),
                     ZUPD_OK);

    /* resume: the first 40000 bytes are already there */
    fd = openat(dfd, "blob.part", O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(zu_write_all(fd, good, 40000), ZUPD_OK);
    close(fd);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_OK);
    assert_int_equal(res.start, 40000);
    assert_int_equal(res.received, sizeof(good) - 40000);
    assert_int_equal(zu_read_capped(dfd, "blob", sizeof(good), &p, &n), ZUPD_OK);
    assert_int_equal(n, sizeof(good));
    assert_memory_equal(p, good, n);
    free(p);
    assert_true(faccessat(dfd, "blob.part", F_OK, 0) != 0);
    assert_int_equal(unlinkat(dfd, "blob", 0), 0);

    /* mirror 0 serves wrong bytes of the right length: mirror 1 is asked */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", bad, sizeof(bad)),
                     ZUPD_OK);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_OK);
    assert_int_equal(res.mirror, 1);
    assert_int_equal(res.start, 0);
    assert_int_equal(unlinkat(dfd, "blob", 0), 0);

    /* a bad partial prefix (left by a hostile mirror): mirror 0 resumes it,
     * the hash fails, and mirror 0, not to blame, is asked again from scratch */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", good, sizeof(good)),
                     ZUPD_OK);
    fd = openat(dfd, "blob.part", O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(zu_write_all(fd, bad, 80000), ZUPD_OK);
    close(fd);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_OK);
    assert_int_equal(res.mirror, 0);
    assert_int_equal(res.start, 0);
    assert_int_equal(unlinkat(dfd, "blob", 0), 0);

    /* the same with one mirror only: it must not be refused for the prefix */
    {
        struct zupd_fetch_req one = r;
        one.n_bases = 1;
        fd = openat(dfd, "blob.part", O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        assert_int_equal(zu_write_all(fd, bad, 80000), ZUPD_OK);
        close(fd);
        assert_int_equal(zupd_fetch_file(NULL, t, &one, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256,
                                         digest, &res),
                         ZUPD_OK);
        assert_int_equal(res.mirror, 0);
        assert_int_equal(unlinkat(dfd, "blob", 0), 0);
    }

    /* wrong everywhere: ZUPD_E_HASH, nothing left behind */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", bad, sizeof(bad)),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m2/repo/targets/blob", bad, sizeof(bad)),
                     ZUPD_OK);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_E_HASH);
    assert_true(faccessat(dfd, "blob.part", F_OK, 0) != 0);
    assert_true(faccessat(dfd, "blob", F_OK, 0) != 0);

    /* longer than signed: refused by the cap, nothing renamed */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", good, sizeof(good)),
                     ZUPD_OK);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good) - 1, ZUPD_HASH_SHA256, digest, &res),
        ZUPD_E_TOOBIG);
    assert_true(faccessat(dfd, "blob", F_OK, 0) != 0);

    /* a short file on every mirror: LENGTH, partial kept for later */
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", good, 5000), ZUPD_OK);
    assert_int_equal(zu_mem_transport_put(t, "http://m2/repo/targets/blob", good, 6000), ZUPD_OK);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_E_LENGTH);
    assert_int_equal(zu_read_capped(dfd, "blob.part", sizeof(good), &p, &n), ZUPD_OK);
    assert_int_equal(n, 6000);
    assert_memory_equal(p, good, n);
    free(p);

    /* an empty target needs no request; a wrong digest for it does not loop */
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, "", 0, digest, 32, &n), ZUPD_OK);
    assert_int_equal(zupd_fetch_file(NULL, t, &r, dfd, "empty", 0, ZUPD_HASH_SHA256, digest, &res),
                     ZUPD_OK);
    assert_true(faccessat(dfd, "empty", F_OK, 0) == 0);
    digest[0] ^= 1;
    assert_int_equal(zupd_fetch_file(NULL, t, &r, dfd, "empty", 0, ZUPD_HASH_SHA256, digest, &res),
                     ZUPD_E_HASH);
    assert_true(faccessat(dfd, "empty.part", F_OK, 0) != 0);

    /* a cut connection keeps the partial; the next run resumes it */
    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, good, sizeof(good), digest, 32, &n), ZUPD_OK);
    assert_int_equal(unlinkat(dfd, "blob.part", 0), 0);
    assert_int_equal(zu_mem_transport_put(t, "http://m1/repo/targets/blob", good, sizeof(good)),
                     ZUPD_OK);
    assert_int_equal(zu_mem_transport_cut(t, "http://m1/repo/targets/blob", 30000), ZUPD_OK);
    r.n_bases = 1;
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_E_NET);
    assert_int_equal(zu_read_capped(dfd, "blob.part", sizeof(good), &p, &n), ZUPD_OK);
    assert_int_equal(n, 30000);
    free(p);
    assert_int_equal(zu_mem_transport_cut(t, "http://m1/repo/targets/blob", UINT64_MAX), ZUPD_OK);
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "blob", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_OK);
    assert_int_equal(res.start, 30000);
    assert_int_equal(res.received, sizeof(good) - 30000);
    assert_int_equal(unlinkat(dfd, "blob", 0), 0);
    r.n_bases = 2;

    /* no path tricks */
    assert_int_equal(
        zupd_fetch_file(NULL, t, &r, dfd, "../x", sizeof(good), ZUPD_HASH_SHA256, digest, &res),
        ZUPD_E_MISUSE);
    rmdirfd(dfd, dir, names);
    zupd_transport_free(t);
}

/* A get_many() that runs the batch through get(), counting batches. */
static int (*inner_get)(void *, const struct zupd_get *, const struct zupd_sink *,
                        struct zupd_get_res *);
static size_t batches, batch_items;
static unsigned batch_parallel;

static void
counting_get_many(void *opaque, struct zupd_get_item *items, size_t n, unsigned parallel)
{
    batches++;
    batch_items += n;
    batch_parallel = parallel;
    for (size_t i = 0; i < n; i++)
        items[i].rc = inner_get(opaque, &items[i].g, items[i].sink, &items[i].res);
}

static void
test_files(void **state)
{
    static uint8_t data[4][50000];
    struct zupd_transport *t = mk();
    uint8_t digest[4][32], *p = NULL;
    char dir[] = "/tmp/t_fetch_mem.XXXXXX";
    const char *const names[] = {"a", "b", "c", "d", "d.part", NULL};
    const char *paths[] = {"blobs/a", "blobs/b", "blobs/c", "blobs/d"};
    struct zupd_fetch_file_req fr[4];
    int dfd = mkdirfd(dir), fd;
    size_t n;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        char url[64];
        fill(data[i], sizeof(data[i]), (uint8_t)(i + 7));
        assert_int_equal(
            zupd_hash_buf(ZUPD_HASH_SHA256, data[i], sizeof(data[i]), digest[i], 32, &n), ZUPD_OK);
        snprintf(url, sizeof(url), "http://m2/repo/%s", paths[i]);
        assert_int_equal(zu_mem_transport_put(t, url, data[i], sizeof(data[i])), ZUPD_OK);
        snprintf(url, sizeof(url), "http://m1/repo/%s", paths[i]);
        if (i == 1)
            continue; /* b: only on mirror 1 */
        if (i == 2) { /* c: wrong bytes on mirror 0 */
            static uint8_t bad[50000];
            memcpy(bad, data[i], sizeof(bad));
            bad[100] ^= 1;
            assert_int_equal(zu_mem_transport_put(t, url, bad, sizeof(bad)), ZUPD_OK);
            continue;
        }
        assert_int_equal(zu_mem_transport_put(t, url, data[i], sizeof(data[i])), ZUPD_OK);
    }
    /* d: half of it from an earlier run */
    fd = openat(dfd, "d.part", O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(zu_write_all(fd, data[3], 25000), ZUPD_OK);
    close(fd);
    for (size_t i = 0; i < 4; i++)
        fr[i] = (struct zupd_fetch_file_req){.path = paths[i],
                                             .name = names[i],
                                             .expected_len = sizeof(data[i]),
                                             .digest = digest[i]};
    inner_get = t->ops.get;
    t->ops.get_many = counting_get_many;
    assert_int_equal(
        zupd_fetch_files(NULL, t, two, 2, dfd, ZUPD_HASH_SHA256, fr, 4, 3, ZUPD_FETCH_NOSYNC),
        ZUPD_OK);
    assert_int_equal(batches, 1);
    assert_int_equal(batch_items, 4);
    assert_int_equal(batch_parallel, 3);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(fr[i].rc, ZUPD_OK);
        assert_int_equal(zu_read_capped(dfd, names[i], sizeof(data[i]), &p, &n), ZUPD_OK);
        assert_int_equal(n, sizeof(data[i]));
        assert_memory_equal(p, data[i], n);
        free(p);
    }
    /* a is fetched once, b and c on mirror 1 after mirror 0 failed, d resumed */
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/blobs/a"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/blobs/b"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m2/repo/blobs/b"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m2/repo/blobs/c"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m2/repo/blobs/d"), 0);
    assert_int_equal(t->stats.bytes, 4 * 50000 + 50000 - 25000);
    /* whole files already there (partials, or left under their name by an
     * earlier run): no request; one missing everywhere: its error */
    for (size_t i = 0; i < 2; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%s.part", names[i]);
        assert_int_equal(renameat(dfd, names[i], dfd, part), 0);
    }
    assert_int_equal(unlinkat(dfd, "b.part", 0), 0);
    fr[1].path = "blobs/none";
    batches = 0;
    assert_int_equal(zupd_fetch_files(NULL, t, two, 2, dfd, ZUPD_HASH_SHA256, fr, 4, 3, 0),
                     ZUPD_E_NOTFOUND);
    assert_int_equal(batches, 0); /* one GET only: no batch */
    assert_int_equal(fr[0].rc, ZUPD_OK);
    assert_int_equal(fr[1].rc, ZUPD_E_NOTFOUND);
    assert_int_equal(fr[2].rc, ZUPD_OK);
    assert_int_equal(fr[3].rc, ZUPD_OK);
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/blobs/a"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/blobs/c"), 1);
    assert_int_equal(zu_mem_transport_count(t, "http://m1/repo/blobs/d"), 1);
    /* a damaged file left under its name: fetched again */
    fd = openat(dfd, "c", O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(zu_write_all(fd, "XX", 2), ZUPD_OK);
    close(fd);
    assert_int_equal(zupd_fetch_files(NULL, t, two, 2, dfd, ZUPD_HASH_SHA256, &fr[2], 1, 3, 0),
                     ZUPD_OK);
    assert_int_equal(zu_read_capped(dfd, "c", sizeof(data[2]), &p, &n), ZUPD_OK);
    assert_memory_equal(p, data[2], sizeof(data[2]));
    free(p);
    /* bad arguments */
    assert_int_equal(zupd_fetch_files(NULL, t, two, 0, dfd, ZUPD_HASH_SHA256, fr, 4, 3, 0),
                     ZUPD_E_MISUSE);
    fr[0].name = "../x";
    assert_int_equal(zupd_fetch_files(NULL, t, two, 2, dfd, ZUPD_HASH_SHA256, fr, 1, 3, 0),
                     ZUPD_E_MISUSE);
    for (size_t i = 0; i < 4; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%s.part", names[i]);
        unlinkat(dfd, part, 0);
    }
    rmdirfd(dfd, dir, names);
    zupd_transport_free(t);
}

static void
test_state(void **state)
{
    struct zu_fetch_state st, back;
    char text[1024];
    size_t n;
    static const char *const bad[] = {
        "",
        "zupd-fetch-state 2\n",
        "zupd-fetch-state 1\netag \"a\"",               /* no newline */
        "zupd-fetch-state 1\netag \"a\"\netag \"b\"\n", /* duplicate */
        "zupd-fetch-state 1\nfoo bar\n",                /* unknown key */
        "zupd-fetch-state 1\ncooldown-until -5\n",
        "zupd-fetch-state 1\ncooldown-until 99999999999999999999\n",
        "zupd-fetch-state 1\netag a\rb\n",
        "zupd-fetch-state 1\netag \n",
    };

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_int_equal(zu_fetch_state_format(text, sizeof(text), &n, &st), ZUPD_OK);
    assert_string_equal(text, "zupd-fetch-state 1\n");
    snprintf(st.timestamp.etag, sizeof(st.timestamp.etag), "%s", "W/\"abc\"");
    snprintf(st.timestamp.last_modified, sizeof(st.timestamp.last_modified), "%s",
             "Mon, 23 Nov 2026 10:00:00 GMT");
    assert_int_equal(zu_fetch_state_wait(&st, 1000), 0);
    zu_fetch_state_cooldown(&st, 1000, 120);
    zu_fetch_state_cooldown(&st, 1010, 5); /* never shortened */
    assert_int_equal(zu_fetch_state_wait(&st, 1100), 20);
    assert_int_equal(zu_fetch_state_format(text, sizeof(text), &n, &st), ZUPD_OK);
    assert_int_equal(n, strlen(text));
    assert_int_equal(zu_fetch_state_parse(text, n, &back), ZUPD_OK);
    assert_memory_equal(&st, &back, sizeof(st));
    assert_int_equal(zu_fetch_state_format(text, 20, &n, &st), ZUPD_E_TOOBIG);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(zu_fetch_state_parse(bad[i], strlen(bad[i]), &back), ZUPD_E_FORMAT);
        assert_int_equal(back.cooldown_until, 0);
    }
}

static void
test_helpers(void **state)
{
    char out[256], v[ZUPD_VALIDATOR_MAX], longv[400];

    (void)state;
    zu_url_redact(out, sizeof(out), "https://user:secret@host:8443/a/b.json?token=x#f");
    assert_string_equal(out, "https://host:8443/a/b.json");
    zu_url_redact(out, sizeof(out), "http://127.0.0.1:80/x");
    assert_string_equal(out, "http://127.0.0.1:80/x");
    zu_validator_set(v, " \"e1\"\r\n", 7);
    assert_string_equal(v, "\"e1\"");
    zu_validator_set(v, "a\nb", 3);
    assert_string_equal(v, "");
    memset(longv, 'a', sizeof(longv));
    zu_validator_set(v, longv, sizeof(longv));
    assert_string_equal(v, "");
}

/* file:// mirrors (lib/fetch_file.c): the URL's path, and a GET answered as
 * an HTTP server would (200, 206 from an offset, 404, the cap). */
struct collect {
    uint64_t start;
    char buf[64];
    size_t len;
    int begins;
};

static int
col_begin(void *opaque, uint64_t start)
{
    struct collect *c = opaque;
    c->start = start;
    c->len = 0;
    c->begins++;
    return ZUPD_OK;
}

static int
col_write(void *opaque, const uint8_t *data, size_t len)
{
    struct collect *c = opaque;
    if (c->len + len > sizeof(c->buf))
        return ZUPD_E_TOOBIG;
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return ZUPD_OK;
}

static void
test_file_url(void **state)
{
    char dir[] = "/tmp/t_fetch_file.XXXXXX", path[256], url[300], out[256];
    struct collect c = {0};
    struct zupd_sink sink = {.opaque = &c, .begin = col_begin, .write = col_write};
    struct zupd_get g = {.url = url, .max_bytes = 1000};
    struct zupd_get_res res;
    int fd;

    (void)state;
    assert_int_equal(zu_file_url_path("file:///a%20b/c?x#y", out, sizeof(out)), ZUPD_OK);
    assert_string_equal(out, "/a b/c");
    assert_int_equal(zu_file_url_path("FILE://localhost/srv/r", out, sizeof(out)), ZUPD_OK);
    assert_string_equal(out, "/srv/r");
    assert_int_equal(zu_file_url_path("file://host/srv", out, sizeof(out)), ZUPD_E_FORMAT);
    assert_int_equal(zu_file_url_path("file:///a%00b", out, sizeof(out)), ZUPD_E_FORMAT);
    assert_int_equal(zu_file_url_path("file:///a%4", out, sizeof(out)), ZUPD_E_FORMAT);
    assert_int_equal(zu_file_url_path("file:///abcdef", out, 4), ZUPD_E_TOOBIG);
    assert_int_equal(zu_file_url_path("http://h/x", out, sizeof(out)), ZUPD_E_MISUSE);
    assert_true(zu_is_file_url("File:///x"));
    assert_false(zu_is_file_url("http://x"));

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);

    snprintf(url, sizeof(url), "file://%s/f", dir);
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(c.len, 10);
    assert_memory_equal(c.buf, "0123456789", 10);
    g.offset = 4; /* resumed: 206 from there */
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_OK);
    assert_int_equal(res.status, 206);
    assert_int_equal(res.start, 4);
    assert_int_equal(c.start, 4);
    assert_int_equal(res.received, 6);
    assert_memory_equal(c.buf, "456789", 6);
    g.offset = 10; /* a partial as long as the file: read whole */
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(c.start, 0);
    assert_int_equal(c.len, 10);
    g.offset = 0;
    g.max_bytes = 9; /* over the cap: refused before a byte is read */
    c.begins = 0;
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_E_TOOBIG);
    assert_int_equal(c.begins, 0);
    g.max_bytes = 1000;
    snprintf(url, sizeof(url), "file://%s/missing", dir);
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_E_NOTFOUND);
    assert_int_equal(res.status, 404);
    snprintf(url, sizeof(url), "file://%s", dir); /* a directory */
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_E_NOTFOUND);
    snprintf(url, sizeof(url), "file://elsewhere%s/f", dir);
    assert_int_equal(zu_file_get(NULL, &g, &sink, &res), ZUPD_E_NET);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transport_growable),
        cmocka_unit_test(test_get_and_count),
        cmocka_unit_test(test_mirror_fallback),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_file_resume_and_hash),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_file_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
