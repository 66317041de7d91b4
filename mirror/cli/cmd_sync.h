/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_sync.h -- the `sync` subcommand of zupd-mirror. */
#ifndef ZUPD_CMD_SYNC_H
#define ZUPD_CMD_SYNC_H

/* argv[0] is "sync". Returns the process exit code. */
int cmd_sync(int argc, char **argv);

#endif
