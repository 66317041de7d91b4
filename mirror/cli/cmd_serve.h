/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_serve.h -- the `serve` subcommand of zupd-mirror. */
#ifndef ZUPD_CMD_SERVE_H
#define ZUPD_CMD_SERVE_H

/* argv[0] is "serve". Returns the process exit code. */
int cmd_serve(int argc, char **argv);

#endif
