/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/meta_names.h -- the names a delegator gives its keys, and which
 * keys signed a document. Names live in the signed part of root and targets
 * metadata as "x-zupd-key-names": {"<keyid>": "<name>"} (docs/formats.md),
 * a member TUF clients that do not know it ignore; key ids are unchanged.
 * Internal API shared by lib/, the mirror and the updater (never installed). */
#ifndef ZU_META_NAMES_H
#define ZU_META_NAMES_H

#include <zupd/meta.h>

#include "zu/internal.h"

#define ZU_KEY_NAMES "x-zupd-key-names"
#define ZU_KEY_NAME_MAX 64 /* bytes of a key name, without the NUL */

/* The name m gives keyid (borrowed from m), or NULL when it gives none or
 * the name is not a safe name (1..ZU_KEY_NAME_MAX of [A-Za-z0-9._+~-],
 * zupd_name_is_safe()): the value came from metadata and is shown to
 * people. */
const char *zu_meta_key_name(const struct zupd_meta *m, const char *keyid);

/* Give keyid the name name (NULL: drop its name) in m (root or targets).
 * ZUPD_E_MISUSE for an unsafe name or another type of document; the
 * signatures are not dropped (re-sign). */
ZU_NODISCARD int zu_meta_set_key_name(struct zupd_meta *m, const char *keyid, const char *name);

/* The key ids of role (as delegator gives it keys) whose signatures on sm
 * verify, in the order of sm's signatures, each key once, at most cap of
 * them into ids; *n receives how many. Returns ZUPD_OK, ZUPD_E_ROLE (not
 * delegated), ZUPD_E_NOMEM, ZUPD_E_MISUSE. */
ZU_NODISCARD int zu_meta_signers(const struct zupd_meta *delegator, const char *role,
                                 const struct zupd_meta *sm, char (*ids)[65], size_t cap,
                                 size_t *n);

#endif
