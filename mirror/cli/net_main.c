/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/net_main.c -- zupd-mirror-sync, zupd-mirror-audit,
 * zupd-mirror-serve and zupd-mirror-witness: the `sync`, `audit`, `serve`
 * and `witness` subcommands as programs
 * of their own, run by `zupd-mirror sync|audit|serve` (mirror/cli/main.c).
 * Only they use the network libraries (libcurl, libmicrohttpd and what those
 * load), so every other command starts without them. Built four times:
 * with ZU_NET_SYNC, ZU_NET_AUDIT, ZU_NET_WITNESS, and with none (serve). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "keys/passphrase.h"
#include "zu/cli.h"

#if defined(ZU_NET_SYNC)
#include "cli/cmd_sync.h"
#define ZU_NET_CMD "sync"
#define ZU_NET_RUN cmd_sync
#elif defined(ZU_NET_AUDIT)
#include "cli/cmd_audit.h"
#define ZU_NET_CMD "audit"
#define ZU_NET_RUN cmd_audit
#elif defined(ZU_NET_WITNESS)
#include "cli/cmd_witness.h"
#define ZU_NET_CMD "witness"
#define ZU_NET_RUN cmd_witness
#else
#include "cli/cmd_serve.h"
#define ZU_NET_CMD "serve"
#define ZU_NET_RUN cmd_serve
#endif

int
main(int argc, char **argv)
{
    zp_pass_env_take(); /* run directly: no passphrase stays in the environment */
    if (argc < 2 || strcmp(argv[1], ZU_NET_CMD) != 0) {
        fprintf(stderr, "zupd-mirror-%s: run as 'zupd-mirror %s ...'\n", ZU_NET_CMD, ZU_NET_CMD);
        return 1;
    }
    zu_cli_json_scan(argc, argv);
    return zu_cli_json_finish(ZU_NET_RUN(argc - 1, argv + 1));
}
