/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_store.c -- installed versions: staging, links, hash refusal,
 * switch, rollback history, prune, verify, crash leftovers, state. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <zupd/hash.h>
#include <zupd/store.h>

#include "zu/internal.h"
#include "stage.h"

static char root[64];

static void
hex_sha(const char *data, size_t len, char *hex)
{
    uint8_t d[32];
    size_t n;

    assert_int_equal(zupd_hash_buf(ZUPD_HASH_SHA256, data, len, d, sizeof(d), &n), ZUPD_OK);
    zupd_hex_encode(hex, 65, d, 32);
}

/* A manifest of files {path, content}; NULL-terminated pairs. */
static char *
make_manifest(const char *version, const char *const *files)
{
    struct zu_buf b;
    uint8_t *out;
    size_t len;

    zu_buf_init(&b, 0);
    assert_int_equal(zu_buf_addf(&b,
                                 "{\"zupd_manifest\":1,\"component\":\"app\",\"role\":\"products\","
                                 "\"version\":\"%s\",\"files\":[",
                                 version),
                     ZUPD_OK);
    for (size_t i = 0; files[i] != NULL; i += 2) {
        char h[65];
        hex_sha(files[i + 1], strlen(files[i + 1]), h);
        assert_int_equal(
            zu_buf_addf(&b,
                        "%s{\"path\":\"%s\",\"mode\":420,\"size\":%zu,\"sha256\":\"%s\","
                        "\"blob\":{\"sha256\":\"%s\",\"size\":%zu,\"encoding\":\"raw\"}}",
                        i ? "," : "", files[i], strlen(files[i + 1]), h, h, strlen(files[i + 1])),
            ZUPD_OK);
    }
    assert_int_equal(zu_buf_addstr(&b, "]}"), ZUPD_OK);
    assert_int_equal(zu_buf_detach(&b, &out, &len), ZUPD_OK);
    return (char *)out;
}

static void
write_content(struct zu_stage *st, size_t i, const char *content)
{
    struct zupd_sink sink;

    assert_int_equal(zu_stage_open(st, i, &sink), ZUPD_OK);
    assert_int_equal(sink.begin(sink.opaque, 0), ZUPD_OK);
    assert_int_equal(sink.write(sink.opaque, (const uint8_t *)content, strlen(content)), ZUPD_OK);
    assert_int_equal(zu_stage_close(st), ZUPD_OK);
}

/* install version with files, linking what is already installed */
static int
install(struct zupd_store *s, const char *version, const char *const *files, int *links)
{
    char *m = make_manifest(version, files);
    struct zu_stage *st = NULL;
    int rc;

    *links = 0;
    rc = zu_stage_begin(s, (uint8_t *)m, strlen(m), &st);
    free(m);
    if (rc != ZUPD_OK)
        return rc;
    for (size_t i = 0; files[2 * i] != NULL; i++) {
        if (zu_stage_link(st, i) == ZUPD_OK) {
            (*links)++;
            continue;
        }
        write_content(st, i, files[2 * i + 1]);
    }
    return zu_stage_commit(st);
}

static char *
slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

static void
test_install_switch_rollback(void **state)
{
    const char *v1[] = {"README", "doc", "bin/app", "version one", "lib/a.so", "shared", NULL};
    const char *v2[] = {"README", "doc", "bin/app", "version two", "lib/a.so", "shared", NULL};
    struct zupd_store *s = NULL;
    char cur[64], link_path[128], path[256];
    int links;
    struct stat a, b;

    (void)state;
    snprintf(link_path, sizeof(link_path), "%s/opt-app", root);
    assert_int_equal(zupd_store_open(root, "app", &s), ZUPD_OK);
    assert_int_equal(zupd_store_current(s, cur, sizeof(cur)), ZUPD_E_NOTFOUND);
    assert_int_equal(install(s, "1.0", v1, &links), ZUPD_OK);
    assert_int_equal(links, 0);
    assert_int_equal(zupd_store_switch(s, "1.0", link_path), ZUPD_OK);
    snprintf(path, sizeof(path), "%s/bin/app", link_path);
    assert_string_equal(slurp(path), "version one");
    /* v2: two files unchanged are hard links to v1's */
    assert_int_equal(install(s, "2.0", v2, &links), ZUPD_OK);
    assert_int_equal(links, 2);
    assert_int_equal(install(s, "2.0", v2, &links), ZUPD_E_EXISTS);
    assert_int_equal(zupd_store_switch(s, "2.0", link_path), ZUPD_OK);
    assert_string_equal(slurp(path), "version two");
    snprintf(path, sizeof(path), "%s/components/app/versions/1.0/lib/a.so", root);
    assert_int_equal(stat(path, &a), 0);
    snprintf(path, sizeof(path), "%s/components/app/versions/2.0/lib/a.so", root);
    assert_int_equal(stat(path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(b.st_mode & 0777, 0644);
    assert_int_equal(zupd_store_current(s, cur, sizeof(cur)), ZUPD_OK);
    assert_string_equal(cur, "2.0");
    /* rollback is a switch back */
    assert_int_equal(zupd_store_switch(s, "1.0", link_path), ZUPD_OK);
    snprintf(path, sizeof(path), "%s/bin/app", link_path);
    assert_string_equal(slurp(path), "version one");
    assert_int_equal(zupd_store_verify(s, "1.0", NULL, 0), ZUPD_OK);
    assert_int_equal(zupd_store_verify(s, "2.0", NULL, 0), ZUPD_OK);
    assert_int_equal(zupd_store_switch(s, "9.9", NULL), ZUPD_E_NOTFOUND);
    zupd_store_free(s);
}

static void
test_wrong_content_refused(void **state)
{
    const char *v[] = {"f", "right", NULL};
    char *m = make_manifest("3.0", v);
    struct zupd_store *s = NULL;
    struct zu_stage *st = NULL;
    struct zupd_sink sink;

    (void)state;
    assert_int_equal(zupd_store_open(root, "app", &s), ZUPD_OK);
    assert_int_equal(zu_stage_begin(s, (uint8_t *)m, strlen(m), &st), ZUPD_OK);
    assert_int_equal(zu_stage_link(st, 0), ZUPD_E_NOTFOUND);
    /* right length, wrong bytes */
    assert_int_equal(zu_stage_open(st, 0, &sink), ZUPD_OK);
    assert_int_equal(sink.write(sink.opaque, (const uint8_t *)"wrong", 5), ZUPD_OK);
    assert_int_equal(zu_stage_close(st), ZUPD_E_HASH);
    /* too long is refused while writing */
    assert_int_equal(zu_stage_open(st, 0, &sink), ZUPD_OK);
    assert_int_equal(sink.write(sink.opaque, (const uint8_t *)"rightX", 6), ZUPD_E_LENGTH);
    assert_int_equal(zu_stage_close(st), ZUPD_E_LENGTH);
    /* short */
    assert_int_equal(zu_stage_open(st, 0, &sink), ZUPD_OK);
    assert_int_equal(sink.write(sink.opaque, (const uint8_t *)"rig", 3), ZUPD_OK);
    assert_int_equal(zu_stage_close(st), ZUPD_E_LENGTH);
    /* commit with a file missing is refused and removes the staging tree */
    assert_int_equal(zu_stage_commit(st), ZUPD_E_MISUSE);
    assert_false(zupd_store_has(s, "3.0"));
    free(m);
    zupd_store_free(s);
}

static void
test_crash_leftovers_removed(void **state)
{
    char path[256];
    struct zupd_store *s = NULL;
    struct stat sb;

    (void)state;
    /* a staging tree, a half-made symlink, a version tree without manifest */
    snprintf(path, sizeof(path), "%s/components/app/versions/4.0.staging", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/components/app/versions/4.0.staging/x", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/components/app/versions/5.0", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/components/app/current.new", root);
    assert_int_equal(symlink("versions/4.0.staging", path), 0);
    assert_int_equal(zupd_store_open(root, "app", &s), ZUPD_OK);
    snprintf(path, sizeof(path), "%s/components/app/versions/4.0.staging", root);
    assert_int_equal(stat(path, &sb), -1);
    snprintf(path, sizeof(path), "%s/components/app/versions/5.0", root);
    assert_int_equal(stat(path, &sb), -1);
    snprintf(path, sizeof(path), "%s/components/app/current.new", root);
    assert_int_equal(lstat(path, &sb), -1);
    /* what was whole stays */
    assert_true(zupd_store_has(s, "1.0"));
    assert_true(zupd_store_has(s, "2.0"));
    zupd_store_free(s);
}

static void
test_state_and_prune(void **state)
{
    const char *v3[] = {"bin/app", "three", NULL};
    const char *v4[] = {"bin/app", "four", NULL};
    struct zupd_store *s = NULL;
    struct zupd_store_state st;
    char **list = NULL;
    size_t n = 0;
    int links;

    (void)state;
    assert_int_equal(zupd_store_open(root, "app", &s), ZUPD_OK);
    assert_int_equal(install(s, "3.0", v3, &links), ZUPD_OK);
    assert_int_equal(zupd_store_switch(s, "3.0", NULL), ZUPD_OK);
    assert_int_equal(install(s, "10.0", v4, &links), ZUPD_OK);
    assert_int_equal(zupd_store_switch(s, "10.0", NULL), ZUPD_OK);
    assert_int_equal(zupd_store_list(s, &list, &n), ZUPD_OK);
    assert_int_equal(n, 4);
    assert_string_equal(list[0], "1.0"); /* version order, not strcmp */
    assert_string_equal(list[3], "10.0");
    zupd_strv_free(list, n);
    /* history 2.0, 1.0, 3.0, 10.0: keep 2 keeps current and the one before */
    assert_int_equal(zupd_store_prune(s, 2), ZUPD_OK);
    assert_int_equal(zupd_store_list(s, &list, &n), ZUPD_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "3.0");
    assert_string_equal(list[1], "10.0");
    zupd_strv_free(list, n);
    /* state round trip */
    assert_int_equal(zupd_store_state_load(s, &st), ZUPD_OK);
    assert_int_equal(st.n_history, 4);
    st.held = true;
    snprintf(st.held_version, sizeof(st.held_version), "3.0");
    assert_int_equal(zupd_store_state_mark_bad(&st, "11.0"), ZUPD_OK);
    assert_int_equal(zupd_store_state_mark_bad(&st, "11.0"), ZUPD_OK);
    assert_int_equal(zupd_store_state_mark_bad(&st, "../x"), ZUPD_E_MISUSE);
    assert_int_equal(zupd_store_state_save(s, &st), ZUPD_OK);
    zupd_store_state_release(&st);
    assert_int_equal(zupd_store_state_load(s, &st), ZUPD_OK);
    assert_true(st.held);
    assert_string_equal(st.held_version, "3.0");
    assert_int_equal(st.n_bad, 1);
    assert_true(zupd_store_state_is_bad(&st, "11.0"));
    assert_false(zupd_store_state_is_bad(&st, "10.0"));
    zupd_store_state_release(&st);
    zupd_store_free(s);
}

static void
test_verify_finds_damage(void **state)
{
    struct zupd_store *s = NULL;
    char path[256], bad[128];
    FILE *f;

    (void)state;
    assert_int_equal(zupd_store_open(root, "app", &s), ZUPD_OK);
    snprintf(path, sizeof(path), "%s/components/app/versions/10.0/bin/app", root);
    assert_int_equal(chmod(path, 0644), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("fout", f); /* same length, other bytes */
    fclose(f);
    assert_int_equal(zupd_store_verify(s, "10.0", bad, sizeof(bad)), ZUPD_E_HASH);
    assert_string_equal(bad, "bin/app");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(zupd_store_verify(s, "10.0", bad, sizeof(bad)), ZUPD_E_NOTFOUND);
    zupd_store_free(s);
}

static void
test_unsafe_names(void **state)
{
    struct zupd_store *s = NULL;

    (void)state;
    assert_int_equal(zupd_store_open(root, "../etc", &s), ZUPD_E_MISUSE);
    assert_int_equal(zupd_store_open("relative", "app", &s), ZUPD_E_MISUSE);
    assert_null(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_switch_rollback),
        cmocka_unit_test(test_wrong_content_refused),
        cmocka_unit_test(test_crash_leftovers_removed),
        cmocka_unit_test(test_state_and_prune),
        cmocka_unit_test(test_verify_finds_damage),
        cmocka_unit_test(test_unsafe_names),
    };
    char cmd[128];
    int rc;

    snprintf(root, sizeof(root), "/tmp/t_store.XXXXXX");
    if (mkdtemp(root) == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
