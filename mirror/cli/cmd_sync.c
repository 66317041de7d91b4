/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_sync.c -- `zupd-mirror sync`: options and the report; the sync
 * itself is mirror/sync/sync.c and mirror/sync/sync_commit.c. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zupd/common.h>
#include <zupd/manifest.h>

#include "cli/cmd_sync.h"
#include "sync/sync.h"
#include "zu/cli.h"

#define EXIT_USAGE ZU_EXIT_USAGE
#define MAX_COMPONENTS 256
#define MAX_KEEP 100000

static const struct zu_opt sync_opts[] = {
    {"root", required_argument, 'r', 0, "FILE",
     "the pinned root (needed by the first sync of DIR)"},
    {"component", required_argument, 'c', 0, "NAME",
     "only this component's manifests, channels, blobs (repeatable)"},
    {"channel", required_argument, 'n', 0, "NAME",
     "only this channel's pointers and the releases they name (repeatable)"},
    {"keep", required_argument, 'k', 0, "N", "also the newest N releases of each component"},
    {"policy", required_argument, 'p', 0, "URL|DIR",
     "the enterprise policy repository: every release it pins is kept too"},
    {"policy-root", required_argument, 'P', 0, "FILE",
     "the policy repository's trusted root (needed with --policy)"},
    {"ca-file", required_argument, 'C', 0, "FILE", "CA certificates for an https upstream"},
    {"log-vkey", required_argument, 'L', 0, "VKEY",
     "the upstream's transparency log key (else the one DIR holds, else the upstream's)"},
    {"json", no_argument, 'j', 0, NULL,
     "print the report as JSON (docs/json-envelope.schema.json)"},
    {"quiet", no_argument, 'q', 0, NULL, "no report unless something failed"},
    {"verbose", no_argument, 'v', 'v', NULL, "the library's debug lines on stderr"},
    ZU_OPT_END,
};
static const struct zu_cmd sync_cmd = {
    "zupd-mirror",
    "sync",
    "UPSTREAM-URL DIR --root PINNED-ROOT.json",
    "Make DIR a mirror of the repository at UPSTREAM-URL, verified as a client verifies it\n"
    "against the pinned root; DIR keeps its last good state when the upstream fails or lies.",
    sync_opts,
    NULL,
    "With --channel or --keep, what DIR no longer needs is removed once the new state is\n"
    "served. Serve DIR with `zupd-mirror serve DIR`. See docs/mirror.md, \"Sync\"."};

static void
sync_usage(FILE *f)
{
    zu_cli_help(f, &sync_cmd);
}

static int verbose = 0;

static void
log_stderr(void *opaque, int level, const char *msg)
{
    (void)opaque;
    if (level > ZUPD_LOG_WARN && !verbose)
        return;
    fprintf(stderr, "zupd-mirror: %s\n", msg);
}

struct news {
    char **v;
    size_t n, cap;
};

struct pins {
    struct {
        struct zp_pin_ref ref;
        enum zp_pin_state state;
    } * v;
    size_t n, cap;
};

struct notes {
    struct news added, removed;
    struct pins pins;
};

static const char *const pin_states[] = {"kept", "unsigned", "not-mirrored"};

static void
note_path(struct news *nw, const char *path)
{
    /* paths of one sync's targets; a path not noted is only missing from
     * the report */
    if (ZU_GROW(&nw->v, &nw->cap, nw->n + 1, (size_t)1 << 20) != ZUPD_OK)
        return;
    nw->v[nw->n] = strdup(path);
    if (nw->v[nw->n] != NULL)
        nw->n++;
}

static void
note_target(void *opaque, const char *path)
{
    note_path(&((struct notes *)opaque)->added, path);
}

static void
note_removed(void *opaque, const char *path)
{
    note_path(&((struct notes *)opaque)->removed, path);
}

static void
news_free(struct news *nw)
{
    for (size_t i = 0; i < nw->n; i++)
        free(nw->v[i]);
    free(nw->v);
}

static json_t *
json_list(const struct news *nw)
{
    json_t *a = json_array();

    for (size_t i = 0; i < nw->n; i++)
        json_array_append_new(a, json_string(nw->v[i]));
    return a;
}

static void
note_pin(void *opaque, const struct zp_pin_ref *p, enum zp_pin_state st)
{
    struct pins *pl = &((struct notes *)opaque)->pins;

    /* a pin not noted is only missing from the report */
    if (ZU_GROW(&pl->v, &pl->cap, pl->n + 1, ZP_PINS_MAX) != ZUPD_OK)
        return;
    pl->v[pl->n].ref = *p;
    pl->v[pl->n].state = st;
    pl->n++;
}

/* [{"pointer":..,"release":..,"version":..,"state":..}] */
static json_t *
json_pins(const struct pins *pl)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < pl->n; i++)
        json_array_append_new(a,
                              json_pack("{s:s,s:s,s:s,s:s}", "pointer", pl->v[i].ref.pointer,
                                        "release", pl->v[i].ref.manifest, "version",
                                        pl->v[i].ref.version, "state", pin_states[pl->v[i].state]));
    return a;
}

/* The report of one sync as one JSON object on stdout (--json), in the
 * envelope of every command (common/cli.c): "ok", and "error" on failure. */
static void
print_json(const struct zp_sync_opts *o, const struct zp_sync_res *r, const struct notes *nw)
{
    json_t *doc = json_pack("{s:s,s:b}", "upstream", o->upstream, "changed", r->changed);
    const struct {
        const char *name;
        uint64_t v;
    } n[] = {
        {"root_version", r->root_version},
        {"timestamp_version", r->timestamp_version},
        {"snapshot_version", r->snapshot_version},
        {"roles", r->roles},
        {"targets", r->targets},
        {"targets_fetched", r->targets_fetched},
        {"blobs", r->blobs},
        {"blobs_fetched", r->blobs_fetched},
        {"blob_bytes_fetched", r->blob_bytes_fetched},
        {"metadata_written", r->meta_written},
        {"requests", r->requests},
        {"bytes_fetched", r->bytes_fetched},
        {"targets_skipped", r->targets_skipped},
        {"targets_removed", r->targets_removed},
        {"blobs_removed", r->blobs_removed},
        {"bytes_removed", r->bytes_removed},
        {"pins_kept", r->pins_kept},
        {"log_size", r->log_size},
        {"log_files_fetched", r->log_files_fetched},
    };

    for (size_t i = 0; doc != NULL && i < sizeof(n) / sizeof(n[0]); i++)
        json_object_set_new(doc, n[i].name, json_integer((json_int_t)n[i].v));
    if (doc != NULL) {
        json_object_set_new(doc, "new_targets", json_list(&nw->added));
        json_object_set_new(doc, "removed_targets", json_list(&nw->removed));
        json_object_set_new(doc, "pins", json_pins(&nw->pins));
        json_object_set_new(doc, "log", json_boolean(r->log));
    }
    zu_cli_json_print(doc);
}

/* The report of a sync that worked, for people. */
static void
print_text(const struct zp_sync_opts *o, const struct zp_sync_res *r, const struct notes *nw)
{
    printf("synced %s: timestamp %llu, snapshot %llu, root %llu%s\n"
           "  %llu targets (%llu fetched), %llu blobs (%llu fetched, %llu bytes), "
           "%llu metadata files written\n"
           "  %llu requests, %llu bytes from the upstream\n"
           "  %llu targets not mirrored; removed %llu targets and %llu blobs (%llu bytes)\n",
           o->dir, (unsigned long long)r->timestamp_version,
           (unsigned long long)r->snapshot_version, (unsigned long long)r->root_version,
           r->changed ? "" : " (unchanged)", (unsigned long long)r->targets,
           (unsigned long long)r->targets_fetched, (unsigned long long)r->blobs,
           (unsigned long long)r->blobs_fetched, (unsigned long long)r->blob_bytes_fetched,
           (unsigned long long)r->meta_written, (unsigned long long)r->requests,
           (unsigned long long)r->bytes_fetched, (unsigned long long)r->targets_skipped,
           (unsigned long long)r->targets_removed, (unsigned long long)r->blobs_removed,
           (unsigned long long)r->bytes_removed);
    if (r->log)
        printf("  transparency log: %llu entries, consistent and every target logged (%llu tiles "
               "fetched)\n",
               (unsigned long long)r->log_size, (unsigned long long)r->log_files_fetched);
    for (size_t i = 0; i < nw->added.n; i++)
        printf("  new: %s\n", nw->added.v[i]);
    for (size_t i = 0; i < nw->removed.n; i++)
        printf("  removed: %s\n", nw->removed.v[i]);
    for (size_t i = 0; i < nw->pins.n; i++)
        printf("  pinned: %s (%s): %s\n", nw->pins.v[i].ref.manifest, nw->pins.v[i].ref.pointer,
               pin_states[nw->pins.v[i].state]);
}

int
cmd_sync(int argc, char **argv)
{
    const char *comps[MAX_COMPONENTS], *chans[MAX_COMPONENTS];
    struct zp_sync_opts o;
    struct zp_sync_res r;
    struct zupd_ctx *ctx = NULL;
    struct notes nw = {{NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}};
    char *end = NULL;
    unsigned long keep;
    char err[1024] = "";
    int ch, rc, json = 0, quiet = 0;

    memset(&o, 0, sizeof(o));
    struct zu_cli_parser p;
    const char *optarg_;

    zu_cli_begin(&p, &sync_cmd);
    while ((ch = zu_cli_getopt(&p, argc, argv, &optarg_)) != -1) {
        switch (ch) {
        case 'r':
            o.root_path = optarg;
            break;
        case 'c':
            if (o.n_components == MAX_COMPONENTS) {
                fprintf(stderr, "zupd-mirror sync: at most %d --component\n", MAX_COMPONENTS);
                return EXIT_USAGE;
            }
            comps[o.n_components++] = optarg;
            break;
        case 'n':
            if (o.n_channels == MAX_COMPONENTS) {
                fprintf(stderr, "zupd-mirror sync: at most %d --channel\n", MAX_COMPONENTS);
                return EXIT_USAGE;
            }
            if (!zupd_name_is_safe(optarg)) {
                fprintf(stderr, "zupd-mirror sync: bad channel name '%s'\n", optarg);
                return EXIT_USAGE;
            }
            chans[o.n_channels++] = optarg;
            break;
        case 'k':
            errno = 0;
            keep = strtoul(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || keep == 0 ||
                keep > MAX_KEEP) {
                fprintf(stderr, "zupd-mirror sync: --keep takes a number from 1 to %d\n", MAX_KEEP);
                return EXIT_USAGE;
            }
            o.keep = (unsigned)keep;
            break;
        case 'C':
            o.ca_file = optarg;
            break;
        case 'L':
            o.log_vkey = optarg;
            break;
        case 'p':
            o.policy = optarg;
            break;
        case 'P':
            o.policy_root = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case ZU_CLI_HELP:
            sync_usage(stdout);
            return 0;
        default:
            return EXIT_USAGE; /* reported */
        }
    }
    if (argc - optind != 2) {
        sync_usage(stderr);
        return EXIT_USAGE;
    }
    if ((o.policy == NULL) != (o.policy_root == NULL)) {
        fprintf(stderr, "zupd-mirror sync: %s\n",
                o.policy != NULL ? "--policy needs the policy repository's trusted root "
                                   "(--policy-root ROOT.json)"
                                 : "--policy-root without --policy");
        return EXIT_USAGE;
    }
    o.upstream = argv[optind];
    o.dir = argv[optind + 1];
    o.components = comps;
    o.channels = chans;
    if (zupd_init() != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror sync: cannot initialise libzupd\n");
        return zu_cli_exit(ZUPD_E_MISUSE);
    }
    ctx = zupd_ctx_new();
    if (ctx == NULL)
        return zu_cli_exit(ZUPD_E_NOMEM);
    zupd_ctx_set_log(ctx, log_stderr, NULL, verbose ? ZUPD_LOG_DEBUG : ZUPD_LOG_WARN);
    o.ctx = ctx;
    o.on_new_target = note_target;
    o.on_removed_target = note_removed;
    o.on_pin = note_pin;
    o.opaque = &nw;
    rc = zp_sync(&o, &r, err, sizeof(err));
    if (rc != ZUPD_OK)
        zu_cli_error(zu_cli_exit(rc), "sync '%s' failed: %s", o.dir, err);
    if (json)
        print_json(&o, &r, &nw);
    else if (rc == ZUPD_OK && !quiet)
        print_text(&o, &r, &nw);
    news_free(&nw.added);
    news_free(&nw.removed);
    free(nw.pins.v);
    if (rc != ZUPD_OK)
        fprintf(stderr,
                "zupd-mirror: sync '%s' failed (it keeps serving its last good state): %s\n", o.dir,
                err);
    zupd_ctx_free(ctx);
    return zu_cli_exit(rc);
}
