/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_serve_cache.c -- the metadata cache of zupd-mirror serve:
 * zp_centry_load() frees everything when the read fails (a half-made entry
 * used to leak: its reference count was not yet set when it was released). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve/serve_int.h"

/* pread fails with EIO while fail_pread is set (config.h asks for 64-bit
 * offsets, so the program's pread calls are pread64) */
static int fail_pread;

ssize_t pread64(int fd, void *buf, size_t n, off_t off);

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
    if (fail_pread) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)syscall(SYS_pread64, fd, buf, n, off);
}

static void
test_load_read_error(void **state)
{
    char dir[] = "/tmp/t_serve_cache.XXXXXX";
    struct zp_server *s = calloc(1, sizeof(*s));
    struct centry *e = NULL;
    size_t before;
    int dfd, fd, i;

    (void)state;
    assert_non_null(s);
    assert_non_null(mkdtemp(dir));
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    fd = openat(dfd, "t.json", O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"a\":1}\n", 8), 8);
    close(fd);
    s->meta_max = 1 << 20;
    snprintf(s->short_cc, sizeof(s->short_cc), "public, max-age=60");

    /* the good path: one reference, released */
    assert_int_equal(zp_centry_load(s, dfd, "t.json", "t.json", 6, &e), 0);
    assert_non_null(e);
    assert_int_equal(e->len, 8);
    zp_centry_unref(e);

    /* a read error: a 500, nothing kept. 2,000 failed loads leaking an entry
     * each would grow the heap by over 500 KB (LeakSanitizer also sees a
     * single one at exit) */
    before = mallinfo2().uordblks;
    fail_pread = 1;
    for (i = 0; i < 2000; i++) {
        e = (struct centry *)(uintptr_t)1;
        assert_int_equal(zp_centry_load(s, dfd, "t.json", "t.json", 6, &e), 500);
        assert_null(e);
    }
    fail_pread = 0;
    assert_true(mallinfo2().uordblks < before + 100000);

    assert_int_equal(unlinkat(dfd, "t.json", 0), 0);
    close(dfd);
    assert_int_equal(rmdir(dir), 0);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_read_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
