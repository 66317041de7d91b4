/* SPDX-License-Identifier: Apache-2.0 */
/* lib/stage.h -- building a version's tree in a store (lib/stage.c), used by
 * the installer (lib/install.c). Internal: not part of the ABI. */
#ifndef ZU_STAGE_H
#define ZU_STAGE_H

#include <zupd/fetch.h>
#include <zupd/store.h>

#include "zu/internal.h"

struct zu_stage;

/* Start building version of a verified manifest (manifest_bytes are the
 * exact verified bytes; they are parsed again here and saved with the
 * version). An old staging tree of that version is removed first.
 * ZUPD_E_EXISTS when the version is already installed.
 * Ownership: *out new; finish with zu_stage_commit() or zu_stage_abort(). */
ZU_NODISCARD int zu_stage_begin(struct zupd_store *s, const uint8_t *manifest_bytes, size_t len,
                                struct zu_stage **out);
/* The manifest being staged (borrowed). */
const struct zupd_manifest *zu_stage_manifest(const struct zu_stage *st);

/* Find an installed file whose content has this sha256 (any kept version,
 * current first): its absolute path into path[0..cap). ZUPD_E_NOTFOUND. */
ZU_NODISCARD int zu_stage_find_local(struct zu_stage *st, const uint8_t *sha256, char *path,
                                     size_t cap);

/* Stage file i of the manifest as a hard link to installed identical
 * content. ZUPD_E_NOTFOUND when there is none. */
ZU_NODISCARD int zu_stage_link(struct zu_stage *st, size_t i);

/* Open file i for writing; *sink receives its content (hashed while
 * written; more than the manifest's size is refused). Exactly one file is
 * open at a time. Finish with zu_stage_close(). */
ZU_NODISCARD int zu_stage_open(struct zu_stage *st, size_t i, struct zupd_sink *sink);
/* Close the open file: its size and sha256 must match the manifest
 * (ZUPD_E_LENGTH, ZUPD_E_HASH; the file is then removed so the caller can
 * try another source). The fsync is deferred to commit. */
ZU_NODISCARD int zu_stage_close(struct zu_stage *st);

/* Every file of the manifest staged? Then fsync every staged file, then
 * each directory once, save the manifest, and rename the tree to
 * versions/<version>. ZUPD_E_MISUSE when files are missing. Frees st. */
ZU_NODISCARD int zu_stage_commit(struct zu_stage *st);
/* Remove the staging tree and free st. NULL ok. */
void zu_stage_abort(struct zu_stage *st);

#endif
