/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/layout.h -- the names and paths of a repository tree that the
 * publisher, sync and verify agree on: roles, where metadata, targets and
 * blobs live, the read cap. No repository state (mirror/repo/repo.h). */
#ifndef ZP_LAYOUT_H
#define ZP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zu/internal.h"

#define ZP_META_CAP (64u << 20) /* any metadata or manifest file we read back */
#define ZP_STATE_DIR ".zupd"
#define ZP_DAY 86400
#define ZP_STAGED_DIR "staged" /* changes waiting for signatures (mirror/repo/staged.c) */

/* Roles a repository has; ZP_R_PRODUCTS and ZP_R_AVDB are delegated by
 * targets with the path patterns "products/" and "avdb/" followed by a star. */
enum zp_role {
    ZP_R_ROOT = 0,
    ZP_R_TARGETS,
    ZP_R_SNAPSHOT,
    ZP_R_TIMESTAMP,
    ZP_R_PRODUCTS,
    ZP_R_AVDB,
    ZP_R__N
};
const char *zp_role_name(enum zp_role r);
/* ZUPD_E_NOTFOUND for a name that is no role. */
ZU_NODISCARD int zp_role_parse(const char *name, enum zp_role *out);
/* The role that delegates role (root for the top-level roles). */
enum zp_role zp_delegator(enum zp_role role);
/* Online roles (snapshot, timestamp, avdb) are signed unattended. */
bool zp_role_online(enum zp_role r);

/* "<role>/<component>/<version>/manifest.json" and the hash-prefixed file
 * name of a target in targets/ for content of sha256 hex. */
ZU_NODISCARD int zp_target_file(char *dst, size_t cap, const char *target_path,
                                const char *sha256_hex);
void zp_blob_path(char *dst, size_t cap, const uint8_t sha256[32]);

#endif
