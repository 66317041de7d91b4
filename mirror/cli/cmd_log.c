/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_log.c -- zupd-mirror log verify: the repository's
 * transparency log checked against its TUF metadata (docs/transparency.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cmd_common.h"

static int
log_verify(int argc, char **argv)
{
    struct zp_repo_opts ro = {0};
    struct zp_log_res res;
    const char *vkey = NULL;
    char err[ERR_CAP] = "", root[64];
    int rc;

    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--vkey") == 0 && i + 1 < argc)
            vkey = argv[++i];
        else
            return zp_cmd_usage("usage: log verify DIR [--vkey VKEY]");
    }
    ro.dir = argv[2];
    ro.now = zp_cmd_now();
    rc = zp_log_verify(&ro, vkey, &res, err, sizeof(err));
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: log verify '%s' failed: %s\n", argv[2], err);
        return 10 + rc;
    }
    sodium_bin2base64(root, sizeof(root), res.root, sizeof(res.root),
                      sodium_base64_VARIANT_ORIGINAL);
    printf("ok: log '%s' of %llu entries, root %s%s\n"
           "ok: %zu releases, %zu channel changes, %zu root versions, %zu other entries\n"
           "ok: %zu targets and every root version logged (%zu matched); %zu entries no longer "
           "signed (superseded or pruned)\n",
           res.origin, (unsigned long long)res.size, root,
           vkey == NULL ? " (key: the repository's log/vkey)" : "", res.releases, res.channels,
           res.roots, res.other, res.targets, res.matched, res.not_current);
    return 0;
}

int
zp_cmd_log(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "verify") == 0)
        return log_verify(argc, argv);
    return zp_cmd_usage("usage: log verify DIR [--vkey VKEY]");
}
