/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/tlog_proof.h -- the log proof unit (docs/transparency.md,
 * "Proof material as one unit"): the signed checkpoint with its
 * cosignatures, an entry's index, its inclusion proof and the consistency
 * proof from a stated older size, as one text document an offline endpoint
 * checks without any request. */
#ifndef ZU_TLOG_PROOF_H
#define ZU_TLOG_PROOF_H

#include "zu/internal.h"
#include "zu/note.h"
#include "zu/tlog.h"

#define ZU_TLOG_PROOF_MAGIC "zupd-log-proof/v1"
/* The header and 2 * 64 hash lines fit in 8 KiB; the note is capped apart. */
#define ZU_TLOG_PROOF_UNIT_MAX ((size_t)ZU_NOTE_MAX_BYTES + 8192)

/* A proof unit. note[0..note_len) is the exact signed checkpoint (text,
 * blank line, signature lines), owned. */
struct zu_tlog_proof {
    uint64_t index; /* the entry's index in the checkpoint's tree */
    uint64_t old;   /* the older tree size the consistency proof starts from; 0: none */
    size_t ninclusion, nconsistency;
    uint8_t inclusion[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH];   /* RFC 9162 PATH, leaf to root */
    uint8_t consistency[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH]; /* RFC 9162 PROOF from old */
    uint8_t *note;
    size_t note_len;
};

/* Parse an untrusted unit (at most ZU_TLOG_PROOF_UNIT_MAX bytes): the exact
 * grammar of docs/transparency.md, the note parsed as a signed note and its
 * text as a checkpoint, index below the checkpoint's size, old at most the
 * size, no consistency hash when old is 0 or the size. Verifies no
 * signature and no proof. Ownership: *out new, zu_tlog_proof_free().
 * Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_TOOBIG, ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_tlog_proof_parse(const uint8_t *buf, size_t len, struct zu_tlog_proof **out);
void zu_tlog_proof_free(struct zu_tlog_proof *p); /* NULL ok */

/* Append the unit p to out (the grammar zu_tlog_proof_parse() reads).
 * Returns ZUPD_OK, ZUPD_E_MISUSE (counts above ZU_TLOG_PROOF_MAX, no note,
 * a note without its final newline), ZUPD_E_NOMEM, ZUPD_E_TOOBIG. */
ZU_NODISCARD int zu_tlog_proof_format(const struct zu_tlog_proof *p, struct zu_buf *out);

/* Check unit p offline: the checkpoint opened with trust (log key, origin,
 * witness quorum), entry[0..entry_len) (rebuilt by the caller from signed
 * data; what names it in messages, NULL: "the entry") proven to be entry
 * p->index of its tree, and, when stored is not NULL and of size > 0 (the
 * checkpoint this endpoint accepted last, of trust's origin), the
 * checkpoint proven consistent with it: p->old must be stored->size. No
 * request, no tile. *out (may be NULL; release with
 * zu_checkpoint_release()) gets the opened checkpoint and *cosigners (may
 * be NULL) its distinct witnesses, on ZUPD_OK only; the caller stores
 * p->note as its new trusted checkpoint. Returns ZUPD_OK, ZUPD_E_SIG,
 * ZUPD_E_MISMATCH (origin; a unit made from another older size than the
 * stored one), ZUPD_E_THRESHOLD (cosigners), ZUPD_E_NOTFOUND (the entry is
 * not proven at its index: not in the log, or a damaged proof),
 * ZUPD_E_ROLLBACK (older than the stored checkpoint, or not consistent
 * with it: a fork), ZUPD_E_FORMAT, ZUPD_E_TOOBIG, ZUPD_E_MISUSE,
 * ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_tlog_proof_verify(const struct zu_tlog_proof *p,
                                      const struct zu_tlog_trust *trust, const uint8_t *entry,
                                      size_t entry_len, const char *what,
                                      const struct zu_checkpoint *stored, struct zu_checkpoint *out,
                                      size_t *cosigners, char *err, size_t err_cap);

#endif
