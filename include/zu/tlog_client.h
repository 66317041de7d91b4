/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/tlog_client.h -- the endpoint's side of the transparency log
 * (docs/transparency.md, "The endpoint's check"): the entry the publisher
 * logs for a release, rebuilt from signed data; the check an updater makes
 * before it installs or switches to a release; the checkpoint it trusts. */
#ifndef ZU_TLOG_CLIENT_H
#define ZU_TLOG_CLIENT_H

#include <jansson.h>

#include "zu/internal.h"
#include "zu/note.h"
#include "zu/tlog.h"

/* The release entry {"type":"release", ...} of docs/transparency.md, as a
 * new JSON object to dump with zu_cjson_dump() (NULL: out of memory).
 * sha_hex is the lower-case hex SHA-256 of the manifest bytes the target
 * pins, length their length; source_revision and builder (the manifest's
 * provenance) may be NULL. The publisher (mirror/repo/translog.c) and the
 * endpoint build entries with this one function, so they cannot drift. */
json_t *zu_tlog_entry_release(const char *role, const char *path, const char *sha_hex,
                              uint64_t length, const char *component, const char *version,
                              const char *source_revision, const char *builder);

/* The channel entry {"type":"channel", ...} of a vendor channel pointer:
 * floor may be NULL; rollback adds "rollback":true. As above, shared by the
 * publisher and the endpoint. */
json_t *zu_tlog_entry_channel(const char *role, const char *path, const char *sha_hex,
                              uint64_t length, const char *component, const char *channel,
                              const char *version, const char *floor, bool rollback);

/* The index a target's signed "custom" value (canonical JSON, untrusted
 * shape) gives its log entry: {"zupd_log":{"index":N}, ...}. Returns
 * ZUPD_OK, ZUPD_E_NOTFOUND (no "zupd_log"), ZUPD_E_FORMAT. */
ZU_NODISCARD int zu_tlog_custom_index(const uint8_t *custom, size_t len, uint64_t *index);

/* Where the endpoint keeps what it trusts of the log: <state_dir>/log/,
 * the last checkpoint it accepted (exact signed bytes) and a cache of full
 * tiles (untrusted, believed only through proofs). */
#define ZU_TLOG_STATE_DIR "log"
#define ZU_TLOG_STATE_CHECKPOINT "checkpoint"
#define ZU_TLOG_STATE_TILES "tiles"

/* Configure the log check of an updater: from now on
 * zu_updater_log_check() proves every release against this log. trust and
 * what it points to are copied. Returns ZUPD_OK, ZUPD_E_MISUSE (a quorum
 * above the witnesses, a log key that is not Ed25519), ZUPD_E_NOMEM. */
struct zupd_updater;
ZU_NODISCARD int zu_updater_set_log(struct zupd_updater *u, const struct zu_tlog_trust *trust);

/* Before installing or switching to release (role, component, version),
 * and, when channel is not NULL, following the vendor's channel pointer
 * <role>/<component>/channels/<channel>.json that names it:
 * nothing when no log is configured; else fetch log/checkpoint from the
 * mirrors, open it with the trust (log key, origin, witness quorum), rebuild
 * the release's entry from its signed target and verified manifest (and the
 * pointer's from its signed target and verified bytes), prove each is entry
 * N of the checkpoint's tree (N from the target's signed custom "zupd_log"
 * index), prove the checkpoint consistent with the one this
 * endpoint accepted last, then store the new checkpoint (atomic, fsynced).
 * Tiles come from the mirrors' log/tile/..., full ones cached. Any failure
 * stores nothing; err names the log's origin and what is wrong. Returns
 * ZUPD_OK, ZUPD_E_NOTFOUND (no checkpoint on the mirrors, no index, entry not
 * in the log), ZUPD_E_SIG, ZUPD_E_MISMATCH (origin), ZUPD_E_THRESHOLD
 * (cosigners), ZUPD_E_ROLLBACK (rolled back or forked from the stored
 * checkpoint), ZUPD_E_HASH (tiles that do not give the signed root),
 * ZUPD_E_FORMAT, ZUPD_E_TOOBIG, network and I/O errors. */
ZU_NODISCARD int zu_updater_log_check(struct zupd_updater *u, const char *role,
                                      const char *component, const char *version,
                                      const char *channel, char *err, size_t err_cap);

/* The checkpoint this endpoint trusts (<state_dir>/log/checkpoint), for
 * `zupd status`: parsed into *cp (release with zu_checkpoint_release()),
 * with the names of the trusted witnesses whose cosignatures verify in
 * names[0..names_cap) (comma-separated) and their count. No request.
 * Returns ZUPD_OK, ZUPD_E_NOTFOUND (none stored yet), ZUPD_E_FORMAT,
 * ZUPD_E_SIG (the stored note does not verify under trust), I/O errors. */
ZU_NODISCARD int zu_tlog_trusted(const char *state_dir, const struct zu_tlog_trust *trust,
                                 struct zu_checkpoint *cp, size_t *cosigners, char *names,
                                 size_t names_cap);

#endif
