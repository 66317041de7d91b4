/* SPDX-License-Identifier: Apache-2.0 */
/* lib/meta_int.h -- the internals of the TUF metadata model shared by
 * meta.c (parse, validate), meta_query.c (accessors, matching, verify) and
 * meta_build.c (construction, serialization). */
#ifndef ZU_META_INT_H
#define ZU_META_INT_H

#include <jansson.h>

#include <zupd/meta.h>

#include "zu/internal.h"
#include "zu/key.h"

/* A key of a keys dictionary. key is NULL when the object is well formed
 * but its public key does not decode: kept, never verifies. */
struct zu_meta_key {
    const char *keyid; /* borrowed from the document */
    struct zu_key *key;
};

/* A role: top-level (root), delegated (targets) or the succinct roles. */
struct zu_meta_role {
    const char *name;   /* borrowed; NULL for the succinct roles */
    json_t *obj;        /* the role object (borrowed) */
    json_t *keyids;     /* array of strings (borrowed) */
    uint64_t threshold; /* >= 1 */
    bool terminating;
    json_t *paths; /* delegated: exactly one of paths / prefixes */
    json_t *prefixes;
};

/* What validation derives from the "signed" object; every pointer borrows
 * from that object, so the index is rebuilt after any change to it. */
struct zu_meta_index {
    enum zupd_meta_type type;
    uint64_t version;
    int64_t expires;
    const char *spec_version;
    bool consistent_snapshot;
    struct zu_meta_key *keys; /* sorted by keyid */
    size_t n_keys;
    struct zu_meta_role *roles; /* root: the four top-level roles; targets: delegated, in order */
    size_t n_roles;
    bool has_delegations;
    bool has_succinct;
    struct zu_meta_role succinct;
    unsigned bit_length;
    const char *name_prefix;
    json_t *meta;    /* timestamp/snapshot "meta" (borrowed) */
    json_t *targets; /* targets "targets" (borrowed) */
};

struct zupd_meta {
    json_t *doc;     /* the whole envelope (owned) */
    json_t *signed_; /* doc["signed"] (borrowed) */
    json_t *sigs;    /* doc["signatures"] (borrowed) */
    struct zupd_limits lim;
    struct zu_meta_index ix;
};

#define ZU_SPEC_VERSION "1.0.31"

/* Take ownership of doc (also on failure) and make a model of it. */
ZU_NODISCARD int zu_meta_from_json(json_t *doc, const struct zupd_limits *lim,
                                   enum zupd_meta_type expect, struct zupd_meta **out, char *err,
                                   size_t err_cap);
void zu_meta_index_release(struct zu_meta_index *ix);
/* Validate signed (of any type) and fill ix. On error ix is released and
 * err names the role and field. */
ZU_NODISCARD int zu_meta_index_build(json_t *signed_obj, const struct zupd_limits *lim,
                                     struct zu_meta_index *ix, char *err, size_t err_cap);
/* Rebuild m's index after a change to m->signed_; on failure m keeps its
 * old index and the caller must undo its change. */
ZU_NODISCARD int zu_meta_reindex(struct zupd_meta *m);
/* Validate one MetaFile / TargetFile object and decode it. */
ZU_NODISCARD int zu_meta_file_decode(const json_t *o, struct zupd_meta_file *out);
ZU_NODISCARD int zu_meta_target_decode(const json_t *o, struct zupd_target *out);

/* Roles, keys. */
const struct zu_meta_role *zu_meta_find_role(const struct zupd_meta *m, const char *name);
const struct zu_meta_key *zu_meta_find_key(const struct zupd_meta *m, const char *keyid);

/* TUF path matching as python-tuf: fnmatch per '/'-separated segment, the
 * number of segments must agree. */
bool zu_meta_path_match(const char *pattern, const char *path);
bool zu_meta_hash_prefix_match(const char *prefix, const char *path);
/* Whether pattern (one segment) matches seg[0..seg_len) as fnmatch.fnmatch */
bool zu_fnmatch(const char *pat, size_t pat_len, const char *s, size_t s_len);
/* Succinct bins as python-tuf's SuccinctRoles. */
uint32_t zu_succinct_bin_for(const char *path, unsigned bit_length);
ZU_NODISCARD int zu_succinct_bin_name(const char *prefix, unsigned bit_length, uint32_t bin,
                                      char *buf, size_t cap);
bool zu_succinct_is_bin(const char *prefix, unsigned bit_length, const char *name);

#endif
