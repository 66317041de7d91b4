/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/log_url.c -- zupd-mirror log verify URL: the repository at
 * URL read as sync reads an upstream (verified against the trusted root,
 * into a temporary directory), and its transparency log cross-checked with
 * it as sync_log.c checks an upstream's (docs/transparency.md). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/logaudit.h"
#include "sync/sync.h"
#include "sync/sync_int.h"

static void
rm_tree_files(int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            (void)unlinkat(dfd, e->d_name, 0);
    closedir(d);
}

int
zp_log_verify_url(const struct zp_sync_opts *o, const char *vkey, struct zp_log_res *res, char *err,
                  size_t cap)
{
    struct zp_log_trust trust = {vkey, NULL, 0, 0};
    struct zp_log_cp cp;
    struct zp_tuf_view tv;
    struct zp_sync_res sres;
    struct sync s;
    uint8_t *pinned = NULL;
    size_t pinned_len = 0, n;
    const char *tmp = getenv("TMPDIR");
    char mdir[4096] = "";
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&cp, 0, sizeof(cp));
    memset(&s, 0, sizeof(s));
    memset(&sres, 0, sizeof(sres));
    s.o = o;
    s.res = &sres;
    s.err = err;
    s.cap = cap;
    s.dfd = s.mfd = s.sfd = s.lockfd = -1;
    if (o->upstream == NULL || o->root_path == NULL)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "log verify URL needs the trusted root (--root)");
    n = strlen(o->upstream);
    s.base = malloc(n + 2);
    s.mbase = malloc(n + 12);
    s.tbase = malloc(n + 12);
    if (s.base == NULL || s.mbase == NULL || s.tbase == NULL) {
        rc = zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
        goto out;
    }
    snprintf(s.base, n + 2, "%s%s", o->upstream, n > 0 && o->upstream[n - 1] == '/' ? "" : "/");
    snprintf(s.mbase, n + 12, "%smetadata/", s.base);
    snprintf(s.tbase, n + 12, "%stargets/", s.base);
    rc = zp_get(AT_FDCWD, o->root_path, 512u << 10, &pinned, &pinned_len);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "%s: %s", o->root_path, zupd_strerror(rc));
        goto out;
    }
    snprintf(mdir, sizeof(mdir), "%s/zupd-log-verify.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(mdir) == NULL) {
        rc = zu_fail(err, cap, zu_errno_to_err(errno), "%s: %s", mdir, strerror(errno));
        mdir[0] = '\0';
        goto out;
    }
    s.mfd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (s.mfd < 0) {
        rc = zu_fail(err, cap, zu_errno_to_err(errno), "%s: %s", mdir, strerror(errno));
        goto out;
    }
    rc = zp_sync_open_upstream(&s, pinned, pinned_len);
    if (rc == ZUPD_OK)
        rc = zp_upstream_roles(s.c, &s.uo, &s.roles, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_sync_roots(&s, pinned, pinned_len);
    if (rc == ZUPD_OK)
        rc = zp_logsrc_open(s.base, o->ca_file, o->ctx, &s.log, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_log_cp_read(s.log, &trust, &cp, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    zp_sync_log_view(&s, &tv);
    rc = zp_log_crosscheck(zp_logsrc_reader(s.log), &cp.c, &tv, res, err, cap);
out:
    zp_log_cp_release(&cp);
    zp_sync_log_free(&s);
    if (s.mfd >= 0)
        rm_tree_files(s.mfd);
    zp_sync_free(&s);
    if (mdir[0] != '\0')
        (void)rmdir(mdir);
    free(pinned);
    return rc;
}
