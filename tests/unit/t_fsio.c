/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_fsio.c -- file helpers: atomic replacement, no symlinks
 * followed, capped reads, plain names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "zu/fsio.h"

static char dir[64];
static int dfd = -1;

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/t_fsio.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return dfd >= 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    DIR *d = fdopendir(dup(dfd));
    struct dirent *e;

    (void)state;
    if (d != NULL)
        rewinddir(d);
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && e->d_name[1] != '.'))
            unlinkat(dfd, e->d_name, 0);
    if (d != NULL)
        closedir(d);
    close(dfd);
    return rmdir(dir);
}

/* Number of entries in the directory (no temp files left behind). */
static int
entries(void)
{
    DIR *d = fdopendir(dup(dfd));
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    rewinddir(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void
test_atomic_write_and_read(void **state)
{
    uint8_t *p = NULL;
    size_t n = 0;
    struct stat st;

    (void)state;
    assert_int_equal(zu_atomic_write(dfd, "a.json", "first", 5, 0600), ZUPD_OK);
    assert_int_equal(zu_atomic_write(dfd, "a.json", "second", 6, 0600), ZUPD_OK);
    assert_int_equal(entries(), 1);
    assert_int_equal(fstatat(dfd, "a.json", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(zu_read_capped(dfd, "a.json", 6, &p, &n), ZUPD_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "second", 6);
    assert_int_equal(p[6], 0);
    free(p);
    assert_int_equal(zu_read_capped(dfd, "a.json", 5, &p, &n), ZUPD_E_TOOBIG);
    assert_null(p);
    assert_int_equal(zu_read_capped(dfd, "missing", 5, &p, &n), ZUPD_E_NOTFOUND);
    assert_int_equal(zu_atomic_write(dfd, "sub/x", "x", 1, 0600), ZUPD_E_MISUSE);
    assert_int_equal(zu_atomic_write(dfd, "..", "x", 1, 0600), ZUPD_E_MISUSE);
    /* the cache variant (no fsync): the same replacement, no temp file left */
    assert_int_equal(zu_cache_write(dfd, "a.json", "third", 5, 0644), ZUPD_OK);
    assert_int_equal(entries(), 1);
    assert_int_equal(fstatat(dfd, "a.json", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(zu_read_capped(dfd, "a.json", 5, &p, &n), ZUPD_OK);
    assert_memory_equal(p, "third", 5);
    free(p);
    assert_int_equal(zu_cache_write(dfd, "sub/x", "x", 1, 0600), ZUPD_E_MISUSE);
}

static void
test_abort_leaves_nothing(void **state)
{
    struct zu_atomic a;
    uint8_t *p = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(zu_atomic_write(dfd, "b", "old", 3, 0644), ZUPD_OK);
    assert_int_equal(zu_atomic_begin(&a, dfd, "b", 0644), ZUPD_OK);
    assert_int_equal(zu_write_all(a.fd, "new!", 4), ZUPD_OK);
    zu_atomic_abort(&a);
    zu_atomic_abort(&a); /* idempotent */
    assert_int_equal(zu_read_capped(dfd, "b", 100, &p, &n), ZUPD_OK);
    assert_memory_equal(p, "old", 3);
    free(p);
    assert_int_equal(zu_atomic_begin(&a, dfd, "b", 0644), ZUPD_OK);
    assert_int_equal(zu_write_all(a.fd, "new!", 4), ZUPD_OK);
    assert_int_equal(zu_atomic_commit(&a), ZUPD_OK);
    assert_int_equal(zu_read_capped(dfd, "b", 100, &p, &n), ZUPD_OK);
    assert_memory_equal(p, "new!", 4);
    free(p);
}

static void
test_no_symlinks(void **state)
{
    uint8_t *p = NULL;
    size_t n = 0;
    uint64_t size = 0;
    int fd = -1;

    (void)state;
    assert_int_equal(zu_atomic_write(dfd, "target", "secret", 6, 0600), ZUPD_OK);
    assert_int_equal(symlinkat("target", dfd, "link"), 0);
    assert_int_equal(zu_read_capped(dfd, "link", 100, &p, &n), ZUPD_E_IO);
    assert_int_equal(zu_open_rw(dfd, "link", 0644, &fd, &size), ZUPD_E_IO);
    assert_int_equal(fd, -1);
    /* a directory is not a partial file */
    assert_int_equal(mkdirat(dfd, "d", 0700), 0);
    assert_int_equal(zu_open_rw(dfd, "d", 0644, &fd, &size), ZUPD_E_IO);
    assert_int_equal(unlinkat(dfd, "d", AT_REMOVEDIR), 0);
    assert_int_equal(zu_open_rw(dfd, "part", 0644, &fd, &size), ZUPD_OK);
    assert_int_equal(size, 0);
    assert_int_equal(zu_write_all(fd, "abc", 3), ZUPD_OK);
    close(fd);
    assert_int_equal(zu_open_rw(dfd, "part", 0644, &fd, &size), ZUPD_OK);
    assert_int_equal(size, 3);
    close(fd);
    assert_int_equal(zu_rename_durable(dfd, "part", "whole"), ZUPD_OK);
    assert_true(faccessat(dfd, "part", F_OK, 0) != 0);
}

static void
test_names(void **state)
{
    (void)state;
    assert_true(zu_plain_name("timestamp.json"));
    assert_true(zu_plain_name("..x"));
    assert_false(zu_plain_name(""));
    assert_false(zu_plain_name("."));
    assert_false(zu_plain_name(".."));
    assert_false(zu_plain_name("a/b"));
    assert_false(zu_plain_name(NULL));
    assert_int_equal(zu_errno_to_err(ENOSPC), ZUPD_E_NOSPACE);
    assert_int_equal(zu_errno_to_err(ENOENT), ZUPD_E_NOTFOUND);
    assert_int_equal(zu_errno_to_err(EACCES), ZUPD_E_IO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write_and_read),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_no_symlinks),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
