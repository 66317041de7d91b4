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
    /* a permission error reads as one, not as "input/output error" */
    assert_int_equal(zu_errno_to_err(EACCES), ZUPD_E_PERM);
    assert_int_equal(zu_errno_to_err(EPERM), ZUPD_E_PERM);
    assert_non_null(strstr(zupd_strerror(ZUPD_E_PERM), "permission denied"));
    assert_int_equal(zu_errno_to_err(EEXIST), ZUPD_E_IO);
    assert_int_equal(zu_errno_to_err(ELOOP), ZUPD_E_IO);
}

static void
test_errno_map(void **state)
{
    (void)state;
    for (unsigned f = 0; f < 16; f++) {
        assert_int_equal(zu_errno_map(ENOSPC, f), ZUPD_E_NOSPACE);
        assert_int_equal(zu_errno_map(EDQUOT, f), ZUPD_E_NOSPACE);
        assert_int_equal(zu_errno_map(EIO, f), ZUPD_E_IO);
        assert_int_equal(zu_errno_map(EACCES, f), ZUPD_E_PERM);
        assert_int_equal(zu_errno_map(EPERM, f), ZUPD_E_PERM);
        assert_int_equal(zu_errno_map(ENOENT, f),
                         (f & ZU_ERRNO_NO_NOTFOUND) != 0 ? ZUPD_E_IO : ZUPD_E_NOTFOUND);
        assert_int_equal(zu_errno_map(EEXIST, f),
                         (f & ZU_ERRNO_EXISTS) != 0 ? ZUPD_E_EXISTS : ZUPD_E_IO);
    }
    assert_int_equal(zu_errno_map(ELOOP, ZU_ERRNO_LOOP_PERM), ZUPD_E_PERM);
    assert_int_equal(zu_errno_map(ELOOP, ZU_ERRNO_LOOP_NOTFOUND), ZUPD_E_NOTFOUND);
    assert_int_equal(zu_errno_map(ELOOP, ZU_ERRNO_EXISTS), ZUPD_E_IO);
    assert_int_equal(zu_errno_map(ENOTDIR, ZU_ERRNO_LOOP_NOTFOUND), ZUPD_E_IO);
}

/* link-no-replace: a new name is created durably; an existing one is
 * refused and left as it was; no temp file stays either way. */
static void
test_commit_noreplace(void **state)
{
    struct zu_atomic a;
    uint8_t *p = NULL;
    size_t n = 0;
    struct stat st;

    (void)state;
    assert_int_equal(zu_atomic_begin(&a, dfd, "key", 0600), ZUPD_OK);
    assert_int_equal(zu_write_all(a.fd, "first", 5), ZUPD_OK);
    assert_int_equal(zu_atomic_commit_noreplace(&a), ZUPD_OK);
    assert_int_equal(entries(), 1);
    assert_int_equal(fstatat(dfd, "key", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_nlink, 1);

    assert_int_equal(zu_atomic_begin(&a, dfd, "key", 0600), ZUPD_OK);
    assert_int_equal(zu_write_all(a.fd, "second", 6), ZUPD_OK);
    assert_int_equal(zu_atomic_commit_noreplace(&a), ZUPD_E_EXISTS);
    assert_int_equal(a.fd, -1);
    zu_atomic_abort(&a); /* still fine after a failed commit */
    assert_int_equal(entries(), 1);
    assert_int_equal(zu_read_capped(dfd, "key", 100, &p, &n), ZUPD_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "first", 5);
    free(p);
    /* a symlink under the name is not followed nor replaced */
    assert_int_equal(symlinkat("elsewhere", dfd, "lnk"), 0);
    assert_int_equal(zu_atomic_begin(&a, dfd, "lnk", 0600), ZUPD_OK);
    assert_int_equal(zu_atomic_commit_noreplace(&a), ZUPD_E_EXISTS);
    assert_true(faccessat(dfd, "elsewhere", F_OK, AT_SYMLINK_NOFOLLOW) != 0);
    assert_int_equal(entries(), 2);
}

static char steps_seen[256];

static void
note_step(const char *what, const char *label)
{
    size_t n = strlen(steps_seen);

    snprintf(steps_seen + n, sizeof(steps_seen) - n, "%s %s;", what, label);
}

/* The commit calls the step hook before each of its steps, in order, with
 * the label (or the name); detach leaves the temp file for the caller. */
static void
test_steps_and_detach(void **state)
{
    struct zu_atomic a;
    uint8_t *p = NULL;
    size_t n = 0;
    char tmp[sizeof(a.tmp)];

    (void)state;
    steps_seen[0] = '\0';
    assert_int_equal(zu_atomic_begin(&a, dfd, "s", 0644), ZUPD_OK);
    assert_null(a.step);
    a.step = note_step;
    a.label = "dir/s";
    assert_int_equal(zu_atomic_commit(&a), ZUPD_OK);
    assert_string_equal(steps_seen, "fsync dir/s;rename dir/s;fsync-dir dir/s;");
    steps_seen[0] = '\0';
    assert_int_equal(zu_atomic_begin(&a, dfd, "t", 0644), ZUPD_OK);
    a.step = note_step;
    assert_int_equal(zu_atomic_commit_noreplace(&a), ZUPD_OK);
    assert_string_equal(steps_seen, "fsync t;link t;fsync-dir t;");
    assert_int_equal(entries(), 2);

    steps_seen[0] = '\0';
    assert_int_equal(zu_atomic_begin(&a, dfd, "s", 0644), ZUPD_OK);
    a.step = note_step;
    assert_int_equal(zu_write_all(a.fd, "later", 5), ZUPD_OK);
    assert_int_equal(zu_atomic_detach(&a), ZUPD_OK);
    assert_string_equal(steps_seen, ""); /* no fsync, no rename */
    assert_int_equal(a.fd, -1);
    assert_int_equal(entries(), 3);
    assert_int_equal(zu_read_capped(dfd, "s", 100, &p, &n), ZUPD_OK);
    assert_int_equal(n, 0); /* name untouched */
    free(p);
    snprintf(tmp, sizeof(tmp), "%s", a.tmp);
    assert_int_equal(zu_read_capped(dfd, tmp, 100, &p, &n), ZUPD_OK);
    assert_memory_equal(p, "later", 5);
    free(p);
    zu_atomic_abort(&a); /* drops the detached file */
    assert_int_equal(entries(), 2);
}

/* zu_atomic_add: many writes, past the writeback kick, give the bytes in
 * order. */
static void
test_atomic_add(void **state)
{
    struct zu_atomic a;
    uint8_t *chunk = malloc(1u << 20), *p = NULL;
    size_t n = 0;

    (void)state;
    assert_non_null(chunk);
    assert_int_equal(zu_atomic_begin(&a, dfd, "big", 0644), ZUPD_OK);
    for (unsigned i = 0; i < 10; i++) {
        memset(chunk, 'a' + (int)i, 1u << 20);
        assert_int_equal(zu_atomic_add(&a, chunk, 1u << 20), ZUPD_OK);
    }
    assert_int_equal(a.off, 10u << 20);
#ifdef SYNC_FILE_RANGE_WRITE
    assert_int_equal(a.kicked, 8u << 20);
#endif
    assert_int_equal(zu_atomic_commit(&a), ZUPD_OK);
    assert_int_equal(zu_read_capped(dfd, "big", 10u << 20, &p, &n), ZUPD_OK);
    assert_int_equal(n, 10u << 20);
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(p[(size_t)i << 20], 'a' + (int)i);
        assert_int_equal(p[((size_t)(i + 1) << 20) - 1], 'a' + (int)i);
    }
    free(p);
    free(chunk);
    assert_int_equal(entries(), 1);
}

/* zu_map_file: the whole content; an empty file gives a non-NULL empty view
 * (mmap of 0 bytes would fail); symlinks only with ZU_MAP_FOLLOW; not a
 * regular file is refused with errno EINVAL. */
static void
test_map_file(void **state)
{
    struct zu_map m;

    (void)state;
    assert_int_equal(zu_atomic_write(dfd, "full", "content", 7, 0644), ZUPD_OK);
    assert_int_equal(zu_atomic_write(dfd, "empty", "", 0, 0644), ZUPD_OK);
    assert_int_equal(zu_map_file(dfd, "full", 0, &m), ZUPD_OK);
    assert_int_equal(m.len, 7);
    assert_memory_equal(m.p, "content", 7);
    zu_unmap(&m);
    assert_int_equal(m.len, 0);
    assert_non_null(m.p);
    zu_unmap(&m); /* idempotent */
    assert_int_equal(zu_map_file(dfd, "full", ZU_MAP_WILLNEED, &m), ZUPD_OK);
    assert_memory_equal(m.p, "content", 7);
    zu_unmap(&m);

    assert_int_equal(zu_map_file(dfd, "empty", 0, &m), ZUPD_OK);
    assert_non_null(m.p);
    assert_int_equal(m.len, 0);
    assert_null(m.map_);
    zu_unmap(&m);

    assert_int_equal(zu_map_file(dfd, "missing", 0, &m), ZUPD_E_NOTFOUND);
    assert_int_equal(errno, ENOENT);
    assert_non_null(m.p);
    assert_int_equal(m.len, 0);

    assert_int_equal(symlinkat("full", dfd, "lnk"), 0);
    assert_int_equal(zu_map_file(dfd, "lnk", 0, &m), ZUPD_E_IO);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(zu_map_file(dfd, "lnk", ZU_MAP_FOLLOW, &m), ZUPD_OK);
    assert_memory_equal(m.p, "content", 7);
    zu_unmap(&m);

    assert_int_equal(mkdirat(dfd, "d", 0700), 0);
    assert_int_equal(zu_map_file(dfd, "d", 0, &m), ZUPD_E_IO);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(m.len, 0);
    assert_int_equal(unlinkat(dfd, "d", AT_REMOVEDIR), 0);
}

/* Files that are not files: a FIFO without a writer (its open would block
 * forever without O_NONBLOCK; alarm() turns a hang into a failure), a
 * directory, a file over the cap; ZU_READ_SAFE refuses what others could
 * have written. */
static void
test_not_regular(void **state)
{
    uint8_t *buf = NULL;
    size_t len = 9;
    struct zu_map m;
    struct stat st;
    char err[256] = "";
    int fd = 7;

    (void)state;
    assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
    assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
    alarm(10);
    assert_int_equal(zu_read_capped(dfd, "fifo", 100, &buf, &len), ZUPD_E_IO);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(zu_read_file(dfd, "fifo", ZU_READ_SAFE, 100, &buf, &len, err, sizeof(err)),
                     ZUPD_E_IO);
    assert_string_equal(err, "'fifo' is not a regular file");
    assert_int_equal(zu_map_file(dfd, "fifo", 0, &m), ZUPD_E_IO);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(zu_open_regular(dfd, "fifo", 0, 100, &fd, &st, NULL, 0), ZUPD_E_IO);
    assert_int_equal(fd, -1);
    alarm(0);
    assert_int_equal(zu_read_capped(dfd, "sub", 100, &buf, &len), ZUPD_E_IO);
    assert_int_equal(zu_map_file(dfd, "sub", ZU_MAP_FOLLOW, &m), ZUPD_E_IO);
    assert_int_equal(unlinkat(dfd, "sub", AT_REMOVEDIR), 0);

    /* the cap is checked before a byte is read */
    assert_int_equal(zu_atomic_write(dfd, "f", "0123456789", 10, 0644), ZUPD_OK);
    assert_int_equal(zu_read_file(dfd, "f", 0, 9, &buf, &len, err, sizeof(err)), ZUPD_E_TOOBIG);
    assert_string_equal(err, "'f' is too big (10 bytes, at most 9)");
    assert_int_equal(zu_read_file(dfd, "f", ZU_READ_SAFE, 10, &buf, &len, NULL, 0), ZUPD_OK);
    assert_int_equal(len, 10);
    free(buf);

    /* ZU_READ_SAFE: group/other-writable, a symlink, another owner */
    assert_int_equal(fchmodat(dfd, "f", 0664, 0), 0);
    assert_int_equal(zu_read_file(dfd, "f", ZU_READ_SAFE, 10, &buf, &len, err, sizeof(err)),
                     ZUPD_E_PERM);
    assert_string_equal(err, "'f' is writable by group or others (mode 0664): refused");
    assert_int_equal(zu_read_file(dfd, "f", 0, 10, &buf, &len, NULL, 0), ZUPD_OK);
    free(buf);
    assert_int_equal(fchmodat(dfd, "f", 0646, 0), 0);
    assert_int_equal(zu_read_file(dfd, "f", ZU_READ_SAFE, 10, &buf, &len, NULL, 0), ZUPD_E_PERM);
    assert_int_equal(fchmodat(dfd, "f", 0644, 0), 0);
    assert_int_equal(symlinkat("f", dfd, "link"), 0);
    assert_int_equal(zu_read_file(dfd, "link", ZU_READ_SAFE, 10, &buf, &len, err, sizeof(err)),
                     ZUPD_E_PERM);
    assert_string_equal(err, "'link' is a symbolic link: refused");
    if (geteuid() == 0) {
        assert_int_equal(fchownat(dfd, "f", 65534, 65534, 0), 0);
        assert_int_equal(zu_read_file(dfd, "f", ZU_READ_SAFE, 10, &buf, &len, err, sizeof(err)),
                         ZUPD_E_PERM);
        assert_string_equal(err, "'f' is owned by uid 65534 (neither root nor this user): refused");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_atomic_write_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errno_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_noreplace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_add, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL); /* a fresh directory per test */
}
