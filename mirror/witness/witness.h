/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/witness/witness.h -- a C2SP tlog-witness: the add-checkpoint
 * request parser and decision (witness.c, pure but for its state
 * directory) and its HTTP server (witness_http.c, libmicrohttpd). It keeps,
 * per log, the latest checkpoint it cosigned, and cosigns (cosignature/v1)
 * only a checkpoint consistent with it (docs/transparency.md). Never
 * installed. */
#ifndef ZP_WITNESS_H
#define ZP_WITNESS_H

#include <pthread.h>

#include "keys/signer.h"
#include "zu/note.h"
#include "zu/tlog.h"

/* tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
#define ZP_WITNESS_PROOF_MAX 63
/* A request body: "old N\n" (at most 24 bytes), 63 proof lines of 45 bytes,
 * the empty line and a signed note of at most ZU_NOTE_MAX_BYTES. */
#define ZP_WITNESS_BODY_MAX (ZU_NOTE_MAX_BYTES + 24 + ZP_WITNESS_PROOF_MAX * 45 + 1)
#define ZP_WITNESS_LOGS_MAX 1024 /* log keys a witness is configured with */

/* A parsed add-checkpoint body. note points into the parsed body
 * (borrowed); nothing in it is verified yet. */
struct zp_wreq {
    uint64_t old;
    uint8_t proof[ZP_WITNESS_PROOF_MAX][ZU_TLOG_HASH];
    size_t nproof;
    const uint8_t *note;
    size_t note_len;
};

/* Parse an untrusted add-checkpoint body body[0..len) strictly: "old <size>"
 * (decimal, no leading zero but "0", below 2^63), at most 63 lines of one
 * canonical base64 SHA-256 hash each, an empty line, then the signed note
 * (kept as a view, parsed by the caller). Every line ends in "\n".
 * Returns ZUPD_OK, ZUPD_E_FORMAT or ZUPD_E_TOOBIG (over ZP_WITNESS_BODY_MAX). */
ZU_NODISCARD int zp_wreq_parse(const uint8_t *body, size_t len, struct zp_wreq *out);

/* The answer to one request: HTTP status, Content-Type, body. */
struct zp_wresp {
    unsigned status;
    const char *content_type; /* static */
    struct zu_buf body;
};
void zp_wresp_init(struct zp_wresp *r);
void zp_wresp_release(struct zp_wresp *r);

struct zp_witness_opts {
    const char *state_dir;        /* the latest cosigned checkpoint per log, one file each */
    const char *name;             /* the witness's key name (its cosignature/v1 vkey's) */
    struct zp_signer *signer;     /* Ed25519; borrowed, must outlive the witness */
    const char *const *log_vkeys; /* Ed25519 vkeys of the logs; a key's name is its log's origin */
    size_t n_log_vkeys;
    int64_t now; /* cosignature time; 0: the clock */
};

struct zp_witness;
/* A witness over o (strings copied, signer borrowed); the state directory
 * is created if missing and locked (flock) for as long as the witness lives.
 * Ownership: *out new, zp_witness_free().
 * Returns ZUPD_OK, ZUPD_E_FORMAT (a bad vkey, named in err), ZUPD_E_KEYTYPE
 * (not Ed25519; a signer not Ed25519), ZUPD_E_BUSY (another witness holds
 * the state), ZUPD_E_IO, ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_witness_new(const struct zp_witness_opts *o, struct zp_witness **out, char *err,
                                size_t cap);
void zp_witness_free(struct zp_witness *w); /* NULL ok */
/* The cosignature/v1 vkey of the witness key s named name into
 * vkey[0..cap). Returns ZUPD_OK, ZUPD_E_KEYTYPE (not Ed25519),
 * ZUPD_E_FORMAT (not a key name: empty, spaces, '+'), ZUPD_E_TOOBIG. */
ZU_NODISCARD int zp_witness_key_vkey(const struct zp_signer *s, const char *name, char *vkey,
                                     size_t cap);
/* The witness's cosignature/v1 vkey. */
const char *zp_witness_vkey(const struct zp_witness *w);

/* Handle one add-checkpoint body as tlog-witness says: 400 malformed (or
 * old > size), 404 unknown origin, 403 no valid signature of the log's key
 * (or a bad one), 409 old is not the size last cosigned (body "<size>\n",
 * text/x.tlog.size), 422 a bad consistency proof, a same-size different
 * root, a non-empty proof from 0, a size-0 checkpoint without the empty
 * root; 200 with the cosignature line after the new checkpoint is durable
 * (file fsynced, renamed, directory fsynced); 500 when it could not be
 * stored. Checking and storing are one step under a lock (tlog-witness's
 * race). why (may be NULL) gets a one-line reason for the log.
 * Returns ZUPD_OK (resp filled) or ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_witness_add(struct zp_witness *w, const uint8_t *body, size_t len,
                                struct zp_wresp *resp, char *why, size_t why_cap);

/* GET <origin hash>/checkpoint (tlog-witness's monitoring API): the latest
 * checkpoint cosigned for the log whose origin's SHA-256 is hex (64
 * lowercase digits), with the log's signatures and the witness's
 * cosignature; 404 when none. Returns ZUPD_OK or ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_witness_get(struct zp_witness *w, const char *hex, struct zp_wresp *resp);

/* ------------------------------------------------------------ HTTP */

struct zp_witness_server;
/* Serve w over HTTP/1.1 on listen ("ADDR:PORT", port 0 picks one): POST
 * /add-checkpoint and GET /<origin hash>/checkpoint; bodies over
 * ZP_WITNESS_BODY_MAX are answered 413 without being read whole. log_fn
 * (may be NULL) gets one line per request. Ownership: *out new,
 * zp_witness_server_stop(); w borrowed. Returns ZUPD_OK, ZUPD_E_MISUSE,
 * ZUPD_E_IO (cannot bind), ZUPD_E_NET, ZUPD_E_NOMEM. */
ZU_NODISCARD int zp_witness_serve(struct zp_witness *w, const char *listen, zupd_log_fn log_fn,
                                  void *log_opaque, struct zp_witness_server **out, char *err,
                                  size_t cap);
const char *zp_witness_server_address(const struct zp_witness_server *s);
void zp_witness_server_stop(struct zp_witness_server *s); /* NULL ok */

#endif
