/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/pins.h -- the pins of an enterprise policy repository, read
 * verified (lib's TUF client against the policy's own trusted root), so
 * that a filtered sync keeps the releases they name and verify reports a pin
 * a mirror cannot serve (docs/mirror.md, "The enterprise policy"). */
#ifndef ZP_PINS_H
#define ZP_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zupd/common.h>
#include <zupd/manifest.h>

#include "zu/internal.h"

/* Pointers one policy repository may sign: a growth cap. */
#define ZP_PINS_MAX ((size_t)1 << 16)

/* One channel pointer the policy signs. */
struct zp_pin_ref {
    char role[ZUPD_NAME_MAX + 1];
    char component[ZUPD_NAME_MAX + 1];
    char channel[ZUPD_NAME_MAX + 1];
    char version[ZUPD_NAME_MAX + 1];
    int64_t expires; /* 0: none */
    /* the pointer's target path and the release it pins: the vendor's
     * "<role>/<component>/<version>/manifest.json" */
    char pointer[3 * ZUPD_NAME_MAX + 32];
    char manifest[3 * ZUPD_NAME_MAX + 32];
};

struct zp_pins {
    struct zp_pin_ref *v; /* sorted by pointer path */
    size_t n, cap;
};

struct zp_pins_opts {
    /* the policy repository: a URL (http://, https://, file://) or a
     * directory (read as file:///its/real/path) */
    const char *source;
    const char *root_path; /* its trusted root (the endpoints' policy trusted_root) */
    /* the trusted-metadata directory of the policy client, kept between
     * runs (rollback protection) and started from root_path when it holds
     * no root.json yet; -1: a temporary directory, removed afterwards */
    int state_dirfd;
    const char *ca_file;  /* for https; NULL: the system's store */
    int64_t now;          /* 0: the clock */
    struct zupd_ctx *ctx; /* logging; NULL ok */
};

/* Refresh the policy repository with the full TUF workflow (root walk,
 * timestamp, snapshot, targets, every delegated role and hash bin), then
 * fetch every channel pointer its roles list ("<role>/<component>/channels/
 * <channel>.json", found through the delegations, length and hashes
 * checked) and parse it; a pointer must name its own component and channel.
 * Fails closed: any refusal is an error, err names the policy repository.
 * Ownership: *out is filled (zeroed first); release with zp_pins_release().
 * Returns ZUPD_OK or the first refusal. */
ZU_NODISCARD int zp_pins_load(const struct zp_pins_opts *o, struct zp_pins *out, char *err,
                              size_t cap);
void zp_pins_release(struct zp_pins *p);

#endif
