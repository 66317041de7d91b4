/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/translog.c -- the repository's transparency log
 * (docs/transparency.md): log/checkpoint and log/tile/... beside the TUF
 * tree, the log key (KEYDIR/log.key, no TUF role's), the entries a change
 * queues and their commit before the TUF metadata; and `log verify DIR`
 * (the checks are mirror/repo/logaudit.c's). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zupd/hash.h>

#include "keys/notesign.h"
#include "zu/json.h"
#include "zu/note.h"
#include "zu/tlog.h"
#include "zu/tlog_client.h"

#include "repo/layout.h"
#include "repo/logaudit.h"
#include "repo/repo_int.h"

#define LOG_KEY "log"
#define LOG_DIR "log/"
#define LOG_CHECKPOINT "log/checkpoint"
#define LOG_VKEY "log/vkey"
#define LOG_QUEUE_MAX ((size_t)1 << 20) /* entries of one change */

/* ------------------------------------------------------------ files */

static int
log_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
         size_t cap)
{
    const struct zp_repo *r = opaque;
    char rel[ZU_TLOG_PATH_MAX + 8];
    int rc;

    snprintf(rel, sizeof(rel), LOG_DIR "%s", path);
    rc = zp_get(r->dfd, rel, max, data, len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    return ZUPD_OK;
}

/* New tiles and bundles are deferred: zp_log_commit flushes them before it
 * writes the checkpoint that names them. */
static int
log_write(void *opaque, const char *path, const uint8_t *data, size_t len, char *err, size_t cap)
{
    const struct zp_repo *r = opaque;
    char rel[ZU_TLOG_PATH_MAX + 8];
    int rc;

    snprintf(rel, sizeof(rel), LOG_DIR "%s", path);
    rc = zp_put(r->dfd, rel, data, len, 0644, true);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    return ZUPD_OK;
}

/* The log key's public half (from its key file, no passphrase). */
static int
log_pub(const struct zp_repo *r, struct zp_keyinfo *ki, uint8_t pub[32], char *err, size_t cap)
{
    int rc = zp_key_by_name(r->keys_dir, LOG_KEY, ki);

    if (rc == ZUPD_OK && strcmp(ki->keytype, "ed25519") != 0)
        rc = ZUPD_E_KEYTYPE; /* a signed note's key: Ed25519 only */
    if (rc == ZUPD_OK)
        rc = zupd_hex_decode(pub, 32, ki->public_key, strlen(ki->public_key));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read the log key '%s/" LOG_KEY ".key': %s",
                       r->keys_dir, zupd_strerror(rc));
    return ZUPD_OK;
}

/* Sign checkpoint c with the log key and write it, durable at once. */
static int
write_checkpoint(struct zp_repo *r, const struct zp_keyinfo *ki, const struct zu_note_key *k,
                 const struct zu_checkpoint *c, char *err, size_t cap)
{
    struct zp_signer *s = NULL;
    struct zu_buf text, note;
    int rc;

    zu_buf_init(&text, ZU_NOTE_MAX_BYTES);
    zu_buf_init(&note, ZU_NOTE_MAX_BYTES);
    rc = zp_key_unlock(ki, &r->pass, &s, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_checkpoint_format(c, &text);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, text.p, text.len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, "\n", 1);
    if (rc == ZUPD_OK)
        rc = zp_note_sign_by(&note, (const char *)text.p, text.len, k, s);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot sign the log's checkpoint: %s", zupd_strerror(rc));
        goto out;
    }
    rc = zp_put(r->dfd, LOG_CHECKPOINT, note.p, note.len, 0644, false);
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot write '%s/" LOG_CHECKPOINT "': %s", r->dir,
                zupd_strerror(rc));
out:
    zp_signer_free(s);
    zu_buf_release(&text);
    zu_buf_release(&note);
    return rc;
}

int
zp_log_create(struct zp_repo *r, char *err, size_t cap)
{
    struct zu_checkpoint c = {0};
    struct zu_note_key k;
    struct zp_keyinfo pub_ki;
    uint8_t pub[32];
    char vkey[ZU_NOTE_NAME_MAX + 64];
    size_t len;
    int rc;

    rc = log_pub(r, &pub_ki, pub, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    /* the origin names the log for good (a key rotation keeps it): made
     * from the first key, unique per repository */
    snprintf(c.origin, sizeof(c.origin), "zupd-log/%.16s", pub_ki.public_key);
    zu_tlog_empty_root(c.root);
    rc = zu_note_key_init(&k, c.origin, ZU_NOTE_ED25519, pub);
    if (rc == ZUPD_OK)
        rc = zu_note_vkey_format(&k, vkey, sizeof(vkey) - 1);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot make the log's key: %s", zupd_strerror(rc));
    len = strlen(vkey);
    vkey[len++] = '\n'; /* room kept above */
    rc = zp_put(r->dfd, LOG_VKEY, vkey, len, 0644, false);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/" LOG_VKEY "': %s", r->dir,
                       zupd_strerror(rc));
    return write_checkpoint(r, &pub_ki, &k, &c, err, cap);
}

/* ------------------------------------------------------------ entries */

/* Queue doc (canonical JSON) as an entry of the next log commit; doc is
 * released. */
static int
queue(struct zp_repo *r, json_t *doc, char *err, size_t cap)
{
    uint8_t *text = NULL;
    size_t len = 0;
    int rc;

    if (doc == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    rc = zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &text, &len);
    json_decref(doc);
    if (rc == ZUPD_OK)
        rc = ZU_GROW(&r->logq, &r->cap_logq, r->n_logq + 1, LOG_QUEUE_MAX);
    if (rc != ZUPD_OK) {
        free(text);
        return zu_fail(err, cap, rc, "cannot make a log entry: %s", zupd_strerror(rc));
    }
    r->logq[r->n_logq].p = text;
    r->logq[r->n_logq].len = len;
    r->n_logq++;
    return ZUPD_OK;
}

static void
sha_hex(const void *text, size_t len, char hex[65])
{
    uint8_t h[32];
    size_t hl = 0;

    if (zupd_hash_buf(ZUPD_HASH_SHA256, text, len, h, sizeof(h), &hl) != ZUPD_OK)
        memset(h, 0, sizeof(h));
    zupd_hex_encode(hex, 65, h, 32);
}

int
zp_log_release(struct zp_repo *r, enum zp_role role, const char *path, const char *text, size_t len,
               const struct zupd_manifest *m, char *err, size_t cap)
{
    char hex[65];

    sha_hex(text, len, hex);
    /* the endpoint rebuilds the same entry with the same function */
    return queue(r,
                 zu_tlog_entry_release(zp_role_name(role), path, hex, len, m->component, m->version,
                                       m->source_revision, m->builder),
                 err, cap);
}

int
zp_log_channel(struct zp_repo *r, enum zp_role role, const char *path, const char *text, size_t len,
               const struct zupd_channel *c, char *err, size_t cap)
{
    char hex[65];

    sha_hex(text, len, hex);
    return queue(r,
                 zu_tlog_entry_channel(zp_role_name(role), path, hex, len, c->component, c->channel,
                                       c->version, c->floor, c->rollback),
                 err, cap);
}

int
zp_log_root(struct zp_repo *r, uint64_t version, const uint8_t *text, size_t len, char *err,
            size_t cap)
{
    char hex[65], path[64];

    sha_hex(text, len, hex);
    snprintf(path, sizeof(path), "metadata/%llu.root.json", (unsigned long long)version);
    return queue(r,
                 json_pack("{s:s, s:s, s:I, s:{s:s, s:I}}", "type", "root", "path", path, "version",
                           (json_int_t)version, "target", "sha256", hex, "length", (json_int_t)len),
                 err, cap);
}

/* The "custom" member of the target whose entry is queued next:
 * {"zupd_log":{"index":N}}, N the current checkpoint's size plus the entries
 * already queued (zp_log_commit appends them in order), signed with the
 * targets metadata so that an endpoint knows which entry to prove. *len is
 * 0 for a repository without a log (its metadata stay as they were). The
 * checkpoint is only parsed here: zp_log_commit checks its signature. */
int
zp_log_custom(struct zp_repo *r, char *dst, size_t dst_cap, size_t *len, char *err, size_t cap)
{
    struct zu_checkpoint c = {0};
    struct zu_note *n = NULL;
    uint8_t *cp = NULL;
    size_t cplen = 0;
    int rc, w;

    *len = 0;
    if (!zp_log_enabled(r))
        return ZUPD_OK;
    rc = zp_get(r->dfd, LOG_CHECKPOINT, ZU_NOTE_MAX_BYTES, &cp, &cplen);
    if (rc == ZUPD_OK)
        rc = zu_note_parse(cp, cplen, &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, &c);
    if (rc == ZUPD_OK) {
        w = snprintf(dst, dst_cap, "{\"zupd_log\":{\"index\":%llu}}",
                     (unsigned long long)(c.size + r->n_logq));
        rc = w > 0 && (size_t)w < dst_cap ? ZUPD_OK : ZUPD_E_TOOBIG;
        *len = rc == ZUPD_OK ? (size_t)w : 0;
    }
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot read '%s/" LOG_CHECKPOINT "': %s", r->dir, zupd_strerror(rc));
    zu_checkpoint_release(&c);
    zu_note_free(n);
    free(cp);
    return rc;
}

/* ------------------------------------------------------------ commit */

/* Read and check the current checkpoint against the log key: *c, *k. */
static int
current(struct zp_repo *r, struct zp_keyinfo *ki, struct zu_note_key *k, struct zu_checkpoint *c,
        char *err, size_t cap)
{
    struct zu_note *n = NULL;
    uint8_t *cp = NULL, pub[32];
    size_t len = 0;
    bool ok = false;
    int rc;

    rc = log_pub(r, ki, pub, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_get(r->dfd, LOG_CHECKPOINT, ZU_NOTE_MAX_BYTES, &cp, &len);
    if (rc == ZUPD_OK)
        rc = zu_note_parse(cp, len, &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, c);
    if (rc == ZUPD_OK)
        rc = zu_note_key_init(k, c->origin, ZU_NOTE_ED25519, pub);
    if (rc == ZUPD_OK)
        rc = zu_note_verify(n, k, 1, &ok, NULL);
    if (rc == ZUPD_OK && !ok)
        rc = ZUPD_E_SIG;
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "'%s/" LOG_CHECKPOINT "' is not a checkpoint of the log key: %s",
                r->dir, zupd_strerror(rc));
    zu_note_free(n);
    free(cp);
    return rc;
}

/* A repository has a log when it has log/ or the log key: one made before
 * logs has neither. A log whose checkpoint went missing is an error, not
 * a reason to stop logging (zp_log_commit). */
bool
zp_log_enabled(const struct zp_repo *r)
{
    struct zp_keyinfo ki;
    struct stat st;

    return fstatat(r->dfd, "log", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
           zp_key_by_name(r->keys_dir, LOG_KEY, &ki) == ZUPD_OK;
}

int
zp_log_commit(struct zp_repo *r, char *err, size_t cap)
{
    struct zu_tlog_reader rd = {r, log_read};
    struct zu_tlog_writer wr = {r, log_write};
    struct zu_tlog_appender *a = NULL;
    struct zu_checkpoint c = {0};
    struct zp_keyinfo ki;
    struct zu_note_key k;
    int rc;

    if (r->n_logq == 0)
        return ZUPD_OK;
    if (!zp_log_enabled(r)) {
        /* a repository made before logs: nothing to append to */
        zp_log_queue_clear(r);
        return ZUPD_OK;
    }
    rc = current(r, &ki, &k, &c, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_tlog_appender_new(c.size, c.root, &rd, &wr, &a, err, cap);
    for (size_t i = 0; rc == ZUPD_OK && i < r->n_logq; i++)
        rc = zu_tlog_append(a, r->logq[i].p, r->logq[i].len, NULL, err, cap);
    if (rc == ZUPD_OK)
        rc = zu_tlog_appender_finish(a, &c.size, c.root, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    /* tiles and bundles in place and durable before the checkpoint names
     * them; the checkpoint before any TUF metadata names what it logs */
    rc = zp_flush(r->dfd);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot put the log's tiles of '%s' in place: %s", r->dir,
                zupd_strerror(rc));
        goto out;
    }
    rc = write_checkpoint(r, &ki, &k, &c, err, cap);
    if (rc == ZUPD_OK)
        zp_log_queue_clear(r);
    /* cosignatures next, still before the TUF metadata: a witness that does
     * not cosign delays endpoints, never this change */
    if (rc == ZUPD_OK && r->cfg.n_witnesses > 0) {
        struct zp_cosign_res cres;
        char werr[512] = "";

        if (zp_log_cosign(r, &cres, werr, sizeof(werr)) != ZUPD_OK && r->log_fn != NULL)
            r->log_fn(r->log_opaque, ZUPD_LOG_WARN, werr);
    }
out:
    zu_tlog_appender_free(a);
    zu_checkpoint_release(&c);
    return rc;
}

/* ------------------------------------------------------------ verify */

/* The repository on disk as the cross-check sees it (repo/logaudit.h). */
static int
repo_targets(void *opaque, zupd_meta_target_fn fn, void *arg)
{
    struct zp_repo *r = opaque;
    int rc = zp_tdoc_foreach(r, ZP_R_PRODUCTS, fn, arg);

    return rc == ZUPD_OK ? zp_tdoc_foreach(r, ZP_R_AVDB, fn, arg) : rc;
}

static int
repo_root(void *opaque, uint64_t v, uint8_t **data, size_t *len, char *err, size_t cap)
{
    const struct zp_repo *r = opaque;
    char rel[64];
    int rc;

    snprintf(rel, sizeof(rel), "metadata/%llu.root.json", (unsigned long long)v);
    rc = zp_get(r->dfd, rel, ZP_META_CAP, data, len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    return ZUPD_OK;
}

int
zp_log_verify(const struct zp_repo_opts *o, const char *vkey, struct zp_log_res *res, char *err,
              size_t cap)
{
    struct zp_log_trust trust = {vkey, NULL, 0, 0};
    struct zp_tuf_view tv = {0};
    struct zp_logsrc *src = NULL;
    struct zp_repo *r = NULL;
    struct zp_log_cp cp;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&cp, 0, sizeof(cp));
    rc = zp_repo_open(o, &r, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_logsrc_open(o->dir, NULL, NULL, &src, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_log_cp_read(src, &trust, &cp, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    tv.opaque = r;
    tv.targets = repo_targets;
    tv.root_version = zupd_meta_version(r->m[ZP_R_ROOT]);
    tv.root = repo_root;
    rc = zp_log_crosscheck(zp_logsrc_reader(src), &cp.c, &tv, res, err, cap);
out:
    zp_log_cp_release(&cp);
    zp_logsrc_free(src);
    zp_repo_free(r);
    return rc;
}
