/* SPDX-License-Identifier: Apache-2.0 */
/* updater/conf.h -- /etc/zupd/zupd.conf (libconfig) into struct zupd_opts. */
#ifndef ZUPD_UPDATER_CONF_H
#define ZUPD_UPDATER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZUPD_CONF_DEFAULT "/etc/zupd/zupd.conf"
#define ZUPD_CONF_MAX_MIRRORS 16
#define ZUPD_CONF_MAX_COMPONENTS 64
#define ZUPD_CONF_MAX_WITNESSES 32

#include "zu/note.h"

struct zupd_component_conf {
    char *name;         /* component name, [A-Za-z0-9._-]+ */
    char *role;         /* "products" or "avdb" */
    char *channel;      /* channel pointer name, e.g. "stable" */
    char *install_path; /* symlink the product uses, points at current */
    unsigned keep;      /* versions kept for rollback (>= 1) */
    char *health_check; /* command run after a switch, NULL for none */
    char *pre_switch;   /* hook before the switch, NULL for none */
    char *post_switch;  /* hook after the switch, NULL for none */
    /* seconds a health check may run before the release is unhealthy */
    unsigned health_check_timeout;
    /* seconds pre_switch and post_switch may run before they are killed
     * (a pre_switch that times out fails: no switch) */
    unsigned hook_timeout;
};

/* A daily time window [from, to) in minutes since local midnight; from > to
 * wraps over midnight ("22:00-06:00"). */
struct zupd_window {
    unsigned from, to;
};

struct zupd_opts {
    char *mirrors[ZUPD_CONF_MAX_MIRRORS]; /* base URLs, tried in order */
    size_t n_mirrors;
    char *trusted_root;   /* root.json shipped with the product (first run) */
    char *state_dir;      /* /var/lib/zupd */
    long connect_timeout; /* seconds */
    long low_speed_time;  /* seconds below low_speed_limit before giving up */
    long low_speed_limit; /* bytes per second */
    unsigned parallel;    /* concurrent downloads */
    /* caps on what a signed release may ask for, bytes (issue 14) */
    uint64_t max_file_size;
    uint64_t max_release_size;
    uint64_t max_cache_size;
    long mirror_time_budget; /* seconds one mirror may cost an update */
    bool log_syslog;         /* events to syslog (updater/events.c) */
    /* seconds, the components' default health_check_timeout (60) */
    unsigned health_check_timeout;
    /* seconds, the components' default hook_timeout (300) */
    unsigned hook_timeout;
    struct zupd_component_conf components[ZUPD_CONF_MAX_COMPONENTS];
    size_t n_components;
    /* optional enterprise policy repository: channel pointers only */
    char *policy_url;
    char *policy_root;
    /* network (issue 15); NULL: libcurl's default */
    char *ca_file;
    char *ca_path;
    char *proxy;
    uint64_t max_download_rate; /* bytes/s outside full_speed_window; 0: none */
    struct zupd_window full_speed_window;
    bool has_full_speed_window;
    /* the vendor's transparency log (docs/transparency.md), when has_log:
     * every release is proven in it before an install or a switch */
    bool has_log;
    char log_origin[ZU_NOTE_ORIGIN_MAX + 1];
    struct zu_note_key log_key;                                /* Ed25519 signed-note key */
    struct zu_note_key log_witnesses[ZUPD_CONF_MAX_WITNESSES]; /* cosignature/v1 keys */
    size_t n_log_witnesses;
    size_t log_quorum; /* distinct witnesses that must cosign */
};

/* Read path into o (zeroed first). On failure returns -1 and writes a
 * one-line message naming the file, line and setting into err. */
int zupd_conf_load(struct zupd_opts *o, const char *path, char *err, size_t err_cap);
void zupd_conf_release(struct zupd_opts *o);
/* Parse "HH:MM-HH:MM" (24-hour, two different times) into w. Returns 0, or
 * -1 for anything else (w untouched). */
int zupd_window_parse(const char *s, struct zupd_window *w);
/* Whether minute (0..1439 since local midnight) lies in w. */
bool zupd_window_contains(const struct zupd_window *w, unsigned minute);
/* The component named name, or NULL. */
const struct zupd_component_conf *zupd_conf_component(const struct zupd_opts *o, const char *name);

#endif
