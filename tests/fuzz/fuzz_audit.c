/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_audit.c -- zupd-mirror audit (mirror/repo/audit.c) over a
 * hostile repository: what it reads from the network (the staged
 * release.json, the staged and previous products metadata, manifests,
 * blobs, deltas) comes from the input, packed as records
 * [u16 path length][path][u32 length][content]. No crash, no leak; an audit
 * that fails a check signs nothing (the key file does not exist, so a pass
 * could only end in "cannot read key"). The rebuild is an empty directory
 * unless the input has a record "rebuild/<path>", written there. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/common.h>

#include "repo/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILES_MAX 64

struct rec {
    char path[256];
    const uint8_t *p;
    size_t len;
};

struct src {
    struct rec r[FILES_MAX];
    size_t n;
};

static int
get(void *opaque, const char *path, size_t cap, uint8_t **out, size_t *len)
{
    struct src *s = opaque;

    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->r[i].path, path) != 0)
            continue;
        if (s->r[i].len > cap)
            return ZUPD_E_TOOBIG;
        *out = malloc(s->r[i].len + 1);
        if (*out == NULL)
            return ZUPD_E_NOMEM;
        memcpy(*out, s->r[i].p, s->r[i].len);
        (*out)[s->r[i].len] = 0;
        *len = s->r[i].len;
        return ZUPD_OK;
    }
    return ZUPD_E_NOTFOUND;
}

static void
unpack(const uint8_t *d, size_t n, struct src *s)
{
    size_t at = 0;

    while (s->n < FILES_MAX && n - at >= 2) {
        size_t pl = (size_t)d[at] << 8 | d[at + 1], cl;
        at += 2;
        if (pl == 0 || pl >= sizeof(s->r[0].path) || n - at < pl + 4)
            return;
        memcpy(s->r[s->n].path, d + at, pl);
        s->r[s->n].path[pl] = 0;
        at += pl;
        cl = (size_t)d[at] << 24 | (size_t)d[at + 1] << 16 | (size_t)d[at + 2] << 8 | d[at + 3];
        at += 4;
        if (cl > n - at || memchr(s->r[s->n].path, 0, pl) != NULL)
            return;
        s->r[s->n].p = d + at;
        s->r[s->n].len = cl;
        at += cl;
        s->n++;
    }
}

/* a fresh rebuild directory holding the input's rebuild/ records (plain
 * names only: no directories, no dot files) */
static int
rebuild_dir(const struct src *s, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/zupd-fuzz-audit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        const char *name = s->r[i].path + 8;
        char path[512];
        FILE *f;
        if (strncmp(s->r[i].path, "rebuild/", 8) != 0 || name[0] == '\0' || name[0] == '.' ||
            strchr(name, '/') != NULL)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
            continue; /* a name too long for the rebuild: not written */
        f = fopen(path, "wbx");
        if (f == NULL)
            continue;
        if (fwrite(s->r[i].p, 1, s->r[i].len, f) != s->r[i].len)
            errno = EIO;
        fclose(f);
    }
    return 0;
}

static void
rebuild_rm(const struct src *s, const char *dir)
{
    for (size_t i = 0; i < s->n; i++) {
        char path[512];
        if (strncmp(s->r[i].path, "rebuild/", 8) != 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, s->r[i].path + 8) >= sizeof(path))
            continue;
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct src s;
    struct zp_audit_src src = {&s, get};
    struct zp_audit_opts o;
    struct zp_audit_res res;
    struct zu_buf rep;
    char dir[512], err[1024] = "";
    int rc;

    memset(&s, 0, sizeof(s));
    unpack(data, size, &s);
    if (rebuild_dir(&s, dir, sizeof(dir)) != 0)
        return 0;
    memset(&o, 0, sizeof(o));
    o.rebuild = dir;
    o.key_path = "/nonexistent/zupd-fuzz/auditor.key";
    o.out_dir = dir;
    o.now = 1800000000;
    zu_buf_init(&rep, 1u << 20);
    rc = zp_audit(&src, &o, &rep, &res, err, sizeof(err));
    if (rc == ZUPD_OK && res.failed == 0)
        abort(); /* it signed: impossible without the key */
    if (rc == ZUPD_OK && res.sig_path[0] != '\0')
        abort();
    zu_buf_release(&rep);
    rebuild_rm(&s, dir);
    return 0;
}
