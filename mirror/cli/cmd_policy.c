/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_policy.c -- zupd-mirror policy init|pin|rollback|release|show
 * (the enterprise policy repository) and zupd-mirror floor (the vendor's
 * security floor): arguments and output; the logic is in policy.c. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <zupd/manifest.h>
#include <zupd/meta.h>

#include "cli/cmd_common.h"

static const char policy_usage[] =
    "usage: policy init DIR [--keys KEYDIR] [--expires ROLE=DAYS]...\n"
    "       policy pin COMPONENT VERSION --channel C [--role R] [--until TIME | --for N{d,h,m}]\n"
    "                  [--note TEXT] [--vendor VENDOR-DIR]\n"
    "       policy rollback COMPONENT VERSION --channel C [same options as pin]\n"
    "       policy release COMPONENT --channel C [--role R]\n"
    "       policy show [--json]\n"
    "  (-C DIR or ZUPD_MIRROR_REPO names the policy repository)";

/* --for N[d|h|m|s] */
static bool
duration(const char *s, int64_t *out)
{
    char buf[32];
    size_t l = strlen(s);
    int64_t unit = 1;
    long v;

    if (l == 0 || l >= sizeof(buf))
        return false;
    memcpy(buf, s, l + 1);
    switch (buf[l - 1]) {
    case 'd':
        unit = ZP_DAY;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'm':
        unit = 60;
        break;
    case 's':
        unit = 1;
        break;
    default:
        return false;
    }
    buf[l - 1] = '\0';
    if (!zp_cmd_num(buf, 1, 100000L * 24, &v))
        return false;
    *out = v * unit;
    return true;
}

static int
policy_init(int argc, char **argv)
{
    struct common o;
    struct zp_repo_opts ro;
    struct zp_init_opts io;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zp_cmd_usage(policy_usage);
    o.repo = argv[optind];
    zp_cmd_repo_opts(&o, &ro);
    memset(&io, 0, sizeof(io));
    io.root_keys = o.root_keys > 0 ? (unsigned)o.root_keys : 1;
    io.root_threshold = o.root_threshold > 0 ? (unsigned)o.root_threshold : 1;
    io.config = o.cfg;
    io.config.policy = true;
    if (o.pkcs11_module != NULL && o.pkcs11_module[0] == '/')
        snprintf(io.config.pkcs11_module, sizeof(io.config.pkcs11_module), "%s", o.pkcs11_module);
    io.same_passphrase = o.same_passphrase;
    if (zp_kdf_cost_for(true, o.online_kdf, &io.online_cost) != ZUPD_OK ||
        zp_kdf_cost_for(false, NULL, &io.offline_cost) != ZUPD_OK)
        return zp_cmd_usage("--online-kdf wants interactive, moderate or sensitive");
    rc = zp_repo_init(&ro, &io, err, sizeof(err));
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "initialize", o.repo, err);
    printf("initialized policy repository '%s' (its own root: %u of %u keys); endpoints trust "
           "'%s/metadata/1.root.json' as their policy root\n",
           o.repo, io.root_threshold, io.root_keys, o.repo);
    zp_cmd_custody(&o, io.root_keys);
    return 0;
}

static int
policy_pin(int argc, char **argv, bool rollback)
{
    const char *what = rollback ? "roll back" : "pin";
    struct common o;
    struct zp_repo *r = NULL;
    struct zp_pin p;
    char err[ERR_CAP] = "", subj[300], when[32] = "";
    int64_t dur = 0, now;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 2 != argc || o.channel == NULL)
        return zp_cmd_usage(policy_usage);
    memset(&p, 0, sizeof(p));
    rc = zp_cmd_role(&o, &p.role);
    if (rc != 0)
        return rc;
    if (o.until != NULL && o.dur != NULL)
        return zp_cmd_usage("--until and --for exclude each other");
    if (o.until != NULL && zupd_time_parse(o.until, strlen(o.until), &p.expires) != ZUPD_OK)
        return zp_cmd_usage("--until wants a UTC time like 2026-12-31T00:00:00Z");
    if (o.dur != NULL && !duration(o.dur, &dur))
        return zp_cmd_usage("--for wants a duration like 7d, 12h or 30m");
    now = zp_cmd_now() != 0 ? zp_cmd_now() : (int64_t)time(NULL);
    if (dur != 0)
        p.expires = now + dur;
    p.component = argv[optind];
    p.version = argv[optind + 1];
    p.channel = o.channel;
    p.note = o.note;
    p.rollback = rollback;
    snprintf(subj, sizeof(subj), "%s %s", p.component, p.version);
    rc = zp_cmd_open(&o, what, &r);
    if (rc != 0)
        return rc;
    rc = zp_policy_pin(r, &p, o.vendor, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, what, subj, err);
    if (p.expires != 0 && zupd_time_format(p.expires, when, sizeof(when)) != ZUPD_OK)
        snprintf(when, sizeof(when), "?");
    printf("%s: the fleet's channel '%s' of '%s' now installs %s%s%s\n",
           rollback ? "rolled back" : "pinned", p.channel, p.component, p.version,
           p.expires != 0 ? " until " : "", when);
    return 0;
}

static int
policy_release(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    enum zp_role role;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc || o.channel == NULL)
        return zp_cmd_usage(policy_usage);
    rc = zp_cmd_role(&o, &role);
    if (rc == 0)
        rc = zp_cmd_open(&o, "release", &r);
    if (rc != 0)
        return rc;
    rc = zp_policy_release(r, role, argv[optind], o.channel, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "release", argv[optind], err);
    printf("released: channel '%s' of '%s' follows the vendor again\n", o.channel, argv[optind]);
    return 0;
}

static int
policy_show(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    struct zp_pin_entry *v = NULL;
    char err[ERR_CAP] = "";
    json_t *arr;
    size_t n = 0;
    int64_t now;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind != argc)
        return zp_cmd_usage(policy_usage);
    rc = zp_cmd_open(&o, "read", &r);
    if (rc != 0)
        return rc;
    rc = zp_check_policy_repo(r, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zp_policy_list(r, &v, &n);
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "read", o.repo, err);
    now = zp_cmd_now() != 0 ? zp_cmd_now() : (int64_t)time(NULL);
    arr = json_array();
    if (!o.json && n == 0)
        printf("no pins: every channel follows the vendor\n");
    for (size_t i = 0; i < n; i++) {
        const struct zupd_channel *c = v[i].ch;
        char when[32] = "";
        bool expired = c->expires != 0 && c->expires <= now;
        if (c->expires != 0 && zupd_time_format(c->expires, when, sizeof(when)) != ZUPD_OK)
            snprintf(when, sizeof(when), "?");
        if (o.json) {
            json_t *e =
                json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "role", zp_role_name(v[i].role), "component",
                          c->component, "channel", c->channel, "version", c->version, "kind",
                          c->rollback ? "rollback" : "pin", "expired", expired);
            if (e != NULL && c->expires != 0)
                json_object_set_new(e, "expires", json_string(when));
            if (e != NULL && c->note != NULL)
                json_object_set_new(e, "note", json_string(c->note));
            json_array_append_new(arr, e);
        } else {
            printf("%s/%s channel '%s': %s %s%s%s%s%s%s\n", zp_role_name(v[i].role), c->component,
                   c->channel, c->rollback ? "rolled back to" : "pinned to", c->version,
                   c->expires != 0 ? (expired ? ", expired " : ", until ") : "", when,
                   c->note != NULL ? " (" : "", c->note != NULL ? c->note : "",
                   c->note != NULL ? ")" : "");
        }
    }
    if (o.json) {
        char *text = json_dumps(arr, JSON_INDENT(2));
        if (text != NULL)
            printf("%s\n", text);
        free(text);
    }
    json_decref(arr);
    zp_pins_free(v, n);
    return 0;
}

int
zp_cmd_policy(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (strcmp(sub, "init") == 0)
        return policy_init(argc - 1, argv + 1);
    if (strcmp(sub, "pin") == 0)
        return policy_pin(argc - 1, argv + 1, false);
    if (strcmp(sub, "rollback") == 0)
        return policy_pin(argc - 1, argv + 1, true);
    if (strcmp(sub, "release") == 0)
        return policy_release(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return policy_show(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0) {
        printf("%s\n", policy_usage);
        return 0;
    }
    return zp_cmd_usage(policy_usage);
}

int
zp_cmd_floor(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    enum zp_role role;
    char err[ERR_CAP] = "", subj[300];
    size_t n = 0;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 2 != argc)
        return zp_cmd_usage("usage: floor COMPONENT VERSION [--role R]");
    rc = zp_cmd_role(&o, &role);
    if (rc == 0)
        rc = zp_cmd_open(&o, "set the floor of", &r);
    if (rc != 0)
        return rc;
    snprintf(subj, sizeof(subj), "%s %s", argv[optind], argv[optind + 1]);
    rc = zp_floor_set(r, role, argv[optind], argv[optind + 1], &n, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "set the floor", subj, err);
    printf("security floor of '%s' is %s (on %zu channel%s); no enterprise pin can hold it "
           "lower\n",
           argv[optind], argv[optind + 1], n, n == 1 ? "" : "s");
    return 0;
}
