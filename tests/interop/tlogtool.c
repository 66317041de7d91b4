/* SPDX-License-Identifier: Apache-2.0 */
/* tests/interop/tlogtool.c -- the libzupd side of tests/interop/tlog_go.sh:
 * builds a transparency log on disk with lib/tlog.c, signs and cosigns its
 * checkpoint, writes the proofs it computes for Go's sumdb/tlog to check,
 * and checks the proofs and the signed checkpoint Go makes.
 *
 *   tlogtool make DIR            log, checkpoint, vkey, witnesses, roots, ours.txt
 *   tlogtool verify FILE         every proof in FILE holds, and fails once mutated
 *   tlogtool note VKEYS NOTE     NOTE is signed by VKEYS line 1, cosigned by line 2
 *   tlogtool open VKEYS NOTE Q   zu_checkpoint_open: NOTE signed by VKEYS line 1 and
 *                                cosigned by Q of the witnesses of the other lines
 *                                (tests/integration/tlog_witness.sh)
 *   tlogtool seeds DIR           the seeds of the fuzz targets fuzz_note,
 *                                fuzz_checkpoint, fuzz_tlog_tiles, fuzz_tlog_proof,
 *                                fuzz_witness_req
 *                                under DIR/<target>/ (tests/fuzz/corpus)
 *
 * Proof lines (both directions), hashes in base64:
 *   incl <index> <size> <leaf> <root> <count> <hash>...
 *   cons <m> <n> <root m> <root n> <count> <hash>...
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../fuzz/fuzz_tlog_keys.h"
#include "keys/notesign.h"
#include "zu/note.h"
#include "zu/tlog.h"

#define ORIGIN "zupd.example/interop/log"

static const uint64_t batches[] = {1, 2, 7, 256, 257, 1000, 65536, 70000};

static int
disk_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
          size_t cap)
{
    char full[4096];
    struct zu_buf b;
    uint8_t chunk[8192];
    FILE *f;
    size_t n;
    int rc = ZUPD_OK;

    snprintf(full, sizeof(full), "%s/%s", (const char *)opaque, path);
    f = fopen(full, "rb");
    if (f == NULL)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s': %s", full, strerror(errno));
    zu_buf_init(&b, max + 1);
    while (rc == ZUPD_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = zu_buf_add(&b, chunk, n);
    fclose(f);
    if (rc == ZUPD_OK)
        rc = zu_buf_detach(&b, data, len);
    zu_buf_release(&b);
    return rc;
}

static int
mkdirs(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int
put_file(const char *full, const void *data, size_t len)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s", full);
    if (mkdirs(tmp) != 0)
        return ZUPD_E_IO;
    f = fopen(full, "wb");
    if (f == NULL)
        return ZUPD_E_IO;
    if (len > 0 && fwrite(data, 1, len, f) != len) {
        fclose(f);
        return ZUPD_E_IO;
    }
    return fclose(f) == 0 ? ZUPD_OK : ZUPD_E_IO;
}

static int
disk_write(void *opaque, const char *path, const uint8_t *data, size_t len, char *err, size_t cap)
{
    char full[4096];

    snprintf(full, sizeof(full), "%s/%s", (const char *)opaque, path);
    if (put_file(full, data, len) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_IO, "cannot write '%s'", full);
    return ZUPD_OK;
}

/* Entry i: small JSON documents of varied length, and a few of several KiB
 * (their uint16 length needs both bytes). */
static size_t
entry_of(uint64_t i, uint8_t *buf, size_t cap)
{
    int n = snprintf((char *)buf, cap, "{\"n\":%llu,\"type\":\"interop\"}", (unsigned long long)i);
    size_t len = (size_t)n;

    if (i % 997 == 3) {
        size_t pad = 1000 + (size_t)(i % 4000);
        memset(buf + len, 'x', pad);
        len += pad;
    }
    return len;
}

static void
b64_line(FILE *f, const uint8_t *h, size_t len)
{
    char s[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];

    sodium_bin2base64(s, sizeof(s), h, len, sodium_base64_VARIANT_ORIGINAL);
    fprintf(f, " %s", s);
}

static void
key_of(const char *seed_tag, const char *name, uint8_t type, struct zu_note_key *k, uint8_t sk[64])
{
    uint8_t seed[32], pk[32];

    crypto_generichash(seed, sizeof(seed), (const uint8_t *)seed_tag, strlen(seed_tag), NULL, 0);
    crypto_sign_seed_keypair(pk, sk, seed);
    if (zu_note_key_init(k, name, type, pk) != ZUPD_OK)
        abort();
}

static int
cmd_make(const char *dir)
{
    struct zu_tlog_reader rd = {(void *)(uintptr_t)dir, disk_read};
    struct zu_tlog_writer wr = {(void *)(uintptr_t)dir, disk_write};
    uint8_t roots[ZU_ARRAY_LEN(batches)][ZU_TLOG_HASH], root[ZU_TLOG_HASH];
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH];
    uint8_t *entry = malloc(8192);
    struct zu_note_key logk, w[2];
    uint8_t logsk[64], wsk[2][64];
    struct zu_checkpoint c = {0};
    struct zu_tlog_tiles *t = NULL;
    struct zu_buf text, note;
    char err[512] = "", path[4096], vkey[512];
    uint64_t size = 0;
    FILE *f;

    if (entry == NULL)
        return 1;
    for (size_t b = 0; b < ZU_ARRAY_LEN(batches); b++) {
        struct zu_tlog_appender *a = NULL;
        if (zu_tlog_appender_new(size, size ? root : NULL, &rd, &wr, &a, err, sizeof(err)) !=
            ZUPD_OK)
            goto fail;
        for (uint64_t i = size; i < batches[b]; i++) {
            size_t len = entry_of(i, entry, 8192);
            if (zu_tlog_append(a, entry, len, NULL, err, sizeof(err)) != ZUPD_OK)
                goto fail;
        }
        if (zu_tlog_appender_finish(a, &size, root, err, sizeof(err)) != ZUPD_OK)
            goto fail;
        zu_tlog_appender_free(a);
        memcpy(roots[b], root, ZU_TLOG_HASH);
    }
    if (zu_tlog_verify_tree(size, root, &rd, NULL, NULL, err, sizeof(err)) != ZUPD_OK)
        goto fail;

    /* the roots of every batch, and the proofs libzupd computes from the tiles */
    snprintf(path, sizeof(path), "%s/ours.txt", dir);
    f = fopen(path, "w");
    if (f == NULL || zu_tlog_tiles_new(size, &rd, &t) != ZUPD_OK)
        goto fail;
    for (size_t b = 0; b < ZU_ARRAY_LEN(batches); b++) {
        uint64_t n = batches[b];
        for (uint64_t i = 0; i < n; i = i < 300 ? i + 1 + i / 8 : i * 2 + 7) {
            uint8_t leaf[ZU_TLOG_HASH];
            size_t len = 0;
            if (zu_tlog_prove_inclusion(t, i, n, proof, &len, err, sizeof(err)) != ZUPD_OK)
                goto fail;
            zu_tlog_leaf_hash(entry, entry_of(i, entry, 8192), leaf);
            fprintf(f, "incl %llu %llu", (unsigned long long)i, (unsigned long long)n);
            b64_line(f, leaf, ZU_TLOG_HASH);
            b64_line(f, roots[b], ZU_TLOG_HASH);
            fprintf(f, " %zu", len);
            for (size_t k = 0; k < len; k++)
                b64_line(f, proof[k], ZU_TLOG_HASH);
            fputc('\n', f);
        }
        for (size_t o = 0; o < b; o++) {
            size_t len = 0;
            if (zu_tlog_prove_consistency(t, batches[o], n, proof, &len, err, sizeof(err)) !=
                ZUPD_OK)
                goto fail;
            fprintf(f, "cons %llu %llu", (unsigned long long)batches[o], (unsigned long long)n);
            b64_line(f, roots[o], ZU_TLOG_HASH);
            b64_line(f, roots[b], ZU_TLOG_HASH);
            fprintf(f, " %zu", len);
            for (size_t k = 0; k < len; k++)
                b64_line(f, proof[k], ZU_TLOG_HASH);
            fputc('\n', f);
        }
    }
    zu_tlog_tiles_free(t);
    t = NULL;
    if (fclose(f) != 0)
        goto fail;

    /* the checkpoint, signed by the log key and cosigned by two witnesses */
    key_of("interop log key", ORIGIN, ZU_NOTE_ED25519, &logk, logsk);
    key_of("interop witness 1", "w1.zupd.example", ZU_NOTE_COSIG_V1, &w[0], wsk[0]);
    key_of("interop witness 2", "w2.zupd.example", ZU_NOTE_COSIG_V1, &w[1], wsk[1]);
    snprintf(c.origin, sizeof(c.origin), "%s", ORIGIN);
    c.size = size;
    memcpy(c.root, root, ZU_TLOG_HASH);
    zu_buf_init(&text, 0);
    zu_buf_init(&note, 0);
    if (zu_checkpoint_format(&c, &text) != ZUPD_OK || zu_buf_add(&note, text.p, text.len) ||
        zu_buf_add(&note, "\n", 1) ||
        zp_note_sign(&note, (const char *)text.p, text.len, &logk, logsk, 0) ||
        zp_note_sign(&note, (const char *)text.p, text.len, &w[0], wsk[0], 1767225600) ||
        zp_note_sign(&note, (const char *)text.p, text.len, &w[1], wsk[1], 1767225601))
        goto fail;
    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    if (put_file(path, note.p, note.len) != ZUPD_OK)
        goto fail;
    zu_buf_release(&text);
    zu_buf_release(&note);
    snprintf(path, sizeof(path), "%s/vkeys", dir);
    f = fopen(path, "w");
    if (f == NULL)
        goto fail;
    for (size_t i = 0; i < 3; i++) {
        if (zu_note_vkey_format(i == 0 ? &logk : &w[i - 1], vkey, sizeof(vkey)) != ZUPD_OK)
            goto fail;
        fprintf(f, "%s\n", vkey);
    }
    if (fclose(f) != 0)
        goto fail;
    sodium_memzero(logsk, sizeof(logsk));
    sodium_memzero(wsk, sizeof(wsk));
    free(entry);
    printf("tlogtool: log of %llu entries in %s\n", (unsigned long long)size, dir);
    return 0;
fail:
    fprintf(stderr, "tlogtool make: %s\n", err[0] ? err : "failed");
    free(entry);
    return 1;
}

static int
get_hash(char **save, uint8_t h[ZU_TLOG_HASH])
{
    char *tok = strtok_r(NULL, " \n", save);
    size_t n = 0;

    return tok != NULL && zu_b64_decode(h, ZU_TLOG_HASH, &n, tok, strlen(tok)) == ZUPD_OK &&
                   n == ZU_TLOG_HASH
               ? 0
               : -1;
}

static int
get_u64(char **save, uint64_t *v)
{
    char *tok = strtok_r(NULL, " \n", save), *end = NULL;

    if (tok == NULL)
        return -1;
    errno = 0;
    *v = strtoull(tok, &end, 10);
    return errno == 0 && end != tok && *end == '\0' ? 0 : -1;
}

static int
cmd_verify(const char *file)
{
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], a[ZU_TLOG_HASH], b[ZU_TLOG_HASH];
    unsigned long incl = 0, cons = 0, bad = 0;
    char line[8192];
    FILE *f = fopen(file, "r");

    if (f == NULL) {
        fprintf(stderr, "tlogtool verify: cannot open '%s'\n", file);
        return 1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *save = NULL, *kind = strtok_r(line, " \n", &save);
        uint64_t x = 0, y = 0, count = 0;
        int ok, mutated;

        if (kind == NULL || get_u64(&save, &x) || get_u64(&save, &y) || get_hash(&save, a) ||
            get_hash(&save, b) || get_u64(&save, &count) || count > ZU_TLOG_PROOF_MAX) {
            bad++;
            continue;
        }
        for (uint64_t k = 0; k < count; k++)
            if (get_hash(&save, proof[k]))
                bad++;
        if (strcmp(kind, "incl") == 0) {
            /* a = leaf, b = root */
            ok = zu_tlog_verify_inclusion(x, y, a, proof, count, b);
            a[0] ^= 1;
            mutated = zu_tlog_verify_inclusion(x, y, a, proof, count, b);
            incl++;
        } else if (strcmp(kind, "cons") == 0) {
            ok = zu_tlog_verify_consistency(x, a, y, b, proof, count);
            if (count > 0) {
                proof[count - 1][31] ^= 1;
                mutated = zu_tlog_verify_consistency(x, a, y, b, proof, count);
            } else {
                mutated = ZUPD_E_HASH;
            }
            cons++;
        } else {
            ok = mutated = ZUPD_E_FORMAT;
        }
        if (ok != ZUPD_OK || mutated == ZUPD_OK) {
            fprintf(stderr, "tlogtool verify: %s %llu %llu: %s\n", kind, (unsigned long long)x,
                    (unsigned long long)y, ok != ZUPD_OK ? "refused" : "mutated proof accepted");
            bad++;
        }
    }
    fclose(f);
    printf("tlogtool verify: %lu inclusion and %lu consistency proofs, %lu bad\n", incl, cons, bad);
    return bad == 0 && incl > 0 && cons > 0 ? 0 : 1;
}

static int
read_all(const char *path, uint8_t **data, size_t *len)
{
    char err[256];
    const char *base = path[0] == '/' ? "" : ".";
    int rc = disk_read((void *)(uintptr_t)base, path, 1 << 20, data, len, err, sizeof(err));

    if (rc != ZUPD_OK)
        fprintf(stderr, "tlogtool: %s\n", err);
    return rc;
}

static int
cmd_note(const char *vkeys, const char *notefile)
{
    struct zu_note_key w;
    struct zu_tlog_trust trust = {0};
    struct zu_checkpoint c = {0};
    uint8_t *keys = NULL, *msg = NULL;
    size_t klen = 0, mlen = 0, cosigners = 0;
    char err[512] = "", *nl1, *nl2;
    int rc = 1;

    if (read_all(vkeys, &keys, &klen) || read_all(notefile, &msg, &mlen))
        goto out;
    nl1 = memchr(keys, '\n', klen);
    nl2 = nl1 == NULL ? NULL : memchr(nl1 + 1, '\n', klen - (size_t)(nl1 + 1 - (char *)keys));
    if (nl2 == NULL ||
        zu_note_vkey_parse((char *)keys, (size_t)(nl1 - (char *)keys), &trust.log_key) ||
        zu_note_vkey_parse(nl1 + 1, (size_t)(nl2 - nl1 - 1), &w)) {
        fprintf(stderr, "tlogtool note: bad vkeys in '%s'\n", vkeys);
        goto out;
    }
    trust.origin = trust.log_key.name;
    trust.witnesses = &w;
    trust.nwitnesses = 1;
    trust.quorum = 1;
    if (zu_checkpoint_open(msg, mlen, &trust, &c, &cosigners, err, sizeof(err)) != ZUPD_OK) {
        fprintf(stderr, "tlogtool note: %s\n", err);
        goto out;
    }
    printf("tlogtool note: checkpoint of '%s' size %llu, %zu cosigner(s)\n", trust.origin,
           (unsigned long long)c.size, cosigners);
    zu_checkpoint_release(&c);
    /* one flipped byte in the text must break it */
    msg[2] ^= 1;
    if (zu_checkpoint_open(msg, mlen, &trust, &c, NULL, err, sizeof(err)) == ZUPD_OK) {
        fprintf(stderr, "tlogtool note: a tampered note was accepted\n");
        goto out;
    }
    rc = 0;
out:
    zu_checkpoint_release(&c);
    free(keys);
    free(msg);
    return rc;
}

/* ---- fuzz seeds ---- */

static int
seed_file(const char *dir, const char *target, const char *name, const void *data, size_t len)
{
    char full[4096];

    snprintf(full, sizeof(full), "%s/%s/%s", dir, target, name);
    return put_file(full, data, len);
}

/* Append the file log/path to b with its 2-byte length (fuzz_tlog_tiles). */
static int
stream_add(struct zu_buf *b, const char *log, const char *path)
{
    uint8_t *data = NULL, hdr[2];
    size_t len = 0;
    char err[256];
    int rc = disk_read((void *)(uintptr_t)log, path, 1 << 20, &data, &len, err, sizeof(err));

    if (rc == ZUPD_OK && len > 0xffff)
        rc = ZUPD_E_TOOBIG;
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)len;
    if (rc == ZUPD_OK)
        rc = zu_buf_add(b, hdr, 2);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(b, data, len);
    free(data);
    return rc;
}

/* A log of n entries in dir/log-<n>; its root into root. */
static int
seed_log(const char *dir, uint64_t n, char *log, size_t cap, uint8_t root[ZU_TLOG_HASH])
{
    struct zu_tlog_reader rd = {log, disk_read};
    struct zu_tlog_writer wr = {log, disk_write};
    struct zu_tlog_appender *a = NULL;
    uint8_t e[8192];
    char err[256];
    uint64_t size;
    int rc;

    snprintf(log, cap, "%s/log-%llu", dir, (unsigned long long)n);
    rc = zu_tlog_appender_new(0, NULL, &rd, &wr, &a, err, sizeof(err));
    for (uint64_t i = 0; rc == ZUPD_OK && i < n; i++)
        rc = zu_tlog_append(a, e, entry_of(i, e, sizeof(e)), NULL, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zu_tlog_appender_finish(a, &size, root, err, sizeof(err));
    zu_tlog_appender_free(a);
    return rc;
}

static int
seed_tiles(const char *dir)
{
    /* the reads of zu_tlog_verify_tree, then of zu_tlog_appender_new */
    static const char *const reads300[] = {"tile/0/000",      "tile/entries/000",
                                           "tile/0/001.p/44", "tile/entries/001.p/44",
                                           "tile/1/000.p/1",  NULL};
    static const char *const edge300[] = {"tile/0/001.p/44", "tile/1/000.p/1",
                                          "tile/entries/001.p/44", NULL};
    static const char *const reads5[] = {"tile/0/000.p/5", "tile/entries/000.p/5", NULL};
    static const struct {
        uint64_t n;
        const char *name;
        const char *const *paths;
    } seeds[] = {{300, "tree-300-verify", reads300},
                 {300, "tree-300-append", edge300},
                 {5, "tree-5", reads5}};
    char log[4096];
    int rc = ZUPD_OK;

    for (size_t i = 0; rc == ZUPD_OK && i < ZU_ARRAY_LEN(seeds); i++) {
        uint8_t root[ZU_TLOG_HASH], sz[2];
        struct zu_buf b;

        rc = seed_log(dir, seeds[i].n, log, sizeof(log), root);
        zu_buf_init(&b, 0);
        sz[0] = (uint8_t)(seeds[i].n >> 8);
        sz[1] = (uint8_t)seeds[i].n;
        if (rc == ZUPD_OK)
            rc = zu_buf_add(&b, sz, 2);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(&b, root, ZU_TLOG_HASH);
        for (size_t k = 0; rc == ZUPD_OK && seeds[i].paths[k] != NULL; k++)
            rc = stream_add(&b, log, seeds[i].paths[k]);
        if (rc == ZUPD_OK)
            rc = seed_file(dir, "fuzz_tlog_tiles", seeds[i].name, b.p, b.len);
        zu_buf_release(&b);
    }
    return rc;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static int
seed_proofs(const char *dir)
{
    uint8_t buf[16 + 2 * ZU_TLOG_HASH + ZU_TLOG_PROOF_MAX * ZU_TLOG_HASH];
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], root3[ZU_TLOG_HASH], root7[ZU_TLOG_HASH];
    char log[4096], err[256];
    struct zu_tlog_reader rd = {log, disk_read};
    struct zu_tlog_tiles *t = NULL;
    uint8_t e[8192];
    size_t len = 0;
    int rc;

    rc = seed_log(dir, 7, log, sizeof(log), root7);
    if (rc == ZUPD_OK)
        rc = zu_tlog_tiles_new(7, &rd, &t);
    if (rc == ZUPD_OK)
        rc = zu_tlog_tree_hash(t, 3, root3, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_inclusion(t, 3, 7, proof, &len, err, sizeof(err));
    if (rc == ZUPD_OK) {
        put_be64(buf, 3);
        put_be64(buf + 8, 7);
        zu_tlog_leaf_hash(e, entry_of(3, e, sizeof(e)), buf + 16);
        memcpy(buf + 16 + ZU_TLOG_HASH, root7, ZU_TLOG_HASH);
        memcpy(buf + 16 + 2 * ZU_TLOG_HASH, proof, len * ZU_TLOG_HASH);
        rc = seed_file(dir, "fuzz_tlog_proof", "inclusion-3-of-7", buf,
                       16 + (2 + len) * ZU_TLOG_HASH);
    }
    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_consistency(t, 3, 7, proof, &len, err, sizeof(err));
    if (rc == ZUPD_OK) {
        memcpy(buf + 16, root3, ZU_TLOG_HASH);
        memcpy(buf + 16 + 2 * ZU_TLOG_HASH, proof, len * ZU_TLOG_HASH);
        rc = seed_file(dir, "fuzz_tlog_proof", "consistency-3-to-7", buf,
                       16 + (2 + len) * ZU_TLOG_HASH);
    }
    zu_tlog_tiles_free(t);
    return rc;
}

static int
seed_notes(const char *dir)
{
    struct zu_note_key keys[3];
    uint8_t sks[3][64];
    struct zu_checkpoint c = {0};
    struct zu_buf text, note;
    char vkey[512];
    int rc;

    fuzz_tlog_keys(keys, sks);
    snprintf(c.origin, sizeof(c.origin), "%s", FUZZ_LOG_ORIGIN);
    c.size = 70000;
    crypto_generichash(c.root, sizeof(c.root), (const uint8_t *)"root", 4, NULL, 0);
    zu_buf_init(&text, 0);
    zu_buf_init(&note, 0);
    rc = zu_checkpoint_format(&c, &text);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_checkpoint", "checkpoint", text.p, text.len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, text.p, text.len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zp_note_sign(&note, (const char *)text.p, text.len, &keys[0], sks[0], 0);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_note", "checkpoint-log-only", note.p, note.len);
    if (rc == ZUPD_OK)
        rc = zp_note_sign(&note, (const char *)text.p, text.len, &keys[1], sks[1], 1767225600);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_note", "checkpoint-one-witness", note.p, note.len);
    if (rc == ZUPD_OK)
        rc = zp_note_sign(&note, (const char *)text.p, text.len, &keys[2], sks[2], 1767225601);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_note", "checkpoint-two-witnesses", note.p, note.len);
    for (size_t i = 0; rc == ZUPD_OK && i < 3; i++) {
        char name[32];
        rc = zu_note_vkey_format(&keys[i], vkey, sizeof(vkey));
        snprintf(name, sizeof(name), "vkey-%zu", i);
        if (rc == ZUPD_OK)
            rc = seed_file(dir, "fuzz_note", name, vkey, strlen(vkey));
    }
    /* checkpoint text with an extension line */
    note.len = 0;
    free(c.ext);
    c.ext = strdup("zupd extension\n");
    c.size = 0;
    if (rc == ZUPD_OK && c.ext == NULL)
        rc = ZUPD_E_NOMEM;
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_format(&c, &note);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_checkpoint", "checkpoint-extension", note.p, note.len);
    zu_checkpoint_release(&c);
    zu_buf_release(&text);
    zu_buf_release(&note);
    sodium_memzero(sks, sizeof(sks));
    return rc;
}

static int
cmd_open(const char *vkeys, const char *notefile, const char *quorum)
{
    struct zu_note_key w[16];
    struct zu_tlog_trust trust = {0};
    struct zu_checkpoint c = {0};
    uint8_t *keys = NULL, *msg = NULL;
    size_t klen = 0, mlen = 0, cosigners = 0, nw = 0;
    char err[512] = "", *p, *nl;
    int rc = 1;

    if (read_all(vkeys, &keys, &klen) || read_all(notefile, &msg, &mlen))
        goto out;
    p = (char *)keys;
    for (size_t i = 0; (nl = memchr(p, '\n', klen - (size_t)(p - (char *)keys))) != NULL; i++) {
        struct zu_note_key *k = i == 0 ? &trust.log_key : &w[nw];

        if ((i > 0 && nw == 16) || zu_note_vkey_parse(p, (size_t)(nl - p), k) != ZUPD_OK) {
            fprintf(stderr, "tlogtool open: bad vkey line %zu in '%s'\n", i + 1, vkeys);
            goto out;
        }
        nw += i > 0;
        p = nl + 1;
    }
    trust.origin = trust.log_key.name;
    trust.witnesses = w;
    trust.nwitnesses = nw;
    trust.quorum = (size_t)strtoul(quorum, NULL, 10);
    if (zu_checkpoint_open(msg, mlen, &trust, &c, &cosigners, err, sizeof(err)) != ZUPD_OK) {
        fprintf(stderr, "tlogtool open: %s\n", err);
        goto out;
    }
    printf("tlogtool open: checkpoint of '%s' size %llu, %zu cosigner(s)\n", trust.origin,
           (unsigned long long)c.size, cosigners);
    rc = 0;
out:
    zu_checkpoint_release(&c);
    free(keys);
    free(msg);
    return rc;
}

/* One add-checkpoint body for fuzz_witness_req (whose witness holds the
 * checkpoint of size 2, leaves "a" "b"): old, proof, a checkpoint of origin
 * of size n with root, signed by k. */
static int
seed_wreq(const char *dir, const char *name, uint64_t old, const uint8_t (*proof)[32], size_t np,
          const char *origin, uint64_t n, const uint8_t root[32], const struct zu_note_key *k,
          const uint8_t *sk)
{
    struct zu_checkpoint c = {0};
    struct zu_buf text, b;
    int rc;

    snprintf(c.origin, sizeof(c.origin), "%s", origin);
    c.size = n;
    memcpy(c.root, root, 32);
    zu_buf_init(&text, 0);
    zu_buf_init(&b, 0);
    rc = zu_checkpoint_format(&c, &text);
    if (rc == ZUPD_OK)
        rc = zu_buf_addf(&b, "old %llu\n", (unsigned long long)old);
    for (size_t i = 0; rc == ZUPD_OK && i < np; i++) {
        rc = zu_b64_encode(&b, proof[i], 32);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(&b, "\n", 1);
    }
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&b, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&b, text.p, text.len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&b, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zp_note_sign(&b, (const char *)text.p, text.len, k, sk, 1767225600);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_witness_req", name, b.p, b.len);
    zu_buf_release(&text);
    zu_buf_release(&b);
    return rc;
}

static int
seed_witness(const char *dir)
{
    struct zu_note_key keys[3], other;
    uint8_t sks[3][64], osk[64], la[32], lb[32], lc[32], r2[32], r3[32], fork[32];
    const uint8_t(*pc)[32] = (const uint8_t(*)[32])lc, (*pa)[32] = (const uint8_t(*)[32])la;
    int rc;

    fuzz_tlog_keys(keys, sks);
    fuzz_tlog_key("fuzz other log", "other.fuzz.example/log", ZU_NOTE_ED25519, &other, osk);
    zu_tlog_leaf_hash((const uint8_t *)"a", 1, la);
    zu_tlog_leaf_hash((const uint8_t *)"b", 1, lb);
    zu_tlog_leaf_hash((const uint8_t *)"c", 1, lc);
    zu_tlog_node_hash(la, lb, r2);
    zu_tlog_node_hash(r2, lc, r3);
    zu_tlog_node_hash(la, lc, fork);
    rc = seed_wreq(dir, "cosign-2-to-3", 2, pc, 1, FUZZ_LOG_ORIGIN, 3, r3, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "cosign-same", 2, NULL, 0, FUZZ_LOG_ORIGIN, 2, r2, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "conflict-409", 0, NULL, 0, FUZZ_LOG_ORIGIN, 3, r3, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "bad-proof-422", 2, pa, 1, FUZZ_LOG_ORIGIN, 3, r3, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "fork-422", 2, NULL, 0, FUZZ_LOG_ORIGIN, 2, fork, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "rollback-400", 2, NULL, 0, FUZZ_LOG_ORIGIN, 1, la, &keys[0], sks[0]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "witness-signed-403", 2, pc, 1, FUZZ_LOG_ORIGIN, 3, r3, &keys[1],
                       sks[1]);
    if (rc == ZUPD_OK)
        rc = seed_wreq(dir, "unknown-log-404", 0, NULL, 0, other.name, 1, la, &other, osk);
    if (rc == ZUPD_OK)
        rc = seed_file(dir, "fuzz_witness_req", "malformed", "old 1\nAAAA\n\nx\n", 15);
    return rc;
}

static int
cmd_seeds(const char *dir)
{
    int rc = seed_notes(dir);

    if (rc == ZUPD_OK)
        rc = seed_witness(dir);

    if (rc == ZUPD_OK)
        rc = seed_tiles(dir);
    if (rc == ZUPD_OK)
        rc = seed_proofs(dir);
    if (rc != ZUPD_OK)
        fprintf(stderr, "tlogtool seeds: %s\n", zupd_strerror(rc));
    return rc == ZUPD_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "make") == 0)
        return cmd_make(argv[2]);
    if (argc == 3 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argv[2]);
    if (argc == 3 && strcmp(argv[1], "seeds") == 0)
        return cmd_seeds(argv[2]);
    if (argc == 4 && strcmp(argv[1], "note") == 0)
        return cmd_note(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "open") == 0)
        return cmd_open(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: tlogtool make DIR | verify FILE | note VKEYS NOTE | "
                    "open VKEYS NOTE QUORUM | seeds DIR\n");
    return 2;
}
