/* SPDX-License-Identifier: Apache-2.0 */
/* tests/bench/tlog_fill.c -- tests/bench/tlog_endpoint.sh: grow a real
 * repository's transparency log to N entries with filler entries (logged
 * as root entries of version 0, which no client reads), committed and signed
 * with the repository's own log key by mirror/repo/translog.c, so that a
 * real zupd can then be measured updating against a log of that size.
 *
 *   tlog_fill REPO KEYS N      passphrase "pw" for every key
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "repo/repo.h"
#include "repo/repo_int.h"

static int
pass(void *opaque, const char *key_name, bool confirm, char *buf, size_t cap)
{
    (void)opaque;
    (void)key_name;
    (void)confirm;
    snprintf(buf, cap, "pw");
    return ZUPD_OK;
}

int
main(int argc, char **argv)
{
    struct zp_repo_opts o = {0};
    struct zp_repo *r = NULL;
    char err[1024] = "", text[160];
    unsigned long long n, i;
    int rc;

    if (argc != 4 || sodium_init() < 0) {
        fprintf(stderr, "usage: tlog_fill REPO KEYS N\n");
        return 2;
    }
    n = strtoull(argv[3], NULL, 10);
    o.dir = argv[1];
    o.keys_dir = argv[2];
    o.pass.fn = pass;
    rc = zp_repo_open(&o, &r, err, sizeof(err));
    for (i = 0; rc == ZUPD_OK && i < n; i++) {
        int len = snprintf(text, sizeof(text),
                           "filler %llu: an entry of about the size of a release's, %s", i,
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        rc = zp_log_root(r, 0, (const uint8_t *)text, (size_t)len, err, sizeof(err));
    }
    if (rc == ZUPD_OK)
        rc = zp_log_commit(r, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "tlog_fill: %s\n", err[0] ? err : zupd_strerror(rc));
        return 1;
    }
    return 0;
}
