/* SPDX-License-Identifier: Apache-2.0 */
/* common/cli.c -- the command line zupd and zupd-mirror share: the exit-code
 * table (include/zu/cli.h). Linked into both programs, not into libzupd. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* ------------------------------------------------------------ --json */

static struct {
    bool on;
    bool printed;
    int code; /* the first error noted, 0 none */
    char message[1024];
} out;

void
zu_cli_json_set(bool on)
{
    out.on = on;
}

bool
zu_cli_json(void)
{
    return out.on;
}

void
zu_cli_error(int exit_code, const char *fmt, ...)
{
    va_list ap;

    if (out.code != 0 || exit_code == 0)
        return;
    out.code = exit_code;
    va_start(ap, fmt);
    vsnprintf(out.message, sizeof(out.message), fmt, ap);
    va_end(ap);
}

static void
put_error(json_t *doc, int code, const char *message)
{
    json_t *e = json_pack("{s:i,s:s,s:s}", "code", code, "name", zu_cli_exit_name(code), "message",
                          message);

    json_object_set_new(doc, "ok", json_false());
    if (e != NULL)
        json_object_set_new(doc, "error", e);
}

void
zu_cli_json_print(struct json_t *fields)
{
    json_t *doc = json_object();
    char *text;

    if (doc == NULL) {
        json_decref(fields);
        return;
    }
    if (out.code != 0)
        put_error(doc, out.code, out.message);
    else
        json_object_set_new(doc, "ok", json_true());
    if (fields != NULL)
        json_object_update_missing(doc, fields);
    json_decref(fields);
    text = json_dumps(doc, JSON_INDENT(2));
    if (text != NULL)
        puts(text);
    fflush(stdout);
    free(text);
    json_decref(doc);
    out.printed = true;
}

int
zu_cli_json_finish(int exit_code)
{
    if (!out.on || out.printed)
        return exit_code;
    if (exit_code == 0) {
        zu_cli_json_print(NULL);
        return exit_code;
    }
    if (out.code == 0) {
        out.code = exit_code;
        snprintf(out.message, sizeof(out.message), "%s", zu_cli_exit_message(exit_code));
    }
    zu_cli_json_print(NULL);
    return exit_code;
}
