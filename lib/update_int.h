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

/* lib/tlog_client.c */
struct zu_tlog_conf;
void zu_tlog_conf_free(struct zu_tlog_conf *c); /* NULL ok */

#endif
