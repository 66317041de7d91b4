/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/pub.h -- libzupdpub: what only a publisher needs (signing, deltas,
 * repository writing, sync, serve). Linked by zupd-mirror and the tests,
 * never by the endpoint client. */
#ifndef ZUPD_PUB_H
#define ZUPD_PUB_H

#include <zupd/zupd.h>

const char *zp_pub_version(void);

/* `zupd-mirror delta ...` (mirror/cli/cmd_delta.c): argv[0] is "delta". Returns
 * the process exit status. */
int zu_cmd_delta(int argc, char **argv);

#endif
