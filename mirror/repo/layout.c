/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/layout.c -- the names and paths of a repository tree: roles,
 * target files, blobs (what the publisher, sync and verify agree on). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <zupd/hash.h>

#include "repo/layout.h"

static const char *const role_names[ZP_R__N] = {"root",      "targets",  "snapshot",
                                                "timestamp", "products", "avdb"};

const char *
zp_role_name(enum zp_role r)
{
    return (unsigned)r < ZP_R__N ? role_names[r] : "unknown";
}

int
zp_role_parse(const char *name, enum zp_role *out)
{
    for (unsigned i = 0; i < ZP_R__N; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum zp_role)i;
            return ZUPD_OK;
        }
    return ZUPD_E_NOTFOUND;
}

bool
zp_role_online(enum zp_role r)
{
    return r == ZP_R_SNAPSHOT || r == ZP_R_TIMESTAMP || r == ZP_R_AVDB;
}

enum zp_role
zp_delegator(enum zp_role role)
{
    return role == ZP_R_PRODUCTS || role == ZP_R_AVDB ? ZP_R_TARGETS : ZP_R_ROOT;
}

int
zp_target_file(char *dst, size_t cap, const char *path, const char *hex)
{
    const char *slash = strrchr(path, '/');
    int n;

    if (slash == NULL)
        n = snprintf(dst, cap, "targets/%s.%s", hex, path);
    else
        n = snprintf(dst, cap, "targets/%.*s/%s.%s", (int)(slash - path), path, hex, slash + 1);
    return n > 0 && (size_t)n < cap ? ZUPD_OK : ZUPD_E_TOOBIG;
}

void
zp_blob_path(char *dst, size_t cap, const uint8_t sha256[32])
{
    char hex[65];

    zupd_hex_encode(hex, sizeof(hex), sha256, 32);
    snprintf(dst, cap, "blobs/sha256/%.2s/%s", hex, hex);
}
