/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/select.c -- what a filtered sync (--channel, --keep) mirrors,
 * the selection file that `verify` reads, and the removal of what a
 * filtered mirror no longer needs. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/hash.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/layout.h"
#include "repo/select.h"

#define SEL_HEADER "# zupd-mirror sync selection 1\n"
#define SEL_CAP (256u << 20)
#define SWEEP_DEPTH 16

/* ------------------------------------------------------------ choice */

/* Copy the n bytes at s into dst[ZUPD_NAME_MAX + 1] if they are a safe name. */
static bool
take_name(char *dst, const char *s, size_t n)
{
    if (n == 0 || n > ZUPD_NAME_MAX)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return zupd_name_is_safe(dst) != 0;
}

void
zp_sel_classify(struct zp_sel *s, const char *path)
{
    const char *seg[4];
    size_t len[4], k = 0;
    const char *p = path;

    memset(s, 0, sizeof(*s));
    s->kind = ZP_SEL_OTHER;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (k == 4)
            return; /* more than four segments */
        seg[k] = p;
        len[k] = slash != NULL ? (size_t)(slash - p) : strlen(p);
        k++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (k != 4 || len[0] == 0 || len[1] == 0)
        return;
    s->group_len = len[0] + 1 + len[1];
    if (len[2] == 8 && memcmp(seg[2], "channels", 8) == 0 && len[3] > 5 &&
        memcmp(seg[3] + len[3] - 5, ".json", 5) == 0) {
        if (take_name(s->channel, seg[3], len[3] - 5))
            s->kind = ZP_SEL_CHANNEL;
    } else if (len[3] == 13 && memcmp(seg[3], "manifest.json", 13) == 0) {
        if (take_name(s->version, seg[2], len[2]))
            s->kind = ZP_SEL_MANIFEST;
    }
    if (s->kind == ZP_SEL_OTHER)
        s->group_len = 0;
}

bool
zp_sel_channel_wanted(const char *channel, const char *const *channels, size_t n_channels)
{
    if (n_channels == 0)
        return true;
    for (size_t i = 0; i < n_channels; i++)
        if (strcmp(channels[i], channel) == 0)
            return true;
    return false;
}

struct mref {
    const char *path; /* group is path[0..glen) */
    size_t glen;
    const char *version;
    size_t idx;
};

static int
cmp_group(const struct mref *x, const struct mref *y)
{
    size_t n = x->glen < y->glen ? x->glen : y->glen;
    int c = memcmp(x->path, y->path, n);

    if (c != 0)
        return c;
    return (x->glen > y->glen) - (x->glen < y->glen);
}

/* by group, then newest version first */
static int
cmp_mref(const void *a, const void *b)
{
    const struct mref *x = a, *y = b;
    int c = cmp_group(x, y);

    return c != 0 ? c : zupd_version_cmp(y->version, x->version);
}

int
zp_sel_choose(struct zp_sel *v, const char *const *paths, size_t n, const char *const *channels,
              size_t n_channels, unsigned keep)
{
    struct mref *m = NULL;
    size_t nm = 0;

    if (keep == 0 && n_channels == 0) {
        for (size_t i = 0; i < n; i++)
            v[i].keep = true;
        return ZUPD_OK;
    }
    m = calloc(n > 0 ? n : 1, sizeof(*m));
    if (m == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i].keep = v[i].kind == ZP_SEL_OTHER ||
                    (v[i].kind == ZP_SEL_CHANNEL &&
                     zp_sel_channel_wanted(v[i].channel, channels, n_channels));
        if (v[i].kind == ZP_SEL_MANIFEST) {
            m[nm].path = paths[i];
            m[nm].glen = v[i].group_len;
            m[nm].version = v[i].version;
            m[nm].idx = i;
            nm++;
        }
    }
    if (nm > 1)
        qsort(m, nm, sizeof(*m), cmp_mref);
    /* the newest keep of each component */
    for (size_t i = 0, rank = 0; i < nm; i++) {
        rank = i > 0 && cmp_group(&m[i - 1], &m[i]) == 0 ? rank + 1 : 0;
        if (rank < keep)
            v[m[i].idx].keep = true;
    }
    /* every release a mirrored channel pointer names */
    for (size_t i = 0; i < n; i++) {
        struct mref key;

        if (v[i].kind != ZP_SEL_CHANNEL || !v[i].keep || v[i].version[0] == '\0')
            continue;
        key.path = paths[i];
        key.glen = v[i].group_len;
        key.version = v[i].version;
        for (size_t j = 0; j < nm; j++)
            if (cmp_group(&m[j], &key) == 0 && strcmp(m[j].version, key.version) == 0)
                v[m[j].idx].keep = true;
    }
    free(m);
    return ZUPD_OK;
}

/* ------------------------------------------------------------ selection file */

int
zp_sel_file_make(const char *const *paths, size_t n, uint8_t **out, size_t *out_len)
{
    size_t len = sizeof(SEL_HEADER) - 1, off;
    uint8_t *b;

    *out = NULL;
    *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr(paths[i], '\n') != NULL)
            return ZUPD_E_FORMAT;
        len += strlen(paths[i]) + 1;
    }
    b = malloc(len + 1);
    if (b == NULL)
        return ZUPD_E_NOMEM;
    memcpy(b, SEL_HEADER, sizeof(SEL_HEADER) - 1);
    off = sizeof(SEL_HEADER) - 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(paths[i]);
        memcpy(b + off, paths[i], l);
        off += l;
        b[off++] = '\n';
    }
    b[off] = '\0';
    *out = b;
    *out_len = off;
    return ZUPD_OK;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
zp_sel_set_release(struct zp_sel_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i]);
    free(set->v);
    set->v = NULL;
    set->n = 0;
}

int
zp_sel_set_parse(const uint8_t *buf, size_t len, struct zp_sel_set *set)
{
    const char *p, *end;
    size_t lines = 0;
    int rc = ZUPD_OK;

    set->v = NULL;
    set->n = 0;
    if (len < sizeof(SEL_HEADER) - 1 || memcmp(buf, SEL_HEADER, sizeof(SEL_HEADER) - 1) != 0 ||
        buf[len - 1] != '\n' || memchr(buf, '\0', len) != NULL)
        return ZUPD_E_FORMAT;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    set->v = calloc(lines, sizeof(*set->v));
    if (set->v == NULL)
        return ZUPD_E_NOMEM;
    p = (const char *)buf + sizeof(SEL_HEADER) - 1;
    end = (const char *)buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p);

        if (n > 0) {
            set->v[set->n] = malloc(n + 1);
            if (set->v[set->n] == NULL) {
                rc = ZUPD_E_NOMEM;
                break;
            }
            memcpy(set->v[set->n], p, n);
            set->v[set->n][n] = '\0';
            set->n++;
        }
        p = nl + 1;
    }
    if (rc != ZUPD_OK) {
        zp_sel_set_release(set);
        return rc;
    }
    if (set->n > 1)
        qsort(set->v, set->n, sizeof(*set->v), cmp_str);
    return ZUPD_OK;
}

int
zp_sel_set_load(int dirfd, struct zp_sel_set *set)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    set->v = NULL;
    set->n = 0;
    rc = zp_get(dirfd, ZP_SYNC_SELECTION, SEL_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return rc; /* ZUPD_E_NOTFOUND: none */
    rc = zp_sel_set_parse(buf, len, set);
    free(buf);
    return rc;
}

bool
zp_sel_set_has(const struct zp_sel_set *set, const char *path)
{
    return set->n > 0 && bsearch(&path, set->v, set->n, sizeof(*set->v), cmp_str) != NULL;
}

/* ------------------------------------------------------------ removal */

struct sweep {
    int dfd;
    const char *const *rels;
    size_t n_rels;
    void (*on_removed)(void *opaque, const char *path);
    void *opaque;
    struct zp_sweep_res *res;
};

static bool
is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* "targets/a/b/<hex>.name" -> "a/b/name" */
static void
target_path_of(char *dst, size_t cap, const char *rel)
{
    const char *p = rel + strlen("targets/"), *base = strrchr(p, '/');
    size_t dirlen;

    base = base != NULL ? base + 1 : p;
    dirlen = (size_t)(base - p);
    for (size_t h = 64; h <= 128; h += 64)
        if (strlen(base) > h + 1 && base[h] == '.' && is_hex(base, h)) {
            snprintf(dst, cap, "%.*s%s", (int)dirlen, p, base + h + 1);
            return;
        }
    snprintf(dst, cap, "%s", p);
}

static int
sweep_dir(struct sweep *w, char *rel, size_t cap, int depth)
{
    size_t rl = strlen(rel);
    struct dirent *de;
    DIR *d;
    int fd, rc = ZUPD_OK;

    if (depth > SWEEP_DEPTH)
        return ZUPD_OK;
    fd = openat(w->dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ZUPD_OK : zu_errno_to_err(errno);
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return ZUPD_E_IO;
    }
    while (rc == ZUPD_OK && (de = readdir(d)) != NULL) {
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        if (rl + 1 + strlen(de->d_name) + 1 > cap)
            continue; /* longer than any target sync writes */
        snprintf(rel + rl, cap - rl, "/%s", de->d_name);
        if (fstatat(w->dfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rel[rl] = '\0';
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = sweep_dir(w, rel, cap, depth + 1);
            if (rc == ZUPD_OK)
                (void)unlinkat(w->dfd, rel, AT_REMOVEDIR); /* only when left empty */
        } else if (bsearch(&(const char *){rel}, w->rels, w->n_rels, sizeof(*w->rels), cmp_str) ==
                   NULL) {
            char tp[4096];
            target_path_of(tp, sizeof(tp), rel);
            rc = zp_remove(w->dfd, rel);
            if (rc == ZUPD_OK) {
                w->res->targets++;
                w->res->bytes += (uint64_t)st.st_size;
                if (w->on_removed != NULL)
                    w->on_removed(w->opaque, tp);
            }
        }
        rel[rl] = '\0';
    }
    closedir(d);
    return rc;
}

static int
cmp_sha(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

int
zp_sel_sweep(int dirfd, const char *const *keep_rels, size_t n_rels, const uint8_t *keep_blobs,
             size_t n_blobs, void (*on_removed)(void *opaque, const char *path), void *opaque,
             struct zp_sweep_res *res)
{
    struct sweep w = {dirfd, keep_rels, n_rels, on_removed, opaque, res};
    char rel[4096] = "targets";
    int rc;

    memset(res, 0, sizeof(*res));
    rc = sweep_dir(&w, rel, sizeof(rel), 0);
    for (unsigned hi = 0; rc == ZUPD_OK && hi < 256; hi++) {
        char dir[64];
        struct dirent *de;
        DIR *d;
        int fd;

        snprintf(dir, sizeof(dir), "blobs/sha256/%02x", hi);
        fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        d = fdopendir(fd);
        if (d == NULL) {
            close(fd);
            return ZUPD_E_IO;
        }
        while (rc == ZUPD_OK && (de = readdir(d)) != NULL) {
            uint8_t h[32];
            char brel[160];
            struct stat st;

            if (strlen(de->d_name) != 64 || zupd_hex_decode(h, 32, de->d_name, 64) != ZUPD_OK ||
                (n_blobs > 0 && bsearch(h, keep_blobs, n_blobs, 32, cmp_sha) != NULL))
                continue;
            snprintf(brel, sizeof(brel), "%s/%s", dir, de->d_name);
            if (fstatat(dirfd, brel, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                continue;
            rc = zp_remove(dirfd, brel);
            if (rc == ZUPD_OK) {
                res->blobs++;
                res->bytes += (uint64_t)st.st_size;
            }
        }
        closedir(d);
    }
    return rc;
}
