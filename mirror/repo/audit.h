/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/audit.h -- zupd-mirror audit: an independent auditor checks a
 * staged release (mirror/repo/staged.c) against its own rebuild and signs
 * the staged role metadata only when every check passes, with a signed
 * audit record beside the signature (docs/mirror.md, "The auditor's
 * check"). Reads the release through a source (a directory or HTTP, the
 * caller's), never a repository's state. */
#ifndef ZP_AUDIT_H
#define ZP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "keys/keystore.h"
#include "zu/internal.h"

/* Where the staged release is read: a repository tree (the directory the
 * publisher serves, or a copy). get reads path (relative to the tree:
 * "staged/products/release.json", "targets/...", "blobs/...", "metadata/...")
 * of at most cap bytes. Ownership: *out new (free()). ZUPD_E_NOTFOUND when
 * missing. */
struct zp_audit_src {
    void *opaque;
    int (*get)(void *opaque, const char *path, size_t cap, uint8_t **out, size_t *len);
};

struct zp_audit_opts {
    const char *role;            /* "products" (default) or "avdb" */
    const char *rebuild;         /* the auditor's rebuild of the release (a directory) */
    const char *key_path;        /* the auditor's key file (NAME.key) */
    const struct zp_pass *pass;  /* its passphrase */
    const char *allow_builders;  /* file: one builder a line; NULL: any named builder */
    const char *allow_revisions; /* file: one revision a line; NULL: any named revision */
    const char *last_signed;     /* the role metadata the auditor signed last; NULL: the
                                    tree's version before the staged one */
    const char *out_dir;         /* where the signature and record go */
    int64_t now;                 /* 0: the clock */
};

struct zp_audit_res {
    size_t checks;    /* checks made */
    size_t failed;    /* checks failed: nothing signed unless 0 */
    uint64_t version; /* the staged role version */
    char sig_path[4200];
    char record_path[4200];
    char signed_path[4200];
};

/* Run every check, appending one line per check to report ("ok ..." or
 * "FAIL ..."); sign and write (out_dir/N.ROLE.sig.json, N.ROLE.audit.json,
 * N.ROLE.json with the signature added) only when none failed. Returns
 * ZUPD_OK when the audit ran (res->failed says whether it passed), or the
 * error that stopped it (err says why). */
ZU_NODISCARD int zp_audit(const struct zp_audit_src *src, const struct zp_audit_opts *o,
                          struct zu_buf *report, struct zp_audit_res *res, char *err, size_t cap);

#endif
