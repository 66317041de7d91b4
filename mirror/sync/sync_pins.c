/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/sync/sync_pins.c -- zupd-mirror sync --policy: a filtered sync keeps
 * every release the enterprise's policy repository pins (read verified by
 * mirror/repo/pins.c), so endpoints held on a release can still fetch it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zu/fsio.h"
#include "repo/pins.h"
#include "sync/sync_int.h"

int
zp_sync_pins_load(struct sync *s)
{
    struct zp_pins_opts po;
    int fd, rc;

    if (s->o->policy == NULL)
        return ZUPD_OK;
    if (s->o->policy_root == NULL)
        return zu_fail(s->err, s->cap, ZUPD_E_MISUSE,
                       "--policy '%s' needs the policy repository's trusted root "
                       "(--policy-root ROOT.json)",
                       s->o->policy);
    if (mkdirat(s->dfd, SYNC_POLICY_DIR, 0755) != 0 && errno != EEXIST)
        return zu_fail(s->err, s->cap, zu_errno_to_err(errno), "%s/%s: %s", s->o->dir,
                       SYNC_POLICY_DIR, strerror(errno));
    fd = openat(s->dfd, SYNC_POLICY_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return zu_fail(s->err, s->cap, ZUPD_E_IO, "%s/%s: %s", s->o->dir, SYNC_POLICY_DIR,
                       strerror(errno));
    memset(&po, 0, sizeof(po));
    po.source = s->o->policy;
    po.root_path = s->o->policy_root;
    po.state_dirfd = fd;
    po.ca_file = s->o->ca_file;
    po.now = s->o->now;
    po.ctx = s->o->ctx;
    rc = zp_pins_load(&po, &s->pins, s->err, s->cap);
    close(fd);
    if (rc != ZUPD_OK)
        return rc;
    s->res->pins = s->pins.n;
    s->pin_state = calloc(s->pins.n > 0 ? s->pins.n : 1, sizeof(*s->pin_state));
    return s->pin_state != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
}

static bool
component_mirrored(const struct sync *s, const char *component)
{
    if (s->o->n_components == 0)
        return true;
    for (size_t i = 0; i < s->o->n_components; i++)
        if (strcmp(s->o->components[i], component) == 0)
            return true;
    return false;
}

static int
cmp_key(const void *key, const void *elt)
{
    return strcmp(key, ((const struct tgt *)elt)->path);
}

void
zp_sync_pins_keep(struct sync *s, struct zp_sel *sel)
{
    for (size_t i = 0; i < s->pins.n; i++) {
        const struct zp_pin_ref *p = &s->pins.v[i];
        /* s->t is sorted by path (collect_targets) */
        const struct tgt *g =
            s->n_t > 0 ? bsearch(p->manifest, s->t, s->n_t, sizeof(*s->t), cmp_key) : NULL;

        if (g != NULL && g->sel.kind == ZP_SEL_MANIFEST) {
            sel[g - s->t].keep = true;
            s->pin_state[i] = ZP_PIN_KEPT;
            s->res->pins_kept++;
        } else if (!component_mirrored(s, p->component)) {
            s->pin_state[i] = ZP_PIN_NOT_MIRRORED;
        } else {
            s->pin_state[i] = ZP_PIN_UNSIGNED; /* endpoints refuse such a pin */
        }
    }
}
