/* SPDX-License-Identifier: Apache-2.0 */
/* updater/main.c -- zupd, the endpoint client: argument parsing and dispatch. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <zupd/zupd.h>

/* Exit codes (documented in docs/zupd.1): 0 ok, 1 usage error, and for a
 * library failure 10 + the zupd_err code, so scripts can tell a rollback
 * attack (16) from a network failure (20). */
#define EXIT_USAGE 1

static void
usage(FILE *f)
{
    fputs("usage: zupd [--config FILE] [--json] COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  version     print the version\n"
          "\n"
          "See zupd(1).\n",
          f);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("zupd %s\n", zupd_version());
        return 0;
    }
    fprintf(stderr, "zupd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
