/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/notesign.h -- signing C2SP signed notes: the log's Ed25519
 * checkpoint signature and a witness's cosignature/v1 (docs/transparency.md).
 * Never linked into the endpoint client. */
#ifndef ZP_NOTESIGN_H
#define ZP_NOTESIGN_H

#include "keys/signer.h"
#include "zu/note.h"

/* Append the signature line "— <name> base64(id || sig)\n" of k over the
 * note text text[0..len) (which must end in a newline) to out. sk is the
 * 64-byte libsodium Ed25519 secret key of k->pub; k->type says which
 * signature: ZU_NOTE_ED25519 signs the text, ZU_NOTE_COSIG_V1 signs the
 * cosignature/v1 message at time `time` (ignored for Ed25519).
 * Returns ZUPD_OK, ZUPD_E_MISUSE (text without final newline, a key whose
 * public half is not sk's), ZUPD_E_NOMEM, ZUPD_E_TOOBIG. */
ZU_NODISCARD int zp_note_sign(struct zu_buf *out, const char *text, size_t len,
                              const struct zu_note_key *k, const uint8_t sk[64], uint64_t time);

/* zp_note_sign for an Ed25519 note signature (k->type ZU_NOTE_ED25519) by
 * an unlocked key file's signer, whose public key must be k->pub. */
ZU_NODISCARD int zp_note_sign_by(struct zu_buf *out, const char *text, size_t len,
                                 const struct zu_note_key *k, const struct zp_signer *s);

/* Append the cosignature/v1 line of k (type ZU_NOTE_COSIG_V1) at time
 * `time` (1..2^63-1) over the note text text[0..len) to out, signed by an
 * unlocked key file's signer whose public key is k->pub (a witness).
 * Returns ZUPD_OK, ZUPD_E_MISUSE, ZUPD_E_MISMATCH (another key), ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_note_cosign_by(struct zu_buf *out, const char *text, size_t len,
                                   const struct zu_note_key *k, const struct zp_signer *s,
                                   uint64_t time);

/* Append signature s as its note line "— <name> base64(id || sig)\n". */
ZU_NODISCARD int zp_note_sig_line(struct zu_buf *out, const struct zu_note_sig *s);

#endif
