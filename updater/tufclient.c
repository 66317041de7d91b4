/* SPDX-License-Identifier: Apache-2.0 */
/* updater/tufclient.c -- zupd-tuf-client: the client CLI that the public TUF
 * conformance suite (theupdateframework/tuf-conformance, CLIENT-CLI.md)
 * drives. Exit status is exactly 0 or 1, as the suite requires.
 *
 *   zupd-tuf-client --metadata-dir D init ROOT
 *   zupd-tuf-client --metadata-dir D --metadata-url U refresh
 *   zupd-tuf-client --metadata-dir D --metadata-url U --target-name P
 *                   [--target-name P2 ...] --target-dir T --target-base-url B download
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zupd/client.h>

#include "zu/fsio.h"

#define MAX_TARGETS 256

static void
log_stderr(void *opaque, int level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "zupd-tuf-client: %s%s\n", level == ZUPD_LOG_ERR ? "error: " : "", msg);
}

static int
fail(const char *what, const char *err)
{
    fprintf(stderr, "zupd-tuf-client: %s: %s\n", what, err);
    return 1;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
    return zu_read_file(AT_FDCWD, path, ZU_READ_FOLLOW, 1u << 20, out, len, NULL, 0) == ZUPD_OK
               ? 0
               : -1;
}

/* One command of the conformance suite's client protocol per run. About 120
 * lines: the suite's fixed option list and its three commands, in the order
 * the protocol documents them (docs/internals/client.md). */
int
main(int argc, char **argv)
{
    const char *mdir = NULL, *murl = NULL, *tdir = NULL, *turl = NULL, *cmd = NULL;
    const char *targets[MAX_TARGETS];
    size_t n_targets = 0;
    struct zupd_transport *tr = NULL;
    struct zupd_client *c = NULL;
    struct zupd_ctx *ctx = NULL;
    char err[1024] = "";
    int dfd = -1, tfd = -1, rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--metadata-dir") == 0 && v != NULL)
            mdir = argv[++i];
        else if (strcmp(a, "--metadata-url") == 0 && v != NULL)
            murl = argv[++i];
        else if (strcmp(a, "--target-dir") == 0 && v != NULL)
            tdir = argv[++i];
        else if (strcmp(a, "--target-base-url") == 0 && v != NULL)
            turl = argv[++i];
        else if (strcmp(a, "--target-name") == 0 && v != NULL && n_targets < MAX_TARGETS)
            targets[n_targets++] = argv[++i];
        else if (cmd == NULL && a[0] != '-')
            cmd = a;
        else if (strcmp(cmd != NULL ? cmd : "", "init") == 0 && a[0] != '-' && v == NULL)
            targets[n_targets++] = a; /* init's ROOT */
        else
            return fail("usage", "see CLIENT-CLI.md of tuf-conformance");
    }
    if (cmd == NULL || mdir == NULL)
        return fail("usage", "--metadata-dir and a command are required");
    if (zupd_init() != ZUPD_OK)
        return fail("init", "cannot initialise the crypto libraries");
    ctx = zupd_ctx_new();
    if (ctx == NULL)
        return fail("init", "out of memory");
    zupd_ctx_set_log(ctx, log_stderr, NULL, ZUPD_LOG_INFO);
    dfd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        fail(mdir, "cannot open metadata directory");
        goto out;
    }
    if (strcmp(cmd, "init") == 0) {
        uint8_t *root = NULL;
        size_t len = 0;
        if (n_targets != 1 || read_file(targets[0], &root, &len) != 0) {
            fail("init", "cannot read the trusted root file");
            goto out;
        }
        rc = zupd_client_init_dir(dfd, root, len, err, sizeof(err)) == ZUPD_OK ? 0 : 1;
        free(root);
        if (rc != 0)
            fail("init", err);
        goto out;
    }
    if (murl == NULL) {
        fail("usage", "--metadata-url is required");
        goto out;
    }
    if (zupd_curl_transport_new(ctx, NULL, &tr) != ZUPD_OK) {
        fail("init", "cannot set up libcurl");
        goto out;
    }
    {
        const char *bases[1] = {murl};
        struct zupd_client_opts o = {.size = sizeof(o),
                                     .metadata_urls = bases,
                                     .n_metadata_urls = 1,
                                     .metadata_dirfd = dfd,
                                     .transport = tr,
                                     .ctx = ctx};
        if (zupd_client_new(&o, &c, err, sizeof(err)) != ZUPD_OK) {
            fail("refresh", err);
            goto out;
        }
    }
    if (zupd_client_refresh(c, NULL, err, sizeof(err)) != ZUPD_OK) {
        fail("refresh", err);
        goto out;
    }
    if (strcmp(cmd, "refresh") == 0) {
        rc = 0;
        goto out;
    }
    if (strcmp(cmd, "download") != 0 || tdir == NULL || turl == NULL || n_targets == 0) {
        fail("usage", "download needs --target-name, --target-dir and --target-base-url");
        goto out;
    }
    tfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0) {
        fail(tdir, "cannot open target directory");
        goto out;
    }
    for (size_t i = 0; i < n_targets; i++) {
        struct zupd_target t;
        const char *bases[1] = {turl};
        char name[4096];
        bool cached = false;

        if (zupd_client_find_target(c, targets[i], &t, NULL, 0, err, sizeof(err)) != ZUPD_OK ||
            zupd_url_quote(name, sizeof(name), targets[i]) != ZUPD_OK ||
            zupd_client_download_target(c, targets[i], &t, bases, 1, tfd, name, &cached, err,
                                        sizeof(err)) != ZUPD_OK) {
            char part[4200];
            /* the target directory holds verified files only: no partials */
            snprintf(part, sizeof(part), "%s.part", name);
            (void)unlinkat(tfd, part, 0);
            fail(targets[i], err);
            goto out;
        }
    }
    rc = 0;
out:
    if (tfd >= 0)
        close(tfd);
    if (dfd >= 0)
        close(dfd);
    zupd_client_free(c);
    zupd_transport_free(tr);
    zupd_ctx_free(ctx);
    return rc;
}
