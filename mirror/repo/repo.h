/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/repo.h -- a zupd TUF repository on the publisher's disk: init,
 * publish, promote, refresh, prune, key rotation, offline signing and
 * verification (docs/formats.md, docs/mirror.md). Every function reports a
 * one-line reason in err (naming the role, file or key) and returns a
 * zupd_err code. Names use zp_ (publisher-internal). */
#ifndef ZP_REPO_H
#define ZP_REPO_H

#include <stdbool.h>

#include <zupd/meta.h>

#include "keys/keystore.h"
#include "repo/layout.h"

struct zupd_channel;

/* A witness the log asks for cosignatures (docs/transparency.md). */
#define ZP_WITNESSES_MAX 16
#define ZP_WITNESS_VKEY_MAX 400
#define ZP_WITNESS_URL_MAX 512
struct zp_witness_cfg {
    char vkey[ZP_WITNESS_VKEY_MAX]; /* its cosignature/v1 vkey (type 0x04) */
    char url[ZP_WITNESS_URL_MAX];   /* its submission prefix (http:// or https://) */
};

/* Publisher settings, kept in DIR/.zupd/config.json. */
struct zp_config {
    int64_t expiry[ZP_R__N]; /* seconds each role's metadata is valid */
    unsigned deltas;         /* K: deltas from the last K releases */
    int zstd_level;
    int delta_level;    /* delta engine level; 0: its default (ZP_DELTA_LEVEL_DEFAULT) */
    bool delta_no_lzma; /* deltas without LZMA2 streams (format version 9 at most) */
    bool policy;        /* an enterprise policy repository: channel pointers only */
    /* the PKCS#11 module of the token keys ("": the one each key reference
     * records); --pkcs11-module and a URI's module-path come first */
    char pkcs11_module[4096];
    /* the log's witnesses ("witnesses") and how many cosignatures endpoints
     * need ("witness_quorum"): fewer after a publish is a warning */
    struct zp_witness_cfg witnesses[ZP_WITNESSES_MAX];
    size_t n_witnesses;
    unsigned witness_quorum;
};
void zp_config_default(struct zp_config *c);
/* A witness of config.json: vkey a cosignature/v1 vkey, url http(s)://. */
ZU_NODISCARD int zp_witness_cfg_check(const char *vkey, const char *url, char *err, size_t cap);

struct zp_repo_opts {
    const char *dir;      /* the tree served: metadata/, targets/, blobs/ */
    const char *keys_dir; /* NULL: <dir>/../keys */
    struct zp_pass pass;  /* passphrases of the keys */
    int64_t now;          /* 0: the clock */
    /* warnings of a change that still succeeds (a witness that did not
     * answer); NULL: none shown */
    zupd_log_fn log_fn;
    void *log_opaque;
};

/* ------------------------------------------------------------ init */

struct zp_init_opts {
    unsigned root_keys;      /* n root keys (root-1 ... root-n); default 1 */
    unsigned root_threshold; /* k; default 1 */
    unsigned avdb_bins;      /* 0, or B: avdb delegates to 2^B hash bins (TAP 15) */
    struct zp_config config;
    /* one passphrase for an online and an offline key is refused unless
     * this is set */
    bool same_passphrase;
    /* Argon2id cost of the new online (snapshot, timestamp, avdb) and
     * offline (root, targets, products) keys; opslimit 0: zp_kdf_cost_for's
     * default of the class */
    struct zp_kdf_cost online_cost, offline_cost;
};

/* A new repository in o->dir (which must be empty or missing): keys for
 * every role generated unless the key directory has them (key names:
 * root-1..root-n, targets, products, avdb, snapshot, timestamp), the
 * offline ones in KEYDIR/offline and the online ones in KEYDIR/online
 * (their passphrases asked for first; one for both classes refused unless
 * io->same_passphrase), version 1 of every role, signed. */
ZU_NODISCARD int zp_repo_init(const struct zp_repo_opts *o, const struct zp_init_opts *io,
                              char *err, size_t cap);

/* ------------------------------------------------------------ open */

struct zp_repo;

/* Load the current metadata (metadata/root.json, timestamp.json and the
 * versions they name) and the configuration. Ownership: *out new,
 * zp_repo_free(). */
ZU_NODISCARD int zp_repo_open(const struct zp_repo_opts *o, struct zp_repo **out, char *err,
                              size_t cap);
void zp_repo_free(struct zp_repo *r); /* NULL ok; wipes unlocked keys */

/* Take the repository lock (DIR/.zupd/lock, flock) until zp_repo_free():
 * one process changes a repository at a time (ZUPD_E_BUSY otherwise). */
ZU_NODISCARD int zp_repo_lock(struct zp_repo *r, char *err, size_t cap);

/* The current document of a role (borrowed). */
const struct zupd_meta *zp_repo_meta(const struct zp_repo *r, enum zp_role role);
const struct zp_config *zp_repo_config(const struct zp_repo *r);
const char *zp_repo_keys_dir(const struct zp_repo *r);

/* Unlock now (asking passphrases) the keys that sign roles, so that the
 * signing steps that follow do not wait for a person. */
ZU_NODISCARD int zp_repo_unlock(struct zp_repo *r, const enum zp_role *roles, size_t n, char *err,
                                size_t cap);

/* ------------------------------------------------------------ publish */

/* The delta hook: a patch turning old into new_, or ZUPD_E_NOTFOUND for "no
 * delta" (no engine, or nothing smaller). method receives its name.
 * Ownership: *patch new (free()). */
ZU_NODISCARD int zp_make_delta(const uint8_t *old, size_t old_len, const uint8_t *new_,
                               size_t new_len, int level, bool no_lzma, uint8_t **patch,
                               size_t *patch_len, char *method, size_t method_cap);

struct zp_publish_opts {
    const char *component;
    const char *version;
    const char *path;            /* a directory or a single file */
    enum zp_role role;           /* ZP_R_PRODUCTS or ZP_R_AVDB */
    const char *source_revision; /* provenance; NULL ok */
    const char *builder;         /* provenance; NULL ok */
    int deltas;                  /* K, or -1: the configured one */
    int delta_level;             /* 1..22, or 0: the configured one */
    bool delta_no_lzma;          /* no LZMA2 streams, whatever the configuration says */
};

struct zp_publish_res {
    size_t files;
    size_t new_blobs;        /* blobs written (full contents) */
    size_t reused_blobs;     /* contents already in the repository */
    size_t deltas;           /* delta blobs written */
    uint64_t blob_bytes;     /* bytes of blobs written */
    uint64_t manifest_bytes; /* the new release manifest (a TUF target) */
    uint64_t meta_bytes;     /* new TUF metadata: role, snapshot, timestamp */
    double delta_seconds;    /* time spent in the delta hook */
};

ZU_NODISCARD int zp_publish(struct zp_repo *r, const struct zp_publish_opts *p,
                            struct zp_publish_res *res, char *err, size_t cap);

/* Publish releases of several components (each at most once) as one
 * change: one new version of each role involved, one snapshot, one
 * timestamp. res adds up. Either all are published or none is. */
ZU_NODISCARD int zp_publish_many(struct zp_repo *r, const struct zp_publish_opts *p, size_t n,
                                 struct zp_publish_res *res, char *err, size_t cap);

/* A publish that waits for the role's other key holders (an auditor): the
 * blobs, deltas and manifests are written and durable, and the next version
 * of the role, signed by the keys this repository holds, is staged
 * (ZP_STAGED_DIR) instead of committed; nothing a snapshot names changes.
 * With channel, the channel pointers of the components move to the new
 * versions in the same change (one sorting lower needs rollback, and the
 * pointer then says "rollback": true). dir receives the staged directory;
 * *have and *threshold the signatures made and needed. */
struct zp_stage_opts {
    const char *channel; /* NULL: no channel moves */
    bool rollback;
};
ZU_NODISCARD int zp_publish_stage(struct zp_repo *r, const struct zp_publish_opts *p, size_t n,
                                  const struct zp_stage_opts *so, struct zp_publish_res *res,
                                  char *dir, size_t dir_cap, uint64_t *have, uint64_t *threshold,
                                  char *err, size_t cap);

/* ------------------------------------------------------------ channels */

/* The role (products or avdb) in which version of component is published,
 * for commands given no --role. ZUPD_E_NOTFOUND when in neither,
 * ZUPD_E_MISUSE when in both (the caller must say which). */
ZU_NODISCARD int zp_component_role(struct zp_repo *r, const char *component, const char *version,
                                   enum zp_role *out, char *err, size_t cap);

/* Point role's channel of component at version (which must be published).
 * A version sorting lower than the current one needs rollback. */
ZU_NODISCARD int zp_promote(struct zp_repo *r, enum zp_role role, const char *component,
                            const char *version, const char *channel, bool rollback, char *err,
                            size_t cap);

/* The version a channel names now; ZUPD_E_NOTFOUND when none. */
ZU_NODISCARD int zp_channel_get(struct zp_repo *r, enum zp_role role, const char *component,
                                const char *channel, char *version, size_t vcap);

/* Published versions of a component in role, sorted (oldest first).
 * Ownership: *out new, zupd_strv_free()-style: free each then the array. */
ZU_NODISCARD int zp_versions(struct zp_repo *r, enum zp_role role, const char *component,
                             char ***out, size_t *n);
void zp_strv_free(char **v, size_t n);

/* ------------------------------------------------------------ policy */

/* A pin of the enterprise policy repository: the fleet installs version
 * of component on channel (a rollback when it moves the fleet back). */
struct zp_pin {
    enum zp_role role; /* ZP_R_PRODUCTS or ZP_R_AVDB */
    const char *component;
    const char *channel;
    const char *version;
    const char *note; /* NULL ok */
    int64_t expires;  /* 0: until released */
    bool rollback;
};

/* Write the pin into the policy repository r and publish it (new role,
 * snapshot and timestamp). Moving an unexpired pin to a lower version needs
 * p->rollback. With vendor_dir (a vendor tree, e.g. the synced mirror),
 * the version must be a release signed there. */
ZU_NODISCARD int zp_policy_pin(struct zp_repo *r, const struct zp_pin *p, const char *vendor_dir,
                               char *err, size_t cap);

/* Drop the pin of component's channel: the vendor's channel applies again. */
ZU_NODISCARD int zp_policy_release(struct zp_repo *r, enum zp_role role, const char *component,
                                   const char *channel, char *err, size_t cap);

struct zp_pin_entry {
    enum zp_role role;
    struct zupd_channel *ch;
};

/* Every pin (channel pointer) of the repository. Ownership: *out new,
 * zp_pins_free(). */
ZU_NODISCARD int zp_policy_list(struct zp_repo *r, struct zp_pin_entry **out, size_t *n);
void zp_pins_free(struct zp_pin_entry *v, size_t n);
/* ZUPD_E_MISUSE (with a message) unless r is a policy repository. */
ZU_NODISCARD int zp_check_policy_repo(struct zp_repo *r, char *err, size_t cap);

/* The vendor's security floor of component: version (a published release)
 * is written into every channel pointer of the component, in one change;
 * an endpoint follows no enterprise pin below it. *channels: how many. */
ZU_NODISCARD int zp_floor_set(struct zp_repo *r, enum zp_role role, const char *component,
                              const char *version, size_t *channels, char *err, size_t cap);

/* ------------------------------------------------------------ maintenance */

struct zp_refresh_res {
    bool resigned[ZP_R__N];
    bool due_offline[ZP_R__N]; /* offline roles expiring within half their period */
};

/* Re-sign timestamp, and snapshot and avdb, when due (less than half of
 * their period left) or when force. Offline roles (root, targets, products)
 * are re-signed only with offline; without it an expired one is an error
 * (ZUPD_E_EXPIRED) and one due soon is reported in res. */
ZU_NODISCARD int zp_refresh(struct zp_repo *r, bool force, bool offline, struct zp_refresh_res *res,
                            char *err, size_t cap);

struct zp_prune_res {
    size_t releases; /* releases dropped */
    size_t blobs;    /* blobs removed */
    uint64_t bytes;  /* their bytes */
};

/* Keep the last keep releases of every component (and every release a
 * channel names); drop the others from the role metadata, then remove
 * their manifests and every blob no remaining manifest names. */
ZU_NODISCARD int zp_prune(struct zp_repo *r, unsigned keep, struct zp_prune_res *res, char *err,
                          size_t cap);

/* Replace the keys of role by the key files new_keys[0..n) (names in the
 * key directory; generated when missing), with threshold (0: keep). root,
 * targets, snapshot, timestamp: a new root version signed by the old and
 * the new root thresholds; products, avdb: a new targets version. The
 * roles signed by the new keys are re-signed. */
ZU_NODISCARD int zp_rotate(struct zp_repo *r, enum zp_role role, const char *const *new_keys,
                           size_t n, uint64_t threshold, const struct zp_kdf_cost *cost, char *err,
                           size_t cap);

/* ------------------------------------------------------------ offline signing */

/* Prepare the next version of an offline role (root, targets, products,
 * or avdb) unsigned, with a fresh expiry, as DIR/.zupd/staged/<role>.json;
 * out receives that path. */
ZU_NODISCARD int zp_stage(struct zp_repo *r, enum zp_role role, char *out, size_t out_cap,
                          char *err, size_t cap);

/* Add the signature of the key file key_path to the metadata file path (in
 * place, atomically). Needs no repository: this runs on the signing
 * machine. Signatures already there are kept (a threshold adds them one by
 * one). */
ZU_NODISCARD int zp_sign_file(const char *path, const char *key_path, const struct zp_pass *p,
                              char *err, size_t cap);

/* Import a signed metadata file: verified against its delegator (root: the
 * old and the new root thresholds), then installed, followed by snapshot
 * and timestamp when it is a targets role. */
ZU_NODISCARD int zp_import(struct zp_repo *r, const char *path, char *err, size_t cap);

/* ------------------------------------------------------------ multi-party signing */

/* A change of a delegated role that needs signatures this repository does
 * not hold (a release for an auditor to co-sign, a new threshold) waits in
 * DIR/staged/<role>/ (ZP_STAGED_DIR): release.json (what the change is),
 * N.<role>.json (the next version, signed by the keys held) and, for a change
 * of the role's keys, M.targets.json. Served, but named by no snapshot
 * (ZP_STAGED_DIR, mirror/repo/layout.h). */

struct zp_import_res {
    bool staged;        /* the file was for a staged change */
    bool live;          /* ... which has now gone live */
    enum zp_role role;  /* its role */
    uint64_t version;   /* its version */
    uint64_t have;      /* valid signatures it carries */
    uint64_t threshold; /* signatures it needs */
    char keyid[65];     /* the key of an imported signature file */
};

/* zp_import, telling what happened. A signature file of zupd-mirror audit
 * or a role file signed with zupd-mirror sign whose content is the staged
 * change's adds its signatures to it (refused when it does not verify or is
 * for another version or content); the change goes live (snapshot,
 * timestamp) when the threshold is met. Any other file: zp_import. */
ZU_NODISCARD int zp_import2(struct zp_repo *r, const char *path, struct zp_import_res *res,
                            char *err, size_t cap);

/* Is a change of role staged? */
bool zp_staged_pending(struct zp_repo *r, enum zp_role role);
/* Drop the staged change of role (its blobs and manifests stay until prune). */
ZU_NODISCARD int zp_unstage(struct zp_repo *r, enum zp_role role, char *err, size_t cap);

/* Keys of a role from the command line: each change is a new version of the
 * delegator (targets for products and avdb, root for the others), signed
 * and committed; when the role's current metadata no longer meets the new
 * threshold and this repository does not hold enough of its keys to re-sign
 * it, the change is staged (res->staged; the other key holders sign it). */
struct zp_keychange_res {
    char keyid[65];
    bool staged;
    char staged_dir[4200];
    uint64_t delegator_version;
};
/* Add the TUF public key object pub[0..len) (or {"keyid":..,"key":{..}} as
 * zupd-mirror key show prints it) to role under name (kept in the
 * delegator's "x-zupd-key-names"). A key role already has is renamed. */
ZU_NODISCARD int zp_key_add(struct zp_repo *r, enum zp_role role, const uint8_t *pub, size_t len,
                            const char *name, struct zp_keychange_res *res, char *err, size_t cap);
/* Remove a key (key id, a unique prefix of one, or its name) from role;
 * refused for the last key or when the threshold would exceed the keys. */
ZU_NODISCARD int zp_key_remove(struct zp_repo *r, enum zp_role role, const char *key,
                               struct zp_keychange_res *res, char *err, size_t cap);
/* Set the threshold of role (1..its number of keys). */
ZU_NODISCARD int zp_key_threshold(struct zp_repo *r, enum zp_role role, uint64_t threshold,
                                  struct zp_keychange_res *res, char *err, size_t cap);

/* ------------------------------------------------------------ verify */

struct zp_verify_res {
    size_t roles;
    size_t targets;
    size_t manifests;
    size_t not_mirrored; /* targets a filtered mirror does not hold (its sync selection) */
    size_t blobs;
    uint64_t blob_bytes;
    size_t pins;            /* pointers of the policy repository (zp_verify_pins) */
    size_t pins_unservable; /* ... whose release this tree cannot serve */
};

/* Check the tree dir as a client would (lib's TUF client over a file
 * transport, trusting root_path, NULL: dir/metadata/1.root.json), then
 * every manifest's blobs and deltas (hash and length, and the content
 * hash of each full blob). In a mirror made by a filtered sync, only the
 * targets of its selection file (mirror/repo/select.h) are checked; the
 * others are counted in not_mirrored. err starts with the path of the
 * first problem. */
ZU_NODISCARD int zp_verify(const char *dir, const char *root_path, int64_t now, unsigned flags,
                           struct zp_verify_res *res, char *err, size_t cap);
/* zp_verify flags: a policy repository's channel pointers name releases
 * of the vendor's repository, so they are checked for form only. */
#define ZP_VERIFY_POLICY 1u

/* The pins of an enterprise policy repository to check against a mirror. */
struct zp_verify_pins {
    const char *policy;      /* the policy repository: URL or directory */
    const char *policy_root; /* its trusted root */
    const char *ca_file;     /* for https; NULL: the system's store */
    /* called once per pin: rc ZUPD_OK when the tree serves its release
     * (the vendor signs the manifest, the tree has it and every full blob
     * it names, hashes checked), else the refusal and why; NULL ok */
    void (*on_pin)(void *opaque, const char *pointer, const char *release, int rc, const char *why);
    void *opaque;
};

/* zp_verify, and first every pin of the policy repository (read verified
 * with its own root, repo/pins.h; a refusal fails closed) checked against
 * the tree: each pin whose release the tree cannot serve is reported and
 * counted in res->pins_unservable, and makes the result ZUPD_E_NOTFOUND
 * when the tree itself verifies. pins NULL: exactly zp_verify. */
ZU_NODISCARD int zp_verify_with_pins(const char *dir, const char *root_path, int64_t now,
                                     unsigned flags, const struct zp_verify_pins *pins,
                                     struct zp_verify_res *res, char *err, size_t cap);

/* ------------------------------------------------------------ log */

struct zp_log_res {
    char origin[256];
    uint64_t size;
    uint8_t root[32];
    size_t releases, channels, roots, other; /* entries by type */
    size_t targets;                          /* TUF targets of products and avdb checked */
    size_t matched;                          /* targets and root versions found in the log */
    size_t not_current; /* logged, no longer signed (superseded, pruned, interrupted) */
};

/* Check the transparency log of the repository o->dir: its checkpoint is
 * signed by vkey (NULL: the repository's log/vkey), every tile and entry
 * bundle hashes up to the checkpoint's root, and every target of products
 * and avdb and every root version is logged with its sha256 and length
 * (docs/transparency.md). err names the first problem. */
ZU_NODISCARD int zp_log_verify(const struct zp_repo_opts *o, const char *vkey,
                               struct zp_log_res *res, char *err, size_t cap);

/* What `log proof` wrote. */
struct zp_log_proof_res {
    char origin[256];
    uint64_t size, index, old;     /* the checkpoint's size, the entry's index, the older size */
    size_t inclusion, consistency; /* hashes of each proof */
    size_t cosignatures;           /* signature lines after the log's */
};

/* The proof unit (docs/transparency.md, "Proof material as one unit") of
 * the logged target path (a release manifest or channel pointer of
 * products or avdb) in the repository o->dir: its index from the target's
 * signed custom member, its entry from the log's bundle (which must name
 * the target's path, sha256 and length), the inclusion proof in
 * log/checkpoint's tree (with its cosignatures) and the consistency proof
 * from size old (0: none), appended to unit and checked with
 * zu_tlog_proof_verify() against log/vkey before it is handed out.
 * Reads only; takes no lock. Returns ZUPD_OK, ZUPD_E_NOTFOUND (not a
 * signed target, signed without a log index, not in the checkpoint yet),
 * ZUPD_E_MISUSE (old above the checkpoint's size, a path of another
 * role), ZUPD_E_MISMATCH (the entry at the index is another target's),
 * ZUPD_E_HASH (tiles that do not give the checkpoint's root), I/O errors. */
struct zu_buf;
ZU_NODISCARD int zp_log_proof(const struct zp_repo_opts *o, const char *path, uint64_t old,
                              struct zu_buf *unit, struct zp_log_proof_res *res, char *err,
                              size_t cap);

/* What asking the witnesses gave. */
struct zp_cosign_res {
    uint64_t size;    /* of the checkpoint cosigned */
    size_t witnesses; /* configured */
    size_t cosigned;  /* witnesses whose valid cosignature log/checkpoint now carries */
    size_t added;     /* of those, asked now */
    unsigned quorum;  /* configured */
};

/* Ask every configured witness that has not cosigned log/checkpoint yet
 * for a cosignature (C2SP tlog-witness add-checkpoint with the consistency
 * proof from the size it last cosigned; on 409 once more from the size it
 * reports), check each answer against the witness's vkey, and rewrite
 * log/checkpoint durably with the new cosignature lines after the ones it
 * had (the log's signature first). A witness that is down or answers
 * badly is reported through the repository's log_fn (WARN) and skipped.
 * The caller holds the repository's lock. Returns ZUPD_OK (res says how
 * many cosigned), or an error of the log itself (no checkpoint, a tile
 * missing, the checkpoint not writable). */
struct zp_repo;
ZU_NODISCARD int zp_log_cosign(struct zp_repo *r, struct zp_cosign_res *res, char *err, size_t cap);

/* The log's witnesses in DIR/.zupd/config.json (the caller holds the
 * repository's lock): zp_log_witness_add appends one (vkey and URL checked, a
 * name already listed refused: ZUPD_E_EXISTS), zp_log_witness_remove drops the
 * one of that name or vkey (ZUPD_E_NOTFOUND). quorum (-1: unchanged) is
 * set after the change; a quorum above the witnesses listed is refused
 * (ZUPD_E_MISUSE) and nothing is written. */
ZU_NODISCARD int zp_log_witness_add(struct zp_repo *r, const char *vkey, const char *url,
                                    long quorum, char *err, size_t cap);
ZU_NODISCARD int zp_log_witness_remove(struct zp_repo *r, const char *which, long quorum, char *err,
                                       size_t cap);
ZU_NODISCARD int zp_log_witness_quorum(struct zp_repo *r, long quorum, char *err, size_t cap);
/* Rotating the log key (docs/transparency.md, "Rotating the log key").
 * zp_log_key_add makes the next log key KEYDIR/.../log-next.key beside
 * log.key (passphrase of key 'log-next', online KDF cost), re-signs
 * log/checkpoint with both keys (its cosignatures kept) and lists both
 * vkeys in log/vkey (one a line, the current key first); every checkpoint
 * after it carries both signatures. Run again while the rotation is under
 * way, it only rewrites those two files (under_way). zp_log_key_retire
 * renames log-next.key over log.key (atomic, directory fsynced: the old
 * key is gone), then re-signs log/checkpoint with the new key alone and
 * writes log/vkey with its vkey; run again after a crash it finishes the
 * two writes (under_way), else ZUPD_E_NOTFOUND when no rotation is under
 * way. The caller holds the repository's lock. */
struct zp_log_rot {
    char origin[256];
    char old_vkey[384], new_vkey[384];
    char key_file[4096]; /* add: the new key's file; retire: the log key's */
    bool under_way;
};
ZU_NODISCARD int zp_log_key_add(struct zp_repo *r, struct zp_log_rot *res, char *err, size_t cap);
ZU_NODISCARD int zp_log_key_retire(struct zp_repo *r, struct zp_log_rot *res, char *err,
                                   size_t cap);

/* Is dir a policy repository (its publisher configuration says so)? */
bool zp_tree_is_policy(const char *dir);

#endif
