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
zu_cli_json_scan(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            out.on = true;
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

/* ------------------------------------------------------------ options */

static void
add_opts(struct zu_cli_parser *p, const struct zu_opt *o, size_t *n, size_t *ns)
{
    for (; o != NULL && o->name != NULL && *n < ZU_CLI_MAX_OPTS; o++) {
        p->lo[*n].name = o->name;
        p->lo[*n].has_arg = o->has_arg;
        p->lo[*n].flag = NULL;
        p->lo[*n].val = 0x10000 + (int)*n;
        p->ids[*n] = o->id;
        if (o->short_name != 0) {
            p->shorts[(*ns)++] = (char)o->short_name;
            if (o->has_arg == required_argument)
                p->shorts[(*ns)++] = ':';
        }
        (*n)++;
    }
}

void
zu_cli_begin(struct zu_cli_parser *p, const struct zu_cmd *cmd)
{
    size_t n = 0, ns = 0;

    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->shorts[ns++] = ':'; /* a missing value is ':', not '?' */
    add_opts(p, cmd->opts, &n, &ns);
    add_opts(p, cmd->common, &n, &ns);
    p->lo[n].name = "help";
    p->lo[n].has_arg = no_argument;
    p->lo[n].val = 0x10000 + (int)n;
    p->ids[n] = ZU_CLI_HELP;
    p->shorts[ns++] = 'h';
    p->shorts[ns] = '\0';
    optind = 0; /* 0, not 1: GNU getopt starts afresh (a second parse in one run) */
    opterr = 0;
}

int
zu_cli_usage(const struct zu_cmd *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s (see %s %s%s--help)\n", cmd->prog, msg, cmd->prog,
            cmd->name != NULL ? cmd->name : "", cmd->name != NULL ? " " : "");
    zu_cli_error(ZU_EXIT_USAGE, "%s", msg);
    return ZU_EXIT_USAGE;
}

int
zu_cli_getopt(struct zu_cli_parser *p, int argc, char **argv, const char **arg)
{
    int ch = getopt_long(argc, argv, p->shorts, p->lo, NULL);
    const char *bad;

    *arg = optarg;
    if (ch == -1)
        return -1;
    if (ch >= 0x10000)
        return p->ids[ch - 0x10000];
    if (ch == 'h')
        return ZU_CLI_HELP;
    if (ch != '?' && ch != ':') {
        for (const struct zu_opt *t = p->cmd->opts; t != NULL && t->name != NULL; t++)
            if (t->short_name == ch)
                return t->id;
        for (const struct zu_opt *t = p->cmd->common; t != NULL && t->name != NULL; t++)
            if (t->short_name == ch)
                return t->id;
    }
    bad = optind > 0 && optind <= argc && argv[optind - 1] != NULL ? argv[optind - 1] : "?";
    if (ch == ':')
        zu_cli_usage(p->cmd, "option '%s' needs a value", bad);
    else if (optopt != 0 && optopt < 0x10000 && bad[0] == '-' && bad[1] != '-')
        zu_cli_usage(p->cmd, "unknown option '-%c'", optopt);
    else
        zu_cli_usage(p->cmd, "unknown or incomplete option '%s'", bad);
    return ZU_CLI_BAD;
}

bool
zu_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static void
help_opts(FILE *f, const struct zu_opt *o)
{
    for (; o != NULL && o->name != NULL; o++) {
        char left[64];
        const char *val = o->arg != NULL ? o->arg : "VALUE";

        if (o->has_arg == required_argument)
            snprintf(left, sizeof(left), "--%s %s", o->name, val);
        else if (o->has_arg == optional_argument)
            snprintf(left, sizeof(left), "--%s[=%s]", o->name, val);
        else
            snprintf(left, sizeof(left), "--%s", o->name);
        if (o->short_name != 0)
            fprintf(f, "  -%c, %-28s %s\n", o->short_name, left, o->help);
        else
            fprintf(f, "      %-28s %s\n", left, o->help);
    }
}

void
zu_cli_help(FILE *f, const struct zu_cmd *cmd)
{
    const char *s = cmd->synopsis != NULL ? cmd->synopsis : "";
    const char *word = "usage:";

    do {
        const char *nl = strchr(s, '\n');
        int len = nl != NULL ? (int)(nl - s) : (int)strlen(s);
        fprintf(f, "%s %s %s%s%.*s [OPTIONS]\n", word, cmd->prog, cmd->name, len > 0 ? " " : "",
                len, s);
        word = "      ";
        s = nl != NULL ? nl + 1 : NULL;
    } while (s != NULL);
    if (cmd->summary != NULL)
        fprintf(f, "\n%s\n", cmd->summary);
    fprintf(f, "\noptions:\n");
    help_opts(f, cmd->opts);
    help_opts(f, cmd->common);
    fprintf(f, "  -h, %-28s %s\n", "--help", "print this help and exit");
    if (cmd->more != NULL)
        fprintf(f, "\n%s\n", cmd->more);
}
