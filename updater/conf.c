/* SPDX-License-Identifier: Apache-2.0 */
/* updater/conf.c -- parse zupd.conf with libconfig; validate every setting. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <zupd/update.h>

#include "conf.h"
#include "zu/fsio.h"

/* A file:// mirror (a mounted share, a removable medium): a local absolute
 * path, file:///p or file://localhost/p (lib/fetch_file.c reads it). */
static bool
file_mirror_ok(const char *url)
{
    return strncmp(url, "file:///", 8) == 0 || strncmp(url, "file://localhost/", 17) == 0;
}

/* zupd.conf is a few KiB; a cap keeps a wrong path (a log, a disk image)
 * from being read whole */
#define ZUPD_CONF_MAX_BYTES (1u << 20)

static int
fail(char *err, size_t cap, const char *path, int line, const char *what)
{
    if (line > 0)
        snprintf(err, cap, "%s:%d: %s", path, line, what);
    else
        snprintf(err, cap, "%s: %s", path, what);
    return -1;
}

/* Every setting zupd.conf may hold, with its type and, for integers, its
 * range: anything else is an error naming the setting and its line, never a
 * silent default. A new setting is one line here (and its reading below).
 * Ranges are checked on the 64-bit value before any arithmetic. */
enum key_type { K_STRING, K_INT, K_SIZE, K_BOOL, K_STRINGS, K_GROUP, K_GROUPS };

struct conf_key {
    const char *name;
    enum key_type type;
    long long min, max;         /* K_INT only */
    const struct conf_key *sub; /* K_GROUP, K_GROUPS: the keys inside */
};

static const struct conf_key component_keys[] = {
    {"name", K_STRING, 0, 0, NULL},
    {"role", K_STRING, 0, 0, NULL},
    {"channel", K_STRING, 0, 0, NULL},
    {"install_path", K_STRING, 0, 0, NULL},
    {"keep", K_INT, 1, 100, NULL},
    {"health_check", K_STRING, 0, 0, NULL},
    {"pre_switch", K_STRING, 0, 0, NULL},
    {"post_switch", K_STRING, 0, 0, NULL},
    {"health_check_timeout", K_INT, 1, 86400, NULL},
    {"hook_timeout", K_INT, 1, 86400, NULL},
    {NULL, K_STRING, 0, 0, NULL},
};

static const struct conf_key policy_keys[] = {
    {"url", K_STRING, 0, 0, NULL},
    {"trusted_root", K_STRING, 0, 0, NULL},
    {NULL, K_STRING, 0, 0, NULL},
};

static const struct conf_key log_keys[] = {
    {"origin", K_STRING, 0, 0, NULL},
    {"key", K_STRING, 0, 0, NULL},
    {"keys", K_STRINGS, 0, 0, NULL},
    {"witnesses", K_STRINGS, 0, 0, NULL},
    {"quorum", K_INT, 0, ZUPD_CONF_MAX_WITNESSES, NULL},
    {NULL, K_STRING, 0, 0, NULL},
};

static const struct conf_key top_keys[] = {
    {"mirrors", K_STRINGS, 0, 0, NULL},
    {"trusted_root", K_STRING, 0, 0, NULL},
    {"state_dir", K_STRING, 0, 0, NULL},
    {"connect_timeout", K_INT, 1, 3600, NULL}, /* seconds; x1000 must fit 32 bits */
    {"low_speed_time", K_INT, 1, 3600, NULL},
    {"low_speed_limit", K_INT, 1, 1LL << 30, NULL},
    {"parallel", K_INT, 1, 64, NULL},
    {"max_file_size", K_SIZE, 0, 0, NULL},
    {"max_release_size", K_SIZE, 0, 0, NULL},
    {"max_cache_size", K_SIZE, 0, 0, NULL},
    {"mirror_time_budget", K_INT, 1, 86400, NULL}, /* seconds */
    {"log_syslog", K_BOOL, 0, 0, NULL},
    {"health_check_timeout", K_INT, 1, 86400, NULL},
    {"hook_timeout", K_INT, 1, 86400, NULL},
    {"ca_file", K_STRING, 0, 0, NULL},
    {"ca_path", K_STRING, 0, 0, NULL},
    {"proxy", K_STRING, 0, 0, NULL},
    {"max_download_rate", K_SIZE, 0, 0, NULL},   /* bytes/s, 0: unlimited */
    {"full_speed_window", K_STRING, 0, 0, NULL}, /* "HH:MM-HH:MM", local time */
    {"components", K_GROUPS, 0, 0, component_keys},
    {"policy", K_GROUP, 0, 0, policy_keys},
    {"log", K_GROUP, 0, 0, log_keys},
    {NULL, K_STRING, 0, 0, NULL},
};

static const char *
type_name(enum key_type t)
{
    switch (t) {
    case K_STRING:
        return "a string";
    case K_INT:
        return "an integer";
    case K_SIZE:
        return "a size (bytes, or a string such as \"4G\")";
    case K_BOOL:
        return "a boolean (true or false)";
    case K_STRINGS:
        return "a list of strings [ \"...\", ... ]";
    case K_GROUP:
        return "a group { ... }";
    case K_GROUPS:
        return "a list of groups ( { ... }, ... )";
    }
    return "?";
}

static bool
type_ok(const config_setting_t *s, enum key_type t)
{
    int ty = config_setting_type(s);

    switch (t) {
    case K_STRING:
        return ty == CONFIG_TYPE_STRING;
    case K_INT:
        return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
    case K_SIZE: /* the value itself is checked by size_key() */
        return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64 || ty == CONFIG_TYPE_STRING;
    case K_BOOL:
        return ty == CONFIG_TYPE_BOOL;
    case K_STRINGS:
        if (ty != CONFIG_TYPE_ARRAY)
            return false;
        for (int i = 0; i < config_setting_length(s); i++)
            if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_STRING)
                return false;
        return true;
    case K_GROUP:
        return ty == CONFIG_TYPE_GROUP;
    case K_GROUPS:
        if (ty != CONFIG_TYPE_LIST)
            return false;
        for (int i = 0; i < config_setting_length(s); i++)
            if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_GROUP)
                return false;
        return true;
    }
    return false;
}

/* Check every member of group g against keys; where names the group in
 * messages ("" at top level). Recurses into the groups the table lists. */
static int
check_group(const config_setting_t *g, const struct conf_key *keys, const char *where,
            const char *path, char *err, size_t cap)
{
    char msg[256];

    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int line = config_setting_source_line(s);
        const struct conf_key *k = keys;

        while (k->name != NULL && (name == NULL || strcmp(k->name, name) != 0))
            k++;
        if (k->name == NULL) {
            snprintf(msg, sizeof(msg), "unknown setting '%s%s'", where, name ? name : "?");
            return fail(err, cap, path, line, msg);
        }
        if (!type_ok(s, k->type)) {
            snprintf(msg, sizeof(msg), "'%s%s' must be %s", where, name, type_name(k->type));
            return fail(err, cap, path, line, msg);
        }
        if (k->type == K_INT) {
            long long v = config_setting_get_int64(s);
            if (v < k->min || v > k->max) {
                snprintf(msg, sizeof(msg), "'%s%s' must be %lld..%lld", where, name, k->min,
                         k->max);
                return fail(err, cap, path, line, msg);
            }
        }
        if (k->type == K_GROUP || k->type == K_GROUPS) {
            const struct conf_key *sub = k->sub;
            char inner[96];
            snprintf(inner, sizeof(inner), "%s%s.", where, name);
            if (k->type == K_GROUP && check_group(s, sub, inner, path, err, cap) != 0)
                return -1;
            for (int j = 0; k->type == K_GROUPS && j < config_setting_length(s); j++)
                if (check_group(config_setting_get_elem(s, (unsigned)j), sub, inner, path, err,
                                cap) != 0)
                    return -1;
        }
    }
    return 0;
}

static bool
valid_name(const char *s)
{
    if (s == NULL || *s == 0 || strlen(s) > 128 || s[0] == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static char *
dup_opt(const config_setting_t *parent, const char *name, bool *bad)
{
    const config_setting_t *s = config_setting_get_member(parent, name);
    const char *v;

    if (s == NULL)
        return NULL;
    v = config_setting_get_string(s);
    if (v == NULL) {
        *bad = true;
        return NULL;
    }
    return strdup(v);
}

static int
load_component(struct zupd_component_conf *c, const config_setting_t *s, const struct zupd_opts *o,
               const char *path, char *err, size_t cap)
{
    int line = config_setting_source_line(s), keep = 3, hct = (int)o->health_check_timeout;
    int ht = (int)o->hook_timeout;
    bool bad = false;
    char msg[256];

    c->name = dup_opt(s, "name", &bad);
    c->role = dup_opt(s, "role", &bad);
    c->channel = dup_opt(s, "channel", &bad);
    c->install_path = dup_opt(s, "install_path", &bad);
    c->health_check = dup_opt(s, "health_check", &bad);
    c->pre_switch = dup_opt(s, "pre_switch", &bad);
    c->post_switch = dup_opt(s, "post_switch", &bad);
    if (bad)
        return fail(err, cap, path, line, "component settings must be strings");
    if (!valid_name(c->name))
        return fail(err, cap, path, line, "component 'name' missing or not [A-Za-z0-9._-]+");
    if (c->role == NULL || (strcmp(c->role, "products") != 0 && strcmp(c->role, "avdb") != 0)) {
        snprintf(msg, sizeof(msg), "component '%s': 'role' must be \"products\" or \"avdb\"",
                 c->name);
        return fail(err, cap, path, line, msg);
    }
    if (c->channel == NULL)
        c->channel = strdup("stable");
    if (!valid_name(c->channel)) {
        snprintf(msg, sizeof(msg), "component '%s': 'channel' not [A-Za-z0-9._-]+", c->name);
        return fail(err, cap, path, line, msg);
    }
    if (c->install_path == NULL || c->install_path[0] != '/') {
        snprintf(msg, sizeof(msg), "component '%s': 'install_path' must be an absolute path",
                 c->name);
        return fail(err, cap, path, line, msg);
    }
    (void)config_setting_lookup_int(s, "keep", &keep); /* type and range: check_group */
    c->keep = (unsigned)keep;
    (void)config_setting_lookup_int(s, "health_check_timeout", &hct); /* 1..86400: check_group */
    c->health_check_timeout = (unsigned)hct;
    (void)config_setting_lookup_int(s, "hook_timeout", &ht); /* 1..86400: check_group */
    c->hook_timeout = (unsigned)ht;
    return 0;
}

/* "123", "512K", "100M", "4G", "1T" (binary units) into bytes; false for
 * anything else or a value over 2^63. */
static bool
parse_size(const char *str, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    size_t i = 0;

    for (; str[i] >= '0' && str[i] <= '9'; i++) {
        if (v > (UINT64_MAX / 2 - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(str[i] - '0');
    }
    if (i == 0)
        return false;
    switch (str[i]) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return false;
    }
    if (shift > 0 && str[i + 1] != '\0')
        return false;
    if (v > (UINT64_MAX / 2) >> shift)
        return false;
    *out = v << shift;
    return true;
}

/* A size of at least 1 byte: an integer (64-bit with the L suffix) or a
 * string with a unit ("4G": libconfig 1.5 silently wraps a plain integer
 * over 2^31). Into *out, which keeps its default when the key is absent. */
static int
size_key(const config_t *cfg, const char *key, uint64_t *out, const char *path, char *err,
         size_t cap)
{
    const config_setting_t *s = config_lookup(cfg, key);
    char msg[160];
    uint64_t v = 0;
    bool good = false;

    if (s == NULL)
        return 0;
    if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
        long long n = config_setting_get_int64(s);
        good = n >= 1;
        v = good ? (uint64_t)n : 0;
    } else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        good = parse_size(config_setting_get_string(s), &v) && v >= 1;
    }
    if (!good) {
        snprintf(msg, sizeof(msg),
                 "'%s' must be a size of at least 1 byte (bytes, or a string such as \"4G\")", key);
        fail(err, cap, path, config_setting_source_line(s), msg);
        return -1;
    }
    *out = v;
    return 0;
}

/* "HH:MM" at s[0..5): minutes since midnight, or -1 */
static int
hhmm(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

int
zupd_window_parse(const char *s, struct zupd_window *w)
{
    int from, to;

    if (strlen(s) != 11 || s[5] != '-')
        return -1;
    from = hhmm(s);
    to = hhmm(s + 6);
    if (from < 0 || to < 0 || from == to) /* equal bounds: empty or all day? refused */
        return -1;
    w->from = (unsigned)from;
    w->to = (unsigned)to;
    return 0;
}

bool
zupd_window_contains(const struct zupd_window *w, unsigned minute)
{
    if (w->from < w->to)
        return minute >= w->from && minute < w->to;
    return minute >= w->from || minute < w->to; /* wraps over midnight */
}

/* The settings of enterprise networks: a private CA, a proxy, the download
 * rate cap and its full-speed window (zupd.conf(5), NETWORK). */
static int
load_network(const config_t *cfg, struct zupd_opts *o, const char *path, char *err, size_t cap)
{
    const config_setting_t *s;
    const char *str;
    char msg[256];

    if (config_lookup_string(cfg, "ca_file", &str) == CONFIG_TRUE)
        o->ca_file = strdup(str);
    if (config_lookup_string(cfg, "ca_path", &str) == CONFIG_TRUE)
        o->ca_path = strdup(str);
    if (config_lookup_string(cfg, "proxy", &str) == CONFIG_TRUE)
        o->proxy = strdup(str);
    if (config_lookup_string(cfg, "full_speed_window", &str) == CONFIG_TRUE) {
        s = config_lookup(cfg, "full_speed_window");
        if (zupd_window_parse(str, &o->full_speed_window) != 0) {
            fail(err, cap, path, config_setting_source_line(s),
                 "'full_speed_window' must be \"HH:MM-HH:MM\" (local time, two different times)");
            return -1;
        }
        o->has_full_speed_window = true;
    }
    if (o->max_download_rate > 0 &&
        o->max_download_rate < (uint64_t)o->parallel * (uint64_t)o->low_speed_limit) {
        s = config_lookup(cfg, "max_download_rate");
        snprintf(msg, sizeof(msg),
                 "'max_download_rate' must be at least parallel x low_speed_limit (%" PRIu64
                 " bytes/s): slower downloads are aborted as stalled",
                 (uint64_t)o->parallel * (uint64_t)o->low_speed_limit);
        fail(err, cap, path, config_setting_source_line(s), msg);
        return -1;
    }
    return 0;
}

/* The components (each once) and the optional policy repository. */
static int
load_components(const config_t *cfg, struct zupd_opts *o, const char *path, char *err, size_t cap)
{
    const config_setting_t *s;
    char msg[256];
    int n;

    s = config_lookup(cfg, "components");
    if (s != NULL) {
        if (!config_setting_is_list(s)) {
            fail(err, cap, path, config_setting_source_line(s),
                 "'components' must be a list ( {...}, ... )");
            return -1;
        }
        n = config_setting_length(s);
        if (n > ZUPD_CONF_MAX_COMPONENTS) {
            fail(err, cap, path, config_setting_source_line(s), "too many components");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            struct zupd_component_conf *c = &o->components[o->n_components++];
            if (load_component(c, config_setting_get_elem(s, (unsigned)i), o, path, err, cap) != 0)
                return -1;
            for (size_t j = 0; j + 1 < o->n_components; j++)
                if (strcmp(o->components[j].name, c->name) == 0) {
                    snprintf(msg, sizeof(msg), "component '%s' defined twice", c->name);
                    fail(err, cap, path, config_setting_source_line(s), msg);
                    return -1;
                }
        }
    }
    s = config_lookup(cfg, "policy");
    if (s != NULL) {
        bool bad = false;
        o->policy_url = dup_opt(s, "url", &bad);
        o->policy_root = dup_opt(s, "trusted_root", &bad);
        if (bad || o->policy_url == NULL || o->policy_root == NULL) {
            fail(err, cap, path, config_setting_source_line(s),
                 "'policy' needs string settings 'url' and 'trusted_root'");
            return -1;
        }
    }
    return 0;
}

/* One Ed25519 signed-note vkey of the log (what names it: "'log.key'" or
 * "'log.keys' element N") into *k. */
static int
log_vkey(const char *str, const char *what, struct zu_note_key *k, const char *path, int line,
         char *err, size_t cap)
{
    char msg[512];

    if (zu_note_vkey_parse(str, strlen(str), k) == ZUPD_OK && k->type == ZU_NOTE_ED25519)
        return 0;
    snprintf(msg, sizeof(msg),
             "%s must be an Ed25519 signed-note verifier key "
             "(name+hex id+base64, as in the repository's log/vkey)",
             what);
    return fail(err, cap, path, line, msg);
}

/* The log's keys: 'key' (one vkey) or 'keys' (1..4 vkeys of one name,
 * each once: a key rotation lists the old and the new; any one signing
 * is enough), never both. */
static int
load_log_keys(const config_setting_t *g, struct zupd_opts *o, const char *path, char *err,
              size_t cap)
{
    const config_setting_t *one = config_setting_get_member(g, "key");
    const config_setting_t *many = config_setting_get_member(g, "keys");
    int line = config_setting_source_line(g), n;
    char what[64], msg[768];

    if (one != NULL && many != NULL)
        return fail(err, cap, path, config_setting_source_line(many),
                    "'log' has both 'key' and 'keys': list every key in 'keys'");
    if (one != NULL)
        return log_vkey(config_setting_get_string(one), "'log.key'", &o->log_key, path,
                        config_setting_source_line(one), err, cap);
    if (many == NULL)
        return fail(err, cap, path, line,
                    "'log' needs a string setting 'key' (the log's vkey) or a list 'keys'");
    line = config_setting_source_line(many);
    n = config_setting_length(many);
    if (n < 1 || n > ZU_TLOG_LOG_KEYS_MAX) {
        snprintf(msg, sizeof(msg), "'log.keys' must list 1 to %d keys", ZU_TLOG_LOG_KEYS_MAX);
        return fail(err, cap, path, line, msg);
    }
    for (int i = 0; i < n; i++) {
        struct zu_note_key *k = i == 0 ? &o->log_key : &o->log_more_keys[i - 1];

        snprintf(what, sizeof(what), "'log.keys' element %d", i + 1);
        if (log_vkey(config_setting_get_string_elem(many, i), what, k, path, line, err, cap) != 0)
            return -1;
        if (i > 0 && strcmp(k->name, o->log_key.name) != 0) {
            snprintf(msg, sizeof(msg),
                     "%s names '%.255s', not '%.255s' as element 1 (one log's keys share its name)",
                     what, k->name, o->log_key.name);
            return fail(err, cap, path, line, msg);
        }
        for (int j = 0; j < i; j++)
            if (memcmp((j == 0 ? &o->log_key : &o->log_more_keys[j - 1])->pub, k->pub, 32) == 0) {
                snprintf(msg, sizeof(msg), "'log.keys' lists element %d twice (element %d)", j + 1,
                         i + 1);
                return fail(err, cap, path, line, msg);
            }
        o->n_log_more_keys = (size_t)i;
    }
    return 0;
}

/* The transparency log (optional): its keys (signed-note vkeys, Ed25519),
 * its origin (default: the keys' name), witnesses (cosignature/v1 vkeys,
 * each once) and the quorum (default: every witness listed). */
static int
load_log(const config_t *cfg, struct zupd_opts *o, const char *path, char *err, size_t cap)
{
    const config_setting_t *g = config_lookup(cfg, "log"), *s;
    const char *str;
    char msg[512];
    int line, n, q;

    if (g == NULL)
        return 0;
    line = config_setting_source_line(g);
    if (load_log_keys(g, o, path, err, cap) != 0)
        return -1;
    snprintf(o->log_origin, sizeof(o->log_origin), "%s", o->log_key.name);
    s = config_setting_get_member(g, "origin");
    if (s != NULL) {
        str = config_setting_get_string(s);
        if (strlen(str) > ZU_NOTE_ORIGIN_MAX || !zu_note_name_ok(str, strlen(str)))
            return fail(err, cap, path, config_setting_source_line(s),
                        "'log.origin' must be 1..255 bytes of UTF-8 without spaces or '+'");
        snprintf(o->log_origin, sizeof(o->log_origin), "%s", str);
    }
    s = config_setting_get_member(g, "witnesses");
    n = s != NULL ? config_setting_length(s) : 0;
    if (n > ZUPD_CONF_MAX_WITNESSES)
        return fail(err, cap, path, config_setting_source_line(s),
                    "too many witnesses (at most 32)");
    for (int i = 0; i < n; i++) {
        struct zu_note_key *k = &o->log_witnesses[o->n_log_witnesses];
        str = config_setting_get_string_elem(s, i);
        if (zu_note_vkey_parse(str, strlen(str), k) != ZUPD_OK || k->type != ZU_NOTE_COSIG_V1) {
            snprintf(msg, sizeof(msg),
                     "'log.witnesses' element %d must be a cosignature/v1 verifier key "
                     "(name+hex id+base64 of 0x04 and the key)",
                     i + 1);
            return fail(err, cap, path, config_setting_source_line(s), msg);
        }
        for (size_t j = 0; j < o->n_log_witnesses; j++)
            if (memcmp(o->log_witnesses[j].pub, k->pub, 32) == 0) {
                snprintf(msg, sizeof(msg), "'log.witnesses' lists the key of '%s' twice", k->name);
                return fail(err, cap, path, config_setting_source_line(s), msg);
            }
        o->n_log_witnesses++;
    }
    o->log_quorum = o->n_log_witnesses;
    if (config_setting_lookup_int(g, "quorum", &q) == CONFIG_TRUE) {
        if ((size_t)q > o->n_log_witnesses) {
            snprintf(msg, sizeof(msg), "'log.quorum' is %d but only %zu witnesses are listed", q,
                     o->n_log_witnesses);
            return fail(err, cap, path, line, msg);
        }
        o->log_quorum = (size_t)q;
    }
    o->has_log = true;
    return 0;
}

int
zupd_conf_load(struct zupd_opts *o, const char *path, char *err, size_t cap)
{
    config_t cfg;
    const config_setting_t *s;
    const char *str;
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = -1, n;
    char msg[256];

    memset(o, 0, sizeof(*o));
    o->connect_timeout = 10;
    o->low_speed_time = 30;
    o->low_speed_limit = 1024;
    o->parallel = 4;
    o->max_file_size = ZUPD_DEFAULT_MAX_FILE_SIZE;
    o->max_release_size = ZUPD_DEFAULT_MAX_RELEASE_SIZE;
    o->mirror_time_budget = ZUPD_DEFAULT_MIRROR_TIME_BUDGET;
    o->max_cache_size = ZUPD_DEFAULT_MAX_CACHE_SIZE;
    o->log_syslog = true;
    o->health_check_timeout = 60;
    o->hook_timeout = 300;
    config_init(&cfg);
    /* a regular file (a FIFO would block), not a symlink, that only root
     * or we can write: it names the trusted root and the hooks zupd runs */
    if (zu_read_file(AT_FDCWD, path, ZU_READ_SAFE, ZUPD_CONF_MAX_BYTES, &text, &len, msg,
                     sizeof(msg)) != ZUPD_OK) {
        snprintf(err, cap, "%s", msg);
        goto out;
    }
    if (strlen((const char *)text) != len) {
        fail(err, cap, path, 0, "a NUL byte in the file");
        goto out;
    }
    if (config_read_string(&cfg, (const char *)text) != CONFIG_TRUE) {
        fail(err, cap, path, config_error_line(&cfg), config_error_text(&cfg));
        goto out;
    }
    if (check_group(config_root_setting(&cfg), top_keys, "", path, err, cap) != 0)
        goto out;
    s = config_lookup(&cfg, "mirrors");
    if (s == NULL || !config_setting_is_array(s) || config_setting_length(s) < 1) {
        fail(err, cap, path, s ? config_setting_source_line(s) : 0,
             "'mirrors' must be a non-empty list of URLs");
        goto out;
    }
    n = config_setting_length(s);
    if (n > ZUPD_CONF_MAX_MIRRORS) {
        fail(err, cap, path, config_setting_source_line(s), "too many mirrors (at most 16)");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        str = config_setting_get_string_elem(s, i);
        if (str == NULL || (strncmp(str, "http://", 7) != 0 && strncmp(str, "https://", 8) != 0 &&
                            !file_mirror_ok(str))) {
            fail(err, cap, path, config_setting_source_line(s),
                 "each mirror must be an http:// or https:// URL, or a file:///absolute/path");
            goto out;
        }
        o->mirrors[o->n_mirrors++] = strdup(str);
    }
    if (config_lookup_string(&cfg, "trusted_root", &str) == CONFIG_TRUE)
        o->trusted_root = strdup(str);
    else
        o->trusted_root = strdup("/etc/zupd/root.json");
    if (config_lookup_string(&cfg, "state_dir", &str) == CONFIG_TRUE)
        o->state_dir = strdup(str);
    else
        o->state_dir = strdup("/var/lib/zupd");
    if (o->state_dir[0] != '/') {
        s = config_lookup(&cfg, "state_dir");
        fail(err, cap, path, s != NULL ? config_setting_source_line(s) : 0,
             "'state_dir' must be an absolute path");
        goto out;
    }
    {
        int v;
        if (config_lookup_int(&cfg, "connect_timeout", &v) == CONFIG_TRUE)
            o->connect_timeout = v;
        if (config_lookup_int(&cfg, "low_speed_time", &v) == CONFIG_TRUE)
            o->low_speed_time = v;
        if (config_lookup_int(&cfg, "low_speed_limit", &v) == CONFIG_TRUE)
            o->low_speed_limit = v;
        if (config_lookup_int(&cfg, "parallel", &v) == CONFIG_TRUE)
            o->parallel = (unsigned)v;
        if (size_key(&cfg, "max_file_size", &o->max_file_size, path, err, cap) != 0 ||
            size_key(&cfg, "max_release_size", &o->max_release_size, path, err, cap) != 0 ||
            size_key(&cfg, "max_cache_size", &o->max_cache_size, path, err, cap) != 0)
            goto out;
        if (config_lookup_int(&cfg, "mirror_time_budget", &v) == CONFIG_TRUE)
            o->mirror_time_budget = v;
        if (config_lookup_bool(&cfg, "log_syslog", &v) == CONFIG_TRUE)
            o->log_syslog = v != 0;
        if (config_lookup_int(&cfg, "health_check_timeout", &v) == CONFIG_TRUE)
            o->health_check_timeout = (unsigned)v;
        if (config_lookup_int(&cfg, "hook_timeout", &v) == CONFIG_TRUE)
            o->hook_timeout = (unsigned)v;
        /* 0 (unlimited) is the one value size_key() does not take */
        s = config_lookup(&cfg, "max_download_rate");
        if (s != NULL &&
            !(config_setting_type(s) != CONFIG_TYPE_STRING && config_setting_get_int64(s) == 0) &&
            size_key(&cfg, "max_download_rate", &o->max_download_rate, path, err, cap) != 0)
            goto out;
    }
    if (load_network(&cfg, o, path, err, cap) != 0 ||
        load_components(&cfg, o, path, err, cap) != 0 || load_log(&cfg, o, path, err, cap) != 0)
        goto out;
    rc = 0;
out:
    config_destroy(&cfg);
    free(text);
    if (rc != 0)
        zupd_conf_release(o);
    return rc;
}

void
zupd_conf_release(struct zupd_opts *o)
{
    for (size_t i = 0; i < o->n_mirrors; i++)
        free(o->mirrors[i]);
    for (size_t i = 0; i < o->n_components; i++) {
        struct zupd_component_conf *c = &o->components[i];
        free(c->name);
        free(c->role);
        free(c->channel);
        free(c->install_path);
        free(c->health_check);
        free(c->pre_switch);
        free(c->post_switch);
    }
    free(o->trusted_root);
    free(o->state_dir);
    free(o->policy_url);
    free(o->policy_root);
    free(o->ca_file);
    free(o->ca_path);
    free(o->proxy);
    memset(o, 0, sizeof(*o));
}

const struct zupd_component_conf *
zupd_conf_component(const struct zupd_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_components; i++)
        if (strcmp(o->components[i].name, name) == 0)
            return &o->components[i];
    return NULL;
}
