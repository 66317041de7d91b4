/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_witness.h -- the `witness` subcommand of zupd-mirror. */
#ifndef ZUPD_CMD_WITNESS_H
#define ZUPD_CMD_WITNESS_H

/* argv[0] is "witness", argv[1] init or serve. Returns the exit code. */
int cmd_witness(int argc, char **argv);

#endif
