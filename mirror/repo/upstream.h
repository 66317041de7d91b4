/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/upstream.h -- read another TUF repository as an endpoint reads
 * it (lib's client over libcurl, which also answers file:// URLs): the
 * upstream of `sync` and the enterprise policy repository of mirror/repo/pins.c. */
#ifndef ZP_REPO_UPSTREAM_H
#define ZP_REPO_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <zupd/client.h>
#include <zupd/fetch.h>

#include "zu/internal.h"

struct zp_upstream_opts {
    const char *mbase;    /* metadata base URL, ending in '/' */
    int mfd;              /* trusted metadata directory (root.json already there) */
    const char *ca_file;  /* for https; NULL: the system's store */
    int64_t now;          /* 0: the clock */
    struct zupd_ctx *ctx; /* logging; NULL ok */
    const char *what;     /* names the repository in messages: "upstream metadata" */
    const char *tag;      /* probe paths are "<role>/.zupd-<tag>/probe/..." */
};

/* Open a transport and a client and refresh the top-level metadata. On
 * failure *err says "<what> refused: <why>". *tr and *c are set as far as
 * they were made: the caller frees both (zupd_client_free, then
 * zupd_transport_free) whatever the result. */
int zp_upstream_open(const struct zp_upstream_opts *o, struct zupd_transport **tr,
                     struct zupd_client **c, char *err, size_t cap);

/* The targets roles of a repository, in the order a client reaches them. */
struct zp_roles {
    char **v; /* v[0] is "targets" */
    size_t n;
};

/* Load, through c, every targets role a client reaches from "targets":
 * delegations in order, and every bin of a succinct hash-bin delegation
 * (TAP 15), each the way a client loads it, by looking up a probe path
 * under it. A role the client would not reach is left out. Release with
 * zp_roles_free() whatever the result. */
int zp_upstream_roles(struct zupd_client *c, const struct zp_upstream_opts *o, struct zp_roles *out,
                      char *err, size_t cap);
void zp_roles_free(struct zp_roles *r);

#endif
