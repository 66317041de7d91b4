/* SPDX-License-Identifier: Apache-2.0 */
/* common/cli.c -- the command line zupd and zupd-mirror share: the exit-code
 * table (include/zu/cli.h). Linked into both programs, not into libzupd. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <zupd/common.h>

#include "zu/cli.h"

/* The codes a program adds to the library's (10 + enum zupd_err) */
static const struct {
    int code;
    const char *name;
    const char *message;
} own[] = {
    {ZU_EXIT_OK, "ok", "success"},
    {ZU_EXIT_USAGE, "usage", "usage or configuration error"},
    {ZU_EXIT_AVAILABLE, "available", "an update is available"},
    {ZU_EXIT_UNHEALTHY, "unhealthy", "health check failed, previous version restored"},
};

int
zu_cli_exit(int zupd_rc)
{
    return zupd_rc == ZUPD_OK ? ZU_EXIT_OK : ZU_EXIT_ERR_BASE + zupd_rc;
}

static int
find_own(int code)
{
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (own[i].code == code)
            return (int)i;
    return -1;
}

const char *
zu_cli_exit_name(int code)
{
    int i = find_own(code);

    if (i >= 0)
        return own[i].name;
    if (code > ZU_EXIT_ERR_BASE && code < ZU_EXIT_ERR_BASE + ZUPD_E__MAX)
        return zupd_errname(code - ZU_EXIT_ERR_BASE);
    return "unknown";
}

const char *
zu_cli_exit_message(int code)
{
    int i = find_own(code);

    if (i >= 0)
        return own[i].message;
    if (code > ZU_EXIT_ERR_BASE && code < ZU_EXIT_ERR_BASE + ZUPD_E__MAX)
        return zupd_strerror(code - ZU_EXIT_ERR_BASE);
    return "unknown exit code";
}

void
zu_cli_list_exit_codes(FILE *f)
{
    for (int code = 0; code <= ZU_EXIT_UNHEALTHY; code++)
        if (strcmp(zu_cli_exit_name(code), "unknown") != 0)
            fprintf(f, "%d\t%s\t%s\n", code, zu_cli_exit_name(code), zu_cli_exit_message(code));
}
