/* SPDX-License-Identifier: Apache-2.0 */
/* updater/conf.c -- parse zupd.conf with libconfig; validate every setting. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "zu/fsio.h"

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
load_component(struct zupd_component_conf *c, const config_setting_t *s, const char *path,
               char *err, size_t cap)
{
    int line = config_setting_source_line(s), keep = 3;
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
    if (config_setting_lookup_int(s, "keep", &keep) == CONFIG_TRUE && (keep < 1 || keep > 100)) {
        snprintf(msg, sizeof(msg), "component '%s': 'keep' must be 1..100", c->name);
        return fail(err, cap, path, line, msg);
    }
    c->keep = (unsigned)keep;
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
        if (str == NULL || (strncmp(str, "http://", 7) != 0 && strncmp(str, "https://", 8) != 0)) {
            fail(err, cap, path, config_setting_source_line(s),
                 "each mirror must be an http:// or https:// URL");
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
        fail(err, cap, path, 0, "'state_dir' must be an absolute path");
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
        if (config_lookup_int(&cfg, "parallel", &v) == CONFIG_TRUE) {
            if (v < 1 || v > 64) {
                fail(err, cap, path, 0, "'parallel' must be 1..64");
                goto out;
            }
            o->parallel = (unsigned)v;
        }
        if (o->connect_timeout < 1 || o->low_speed_time < 1 || o->low_speed_limit < 1) {
            fail(err, cap, path, 0, "timeouts and speed limits must be positive");
            goto out;
        }
    }
    s = config_lookup(&cfg, "components");
    if (s != NULL) {
        if (!config_setting_is_list(s)) {
            fail(err, cap, path, config_setting_source_line(s),
                 "'components' must be a list ( {...}, ... )");
            goto out;
        }
        n = config_setting_length(s);
        if (n > ZUPD_CONF_MAX_COMPONENTS) {
            fail(err, cap, path, config_setting_source_line(s), "too many components");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct zupd_component_conf *c = &o->components[o->n_components++];
            if (load_component(c, config_setting_get_elem(s, (unsigned)i), path, err, cap) != 0)
                goto out;
            for (size_t j = 0; j + 1 < o->n_components; j++)
                if (strcmp(o->components[j].name, c->name) == 0) {
                    snprintf(msg, sizeof(msg), "component '%s' defined twice", c->name);
                    fail(err, cap, path, config_setting_source_line(s), msg);
                    goto out;
                }
        }
    }
    s = config_lookup(&cfg, "policy");
    if (s != NULL) {
        bool bad = false;
        o->policy_url = dup_opt(s, "url", &bad);
        o->policy_root = dup_opt(s, "trusted_root", &bad);
        if (bad || o->policy_url == NULL || o->policy_root == NULL) {
            fail(err, cap, path, config_setting_source_line(s),
                 "'policy' needs string settings 'url' and 'trusted_root'");
            goto out;
        }
    }
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
