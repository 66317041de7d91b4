/* SPDX-License-Identifier: Apache-2.0 */
/* tests/integration/prooftool.c -- an offline endpoint for
 * tests/integration/tlog_proof.sh: checks a log proof unit
 * (zupd-mirror log proof) with zu_tlog_proof_verify() and nothing else (no
 * network, no tile), the entry rebuilt as the endpoint rebuilds it from the
 * target's bytes with zu_tlog_entry_release / zu_tlog_entry_channel.
 *
 *   prooftool UNIT VKEY STORED PATH FILE [QUORUM WITNESS-VKEY...]
 *
 * STORED is the endpoint's checkpoint note ("-": none); PATH the target
 * path (ROLE/COMPONENT/VERSION/manifest.json or ROLE/COMPONENT/channels/
 * CHANNEL.json), FILE its bytes. Exit 0, or 10 + the zupd error code with
 * the message on stderr. On success prints "ok: entry N of size S". */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "zu/note.h"
#include "zu/tlog_client.h"
#include "zu/tlog_proof.h"

#define MAX_WITNESSES 8

static int
die(int rc, const char *msg)
{
    fprintf(stderr, "prooftool: %s (%s)\n", msg, zupd_strerror(rc));
    return 10 + rc;
}

/* The entry the endpoint rebuilds for path from its target bytes. */
static json_t *
rebuild(const char *path, const uint8_t *buf, size_t len)
{
    char role[64] = "", hex[65];
    uint8_t sha[32];
    const char *slash = strchr(path, '/');
    json_t *doc = NULL;

    if (slash == NULL || (size_t)(slash - path) >= sizeof(role))
        return NULL;
    memcpy(role, path, (size_t)(slash - path));
    crypto_hash_sha256(sha, buf, len);
    zupd_hex_encode(hex, sizeof(hex), sha, 32);
    if (strstr(path, "/channels/") != NULL) {
        struct zupd_channel *c = NULL;
        if (zupd_channel_parse(buf, len, &c) == ZUPD_OK)
            doc = zu_tlog_entry_channel(role, path, hex, len, c->component, c->channel, c->version,
                                        c->floor, c->rollback);
        zupd_channel_free(c);
    } else {
        struct zupd_manifest *m = NULL;
        if (zupd_manifest_parse(buf, len, NULL, &m, NULL, 0) == ZUPD_OK)
            doc = zu_tlog_entry_release(role, path, hex, len, m->component, m->version,
                                        m->source_revision, m->builder);
        zupd_manifest_free(m);
    }
    return doc;
}

static int
vkey_of(const char *s, uint8_t type, struct zu_note_key *k)
{
    return zu_note_vkey_parse(s, strlen(s), k) == ZUPD_OK && k->type == type ? ZUPD_OK
                                                                             : ZUPD_E_FORMAT;
}

int
main(int argc, char **argv)
{
    struct zu_note_key w[MAX_WITNESSES];
    struct zu_tlog_trust trust = {0};
    struct zu_checkpoint stored = {0}, cp = {0};
    struct zu_tlog_proof *p = NULL;
    struct zu_note *n = NULL;
    uint8_t *unit = NULL, *file = NULL, *entry = NULL, *st = NULL;
    size_t ulen = 0, flen = 0, elen = 0, slen = 0, cos = 0;
    char err[1024] = "";
    json_t *doc;
    int rc, ret = 0;

    if (argc < 6 || argc - 7 > MAX_WITNESSES || sodium_init() < 0) {
        fprintf(stderr, "usage: prooftool UNIT VKEY STORED PATH FILE [QUORUM WITNESS-VKEY...]\n");
        return 2;
    }
    if (vkey_of(argv[2], ZU_NOTE_ED25519, &trust.log_key) != ZUPD_OK)
        return die(ZUPD_E_FORMAT, "bad log vkey");
    trust.origin = trust.log_key.name;
    if (argc > 6) {
        trust.quorum = (size_t)strtoul(argv[6], NULL, 10);
        for (int i = 7; i < argc; i++)
            if (vkey_of(argv[i], ZU_NOTE_COSIG_V1, &w[trust.nwitnesses++]) != ZUPD_OK)
                return die(ZUPD_E_FORMAT, "bad witness vkey");
        trust.witnesses = w;
    }
    rc = zu_read_capped(AT_FDCWD, argv[1], ZU_TLOG_PROOF_UNIT_MAX + 1, &unit, &ulen);
    if (rc == ZUPD_OK)
        rc = zu_read_capped(AT_FDCWD, argv[5], 1 << 20, &file, &flen);
    if (rc != ZUPD_OK) {
        ret = die(rc, "cannot read the unit or the target");
        goto out;
    }
    /* the stored checkpoint was checked when it was stored: parsed only */
    if (strcmp(argv[3], "-") != 0) {
        rc = zu_read_capped(AT_FDCWD, argv[3], ZU_NOTE_MAX_BYTES, &st, &slen);
        if (rc == ZUPD_OK)
            rc = zu_note_parse(st, slen, &n);
        if (rc == ZUPD_OK)
            rc = zu_checkpoint_parse(n->text, n->text_len, &stored);
        zu_note_free(n);
        if (rc != ZUPD_OK) {
            ret = die(rc, "cannot read the stored checkpoint");
            goto out;
        }
    }
    doc = rebuild(argv[4], file, flen);
    rc = doc != NULL ? zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &entry, &elen) : ZUPD_E_FORMAT;
    json_decref(doc);
    if (rc != ZUPD_OK) {
        ret = die(rc, "cannot rebuild the entry");
        goto out;
    }
    rc = zu_tlog_proof_parse(unit, ulen, &p);
    if (rc != ZUPD_OK) {
        ret = die(rc, "the proof unit is malformed");
        goto out;
    }
    rc = zu_tlog_proof_verify(p, &trust, entry, elen, argv[4], stored.size > 0 ? &stored : NULL,
                              &cp, &cos, err, sizeof(err));
    if (rc != ZUPD_OK) {
        ret = die(rc, err);
        goto out;
    }
    printf("ok: entry %llu of size %llu, %zu cosigners\n", (unsigned long long)p->index,
           (unsigned long long)cp.size, cos);
out:
    zu_checkpoint_release(&cp);
    zu_checkpoint_release(&stored);
    zu_tlog_proof_free(p);
    free(unit);
    free(file);
    free(entry);
    free(st);
    return ret;
}
