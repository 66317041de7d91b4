/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/translog.c -- the repository's transparency log
 * (docs/transparency.md): log/checkpoint and log/tile/... beside the TUF
 * tree, the log key (KEYDIR/log.key, no TUF role's), the entries a change
 * queues and their commit before the TUF metadata; and `log verify DIR`
 * (the checks are mirror/repo/logaudit.c's). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/hash.h>

#include "keys/notesign.h"
#include "zu/fsio.h"
#include "zu/json.h"
#include "zu/note.h"
#include "zu/tlog.h"
#include "zu/tlog_client.h"
#include "zu/tlog_proof.h"

#include "repo/layout.h"
#include "repo/logaudit.h"
#include "repo/repo_int.h"

#define LOG_KEY "log"
#define LOG_KEY_NEXT "log-next" /* a rotation's new key, beside log.key */
#define LOG_DIR "log/"
#define LOG_CHECKPOINT "log/checkpoint"
#define LOG_VKEY "log/vkey"
#define LOG_QUEUE_MAX ((size_t)1 << 20) /* entries of one change */

/* ------------------------------------------------------------ files */

int
zp_log_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
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

/* A log key's public half (from its key file KEYDIR/.../<name>.key, no
 * passphrase). */
static int
log_pub(const struct zp_repo *r, const char *name, struct zp_keyinfo *ki, uint8_t pub[32],
        char *err, size_t cap)
{
    int rc = zp_key_by_name(r->keys_dir, name, ki);

    if (rc == ZUPD_OK && strcmp(ki->keytype, "ed25519") != 0)
        rc = ZUPD_E_KEYTYPE; /* a signed note's key: Ed25519 only */
    if (rc == ZUPD_OK)
        rc = zupd_hex_decode(pub, 32, ki->public_key, strlen(ki->public_key));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read the log key '%s/%s.key': %s", r->keys_dir, name,
                       zupd_strerror(rc));
    return ZUPD_OK;
}

/* The log's signing keys: log.key, and during a key rotation the next key
 * log-next.key (docs/transparency.md, "Rotating the log key"). */
struct logkeys {
    struct zp_keyinfo ki[2];
    uint8_t pub[2][32];
    size_t n;
};

static int
log_keys(const struct zp_repo *r, struct logkeys *lk, char *err, size_t cap)
{
    struct zp_keyinfo ki;
    int rc;

    lk->n = 0;
    rc = log_pub(r, LOG_KEY, &lk->ki[0], lk->pub[0], err, cap);
    if (rc != ZUPD_OK)
        return rc;
    lk->n = 1;
    if (zp_key_by_name(r->keys_dir, LOG_KEY_NEXT, &ki) == ZUPD_E_NOTFOUND)
        return ZUPD_OK;
    rc = log_pub(r, LOG_KEY_NEXT, &lk->ki[1], lk->pub[1], err, cap);
    if (rc == ZUPD_OK && memcmp(lk->pub[0], lk->pub[1], 32) == 0)
        rc = zu_fail(err, cap, ZUPD_E_EXISTS, "'%s' and '%s' are the same key", lk->ki[0].path,
                     lk->ki[1].path);
    lk->n += rc == ZUPD_OK;
    return rc;
}

/* Sign checkpoint c with every log key of lk (the current key's signature
 * first), add the signature lines keep[0..keep_len) (witness cosignatures
 * of the same text), and write it, durable at once. */
static int
write_checkpoint(struct zp_repo *r, const struct logkeys *lk, const struct zu_checkpoint *c,
                 const uint8_t *keep, size_t keep_len, char *err, size_t cap)
{
    struct zp_signer *s = NULL;
    struct zu_buf text, note;
    struct zu_note_key k;
    int rc;

    zu_buf_init(&text, ZU_NOTE_MAX_BYTES);
    zu_buf_init(&note, ZU_NOTE_MAX_BYTES);
    rc = zu_checkpoint_format(c, &text);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, text.p, text.len);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(&note, "\n", 1);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot make the log's checkpoint: %s", zupd_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < lk->n; i++) {
        rc = zp_key_unlock(&lk->ki[i], &r->pass, &s, err, cap);
        if (rc != ZUPD_OK)
            goto out;
        rc = zu_note_key_init(&k, c->origin, ZU_NOTE_ED25519, lk->pub[i]);
        if (rc == ZUPD_OK)
            rc = zp_note_sign_by(&note, (const char *)text.p, text.len, &k, s);
        zp_signer_free(s);
        s = NULL;
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot sign the log's checkpoint with '%s': %s", lk->ki[i].path,
                    zupd_strerror(rc));
            goto out;
        }
    }
    if (keep_len > 0 && (rc = zu_buf_add(&note, keep, keep_len)) != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot make the log's checkpoint: %s", zupd_strerror(rc));
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

/* log/vkey: the vkey of each log key of lk, one a line, the current key
 * first; atomic and durable. */
static int
write_vkeys(struct zp_repo *r, const char *origin, const struct logkeys *lk, char *err, size_t cap)
{
    char vkey[ZU_NOTE_NAME_MAX + 64], all[2 * (ZU_NOTE_NAME_MAX + 64)];
    size_t len = 0;
    struct zu_note_key k;
    int rc = ZUPD_OK;

    for (size_t i = 0; rc == ZUPD_OK && i < lk->n; i++) {
        rc = zu_note_key_init(&k, origin, ZU_NOTE_ED25519, lk->pub[i]);
        if (rc == ZUPD_OK)
            rc = zu_note_vkey_format(&k, vkey, sizeof(vkey));
        if (rc == ZUPD_OK) {
            int w = snprintf(all + len, sizeof(all) - len, "%s\n", vkey);
            rc = w > 0 && (size_t)w < sizeof(all) - len ? ZUPD_OK : ZUPD_E_TOOBIG;
            len += rc == ZUPD_OK ? (size_t)w : 0;
        }
    }
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot make the log's vkey: %s", zupd_strerror(rc));
    rc = zp_put(r->dfd, LOG_VKEY, all, len, 0644, false);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/" LOG_VKEY "': %s", r->dir,
                       zupd_strerror(rc));
    return ZUPD_OK;
}

int
zp_log_create(struct zp_repo *r, char *err, size_t cap)
{
    struct zu_checkpoint c = {0};
    struct logkeys lk;
    int rc;

    rc = log_keys(r, &lk, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    /* the origin names the log for good (a key rotation keeps it): made
     * from the first key, unique per repository */
    snprintf(c.origin, sizeof(c.origin), "zupd-log/%.16s", lk.ki[0].public_key);
    zu_tlog_empty_root(c.root);
    rc = write_vkeys(r, c.origin, &lk, err, cap);
    return rc == ZUPD_OK ? write_checkpoint(r, &lk, &c, NULL, 0, err, cap) : rc;
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

int
zp_log_release(struct zp_repo *r, enum zp_role role, const char *path, const char *text, size_t len,
               const struct zupd_manifest *m, char *err, size_t cap)
{
    char hex[65];

    zu_sha256_hex(text, len, hex);
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

    zu_sha256_hex(text, len, hex);
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

    zu_sha256_hex(text, len, hex);
    snprintf(path, sizeof(path), "metadata/%llu.root.json", (unsigned long long)version);
    return queue(r,
                 json_pack("{s:s, s:s, s:I, s:{s:s, s:I}}", "type", "root", "path", path, "version",
                           (json_int_t)version, "target", "sha256", hex, "length", (json_int_t)len),
                 err, cap);
}

/* Read DIR/log/checkpoint and parse it (not its signatures): *raw its
 * bytes (*raw_len), *n the note, *c the checkpoint, each the caller's to
 * free. On an error err says so and nothing is left to free. */
int
zp_log_cp_load(struct zp_repo *r, uint8_t **raw, size_t *raw_len, struct zu_note **n,
               struct zu_checkpoint *c, char *err, size_t cap)
{
    int rc = zp_get(r->dfd, LOG_CHECKPOINT, ZU_NOTE_MAX_BYTES, raw, raw_len);

    *n = NULL;
    if (rc == ZUPD_OK)
        rc = zu_note_parse(*raw, *raw_len, n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse((*n)->text, (*n)->text_len, c);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot read '%s/" LOG_CHECKPOINT "': %s", r->dir, zupd_strerror(rc));
        zu_note_free(*n);
        *n = NULL;
        free(*raw);
        *raw = NULL;
        *raw_len = 0;
    }
    return rc;
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
    rc = zp_log_cp_load(r, &cp, &cplen, &n, &c, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    w = snprintf(dst, dst_cap, "{\"zupd_log\":{\"index\":%llu}}",
                 (unsigned long long)(c.size + r->n_logq));
    rc = w > 0 && (size_t)w < dst_cap ? ZUPD_OK : ZUPD_E_TOOBIG;
    *len = rc == ZUPD_OK ? (size_t)w : 0;
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "the log's custom member does not fit in %zu bytes", dst_cap);
    zu_checkpoint_release(&c);
    zu_note_free(n);
    free(cp);
    return rc;
}

/* ------------------------------------------------------------ commit */

/* Read the current checkpoint and check it against the log's keys (a
 * signature of any one, a bad one of none): *c, *lk; *keep (may be NULL)
 * gets its signature lines of other names (witness cosignatures). */
static int
current(struct zp_repo *r, struct logkeys *lk, struct zu_checkpoint *c, struct zu_buf *keep,
        char *err, size_t cap)
{
    struct zu_note_key k[2];
    struct zu_note *n = NULL;
    uint8_t *cp = NULL;
    size_t len = 0;
    bool ok[2] = {false, false};
    int rc;

    rc = log_keys(r, lk, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_log_cp_load(r, &cp, &len, &n, c, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    for (size_t i = 0; rc == ZUPD_OK && i < lk->n; i++)
        rc = zu_note_key_init(&k[i], c->origin, ZU_NOTE_ED25519, lk->pub[i]);
    if (rc == ZUPD_OK)
        rc = zu_note_verify(n, k, lk->n, ok, NULL);
    if (rc == ZUPD_OK && !ok[0] && !ok[1])
        rc = ZUPD_E_SIG;
    if (rc == ZUPD_OK && keep != NULL) {
        /* the signature lines follow the text and its blank line */
        size_t at = n->text_len + 1, name_len = strlen(c->origin);

        while (rc == ZUPD_OK && at < len) {
            const uint8_t *nl = memchr(cp + at, '\n', len - at);
            size_t l = nl != NULL ? (size_t)(nl - (cp + at)) + 1 : len - at;
            /* "\u2014 <name> ": the log's own lines are made anew */
            bool own = l > 4 + name_len && memcmp(cp + at + 4, c->origin, name_len) == 0 &&
                       cp[at + 4 + name_len] == ' ';

            if (!own)
                rc = zu_buf_add(keep, cp + at, l);
            at += l;
        }
    }
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
    struct zu_tlog_reader rd = {r, zp_log_read};
    struct zu_tlog_writer wr = {r, log_write};
    struct zu_tlog_appender *a = NULL;
    struct zu_checkpoint c = {0};
    struct logkeys lk;
    int rc;

    if (r->n_logq == 0)
        return ZUPD_OK;
    if (!zp_log_enabled(r)) {
        /* a repository made before logs: nothing to append to */
        zp_log_queue_clear(r);
        return ZUPD_OK;
    }
    rc = current(r, &lk, &c, NULL, err, cap);
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
    rc = write_checkpoint(r, &lk, &c, NULL, 0, err, cap);
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

/* ------------------------------------------------------------ key rotation */

/* The directory of a key file (its path up to the last '/'). */
static void
key_dir(const struct zp_keyinfo *ki, char *dir, size_t cap)
{
    const char *slash = strrchr(ki->path, '/');

    snprintf(dir, cap, "%.*s", slash != NULL ? (int)(slash - ki->path) : 1,
             slash != NULL ? ki->path : ".");
}

static int
vkey_of(const char *origin, const uint8_t pub[32], char *vkey, size_t vcap)
{
    struct zu_note_key k;
    int rc = zu_note_key_init(&k, origin, ZU_NOTE_ED25519, pub);

    return rc == ZUPD_OK ? zu_note_vkey_format(&k, vkey, vcap) : rc;
}

int
zp_log_key_add(struct zp_repo *r, struct zp_log_rot *res, char *err, size_t cap)
{
    struct zu_checkpoint c = {0};
    struct zp_kdf_cost cost;
    struct zp_keyinfo ki;
    struct logkeys lk;
    struct zu_buf keep;
    char dir[4096];
    int rc;

    memset(res, 0, sizeof(*res));
    zu_buf_init(&keep, ZU_NOTE_MAX_BYTES);
    if (!zp_log_enabled(r))
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s' has no transparency log", r->dir);
    rc = current(r, &lk, &c, &keep, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    res->under_way = lk.n == 2; /* again after a crash: finish it */
    if (lk.n == 1) {
        key_dir(&lk.ki[0], dir, sizeof(dir));
        rc = zp_kdf_cost_for(true, NULL, &cost);
        if (rc == ZUPD_OK)
            rc = zp_key_generate(dir, LOG_KEY_NEXT, &r->pass, &cost, &ki, err, cap);
        if (rc == ZUPD_OK)
            rc = log_keys(r, &lk, err, cap);
        if (rc == ZUPD_OK && lk.n != 2)
            rc = zu_fail(err, cap, ZUPD_E_NOTFOUND, "cannot find the new key '%s'", ki.path);
        if (rc != ZUPD_OK)
            goto out;
    }
    /* from now on every checkpoint carries both signatures; the
     * cosignatures of its text stay */
    rc = write_checkpoint(r, &lk, &c, keep.p, keep.len, err, cap);
    if (rc == ZUPD_OK)
        rc = write_vkeys(r, c.origin, &lk, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    snprintf(res->origin, sizeof(res->origin), "%s", c.origin);
    snprintf(res->key_file, sizeof(res->key_file), "%s", lk.ki[1].path);
    rc = vkey_of(c.origin, lk.pub[0], res->old_vkey, sizeof(res->old_vkey));
    if (rc == ZUPD_OK)
        rc = vkey_of(c.origin, lk.pub[1], res->new_vkey, sizeof(res->new_vkey));
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot make the log's vkey: %s", zupd_strerror(rc));
out:
    zu_checkpoint_release(&c);
    zu_buf_release(&keep);
    return rc;
}

int
zp_log_key_retire(struct zp_repo *r, struct zp_log_rot *res, char *err, size_t cap)
{
    struct zu_checkpoint c = {0};
    struct logkeys lk;
    struct zu_buf keep;
    uint8_t *vk = NULL;
    size_t vklen = 0, lines = 0;
    char dir[4096];
    int rc, dfd = -1;

    memset(res, 0, sizeof(*res));
    zu_buf_init(&keep, ZU_NOTE_MAX_BYTES);
    if (!zp_log_enabled(r))
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s' has no transparency log", r->dir);
    rc = current(r, &lk, &c, &keep, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (lk.n == 1) {
        /* no log-next.key: a retire that stopped after the rename still
         * has two vkeys in log/vkey; else there is nothing to retire */
        if (zp_get(r->dfd, LOG_VKEY, 4096, &vk, &vklen) == ZUPD_OK)
            for (size_t i = 0; i < vklen; i++)
                lines += vk[i] == '\n';
        if (lines < 2) {
            rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                         "no log key rotation under way in '%s' (no " LOG_KEY_NEXT
                         ".key beside '%s'): 'log key add' first",
                         r->dir, lk.ki[0].path);
            goto out;
        }
        res->under_way = true;
    } else {
        rc = vkey_of(c.origin, lk.pub[0], res->old_vkey, sizeof(res->old_vkey));
        key_dir(&lk.ki[1], dir, sizeof(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rc == ZUPD_OK && dfd < 0)
            rc = zu_errno_to_err(errno);
        /* one atomic step: log.key becomes the new key, the old one is
         * gone; durable before any checkpoint lacks its signature */
        if (rc == ZUPD_OK)
            rc = zu_rename_durable(dfd, LOG_KEY_NEXT ".key", LOG_KEY ".key");
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot make '%s/" LOG_KEY_NEXT ".key' the log key: %s", dir,
                    zupd_strerror(rc));
            goto out;
        }
        rc = log_keys(r, &lk, err, cap);
        if (rc != ZUPD_OK)
            goto out;
    }
    /* the checkpoint signed by the new key alone, then log/vkey */
    rc = write_checkpoint(r, &lk, &c, keep.p, keep.len, err, cap);
    if (rc == ZUPD_OK)
        rc = write_vkeys(r, c.origin, &lk, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    snprintf(res->origin, sizeof(res->origin), "%s", c.origin);
    snprintf(res->key_file, sizeof(res->key_file), "%s", lk.ki[0].path);
    rc = vkey_of(c.origin, lk.pub[0], res->new_vkey, sizeof(res->new_vkey));
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot make the log's vkey: %s", zupd_strerror(rc));
out:
    if (dfd >= 0)
        close(dfd);
    free(vk);
    zu_checkpoint_release(&c);
    zu_buf_release(&keep);
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

/* The checkpoint of the log in r, opened with vkey (NULL: r's log/vkey, a
 * vkey a line: during a key rotation any one of them signing is enough);
 * its exact bytes into *note (may be NULL; free()) and the first trusted
 * key into *key (may be NULL). */
static int
open_checkpoint(struct zp_repo *r, const char *vkey, struct zu_checkpoint *c, uint8_t **note,
                size_t *note_len, struct zu_note_key *key, char *err, size_t cap)
{
    struct zu_tlog_trust trust = {0};
    uint8_t *cp = NULL, *vk = NULL;
    size_t cplen = 0, vklen = 0;
    int rc = ZUPD_OK;

    if (vkey == NULL) {
        rc = zp_get(r->dfd, LOG_VKEY, 4096, &vk, &vklen);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot read '%s/" LOG_VKEY "': %s", r->dir, zupd_strerror(rc));
            goto out;
        }
        vkey = (const char *)vk;
    } else {
        vklen = strlen(vkey);
    }
    rc = zp_log_vkeys_parse(vkey, vklen, &trust, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zp_get(r->dfd, LOG_CHECKPOINT, ZU_NOTE_MAX_BYTES, &cp, &cplen);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot read '%s/" LOG_CHECKPOINT "': %s", r->dir, zupd_strerror(rc));
        goto out;
    }
    rc = zu_checkpoint_open(cp, cplen, &trust, c, NULL, err, cap);
    if (rc == ZUPD_OK && key != NULL)
        *key = trust.log_key;
    if (rc == ZUPD_OK && note != NULL) {
        *note = cp;
        *note_len = cplen;
        cp = NULL;
    }
out:
    free(cp);
    free(vk);
    return rc;
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

/* ------------------------------------------------------------ log proof */

struct pick {
    uint64_t index;
    uint8_t *entry;
    size_t len;
};

static int
pick_entry(void *opaque, uint64_t index, const uint8_t *entry, size_t len)
{
    struct pick *p = opaque;

    if (index != p->index)
        return ZUPD_OK;
    p->entry = malloc(len);
    if (p->entry == NULL)
        return ZUPD_E_NOMEM;
    memcpy(p->entry, entry, len);
    p->len = len;
    return ZUPD_OK;
}

/* Entry pk->index of the tree of size leaves, from its bundle. */
static int
read_entry(struct zp_repo *r, uint64_t size, struct pick *pk, char *err, size_t cap)
{
    struct zu_tlog_reader rd = {r, zp_log_read};
    char path[ZU_TLOG_PATH_MAX];
    uint64_t n = pk->index / ZU_TLOG_TILE_W;
    unsigned w = zu_tlog_tile_width(size, 0, n);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = zu_tlog_tile_path(path, sizeof(path), ZU_TLOG_ENTRIES, n, w);

    if (rc == ZUPD_OK)
        rc = rd.read(rd.opaque, path, ZU_TLOG_BUNDLE_MAX, &data, &len, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_tlog_bundle_parse(data, len, w, n * ZU_TLOG_TILE_W, pick_entry, pk);
    free(data);
    if (rc == ZUPD_OK && pk->entry == NULL)
        rc = ZUPD_E_FORMAT;
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "the log's bundle '%s' is damaged: %s", path,
                       zupd_strerror(rc));
    return ZUPD_OK;
}

/* Whether entry[0..len) logs target t at path. */
static bool
entry_names(const uint8_t *entry, size_t len, const char *path, const struct zupd_target *t)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    const char *p = NULL, *sha = NULL;
    json_t *doc = NULL, *target = NULL;
    uint64_t length = 0;
    char hex[65];
    bool ok;

    zupd_hex_encode(hex, sizeof(hex), t->hashes.sha256, 32);
    ok = zu_json_load(entry, len, &lim, &doc, NULL, 0) == ZUPD_OK &&
         zu_json_get_str(doc, "path", &p) == ZUPD_OK &&
         zu_json_get_obj(doc, "target", &target) == ZUPD_OK &&
         zu_json_get_str(target, "sha256", &sha) == ZUPD_OK &&
         zu_json_get_u64(target, "length", &length) == ZUPD_OK && strcmp(p, path) == 0 &&
         strcmp(sha, hex) == 0 && length == t->length;
    json_decref(doc);
    return ok;
}

/* The target path of r signs and the log index its custom member gives. */
static int
target_index(struct zp_repo *r, const char *path, struct zupd_target *t, uint64_t *index, char *err,
             size_t cap)
{
    enum zp_role role;
    struct zupd_meta *m;
    uint8_t *custom = NULL;
    size_t clen = 0;
    int rc;

    if (strncmp(path, "products/", 9) == 0)
        role = ZP_R_PRODUCTS;
    else if (strncmp(path, "avdb/", 5) == 0)
        role = ZP_R_AVDB;
    else
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "'%s' is not a target of products or avdb (ROLE/COMPONENT/...)", path);
    m = zp_tdoc(r, role, path);
    rc = m != NULL ? zupd_meta_target(m, path, t) : ZUPD_E_NOTFOUND;
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s' is not a signed target of '%s'", path,
                       r->dir);
    if (!t->hashes.has_sha256)
        return zu_fail(err, cap, ZUPD_E_HASH, "target '%s' has no sha256", path);
    rc = zupd_meta_target_custom(m, path, &custom, &clen);
    if (rc == ZUPD_OK)
        rc = zu_tlog_custom_index(custom, clen, index);
    free(custom);
    if (rc == ZUPD_E_NOTFOUND)
        return zu_fail(err, cap, rc, "'%s' is signed without a log index (not logged)", path);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "the log index signed for '%s' is malformed", path);
    return ZUPD_OK;
}

int
zp_log_proof(const struct zp_repo_opts *o, const char *path, uint64_t old, struct zu_buf *unit,
             struct zp_log_proof_res *res, char *err, size_t cap)
{
    struct zp_repo *r = NULL;
    struct zu_checkpoint c = {0};
    struct zu_tlog_proof *p = NULL, *back = NULL;
    struct zu_tlog_reader rd;
    struct zu_tlog_tiles *t = NULL;
    struct zu_tlog_trust trust = {0};
    struct zupd_target tg;
    struct pick pk = {0};
    struct zu_note *n = NULL;
    uint8_t root_old[ZU_TLOG_HASH];
    size_t start = unit->len;
    int rc;

    memset(res, 0, sizeof(*res));
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ZUPD_E_NOMEM;
    rc = zp_repo_open(o, &r, err, cap);
    if (rc == ZUPD_OK)
        rc = target_index(r, path, &tg, &pk.index, err, cap);
    if (rc == ZUPD_OK)
        rc = open_checkpoint(r, NULL, &c, &p->note, &p->note_len, &trust.log_key, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    snprintf(res->origin, sizeof(res->origin), "%s", c.origin);
    res->size = c.size;
    res->index = pk.index;
    res->old = old;
    if (pk.index >= c.size) {
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                     "'%s' is signed as entry %llu but log/checkpoint has %llu entries", path,
                     (unsigned long long)pk.index, (unsigned long long)c.size);
        goto out;
    }
    if (old > c.size) {
        rc = zu_fail(err, cap, ZUPD_E_MISUSE, "--old %llu is above the log's size %llu",
                     (unsigned long long)old, (unsigned long long)c.size);
        goto out;
    }
    rc = read_entry(r, c.size, &pk, err, cap);
    if (rc == ZUPD_OK && !entry_names(pk.entry, pk.len, path, &tg))
        rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                     "log entry %llu is not the one of '%s' as signed (path, sha256, length)",
                     (unsigned long long)pk.index, path);
    rd = (struct zu_tlog_reader){r, zp_log_read};
    if (rc == ZUPD_OK)
        rc = zu_tlog_tiles_new(c.size, &rd, &t);
    p->index = pk.index;
    p->old = old;
    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_inclusion(t, pk.index, c.size, p->inclusion, &p->ninclusion, err, cap);
    if (rc == ZUPD_OK)
        rc = zu_tlog_prove_consistency(t, old, c.size, p->consistency, &p->nconsistency, err, cap);
    if (rc == ZUPD_OK && old > 0)
        rc = zu_tlog_tree_hash(t, old, root_old, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_tlog_proof_format(p, unit);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot write the proof unit: %s", zupd_strerror(rc));
        goto out;
    }
    /* what an endpoint will do with it: parse and check, from old's tree */
    trust.origin = c.origin;
    rc = zu_tlog_proof_parse(unit->p + start, unit->len - start, &back);
    if (rc == ZUPD_OK) {
        struct zu_checkpoint from = {0};
        snprintf(from.origin, sizeof(from.origin), "%s", c.origin);
        from.size = old;
        if (old > 0)
            memcpy(from.root, root_old, ZU_TLOG_HASH);
        rc =
            zu_tlog_proof_verify(back, &trust, pk.entry, pk.len, path, &from, NULL, NULL, err, cap);
        if (rc != ZUPD_OK)
            rc = ZUPD_E_HASH; /* the tiles do not give the signed root */
    }
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "the log's tiles do not prove '%s' in log/checkpoint: %s", path,
                zupd_strerror(rc));
        goto out;
    }
    res->inclusion = p->ninclusion;
    res->consistency = p->nconsistency;
    if (zu_note_parse(p->note, p->note_len, &n) == ZUPD_OK)
        res->cosignatures = n->nsigs > 0 ? n->nsigs - 1 : 0;
out:
    if (rc != ZUPD_OK)
        unit->len = start;
    zu_note_free(n);
    zu_tlog_tiles_free(t);
    zu_tlog_proof_free(back);
    zu_tlog_proof_free(p);
    free(pk.entry);
    zu_checkpoint_release(&c);
    zp_repo_free(r);
    return rc;
}
