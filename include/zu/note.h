/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/note.h -- C2SP signed notes (Ed25519), verifier keys, tlog
 * checkpoints and cosignature/v1 witness cosignatures (docs/transparency.md). */
#ifndef ZU_NOTE_H
#define ZU_NOTE_H

#include "zu/internal.h"
#include "zu/tlog.h"

#define ZU_NOTE_MAX_BYTES (64u << 10) /* a checkpoint with 100 cosignatures is ~12 KiB */
#define ZU_NOTE_MAX_SIGS 100          /* Go's note.Open stops at 100 too */
#define ZU_NOTE_NAME_MAX 255          /* our keys' names; others' may be longer */
#define ZU_NOTE_ED25519 0x01          /* signature type: Ed25519 over the note text */
#define ZU_NOTE_COSIG_V1 0x04         /* signature type: timestamped Ed25519 cosignature/v1 */
#define ZU_NOTE_ORIGIN_MAX 255

/* A verifier key: name, type and Ed25519 public key; id is derived. */
struct zu_note_key {
    char name[ZU_NOTE_NAME_MAX + 1];
    uint32_t id; /* SHA-256(name || 0x0A || type || pub)[:4], big-endian */
    uint8_t type;
    uint8_t pub[32];
};

/* Whether name is a valid key name: non-empty UTF-8 without Unicode spaces
 * or '+' (signed-note), at most len bytes. */
bool zu_note_name_ok(const char *name, size_t len);
uint32_t zu_note_key_id(const char *name, uint8_t type, const uint8_t pub[32]);
/* Fill k. Returns ZUPD_OK or ZUPD_E_FORMAT (bad or too long a name, unknown type). */
ZU_NODISCARD int zu_note_key_init(struct zu_note_key *k, const char *name, uint8_t type,
                                  const uint8_t pub[32]);
/* Parse "<name>+<hex id>+<base64(type || pub)>" (types 0x01 and 0x04). The id
 * must match the one computed. Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_KEYTYPE. */
ZU_NODISCARD int zu_note_vkey_parse(const char *vkey, size_t len, struct zu_note_key *out);
/* Write k as a vkey into dst[0..cap). ZUPD_OK or ZUPD_E_TOOBIG. */
ZU_NODISCARD int zu_note_vkey_format(const struct zu_note_key *k, char *dst, size_t cap);

struct zu_note_sig {
    char *name;
    uint32_t id;
    uint8_t *sig; /* after the key id */
    size_t sig_len;
};
/* A parsed, not yet verified, signed note. text includes its final newline. */
struct zu_note {
    char *text;
    size_t text_len;
    struct zu_note_sig *sigs;
    size_t nsigs;
};

/* Parse an untrusted signed note (at most ZU_NOTE_MAX_BYTES, at most
 * ZU_NOTE_MAX_SIGS signature lines): valid UTF-8, no control characters but
 * newline, text up to the last blank line, then lines "— <name> <base64>".
 * Verifies nothing. Ownership: *out new, zu_note_free(). Returns ZUPD_OK,
 * ZUPD_E_FORMAT, ZUPD_E_TOOBIG, ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_note_parse(const uint8_t *msg, size_t len, struct zu_note **out);
void zu_note_free(struct zu_note *n); /* NULL ok */

/* Check n's signatures against keys[0..nkeys): a signature whose name and
 * id match a key must verify (Ed25519 over the text, or cosignature/v1 over
 * "cosignature/v1\ntime <t>\n" || text), else the whole note is refused
 * (ZUPD_E_SIG); signatures of unknown keys are ignored. ok[i] tells whether
 * keys[i] signed; times[i] (times may be NULL) is a cosignature's timestamp. */
ZU_NODISCARD int zu_note_verify(const struct zu_note *n, const struct zu_note_key *keys,
                                size_t nkeys, bool *ok, uint64_t *times);

/* The cosignature/v1 signed message for a note text and time: the caller
 * owns out (a zu_buf). */
ZU_NODISCARD int zu_cosig_message(struct zu_buf *out, const char *text, size_t text_len,
                                  uint64_t time);

/* A checkpoint, the text of a log's signed note. */
struct zu_checkpoint {
    char origin[ZU_NOTE_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[ZU_TLOG_HASH];
    char *ext; /* extension lines with their newlines; NULL when there are none */
};
/* Parse note text: origin, decimal size (no leading zeros, < 2^63), base64
 * root of 32 bytes, optional non-empty extension lines; text ends in a
 * newline. Ownership: release with zu_checkpoint_release(). Returns ZUPD_OK,
 * ZUPD_E_FORMAT, ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_checkpoint_parse(const char *text, size_t len, struct zu_checkpoint *out);
void zu_checkpoint_release(struct zu_checkpoint *c);
/* Append c's note text to out. */
ZU_NODISCARD int zu_checkpoint_format(const struct zu_checkpoint *c, struct zu_buf *out);

/* What an endpoint or monitor trusts of a log: its origin, its key, its
 * witnesses and how many of them must cosign. */
#define ZU_TLOG_LOG_KEYS_MAX 4 /* a log's keys an endpoint may list (a rotation needs 2) */
struct zu_tlog_trust {
    const char *origin;
    struct zu_note_key log_key; /* type ZU_NOTE_ED25519 */
    /* further keys of the same log (a key rotation, docs/transparency.md):
     * a signature of any one of log_key and these is the log's */
    struct zu_note_key more_log_keys[ZU_TLOG_LOG_KEYS_MAX - 1];
    size_t nmore_log_keys;
    const struct zu_note_key *witnesses; /* type ZU_NOTE_COSIG_V1 */
    size_t nwitnesses;
    size_t quorum;
};
/* The keys of trust in the order the checks use them: the log's keys
 * (log_key, then more_log_keys) in out[0..*nlog), then the witnesses.
 * Ownership: *out new (free()), 1 + nmore_log_keys + nwitnesses keys.
 * ZUPD_E_NOMEM, ZUPD_E_MISUSE (nmore_log_keys too large). */
ZU_NODISCARD int zu_tlog_trust_keys(const struct zu_tlog_trust *trust, struct zu_note_key **out,
                                    size_t *nlog, size_t *n);
/* Parse and check a signed checkpoint against trust: signed by a log key,
 * origin as configured, cosigned by at least quorum distinct witnesses.
 * *cosigners (may be NULL) gets how many distinct witnesses cosigned.
 * Ownership: out as for zu_checkpoint_parse(), filled only on ZUPD_OK.
 * Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_TOOBIG, ZUPD_E_SIG (no valid log
 * signature, or a bad signature of a known key), ZUPD_E_MISMATCH (origin),
 * ZUPD_E_THRESHOLD (too few cosigners), ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_checkpoint_open(const uint8_t *msg, size_t len,
                                    const struct zu_tlog_trust *trust, struct zu_checkpoint *out,
                                    size_t *cosigners, char *err, size_t err_cap);

/* Standard base64 (RFC 4648 section 4, padded) helpers over libsodium. */
ZU_NODISCARD int zu_b64_encode(struct zu_buf *out, const uint8_t *bin, size_t len);
/* Decode exactly: ZUPD_E_FORMAT unless b64[0..len) decodes to 1..cap bytes. */
ZU_NODISCARD int zu_b64_decode(uint8_t *bin, size_t cap, size_t *bin_len, const char *b64,
                               size_t len);

#endif
