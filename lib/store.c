/* SPDX-License-Identifier: Apache-2.0 */
/* lib/store.c -- installed versions: staging trees, batch fsync, atomic
 * switch of `current`, rollback history, holds, bad releases, pruning. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <zupd/hash.h>
#include <zupd/store.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "store_int.h"

/* Versions listed from versions/: a store keeps a handful (keep, history,
 * bad); the cap only stops a hostile tree from growing the list for ever. */
#define STORE_LIST_MAX ((size_t)1 << 20)

/* ------------------------------------------------------------ helpers */

int
zu_rmtree_at(int parent, const char *name, unsigned depth)
{
    struct dirent *e;
    DIR *d;
    int fd, rc = ZUPD_OK;

    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
        return ZUPD_OK;
    if (errno != EISDIR && errno != EPERM)
        return zu_errno_to_err(errno);
    if (depth > 4096)
        return ZUPD_E_TOOBIG;
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return zu_errno_to_err(errno);
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return zu_errno_to_err(errno);
    }
    while (rc == ZUPD_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        rc = zu_rmtree_at(dirfd(d), e->d_name, depth + 1);
    }
    closedir(d);
    if (rc == ZUPD_OK && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = zu_errno_to_err(errno);
    return rc;
}

static int
mkdir_at(int dirfd, const char *name)
{
    if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST)
        return zu_errno_to_err(errno);
    return ZUPD_OK;
}

static int
open_dir_at(int dirfd, const char *name, int *out)
{
    *out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return *out < 0 ? zu_errno_to_err(errno) : ZUPD_OK;
}

int
zu_store_manifest_name(char *dst, size_t cap, const char *version)
{
    if (!zupd_name_is_safe(version))
        return ZUPD_E_MISUSE;
    return (size_t)snprintf(dst, cap, "%s.json", version) < cap ? ZUPD_OK : ZUPD_E_MISUSE;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------ store */

void
zupd_store_free(struct zupd_store *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->vfd >= 0)
        close(s->vfd);
    if (s->mfd >= 0)
        close(s->mfd);
    free(s->dir);
    free(s);
}

const char *
zupd_store_dir(const struct zupd_store *s)
{
    return s->dir;
}

bool
zupd_store_has(struct zupd_store *s, const char *version)
{
    char mname[ZUPD_NAME_MAX + 8];
    struct stat st;

    if (zu_store_manifest_name(mname, sizeof(mname), version) != ZUPD_OK)
        return false;
    return fstatat(s->vfd, version, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
           fstatat(s->mfd, mname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int
zupd_store_current(struct zupd_store *s, char *ver, size_t cap)
{
    char target[ZUPD_NAME_MAX + 32];
    ssize_t n;

    if (cap > 0)
        ver[0] = 0;
    n = readlinkat(s->fd, "current", target, sizeof(target) - 1);
    if (n < 0)
        return zu_errno_to_err(errno);
    target[n] = 0;
    if (strncmp(target, "versions/", 9) != 0 || !zupd_name_is_safe(target + 9))
        return ZUPD_E_FORMAT;
    if (strlen(target + 9) >= cap)
        return ZUPD_E_MISUSE;
    memcpy(ver, target + 9, strlen(target + 9) + 1);
    return ZUPD_OK;
}

/* Remove what a crash left: staging trees, a half-made symlink, and version
 * trees whose manifest is gone (pruning removes the manifest first). */
static int
store_recover(struct zupd_store *s)
{
    char cur[ZUPD_NAME_MAX + 1] = "", mname[ZUPD_NAME_MAX + 8];
    struct dirent *e;
    struct stat st;
    DIR *d;
    int fd, rc = ZUPD_OK;

    if (zupd_store_current(s, cur, sizeof(cur)) != ZUPD_OK)
        cur[0] = 0;
    if (unlinkat(s->fd, "current.new", 0) != 0 && errno != ENOENT)
        return zu_errno_to_err(errno);
    fd = dup(s->vfd);
    if (fd < 0)
        return zu_errno_to_err(errno);
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return zu_errno_to_err(errno);
    }
    while (rc == ZUPD_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (ends_with(e->d_name, ".staging")) {
            rc = zu_rmtree_at(s->vfd, e->d_name, 0);
            continue;
        }
        if (strcmp(e->d_name, cur) == 0 ||
            zu_store_manifest_name(mname, sizeof(mname), e->d_name) != 0)
            continue;
        if (fstatat(s->mfd, mname, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
            rc = zu_rmtree_at(s->vfd, e->d_name, 0);
    }
    closedir(d);
    /* keep the directory seek position of the shared fd sane */
    lseek(s->vfd, 0, SEEK_SET);
    return rc;
}

int
zupd_store_open(const char *state_dir, const char *component, struct zupd_store **out)
{
    return zu_store_open(state_dir, component, 0, out);
}

int
zu_store_open(const char *state_dir, const char *component, unsigned flags, struct zupd_store **out)
{
    struct zupd_store *s = NULL;
    size_t n;
    int rc;

    *out = NULL;
    if (state_dir == NULL || state_dir[0] != '/' || !zupd_name_is_safe(component))
        return ZUPD_E_MISUSE;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZUPD_E_NOMEM;
    s->fd = s->vfd = s->mfd = -1;
    n = strlen(state_dir) + strlen(component) + 16;
    s->dir = malloc(n);
    if (s->dir == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    snprintf(s->dir, n, "%s/components/%s", state_dir, component);
    rc = zu_mkdir_p(s->dir);
    if (rc != ZUPD_OK)
        goto out;
    s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s->fd < 0) {
        rc = zu_errno_to_err(errno);
        goto out;
    }
    rc = mkdir_at(s->fd, "versions");
    if (rc == ZUPD_OK)
        rc = mkdir_at(s->fd, "manifests");
    if (rc == ZUPD_OK)
        rc = open_dir_at(s->fd, "versions", &s->vfd);
    if (rc == ZUPD_OK)
        rc = open_dir_at(s->fd, "manifests", &s->mfd);
    if (rc == ZUPD_OK && (flags & ZU_STORE_NO_RECOVER) == 0)
        rc = store_recover(s);
    if (rc != ZUPD_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    zupd_store_free(s);
    return rc;
}

int
zupd_store_manifest(struct zupd_store *s, const char *version, struct zupd_manifest **out)
{
    char mname[ZUPD_NAME_MAX + 8];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = zu_store_manifest_name(mname, sizeof(mname), version);
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_read_capped(s->mfd, mname, MANIFEST_MAX_BYTES, &buf, &len);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_manifest_parse(buf, len, NULL, out, NULL, 0);
    free(buf);
    return rc;
}

void
zupd_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int
cmp_version(const void *a, const void *b)
{
    return zupd_version_cmp(*(char *const *)a, *(char *const *)b);
}

int
zupd_store_list(struct zupd_store *s, char ***out, size_t *n)
{
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    DIR *d;
    int fd, rc = ZUPD_OK;

    *out = NULL;
    *n = 0;
    fd = openat(s->fd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return zu_errno_to_err(errno);
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return zu_errno_to_err(errno);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !zupd_name_is_safe(e->d_name) || !zupd_store_has(s, e->d_name))
            continue;
        rc = ZU_GROW(&v, &cap, cnt + 1, STORE_LIST_MAX);
        if (rc != ZUPD_OK)
            break;
        v[cnt] = strdup(e->d_name);
        if (v[cnt] == NULL) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        cnt++;
    }
    closedir(d);
    if (rc != ZUPD_OK) {
        zupd_strv_free(v, cnt);
        return rc;
    }
    if (cnt > 0)
        qsort(v, cnt, sizeof(*v), cmp_version);
    *out = v;
    *n = cnt;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ state */

void
zupd_store_state_release(struct zupd_store_state *st)
{
    zupd_strv_free(st->bad, st->n_bad);
    zupd_strv_free(st->history, st->n_history);
    memset(st, 0, sizeof(*st));
}

static int
strv_push(char ***v, size_t *n, const char *s, size_t max)
{
    size_t cap = *n; /* at least: the public state keeps no capacity */
    int rc;

    if (*n >= max) { /* drop the oldest */
        free((*v)[0]);
        memmove(*v, *v + 1, (*n - 1) * sizeof(**v));
        (*n)--;
    }
    rc = ZU_GROW(v, &cap, *n + 1, max);
    if (rc != ZUPD_OK)
        return rc;
    (*v)[*n] = strdup(s);
    if ((*v)[*n] == NULL)
        return ZUPD_E_NOMEM;
    (*n)++;
    return ZUPD_OK;
}

static int
strv_from_json(const json_t *arr, char ***v, size_t *n, size_t max)
{
    size_t i;
    json_t *x;

    if (arr == NULL)
        return ZUPD_OK;
    if (!json_is_array(arr))
        return ZUPD_E_FORMAT;
    json_array_foreach (arr, i, x) {
        if (!json_is_string(x) || !zupd_name_is_safe(json_string_value(x)))
            return ZUPD_E_FORMAT;
        if (strv_push(v, n, json_string_value(x), max) != ZUPD_OK)
            return ZUPD_E_NOMEM;
    }
    return ZUPD_OK;
}

int
zupd_store_state_load(struct zupd_store *s, struct zupd_store_state *st)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *doc = NULL, *v;
    const char *str;
    int rc;

    memset(st, 0, sizeof(*st));
    rc = zu_read_capped(s->fd, "state.json", STATE_MAX_BYTES, &buf, &len);
    if (rc == ZUPD_E_NOTFOUND)
        return ZUPD_OK; /* a new component: nothing held, nothing bad */
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_json_load(buf, len, &lim, &doc, NULL, 0);
    if (rc != ZUPD_OK || !json_is_object(doc)) {
        rc = ZUPD_E_FORMAT;
        goto out;
    }
    st->held = json_is_true(json_object_get(doc, "held"));
    if (zu_json_get_str(doc, "held_version", &str) == ZUPD_OK &&
        strlen(str) < sizeof(st->held_version))
        memcpy(st->held_version, str, strlen(str) + 1);
    if (zu_json_get_str(doc, "available", &str) == ZUPD_OK && zupd_name_is_safe(str))
        memcpy(st->available, str, strlen(str) + 1);
    v = json_object_get(doc, "last_check");
    if (json_is_integer(v))
        st->last_check = json_integer_value(v);
    if (zu_json_get_str(doc, "last_error", &str) == ZUPD_OK)
        snprintf(st->last_error, sizeof(st->last_error), "%s", str);
    rc = strv_from_json(json_object_get(doc, "bad"), &st->bad, &st->n_bad, MAX_BAD);
    if (rc == ZUPD_OK)
        rc = strv_from_json(json_object_get(doc, "history"), &st->history, &st->n_history,
                            MAX_HISTORY);
out:
    if (rc != ZUPD_OK)
        zupd_store_state_release(st);
    json_decref(doc);
    free(buf);
    return rc;
}

static json_t *
strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int
zupd_store_state_save(struct zupd_store *s, const struct zupd_store_state *st)
{
    json_t *doc;
    char *text = NULL;
    int rc = ZUPD_E_NOMEM;

    doc = json_pack("{s:b,s:s,s:o*,s:o*,s:I,s:s,s:s}", "held", st->held, "held_version",
                    st->held_version, "bad", strv_json(st->bad, st->n_bad), "history",
                    strv_json(st->history, st->n_history), "last_check", (json_int_t)st->last_check,
                    "last_error", st->last_error, "available", st->available);
    if (doc == NULL)
        return ZUPD_E_NOMEM;
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text != NULL)
        rc = zu_atomic_write(s->fd, "state.json", text, strlen(text), 0644);
    free(text);
    json_decref(doc);
    return rc;
}

bool
zupd_store_state_is_bad(const struct zupd_store_state *st, const char *version)
{
    for (size_t i = 0; i < st->n_bad; i++)
        if (strcmp(st->bad[i], version) == 0)
            return true;
    return false;
}

int
zupd_store_state_mark_bad(struct zupd_store_state *st, const char *version)
{
    if (!zupd_name_is_safe(version))
        return ZUPD_E_MISUSE;
    if (zupd_store_state_is_bad(st, version))
        return ZUPD_OK;
    return strv_push(&st->bad, &st->n_bad, version, MAX_BAD);
}

/* ------------------------------------------------------------ switch, prune */

/* Where link_path stands: *present when it already is the symlink to
 * `current`; ZUPD_E_EXISTS when it is something else (a directory, a file,
 * another symlink). Checked before `current` moves, so that a path the
 * switch cannot take leaves the installed version as it was. */
static int
link_check(struct zupd_store *s, const char *link_path, bool *present)
{
    char want[PATH_MAX], got[PATH_MAX];
    ssize_t n;

    *present = false;
    if ((size_t)snprintf(want, sizeof(want), "%s/current", s->dir) >= sizeof(want) ||
        strlen(link_path) + sizeof(".zupd-new") > sizeof(got))
        return ZUPD_E_MISUSE;
    n = readlink(link_path, got, sizeof(got) - 1);
    if (n >= 0) {
        got[n] = 0;
        *present = strcmp(got, want) == 0;
        return *present ? ZUPD_OK : ZUPD_E_EXISTS;
    }
    if (errno != ENOENT)
        return errno == EINVAL ? ZUPD_E_EXISTS : zu_errno_to_err(errno);
    return ZUPD_OK;
}

/* Make the missing link_path a symlink to `current`. */
static int
link_make(struct zupd_store *s, const char *link_path)
{
    char want[PATH_MAX], tmp[PATH_MAX];

    snprintf(want, sizeof(want), "%s/current", s->dir);
    snprintf(tmp, sizeof(tmp), "%s.zupd-new", link_path);
    (void)unlink(tmp);
    if (symlink(want, tmp) != 0)
        return zu_errno_to_err(errno);
    if (rename(tmp, link_path) != 0) {
        int rc = zu_errno_to_err(errno);
        (void)unlink(tmp);
        return rc;
    }
    return ZUPD_OK;
}

/* Point `current` at target (a "versions/..." string). */
static int
current_set(struct zupd_store *s, const char *target)
{
    if (unlinkat(s->fd, "current.new", 0) != 0 && errno != ENOENT)
        return zu_errno_to_err(errno);
    if (symlinkat(target, s->fd, "current.new") != 0)
        return zu_errno_to_err(errno);
    int rc = zu_rename_durable(s->fd, "current.new", "current");
    if (rc != ZUPD_OK)
        (void)unlinkat(s->fd, "current.new", 0);
    return rc;
}

int
zupd_store_switch(struct zupd_store *s, const char *version, const char *link_path)
{
    struct zupd_store_state st;
    char target[ZUPD_NAME_MAX + 16], old[ZUPD_NAME_MAX + 16];
    bool present = false;
    ssize_t n;
    int rc;

    if (!zupd_store_has(s, version))
        return ZUPD_E_NOTFOUND;
    if (link_path != NULL) {
        rc = link_check(s, link_path, &present);
        if (rc != ZUPD_OK)
            return rc;
    }
    n = readlinkat(s->fd, "current", old, sizeof(old) - 1);
    old[n > 0 && (size_t)n < sizeof(old) ? n : 0] = 0;
    snprintf(target, sizeof(target), "versions/%s", version);
    rc = current_set(s, target);
    if (rc != ZUPD_OK)
        return rc;
    if (link_path != NULL && !present) {
        rc = link_make(s, link_path);
        if (rc != ZUPD_OK) {
            /* undo: `current` names what it named before, or nothing */
            if (old[0] != 0)
                (void)current_set(s, old);
            else if (unlinkat(s->fd, "current", 0) == 0 && zu_fsync_fd(s->fd) != ZUPD_OK)
                rc = ZUPD_E_IO;
            return rc;
        }
    }
    rc = zupd_store_state_load(s, &st);
    if (rc != ZUPD_OK)
        return rc;
    /* history: move version to the end */
    for (size_t i = 0; i < st.n_history; i++)
        if (strcmp(st.history[i], version) == 0) {
            free(st.history[i]);
            memmove(&st.history[i], &st.history[i + 1], (st.n_history - i - 1) * sizeof(char *));
            st.n_history--;
            break;
        }
    rc = strv_push(&st.history, &st.n_history, version, MAX_HISTORY);
    if (rc == ZUPD_OK)
        rc = zupd_store_state_save(s, &st);
    zupd_store_state_release(&st);
    return rc;
}

static bool
strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

int
zupd_store_prune(struct zupd_store *s, unsigned keep)
{
    struct zupd_store_state st;
    char cur[ZUPD_NAME_MAX + 1] = "", mname[ZUPD_NAME_MAX + 8];
    char **inst = NULL, **keepv = NULL;
    size_t n_inst = 0, n_keep = 0;
    int rc;

    if (keep < 1)
        keep = 1;
    rc = zupd_store_state_load(s, &st);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_store_list(s, &inst, &n_inst);
    if (rc != ZUPD_OK)
        goto out;
    keepv = calloc(keep + 2, sizeof(*keepv));
    if (keepv == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    if (zupd_store_current(s, cur, sizeof(cur)) == ZUPD_OK)
        keepv[n_keep++] = cur;
    /* the most recent of the history, current and the one before it always */
    for (size_t i = st.n_history; i-- > 0;) {
        bool must = i + 2 >= st.n_history;
        if (strv_has(keepv, n_keep, st.history[i]))
            continue;
        if (!must && n_keep >= keep)
            break;
        keepv[n_keep++] = st.history[i];
        if (n_keep >= keep + 2)
            break;
    }
    for (size_t i = 0; i < n_inst; i++) {
        if (strv_has(keepv, n_keep, inst[i]))
            continue;
        if (n_keep < keep && st.n_history == 0) {
            keepv[n_keep++] = inst[i];
            continue;
        }
        /* manifest first: a tree without one is removed by the next open */
        rc = zu_store_manifest_name(mname, sizeof(mname), inst[i]);
        if (rc == ZUPD_OK && unlinkat(s->mfd, mname, 0) != 0 && errno != ENOENT)
            rc = zu_errno_to_err(errno);
        if (rc == ZUPD_OK)
            rc = zu_fsync_fd(s->mfd);
        if (rc == ZUPD_OK)
            rc = zu_rmtree_at(s->vfd, inst[i], 0);
        if (rc != ZUPD_OK)
            goto out;
    }
    rc = zu_fsync_fd(s->vfd);
out:
    free(keepv);
    zupd_strv_free(inst, n_inst);
    zupd_store_state_release(&st);
    return rc;
}

int
zu_check_file_at(int dirfd, const struct zupd_file_entry *e)
{
    uint8_t *buf = NULL, dg[ZUPD_SHA256_LEN];
    struct zupd_hash *h = NULL;
    uint64_t total = 0;
    size_t dlen;
    int fd, rc;

    fd = openat(dirfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return zu_errno_map(errno, ZU_ERRNO_LOOP_NOTFOUND);
    buf = malloc(COPY_BUF);
    h = zupd_hash_new(ZUPD_HASH_SHA256);
    if (buf == NULL || h == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = zu_errno_to_err(errno);
            goto out;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > e->size) {
            rc = ZUPD_E_LENGTH;
            goto out;
        }
        rc = zupd_hash_update(h, buf, (size_t)n);
        if (rc != ZUPD_OK)
            goto out;
    }
    rc = ZUPD_E_LENGTH;
    if (total != e->size)
        goto out;
    rc = zupd_hash_final(h, dg, sizeof(dg), &dlen);
    if (rc == ZUPD_OK && sodium_memcmp(dg, e->sha256, sizeof(dg)) != 0)
        rc = ZUPD_E_HASH;
out:
    zupd_hash_free(h);
    free(buf);
    close(fd);
    return rc;
}

int
zupd_store_verify(struct zupd_store *s, const char *version, char *bad_path, size_t bad_cap)
{
    struct zupd_manifest *m = NULL;
    int vfd = -1, rc;

    if (bad_path != NULL && bad_cap > 0)
        bad_path[0] = 0;
    rc = zupd_store_manifest(s, version, &m);
    if (rc != ZUPD_OK)
        return rc;
    rc = open_dir_at(s->vfd, version, &vfd);
    for (size_t i = 0; rc == ZUPD_OK && i < m->n_files; i++) {
        rc = zu_check_file_at(vfd, &m->files[i]);
        if (rc != ZUPD_OK && bad_path != NULL && bad_cap > 0)
            snprintf(bad_path, bad_cap, "%s", m->files[i].path);
    }
    if (vfd >= 0)
        close(vfd);
    zupd_manifest_free(m);
    return rc;
}
