/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/notesign.c -- signing C2SP signed notes and cosignatures. */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include <zupd/hash.h>

#include "keys/notesign.h"

int
zp_note_sign(struct zu_buf *out, const char *text, size_t len, const struct zu_note_key *k,
             const uint8_t sk[64], uint64_t time)
{
    uint8_t sig[4 + 8 + crypto_sign_BYTES];
    size_t at = 4;
    struct zu_buf m;
    int rc;

    if (len == 0 || text[len - 1] != '\n' || memcmp(sk + 32, k->pub, 32) != 0 ||
        (k->type != ZU_NOTE_ED25519 && k->type != ZU_NOTE_COSIG_V1) || time > (uint64_t)INT64_MAX)
        return ZUPD_E_MISUSE;
    sig[0] = (uint8_t)(k->id >> 24);
    sig[1] = (uint8_t)(k->id >> 16);
    sig[2] = (uint8_t)(k->id >> 8);
    sig[3] = (uint8_t)k->id;
    zu_buf_init(&m, 0);
    if (k->type == ZU_NOTE_COSIG_V1) {
        for (int i = 7; i >= 0; i--)
            sig[at++] = (uint8_t)(time >> (8 * i));
        rc = zu_cosig_message(&m, text, len, time);
    } else {
        rc = zu_buf_add(&m, text, len);
    }
    if (rc == ZUPD_OK)
        rc = crypto_sign_detached(sig + at, NULL, m.p, m.len, sk) == 0 ? ZUPD_OK : ZUPD_E_MISUSE;
    at += crypto_sign_BYTES;
    if (rc == ZUPD_OK)
        rc = zu_buf_addf(out, "\xe2\x80\x94 %s ", k->name);
    if (rc == ZUPD_OK)
        rc = zu_b64_encode(out, sig, at);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    zu_buf_release(&m);
    sodium_memzero(sig, sizeof(sig));
    return rc;
}

int
zp_note_sign_by(struct zu_buf *out, const char *text, size_t len, const struct zu_note_key *k,
                const struct zp_signer *s)
{
    char hex[ZP_SIG_HEX_LEN + 1];
    uint8_t sig[4 + crypto_sign_BYTES];
    int rc;

    if (len == 0 || text[len - 1] != '\n' || k->type != ZU_NOTE_ED25519)
        return ZUPD_E_MISUSE;
    rc = zp_signer_sign(s, (const uint8_t *)text, len, hex, sizeof(hex));
    if (rc == ZUPD_OK)
        rc = zupd_hex_decode(sig + 4, crypto_sign_BYTES, hex, strlen(hex));
    /* a signature by another key than k's would be a note nobody can open */
    if (rc == ZUPD_OK &&
        crypto_sign_verify_detached(sig + 4, (const uint8_t *)text, len, k->pub) != 0)
        rc = ZUPD_E_MISMATCH;
    sig[0] = (uint8_t)(k->id >> 24);
    sig[1] = (uint8_t)(k->id >> 16);
    sig[2] = (uint8_t)(k->id >> 8);
    sig[3] = (uint8_t)k->id;
    if (rc == ZUPD_OK)
        rc = zu_buf_addf(out, "\xe2\x80\x94 %s ", k->name);
    if (rc == ZUPD_OK)
        rc = zu_b64_encode(out, sig, sizeof(sig));
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    return rc;
}

int
zp_note_cosign_by(struct zu_buf *out, const char *text, size_t len, const struct zu_note_key *k,
                  const struct zp_signer *s, uint64_t time)
{
    char hex[ZP_SIG_HEX_LEN + 1];
    uint8_t sig[4 + 8 + crypto_sign_BYTES];
    struct zu_buf m;
    int rc;

    if (len == 0 || text[len - 1] != '\n' || k->type != ZU_NOTE_COSIG_V1 || time == 0 ||
        time > (uint64_t)INT64_MAX)
        return ZUPD_E_MISUSE;
    zu_buf_init(&m, 0);
    rc = zu_cosig_message(&m, text, len, time);
    if (rc == ZUPD_OK)
        rc = zp_signer_sign(s, m.p, m.len, hex, sizeof(hex));
    if (rc == ZUPD_OK)
        rc = zupd_hex_decode(sig + 12, crypto_sign_BYTES, hex, strlen(hex));
    /* a cosignature by another key than k's is one nobody can check */
    if (rc == ZUPD_OK && crypto_sign_verify_detached(sig + 12, m.p, m.len, k->pub) != 0)
        rc = ZUPD_E_MISMATCH;
    sig[0] = (uint8_t)(k->id >> 24);
    sig[1] = (uint8_t)(k->id >> 16);
    sig[2] = (uint8_t)(k->id >> 8);
    sig[3] = (uint8_t)k->id;
    for (int i = 0; i < 8; i++)
        sig[4 + i] = (uint8_t)(time >> (8 * (7 - i)));
    if (rc == ZUPD_OK)
        rc = zu_buf_addf(out, "\xe2\x80\x94 %s ", k->name);
    if (rc == ZUPD_OK)
        rc = zu_b64_encode(out, sig, sizeof(sig));
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    zu_buf_release(&m);
    return rc;
}

int
zp_note_sig_line(struct zu_buf *out, const struct zu_note_sig *s)
{
    uint8_t bin[4 + 256];
    int rc;

    if (s->sig_len > sizeof(bin) - 4)
        return ZUPD_E_TOOBIG;
    bin[0] = (uint8_t)(s->id >> 24);
    bin[1] = (uint8_t)(s->id >> 16);
    bin[2] = (uint8_t)(s->id >> 8);
    bin[3] = (uint8_t)s->id;
    memcpy(bin + 4, s->sig, s->sig_len);
    rc = zu_buf_addf(out, "\xe2\x80\x94 %s ", s->name);
    if (rc == ZUPD_OK)
        rc = zu_b64_encode(out, bin, 4 + s->sig_len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\n", 1);
    return rc;
}
