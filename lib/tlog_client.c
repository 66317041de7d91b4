/* SPDX-License-Identifier: Apache-2.0 */
/* lib/tlog_client.c -- the endpoint's transparency-log check
 * (docs/transparency.md, "The endpoint's check"): the release entry rebuilt
 * from signed data, proven included in a checkpoint signed by the log key
 * and cosigned by a witness quorum, consistent with the checkpoint this
 * endpoint accepted last, which it then stores. */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "update_int.h"
#include "zu/fsio.h"
#include "zu/json.h"
#include "zu/tlog_client.h"

/* What an updater trusts of its log (struct zupd_updater's log). */
struct zu_tlog_conf {
    struct zu_tlog_trust trust;
    char origin[ZU_NOTE_ORIGIN_MAX + 1];
    struct zu_note_key *witnesses;
};

void
zu_tlog_conf_free(struct zu_tlog_conf *c)
{
    if (c == NULL)
        return;
    free(c->witnesses);
    free(c);
}

json_t *
zu_tlog_entry_release(const char *role, const char *path, const char *sha_hex, uint64_t length,
                      const char *component, const char *version, const char *source_revision,
                      const char *builder)
{
    json_t *prov = json_object(), *doc;

    if (prov != NULL && source_revision != NULL)
        json_object_set_new(prov, "source_revision", json_string(source_revision));
    if (prov != NULL && builder != NULL)
        json_object_set_new(prov, "builder", json_string(builder));
    if (prov == NULL)
        return NULL;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:I}, s:o}", "type", "release", "role", role,
                    "path", path, "component", component, "version", version, "target", "sha256",
                    sha_hex, "length", (json_int_t)length, "provenance", prov);
    return doc;
}

json_t *
zu_tlog_entry_channel(const char *role, const char *path, const char *sha_hex, uint64_t length,
                      const char *component, const char *channel, const char *version,
                      const char *floor, bool rollback)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:I}}", "type", "channel", "role", role,
                  "path", path, "component", component, "channel", channel, "version", version,
                  "target", "sha256", sha_hex, "length", (json_int_t)length);

    if (doc != NULL && floor != NULL && json_object_set_new(doc, "floor", json_string(floor)) != 0)
        goto fail;
    if (doc != NULL && rollback && json_object_set_new(doc, "rollback", json_true()) != 0)
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

int
zu_tlog_custom_index(const uint8_t *custom, size_t len, uint64_t *index)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    json_t *doc = NULL, *log = NULL;
    int rc;

    *index = 0;
    rc = zu_json_load(custom, len, &lim, &doc, NULL, 0);
    if (rc == ZUPD_OK && !json_is_object(doc))
        rc = ZUPD_E_FORMAT;
    if (rc == ZUPD_OK && json_object_get(doc, "zupd_log") == NULL)
        rc = ZUPD_E_NOTFOUND;
    if (rc == ZUPD_OK)
        rc = zu_json_get_obj(doc, "zupd_log", &log);
    if (rc == ZUPD_OK)
        rc = zu_json_get_u64(log, "index", index);
    if (rc == ZUPD_OK && *index >= ZU_TLOG_SIZE_MAX)
        rc = ZUPD_E_FORMAT;
    if (rc != ZUPD_OK)
        *index = 0;
    json_decref(doc);
    return rc == ZUPD_E_NOMEM || rc == ZUPD_E_NOTFOUND ? rc : rc != ZUPD_OK ? ZUPD_E_FORMAT : rc;
}

int
zu_updater_set_log(struct zupd_updater *u, const struct zu_tlog_trust *trust)
{
    struct zu_tlog_conf *c;

    if (trust == NULL || trust->origin == NULL || strlen(trust->origin) > ZU_NOTE_ORIGIN_MAX ||
        trust->log_key.type != ZU_NOTE_ED25519 || trust->quorum > trust->nwitnesses)
        return ZUPD_E_MISUSE;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ZUPD_E_NOMEM;
    if (trust->nwitnesses > 0) {
        c->witnesses = calloc(trust->nwitnesses, sizeof(*c->witnesses));
        if (c->witnesses == NULL) {
            free(c);
            return ZUPD_E_NOMEM;
        }
        memcpy(c->witnesses, trust->witnesses, trust->nwitnesses * sizeof(*c->witnesses));
    }
    snprintf(c->origin, sizeof(c->origin), "%s", trust->origin);
    c->trust = *trust;
    c->trust.origin = c->origin;
    c->trust.witnesses = c->witnesses;
    zu_tlog_conf_free(u->log);
    u->log = c;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ tiles */

struct tile_rd {
    struct zupd_updater *u;
    const char *origin;
    size_t first; /* the mirror that served the checkpoint */
    int tfd;      /* <state>/log/tiles */
    bool use_cache;
    unsigned cache_hits;
};

/* "tile/0/x001/234" -> "tile-0-x001-234": one flat cache directory. */
static void
cache_name(char *dst, size_t cap, const char *path)
{
    size_t i = 0;

    for (; path[i] != '\0' && i + 1 < cap; i++)
        dst[i] = path[i] == '/' ? '-' : path[i];
    dst[i] = '\0';
}

/* The cached tiles a new one makes useless: the narrower partial tiles of
 * the same tile ("tile-0-003.p-*" once "tile-0-003.p-200" or "tile-0-003"
 * is kept). The cache then holds at most one partial tile per level, and
 * the full tiles proofs used. */
static void
cache_prune(int tfd, const char *name)
{
    char prefix[ZU_TLOG_PATH_MAX + 8];
    const char *p = strstr(name, ".p-");
    size_t plen;
    struct dirent *e;
    DIR *d;
    int fd;

    if (p != NULL)
        plen = (size_t)(p - name) + 3;
    else
        plen = (size_t)snprintf(prefix, sizeof(prefix), "%s.p-", name);
    if (p != NULL)
        memcpy(prefix, name, plen);
    if (plen >= sizeof(prefix))
        return;
    prefix[plen] = '\0';
    fd = dup(tfd);
    d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, plen) == 0 && strcmp(e->d_name, name) != 0)
            (void)unlinkat(tfd, e->d_name, 0);
    closedir(d);
}

static int
tile_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
          size_t cap)
{
    struct tile_rd *rd = opaque;
    struct zupd_updater *u = rd->u;
    struct zupd_fetch_req req = {0};
    struct zupd_fetch_res res;
    char rel[ZU_TLOG_PATH_MAX + 8], name[ZU_TLOG_PATH_MAX + 8];
    int rc;

    *data = NULL;
    *len = 0;
    cache_name(name, sizeof(name), path);
    if (rd->use_cache && rd->tfd >= 0 && zu_read_capped(rd->tfd, name, max, data, len) == ZUPD_OK) {
        rd->cache_hits++;
        return ZUPD_OK;
    }
    snprintf(rel, sizeof(rel), ZU_TLOG_STATE_DIR "/%s", path);
    req.bases = (const char *const *)u->roots;
    req.n_bases = u->n;
    req.first = rd->first;
    req.path = rel;
    req.max_bytes = max;
    rc = zupd_fetch_mem(u->o.ctx, u->o.transport, &req, data, len, &res);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "log '%s': cannot fetch '%s': %s", rd->origin, rel,
                       zupd_strerror(rc));
    /* a tile's path names its content for good (a partial tile's path has
     * its width): kept, still believed only through proofs */
    if (rd->tfd >= 0) {
        if (zu_cache_write(rd->tfd, name, *data, *len, 0644) != ZUPD_OK)
            zu_log(u->o.ctx, ZUPD_LOG_WARN, "cannot cache log tile '%s'", path);
        else
            cache_prune(rd->tfd, name);
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------ proofs */

static void
b64_root(const uint8_t root[ZU_TLOG_HASH], char out[48])
{
    struct zu_buf b;

    zu_buf_init(&b, 64);
    if (zu_b64_encode(&b, root, ZU_TLOG_HASH) == ZUPD_OK && b.len < 48) {
        memcpy(out, b.p, b.len);
        out[b.len] = '\0';
    } else {
        out[0] = '\0';
    }
    zu_buf_release(&b);
}

/* Prove leaf (entry `index`, described by what) in cp, and cp consistent
 * with old (old->size 0: none stored). */
/* An entry to prove: its signed index, its rebuilt leaf hash, what it is. */
struct logged {
    uint64_t index;
    uint8_t leaf[ZU_TLOG_HASH];
    char what[3 * ZUPD_NAME_MAX + 64];
};

/* Prove one entry in cp (t: cp's tiles). */
static int
prove_one(struct tile_rd *rd, struct zu_tlog_tiles *t, const struct zu_checkpoint *cp,
          const struct logged *e, char *err, size_t cap)
{
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], h[ZU_TLOG_HASH];
    const char *o = rd->origin;
    size_t n = 0;
    int rc;

    if (e->index >= cp->size)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                       "log '%s': %s is signed as entry %llu but the log has %llu entries: not "
                       "in the log",
                       o, e->what, (unsigned long long)e->index, (unsigned long long)cp->size);
    rc = zu_tlog_prove_inclusion(t, e->index, cp->size, proof, &n, err, cap);
    if (rc == ZUPD_OK &&
        zu_tlog_verify_inclusion(e->index, cp->size, e->leaf, (const uint8_t(*)[ZU_TLOG_HASH])proof,
                                 n, cp->root) != ZUPD_OK) {
        /* right-edge tiles that give the signed root: the entry differs */
        if (zu_tlog_tree_hash(t, cp->size, h, err, cap) == ZUPD_OK &&
            memcmp(h, cp->root, ZU_TLOG_HASH) == 0)
            rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                         "log '%s': entry %llu of the checkpoint of size %llu is not %s: it is "
                         "signed but not in the log",
                         o, (unsigned long long)e->index, (unsigned long long)cp->size, e->what);
        else
            rc = zu_fail(err, cap, ZUPD_E_HASH,
                         "log '%s': the mirror's tiles do not give the root of its checkpoint "
                         "(size %llu): a bad tile",
                         o, (unsigned long long)cp->size);
    } else if (rc == ZUPD_E_FORMAT || rc == ZUPD_E_TOOBIG) {
        rc = zu_fail(err, cap, ZUPD_E_HASH, "log '%s': a bad tile: %s", o, zupd_strerror(rc));
    }
    return rc;
}

/* Prove entries e[0..ne) in cp, and cp consistent with old (old->size 0:
 * none stored). */
static int
prove(struct tile_rd *rd, const struct zu_checkpoint *cp, const struct zu_checkpoint *old,
      const struct logged *e, size_t ne, char *err, size_t cap)
{
    struct zu_tlog_reader r = {rd, tile_read};
    struct zu_tlog_tiles *t = NULL;
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], h[ZU_TLOG_HASH];
    const char *o = rd->origin;
    size_t n = 0;
    int rc;

    if (old->size > cp->size)
        return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                       "log '%s': the mirror's checkpoint (size %llu) is older than the one this "
                       "endpoint trusts (size %llu): the log was rolled back",
                       o, (unsigned long long)cp->size, (unsigned long long)old->size);
    if (old->size == cp->size && memcmp(old->root, cp->root, ZU_TLOG_HASH) != 0)
        return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                       "log '%s': the checkpoint of size %llu has another root than the one this "
                       "endpoint trusts: a fork (split view)",
                       o, (unsigned long long)cp->size);
    rc = zu_tlog_tiles_new(cp->size, &r, &t);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "log '%s': %s", o, zupd_strerror(rc));
    for (size_t i = 0; rc == ZUPD_OK && i < ne; i++)
        rc = prove_one(rd, t, cp, &e[i], err, cap);
    if (rc == ZUPD_OK && old->size > 0 && old->size < cp->size) {
        rc = zu_tlog_prove_consistency(t, old->size, cp->size, proof, &n, err, cap);
        if (rc == ZUPD_OK &&
            zu_tlog_verify_consistency(old->size, old->root, cp->size, cp->root,
                                       (const uint8_t(*)[ZU_TLOG_HASH])proof, n) != ZUPD_OK) {
            if (zu_tlog_tree_hash(t, cp->size, h, err, cap) == ZUPD_OK &&
                memcmp(h, cp->root, ZU_TLOG_HASH) == 0)
                rc = zu_fail(err, cap, ZUPD_E_ROLLBACK,
                             "log '%s': the checkpoint of size %llu is not consistent with the "
                             "one this endpoint trusts (size %llu): a fork (split view)",
                             o, (unsigned long long)cp->size, (unsigned long long)old->size);
            else
                rc = zu_fail(err, cap, ZUPD_E_HASH,
                             "log '%s': the mirror's tiles do not give the root of its "
                             "checkpoint (size %llu): a bad tile",
                             o, (unsigned long long)cp->size);
        } else if (rc == ZUPD_E_FORMAT || rc == ZUPD_E_TOOBIG) {
            rc = zu_fail(err, cap, ZUPD_E_HASH, "log '%s': a bad tile: %s", o, zupd_strerror(rc));
        }
    }
    zu_tlog_tiles_free(t);
    return rc;
}

/* ------------------------------------------------------------ the check */

/* The stored checkpoint, parsed (its signature was checked when stored):
 * old->size 0 when there is none or it is of another origin. */
static int
stored(int lfd, const char *origin, uint8_t **bytes, size_t *len, struct zu_checkpoint *old,
       struct zupd_ctx *ctx)
{
    struct zu_note *n = NULL;
    int rc;

    memset(old, 0, sizeof(*old));
    rc = zu_read_capped(lfd, ZU_TLOG_STATE_CHECKPOINT, ZU_NOTE_MAX_BYTES, bytes, len);
    if (rc == ZUPD_E_NOTFOUND)
        return ZUPD_OK;
    if (rc == ZUPD_OK)
        rc = zu_note_parse(*bytes, *len, &n);
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, old);
    zu_note_free(n);
    if (rc == ZUPD_OK && strcmp(old->origin, origin) != 0) {
        /* the configuration names another log now: start from it */
        zu_log(ctx, ZUPD_LOG_WARN, "the stored checkpoint is of log '%s', not '%s': not used",
               old->origin, origin);
        zu_checkpoint_release(old);
        memset(old, 0, sizeof(*old));
    }
    return rc;
}

static int
open_dir(int dfd, const char *name, int *out)
{
    if (mkdirat(dfd, name, 0755) != 0 && errno != EEXIST)
        return zu_errno_to_err(errno);
    *out = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return *out < 0 ? zu_errno_to_err(errno) : ZUPD_OK;
}

/* The signed target of path and the log index its custom member gives. */
static int
signed_index(struct zupd_updater *u, const char *path, struct zupd_target *t, uint64_t *index,
             char *err, size_t cap)
{
    const char *origin = u->log->origin;
    const struct zupd_meta *meta;
    char rname[ZUPD_ROLE_NAME_MAX];
    uint8_t *custom = NULL;
    size_t clen = 0;
    int rc;

    rc = zupd_client_find_target(u->client, path, t, rname, sizeof(rname), err, cap);
    if (rc != ZUPD_OK)
        return rc;
    meta = zupd_trusted_get(zupd_client_trusted(u->client), rname);
    rc = meta != NULL ? zupd_meta_target_custom(meta, path, &custom, &clen) : ZUPD_E_NOTFOUND;
    if (rc == ZUPD_OK)
        rc = zu_tlog_custom_index(custom, clen, index);
    free(custom);
    if (rc == ZUPD_E_NOTFOUND)
        return zu_fail(err, cap, rc,
                       "log '%s': '%s' is signed without a log index (not logged when it was "
                       "signed): not proven to be in the log",
                       origin, path);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "log '%s': the log index signed for '%s' is malformed", origin,
                       path);
    if (!t->hashes.has_sha256)
        return zu_fail(err, cap, ZUPD_E_HASH, "log '%s': '%s' is signed without a sha256", origin,
                       path);
    return ZUPD_OK;
}

/* The leaf hash of entry doc (released). */
static int
leaf_of(json_t *doc, uint8_t leaf[ZU_TLOG_HASH])
{
    uint8_t *entry = NULL;
    size_t elen = 0;
    int rc = doc != NULL ? zu_cjson_dump(doc, ZU_TLOG_ENTRY_MAX, &entry, &elen) : ZUPD_E_NOMEM;

    if (rc == ZUPD_OK)
        zu_tlog_leaf_hash(entry, elen, leaf);
    json_decref(doc);
    free(entry);
    return rc;
}

/* The release's entry: signed index, rebuilt leaf. */
static int
release_entry(struct zupd_updater *u, const char *role, const char *component, const char *version,
              struct logged *e, char *err, size_t cap)
{
    struct zupd_manifest *m = NULL;
    struct zupd_target t;
    char path[3 * ZUPD_NAME_MAX + 32], hex[2 * ZUPD_SHA256_LEN + 1];
    uint8_t *mbytes = NULL;
    size_t mlen = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", role, component, version);
    snprintf(e->what, sizeof(e->what), "release '%s'", path);
    rc = signed_index(u, path, &t, &e->index, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    /* verified against the same signed target (cached: no request) */
    rc = zupd_updater_manifest(u, role, component, version, &mbytes, &mlen, &m, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    zupd_hex_encode(hex, sizeof(hex), t.hashes.sha256, ZUPD_SHA256_LEN);
    rc = leaf_of(zu_tlog_entry_release(role, path, hex, t.length, m->component, m->version,
                                       m->source_revision, m->builder),
                 e->leaf);
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "log '%s': cannot make the entry of '%s': %s", u->log->origin, path,
                zupd_strerror(rc));
    free(mbytes);
    zupd_manifest_free(m);
    return rc;
}

/* The vendor channel pointer's entry; it must name version. */
static int
channel_entry(struct zupd_updater *u, const char *role, const char *component, const char *channel,
              const char *version, struct logged *e, char *err, size_t cap)
{
    struct zupd_channel *c = NULL;
    struct zupd_target t;
    char path[3 * ZUPD_NAME_MAX + 32], hex[2 * ZUPD_SHA256_LEN + 1];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", role, component, channel);
    snprintf(e->what, sizeof(e->what), "channel pointer '%s'", path);
    rc = signed_index(u, path, &t, &e->index, err, cap);
    if (rc == ZUPD_OK)
        rc = zu_updater_small_target(u, path, ZU_CHANNEL_MAX_BYTES, &buf, &len, err, cap);
    if (rc == ZUPD_OK && zupd_channel_parse(buf, len, &c) != ZUPD_OK)
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "channel pointer '%s' is malformed", path);
    if (rc == ZUPD_OK && strcmp(c->version, version) != 0)
        rc = zu_fail(err, cap, ZUPD_E_MISMATCH, "channel pointer '%s' names %s, not %s", path,
                     c->version, version);
    if (rc == ZUPD_OK) {
        zupd_hex_encode(hex, sizeof(hex), t.hashes.sha256, ZUPD_SHA256_LEN);
        rc = leaf_of(zu_tlog_entry_channel(role, path, hex, t.length, c->component, c->channel,
                                           c->version, c->floor, c->rollback),
                     e->leaf);
        if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "log '%s': cannot make the entry of '%s': %s", u->log->origin,
                    path, zupd_strerror(rc));
    }
    zupd_channel_free(c);
    free(buf);
    return rc;
}

int
zu_updater_log_check(struct zupd_updater *u, const char *role, const char *component,
                     const char *version, const char *channel, char *err, size_t cap)
{
    struct zu_checkpoint cp = {0}, old = {0};
    struct zupd_fetch_req req = {0};
    struct zupd_fetch_res res;
    struct tile_rd rd = {0};
    struct logged e[2];
    char root[48];
    uint8_t *note = NULL, *prev = NULL;
    size_t note_len = 0, prev_len = 0, cosigners = 0, ne = 0;
    int lfd = -1, rc;

    if (u->log == NULL)
        return ZUPD_OK;
    rd.tfd = -1;
    if (!zupd_name_is_safe(role) || !zupd_name_is_safe(component) || !zupd_name_is_safe(version) ||
        (channel != NULL && !zupd_name_is_safe(channel)))
        return ZUPD_E_MISUSE;
    memset(e, 0, sizeof(e));
    rc = release_entry(u, role, component, version, &e[ne++], err, cap);
    if (rc == ZUPD_OK && channel != NULL)
        rc = channel_entry(u, role, component, channel, version, &e[ne++], err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = open_dir(u->sfd, ZU_TLOG_STATE_DIR, &lfd);
    if (rc == ZUPD_OK)
        rc = open_dir(lfd, ZU_TLOG_STATE_TILES, &rd.tfd);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot use '%s/" ZU_TLOG_STATE_DIR "': %s", u->o.state_dir,
                zupd_strerror(rc));
        goto out;
    }
    req.bases = (const char *const *)u->roots;
    req.n_bases = u->n;
    req.path = ZU_TLOG_STATE_DIR "/checkpoint";
    req.max_bytes = ZU_NOTE_MAX_BYTES;
    rc = zupd_fetch_mem(u->o.ctx, u->o.transport, &req, &note, &note_len, &res);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "log '%s': cannot fetch its checkpoint 'log/checkpoint': %s",
                u->log->origin, zupd_strerror(rc));
        goto out;
    }
    rc = zu_checkpoint_open(note, note_len, &u->log->trust, &cp, &cosigners, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = stored(lfd, u->log->origin, &prev, &prev_len, &old, u->o.ctx);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc,
                "cannot read '%s/" ZU_TLOG_STATE_DIR "/" ZU_TLOG_STATE_CHECKPOINT "': %s",
                u->o.state_dir, zupd_strerror(rc));
        goto out;
    }
    rd.u = u;
    rd.origin = u->log->origin;
    rd.first = res.mirror;
    rd.use_cache = true;
    rc = prove(&rd, &cp, &old, e, ne, err, cap);
    if (rc != ZUPD_OK && rd.cache_hits > 0) {
        /* a damaged cached tile must not refuse for ever: ask the mirror */
        rd.use_cache = false;
        rc = prove(&rd, &cp, &old, e, ne, err, cap);
    }
    if (rc != ZUPD_OK)
        goto out;
    if (prev_len != note_len || memcmp(prev, note, note_len) != 0) {
        rc = zu_atomic_write(lfd, ZU_TLOG_STATE_CHECKPOINT, note, note_len, 0644);
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc,
                    "cannot write '%s/" ZU_TLOG_STATE_DIR "/" ZU_TLOG_STATE_CHECKPOINT "': %s",
                    u->o.state_dir, zupd_strerror(rc));
            goto out;
        }
    }
    b64_root(cp.root, root);
    for (size_t i = 0; i < ne; i++)
        zu_log(u->o.ctx, ZUPD_LOG_INFO,
               "log '%s': %s is entry %llu of checkpoint %llu (%s), %zu cosigners", u->log->origin,
               e[i].what, (unsigned long long)e[i].index, (unsigned long long)cp.size, root,
               cosigners);
out:
    if (rd.tfd >= 0)
        close(rd.tfd);
    if (lfd >= 0)
        close(lfd);
    zu_checkpoint_release(&cp);
    zu_checkpoint_release(&old);
    free(note);
    free(prev);
    return rc;
}

int
zu_tlog_trusted(const char *state_dir, const struct zu_tlog_trust *trust, struct zu_checkpoint *cp,
                size_t *cosigners, char *names, size_t names_cap)
{
    struct zu_note *n = NULL;
    struct zu_note_key *keys = NULL;
    char file[4096];
    uint8_t *bytes = NULL;
    size_t len = 0, nk = 1 + trust->nwitnesses, used = 0;
    bool *ok = NULL;
    int rc;

    memset(cp, 0, sizeof(*cp));
    *cosigners = 0;
    if (names_cap > 0)
        names[0] = '\0';
    snprintf(file, sizeof(file), "%s/" ZU_TLOG_STATE_DIR "/" ZU_TLOG_STATE_CHECKPOINT, state_dir);
    rc = zu_read_capped(AT_FDCWD, file, ZU_NOTE_MAX_BYTES, &bytes, &len);
    if (rc != ZUPD_OK)
        return rc;
    keys = calloc(nk, sizeof(*keys));
    ok = calloc(nk, sizeof(*ok));
    rc = keys != NULL && ok != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
    if (rc == ZUPD_OK) {
        keys[0] = trust->log_key;
        for (size_t i = 0; i < trust->nwitnesses; i++)
            keys[1 + i] = trust->witnesses[i];
        rc = zu_note_parse(bytes, len, &n);
    }
    if (rc == ZUPD_OK)
        rc = zu_note_verify(n, keys, nk, ok, NULL);
    if (rc == ZUPD_OK && !ok[0])
        rc = ZUPD_E_SIG;
    if (rc == ZUPD_OK)
        rc = zu_checkpoint_parse(n->text, n->text_len, cp);
    for (size_t i = 1; rc == ZUPD_OK && i < nk; i++) {
        bool dup = false;
        for (size_t j = 1; j < i && !dup; j++)
            dup = ok[j] && memcmp(keys[j].pub, keys[i].pub, 32) == 0;
        if (!ok[i] || dup)
            continue;
        (*cosigners)++;
        if (used < names_cap) {
            int w =
                snprintf(names + used, names_cap - used, "%s%s", used > 0 ? "," : "", keys[i].name);
            used = w > 0 ? used + (size_t)w : used;
        }
    }
    if (rc != ZUPD_OK) {
        zu_checkpoint_release(cp);
        memset(cp, 0, sizeof(*cp));
        *cosigners = 0;
    }
    zu_note_free(n);
    free(keys);
    free(ok);
    free(bytes);
    return rc;
}
