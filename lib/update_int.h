/* SPDX-License-Identifier: Apache-2.0 */
/* lib/update_int.h -- the updater's state, shared by lib/update.c (metadata,
 * channel pointers, manifests) and lib/install.c. Never installed. */
#ifndef ZU_UPDATE_INT_H
#define ZU_UPDATE_INT_H

#include <zupd/update.h>

#include "zu/internal.h"
#include "zu/fetch_state.h"
#include "fetch_int.h"

struct zupd_updater {
    struct zupd_updater_opts o;
    struct zupd_limits lim;
    char **meta_urls, **target_urls, **roots;
    size_t n;
    int sfd, mdfd, cfd;
    struct zu_fetch_state fs;
    struct zupd_client *client;
    struct policy *pol; /* the enterprise policy repository, or NULL */
    /* the signed-time floor (<state_dir>/time-floor) and what the file holds */
    int64_t floor, floor_saved;
    /* blobs downloaded and verified in the cache by this updater */
    uint8_t (*ready)[ZUPD_SHA256_LEN];
    size_t n_ready, cap_ready;
    struct zu_budget budget;  /* per mirror, over this updater's installs */
    struct zu_tlog_conf *log; /* the transparency log to check, or NULL (lib/tlog_client.c) */
};

/* The verified bytes of a small target of the vendor's repository (a
 * manifest, a channel pointer), from the cache when it holds them
 * (lib/update.c). Ownership: *out new. */
#define ZU_CHANNEL_MAX_BYTES 65536
ZU_NODISCARD int zu_updater_small_target(struct zupd_updater *u, const char *path, size_t max,
                                         uint8_t **out, size_t *len, char *err, size_t cap);

/* lib/tlog_client.c */
struct zu_tlog_conf;
void zu_tlog_conf_free(struct zu_tlog_conf *c); /* NULL ok */

#endif
