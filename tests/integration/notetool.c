/* SPDX-License-Identifier: Apache-2.0 */
/* tests/integration/notetool.c -- signed-note keys and signatures for
 * tests/integration/tlog_endpoint.sh (the witnesses of the test, and a log
 * key that is not the repository's), with mirror/keys/notesign.c. A key is
 * made from a word: its Ed25519 seed is SHA-256(word).
 *
 *   notetool vkey TYPE NAME WORD           print the vkey (TYPE: log | witness)
 *   notetool cosign NAME WORD TIME FILE    add a cosignature/v1 of the note in FILE
 *   notetool resign NAME WORD FILE         replace FILE's signatures by one Ed25519
 *                                          signature of key (NAME, WORD)
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys/notesign.h"
#include "zu/fsio.h"
#include "zu/note.h"

static int
key_of(const char *type, const char *name, const char *word, struct zu_note_key *k, uint8_t sk[64])
{
    uint8_t seed[32], pub[32];
    uint8_t t = strcmp(type, "log") == 0 ? ZU_NOTE_ED25519 : ZU_NOTE_COSIG_V1;

    crypto_hash_sha256(seed, (const unsigned char *)word, strlen(word));
    crypto_sign_seed_keypair(pub, sk, seed);
    return zu_note_key_init(k, name, t, pub);
}

static int
sign_file(const char *type, const char *name, const char *word, uint64_t time, const char *file,
          bool keep)
{
    struct zu_note_key k;
    struct zu_note *n = NULL;
    struct zu_buf out;
    uint8_t sk[64], *msg = NULL;
    size_t len = 0;
    int rc;

    zu_buf_init(&out, ZU_NOTE_MAX_BYTES);
    rc = key_of(type, name, word, &k, sk);
    if (rc == ZUPD_OK)
        rc = zu_read_capped(AT_FDCWD, file, ZU_NOTE_MAX_BYTES, &msg, &len);
    if (rc == ZUPD_OK)
        rc = zu_note_parse(msg, len, &n);
    if (rc == ZUPD_OK)
        rc = keep ? zu_buf_add(&out, msg, len) : zu_buf_add(&out, n->text, n->text_len);
    if (rc == ZUPD_OK && !keep)
        rc = zu_buf_add(&out, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zp_note_sign(&out, n->text, n->text_len, &k, sk, time);
    if (rc == ZUPD_OK) {
        FILE *f = fopen(file, "wb");
        if (f == NULL || fwrite(out.p, 1, out.len, f) != out.len)
            rc = ZUPD_E_IO;
        if (f != NULL && fclose(f) != 0)
            rc = ZUPD_E_IO;
    }
    if (rc != ZUPD_OK)
        fprintf(stderr, "notetool: %s: %s\n", file, zupd_strerror(rc));
    sodium_memzero(sk, sizeof(sk));
    zu_note_free(n);
    zu_buf_release(&out);
    free(msg);
    return rc == ZUPD_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct zu_note_key k;
    uint8_t sk[64];
    char vkey[ZU_NOTE_NAME_MAX + 64];

    if (sodium_init() < 0)
        return 1;
    if (argc == 5 && strcmp(argv[1], "vkey") == 0) {
        if (key_of(argv[2], argv[3], argv[4], &k, sk) != ZUPD_OK ||
            zu_note_vkey_format(&k, vkey, sizeof(vkey)) != ZUPD_OK)
            return 1;
        sodium_memzero(sk, sizeof(sk));
        printf("%s\n", vkey);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "cosign") == 0)
        return sign_file("witness", argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5], true);
    if (argc == 5 && strcmp(argv[1], "resign") == 0)
        return sign_file("log", argv[2], argv[3], 0, argv[4], false);
    fprintf(stderr, "usage: notetool vkey log|witness NAME WORD | cosign NAME WORD TIME FILE | "
                    "resign NAME WORD FILE\n");
    return 2;
}
