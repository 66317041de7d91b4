/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_delta.c -- `zupd-mirror delta create|apply`: files, options, messages. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "delta/create.h"
#include "pub.h"
#include "zu/cli.h"
#include "zu/fsio.h"

/* The output file, replaced atomically: the parent directory of the path the
 * user gave, and a temp file in it (zu_atomic). */
struct out_file {
    int dirfd;
    struct zu_atomic a;
};

static int
out_begin(struct out_file *o, const char *path, char *base, size_t base_cap)
{
    char dir[4096];

    if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir) ||
        (size_t)snprintf(base, base_cap, "%s", path) >= base_cap)
        return ZUPD_E_MISUSE;
    o->dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->dirfd < 0)
        return zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
    return zu_atomic_begin(&o->a, o->dirfd, basename(base), 0644);
}

static int
out_write(void *opaque, const uint8_t *buf, size_t len)
{
    return zu_atomic_add(&((struct out_file *)opaque)->a, buf, len);
}

static void
out_close(struct out_file *o)
{
    zu_atomic_abort(&o->a);
    if (o->dirfd >= 0)
        close(o->dirfd);
    o->dirfd = -1;
}

/* ------------------------------------------------------------------ commands */

static const char *
apply_reason(int rc)
{
    switch (rc) {
    case ZUPD_E_FORMAT:
        return "corrupt or truncated delta";
    case ZUPD_E_HASH:
        return "result does not match the hash in the delta";
    default:
        return zupd_strerror(rc);
    }
}

/* Map an input file whole; on failure say which, as every command here does. */
static int
map_input(const char *path, struct zu_map *m)
{
    int rc = zu_map_file(AT_FDCWD, path, ZU_MAP_FOLLOW | ZU_MAP_WILLNEED, m);

    if (rc != ZUPD_OK)
        fprintf(stderr, "zupd-mirror: cannot read '%s': %s\n", path, strerror(errno));
    return rc;
}

static int
delta_apply(const char *oldp, const char *patchp, const char *newp)
{
    struct zu_map old = {NULL, 0, NULL}, patch = {NULL, 0, NULL};
    struct out_file of = {.dirfd = -1, .a = {.fd = -1}};
    struct zupd_delta_info info;
    struct zupd_delta_sink sink = {&of, out_write};
    char base[4096];
    int rc;

    rc = map_input(oldp, &old);
    if (rc != ZUPD_OK)
        goto out;
    rc = map_input(patchp, &patch);
    if (rc != ZUPD_OK)
        goto out;
    rc = zupd_delta_info(patch.p, patch.len, &info);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': %s\n", patchp,
                rc == ZUPD_E_FORMAT ? "not a delta, or truncated header" : zupd_strerror(rc));
        goto out;
    }
    rc = out_begin(&of, newp, base, sizeof(base));
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot create '%s': %s\n", newp, strerror(errno));
        goto out;
    }
    rc = zupd_delta_apply(old.p, old.len, patch.p, patch.len, 0, &sink, NULL);
    if (rc == ZUPD_E_BASE) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': delta base does not match '%s'\n", patchp,
                oldp);
        goto out;
    }
    if (rc == ZUPD_E_IO || rc == ZUPD_E_NOSPACE || rc == ZUPD_E_PERM) {
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", newp, zupd_strerror(rc));
        goto out;
    }
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot apply '%s': %s\n", patchp, apply_reason(rc));
        goto out;
    }
    rc = zu_atomic_commit(&of.a);
    if (rc != ZUPD_OK)
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", newp, zupd_strerror(rc));
out:
    out_close(&of);
    zu_unmap(&old);
    zu_unmap(&patch);
    return rc;
}

static int
delta_create(const char *oldp, const char *newp, const char *patchp, const struct zp_delta_opts *o,
             int verbose)
{
    struct zu_map old = {NULL, 0, NULL}, nw = {NULL, 0, NULL};
    struct out_file of = {.dirfd = -1, .a = {.fd = -1}};
    struct zp_delta_report rep;
    uint8_t *patch = NULL;
    size_t plen = 0;
    char base[4096];
    int rc;

    rc = map_input(oldp, &old);
    if (rc != ZUPD_OK)
        goto out;
    rc = map_input(newp, &nw);
    if (rc != ZUPD_OK)
        goto out;
    rc = zp_delta_create(old.p, old.len, nw.p, nw.len, o, &patch, &plen, &rep);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot create a delta from '%s' to '%s': %s\n", oldp, newp,
                zupd_strerror(rc));
        goto out;
    }
    rc = out_begin(&of, patchp, base, sizeof(base));
    if (rc == ZUPD_OK)
        rc = zu_atomic_add(&of.a, patch, plen);
    if (rc == ZUPD_OK)
        rc = zu_atomic_commit(&of.a);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot write '%s': %s\n", patchp, zupd_strerror(rc));
        goto out;
    }
    if (verbose) {
        struct zupd_delta_info info;
        if (zupd_delta_info(patch, plen, &info) == ZUPD_OK)
            fprintf(stderr,
                    "zupd-mirror: '%s': %zu bytes, method %s (bsdiff %zu, zstd %zu, "
                    "bsdiff40 %zu, lzma %zu)\n",
                    patchp, plen, zupd_delta_method_name(info.method), rep.bsdiff, rep.zstd,
                    rep.bsdiff40, rep.lzma);
    }
out:
    out_close(&of);
    free(patch);
    zu_unmap(&old);
    zu_unmap(&nw);
    return rc;
}

enum { D_METHOD = 256, D_LEVEL, D_NO_LZMA, D_VERBOSE, D_JSON };
static const struct zu_opt delta_opts[] = {
    {"method", required_argument, D_METHOD, 0, "auto|bsdiff|zstd|bsdiff40|lzma",
     "the delta method (create; default auto)"},
    {"level", required_argument, D_LEVEL, 0, "N", "compression level 1..22 (create)"},
    {"no-lzma", no_argument, D_NO_LZMA, 0, NULL,
     "no LZMA2 streams: format version 9 at most, faster apply (create)"},
    {"verbose", no_argument, D_VERBOSE, 'v', NULL, "say which method won and the sizes"},
    {"json", no_argument, D_JSON, 0, NULL, "one JSON document on stdout"},
    ZU_OPT_END,
};
static const struct zu_cmd delta_cmd = {
    "zupd-mirror",
    "delta",
    "create OLD NEW PATCH\napply OLD PATCH NEW",
    "create or apply a binary delta (docs/delta-format.md)",
    delta_opts,
    NULL,
    "exit status: 0 ok, 1 usage, else 10 + the zupd error code (30: wrong base,\n"
    "11: corrupt or truncated delta, 32: no space left, 19: I/O error; docs/errors.md)"};

static void
delta_usage(FILE *f)
{
    zu_cli_help(f, &delta_cmd);
}

#define EXIT_USAGE ZU_EXIT_USAGE

/* The exit code of a delta command, and its --json report: the file it
 * wrote and its size. */
static int
report(const char *cmd, const char *out, int rc)
{
    struct stat st;

    if (rc == ZUPD_OK && zu_cli_json() && stat(out, &st) == 0)
        zu_cli_json_print(json_pack("{s:s,s:s,s:I}", "command", cmd, "output", out, "bytes",
                                    (json_int_t)st.st_size));
    return zu_cli_exit(rc);
}

int
zu_cmd_delta(int argc, char **argv)
{
    struct zp_delta_opts o = {ZP_DELTA_AUTO, 0, 0};
    struct zu_cli_parser p;
    const char *pos[3], *val;
    int npos = 0, verbose = 0, ch;

    if (argc < 2) {
        delta_usage(stderr);
        return EXIT_USAGE;
    }
    if (zu_cli_wants_help(argc, argv)) {
        delta_usage(stdout);
        return 0;
    }
    zu_cli_begin(&p, &delta_cmd);
    /* argv + 1: the options and operands after create|apply */
    while ((ch = zu_cli_getopt(&p, argc - 1, argv + 1, &val)) != -1) {
        switch (ch) {
        case D_METHOD:
            if (zp_delta_method_parse(val, &o.method) != ZUPD_OK)
                return zu_cli_usage(&delta_cmd, "unknown delta method '%s'", val);
            break;
        case D_LEVEL: {
            char *end;
            long v = strtol(val, &end, 10);
            if (*val == '\0' || *end != '\0' || v < 1 || v > ZP_DELTA_LEVEL_MAX)
                return zu_cli_usage(&delta_cmd, "level must be 1..%d, not '%s'", ZP_DELTA_LEVEL_MAX,
                                    val);
            o.level = (int)v;
            break;
        }
        case D_NO_LZMA:
            o.no_lzma = 1;
            break;
        case D_VERBOSE:
            verbose = 1;
            break;
        case D_JSON:
            zu_cli_json_set(true);
            break;
        default:
            return EXIT_USAGE; /* reported */
        }
    }
    for (int i = optind + 1; i < argc; i++) {
        if (npos == 3) {
            delta_usage(stderr);
            return EXIT_USAGE;
        }
        pos[npos++] = argv[i];
    }
    if (npos != 3) {
        delta_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "create") == 0) {
        if (o.method == ZUPD_DELTA_LZMA && o.no_lzma) {
            fprintf(stderr, "zupd-mirror: --method lzma and --no-lzma contradict each other\n");
            return EXIT_USAGE;
        }
        return report(argv[1], pos[2], delta_create(pos[0], pos[1], pos[2], &o, verbose));
    }
    if (strcmp(argv[1], "apply") == 0) {
        if (o.method != ZP_DELTA_AUTO || o.level != 0 || o.no_lzma) {
            fprintf(stderr, "zupd-mirror: apply takes no --method, --level or --no-lzma\n");
            return EXIT_USAGE;
        }
        return report(argv[1], pos[2], delta_apply(pos[0], pos[1], pos[2]));
    }
    fprintf(stderr, "zupd-mirror: unknown delta command '%s'\n", argv[1]);
    delta_usage(stderr);
    return EXIT_USAGE;
}
