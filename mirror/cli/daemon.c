/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/daemon.c -- signals and log lines of the servers (daemon.h). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include <zupd/common.h>

#include "cli/daemon.h"

static bool quiet;

void
zp_daemon_signals(sigset_t *set, int extra)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    if (extra != 0)
        sigaddset(set, extra);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

void
zp_daemon_quiet(bool on)
{
    quiet = on;
}

bool
zp_daemon_is_quiet(void)
{
    return quiet;
}

void
zp_daemon_log(void *opaque, int level, const char *msg)
{
    (void)opaque;
    if (quiet && level > ZUPD_LOG_WARN)
        return;
    fprintf(stderr, "zupd-mirror: %s\n", msg);
}
