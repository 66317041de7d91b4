/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/manifest.h -- release manifests and channel pointers: the TUF targets
 * that describe a component release (see docs/formats.md). Pure parsing. */
#ifndef ZUPD_MANIFEST_H
#define ZUPD_MANIFEST_H

#include <stdbool.h>

#include <zupd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZUPD_MANIFEST_FORMAT 1
#define ZUPD_PATH_MAX 4096 /* bytes of a file path in a manifest */
#define ZUPD_NAME_MAX 128  /* component, channel, version strings */

enum zupd_blob_encoding { ZUPD_ENC_RAW = 0, ZUPD_ENC_ZSTD = 1 };

/* A delta available to a file from earlier content. */
struct zupd_delta_ref {
    uint8_t from_sha256[32]; /* content the delta applies to */
    char method[16];         /* "bsdiff", "zstd", "bsdiff40" */
    uint8_t sha256[32];      /* the delta blob */
    uint64_t size;           /* its length */
};

struct zupd_file_entry {
    char *path;         /* relative, '/'-separated, validated (no "..", no "//") */
    uint32_t mode;      /* permission bits only (& 0777) */
    uint64_t size;      /* content length */
    uint8_t sha256[32]; /* content hash */
    uint8_t blob_sha256[32];
    uint64_t blob_size;
    enum zupd_blob_encoding blob_encoding;
    struct zupd_delta_ref *deltas;
    size_t n_deltas;
};

struct zupd_manifest {
    char *component;
    char *role;
    char *version;
    char *created;                 /* RFC 3339, informational */
    char *source_revision;         /* provenance, may be NULL */
    char *builder;                 /* provenance, may be NULL */
    struct zupd_file_entry *files; /* sorted by path, unique */
    size_t n_files;
};

struct zupd_channel {
    char *component;
    char *channel;
    char *version;
    /* Optional (NULL / 0 when absent): */
    char *floor;     /* vendor pointers: the security floor, the lowest version
                        an enterprise policy may hold this component at */
    int64_t expires; /* policy pointers: when the pin lapses (Unix time) */
    bool rollback;   /* policy pointers: set by 'policy rollback' */
    char *note;      /* policy pointers: the administrator's reason, printable
                        ASCII, at most ZUPD_CHANNEL_NOTE_MAX bytes */
};

#define ZUPD_CHANNEL_NOTE_MAX 256

/* Parse a release manifest from buf[0..len). Every path is validated (no
 * absolute paths, no "." or ".." segments, no empty segments, no NUL, at
 * most ZUPD_PATH_MAX bytes), paths are unique and sorted, hashes are 64 hex,
 * modes are permission bits only (no setuid/setgid/sticky), a blob is never
 * larger than lim->max_json_bytes implies nothing; counts are capped.
 * Ownership: *out new, zupd_manifest_free(). On error *out is NULL and err
 * (if not NULL) names the field. Returns ZUPD_OK, ZUPD_E_FORMAT,
 * ZUPD_E_TOOBIG, ZUPD_E_NOMEM. */
ZUPD_API ZUPD_NODISCARD int zupd_manifest_parse(const uint8_t *buf, size_t len,
                                                const struct zupd_limits *lim,
                                                struct zupd_manifest **out, char *err,
                                                size_t err_cap);
ZUPD_API void zupd_manifest_free(struct zupd_manifest *m); /* NULL ok */

/* The file entry for path, or NULL (binary search). */
ZUPD_API const struct zupd_file_entry *zupd_manifest_find(const struct zupd_manifest *m,
                                                          const char *path);

/* Parse a channel pointer {"zupd_channel":1,"component","channel","version"}
 * with the optional "floor" (a version), "expires" (RFC 3339 UTC, as TUF
 * writes it), "rollback" (boolean) and "note" (docs/formats.md). Unknown
 * members are ignored; a present optional member must be well-formed. */
ZUPD_API ZUPD_NODISCARD int zupd_channel_parse(const uint8_t *buf, size_t len,
                                               struct zupd_channel **out);
ZUPD_API void zupd_channel_free(struct zupd_channel *c); /* NULL ok */

/* Is s a valid manifest file path? (see zupd_manifest_parse) */
ZUPD_API int zupd_path_is_safe(const char *s, size_t len);
/* Is s a valid component, channel or version name: 1..ZUPD_NAME_MAX bytes of
 * [A-Za-z0-9._+~-], not starting with '.' or '-'? */
ZUPD_API int zupd_name_is_safe(const char *s);

/* Compare release versions the way dpkg does (without epochs): runs of
 * digits compare numerically, other runs lexically with '~' before
 * everything, even the end. Returns <0, 0, >0. */
ZUPD_API int zupd_version_cmp(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
