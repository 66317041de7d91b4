/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_conf.c -- zupd.conf (updater/conf.c): libconfig's parser
 * and our checks over it (mirrors, sizes with units, time windows, the
 * components and their hooks), and the full_speed_window parser alone.
 * The input is written to a file zupd_conf_load() reads, as it reads
 * /etc/zupd/zupd.conf. Checked: a loaded configuration keeps every promise
 * conf.h makes (at least one mirror and at most 16, each http(s):// or
 * file:///, an absolute state directory, windows inside the day, valid
 * components), a refused one says why, and a window parses only into two
 * different minutes of the day. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks its string buffer on some syntax errors
 * (strbuf_append, found by this target): its bug, 128 bytes once per
 * refused zupd.conf in a program that then exits; not ours to fail on. */
const char *
__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

static char dir[] = "/tmp/fuzz_conf.XXXXXX", path[64];

static void
cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static void
check_window(const struct zupd_window *w)
{
    if (w->from >= 1440 || w->to >= 1440 || w->from == w->to)
        abort();
    /* from is inside, to is not (the window is [from, to)) */
    if (!zupd_window_contains(w, w->from) || zupd_window_contains(w, w->to))
        abort();
}

static void
check_conf(const struct zupd_opts *o)
{
    if (o->n_mirrors < 1 || o->n_mirrors > ZUPD_CONF_MAX_MIRRORS ||
        o->n_components > ZUPD_CONF_MAX_COMPONENTS || o->state_dir == NULL ||
        o->state_dir[0] != '/' || o->trusted_root == NULL)
        abort();
    for (size_t i = 0; i < o->n_mirrors; i++)
        if (strncmp(o->mirrors[i], "http://", 7) != 0 &&
            strncmp(o->mirrors[i], "https://", 8) != 0 && strncmp(o->mirrors[i], "file://", 7) != 0)
            abort();
    for (size_t i = 0; i < o->n_components; i++) {
        const struct zupd_component_conf *c = &o->components[i];
        if (c->name == NULL || c->name[0] == '\0' || c->role == NULL || c->channel == NULL ||
            c->install_path == NULL || c->keep < 1 || zupd_conf_component(o, c->name) == NULL)
            abort();
    }
    if (o->has_full_speed_window)
        check_window(&o->full_speed_window);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_opts o;
    struct zupd_window w;
    char err[512], *s;
    int fd;

    if (path[0] == '\0') {
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(path, sizeof(path), "%s/zupd.conf", dir);
        atexit(cleanup);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        abort();
    err[0] = '\0';
    if (zupd_conf_load(&o, path, err, sizeof(err)) == 0) {
        check_conf(&o);
        zupd_conf_release(&o);
    } else if (err[0] == '\0') {
        abort(); /* a refusal says why */
    }

    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    w.from = w.to = 7777;
    if (zupd_window_parse(s, &w) == 0)
        check_window(&w);
    else if (w.from != 7777 || w.to != 7777)
        abort(); /* untouched on failure */
    free(s);
    return 0;
}
