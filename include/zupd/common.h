/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/common.h -- error codes, limits, library context and logging. */
#ifndef ZUPD_COMMON_H
#define ZUPD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <zupd/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ZUPD_API __attribute__((visibility("default")))
#define ZUPD_NODISCARD __attribute__((warn_unused_result))
#else
#define ZUPD_API
#define ZUPD_NODISCARD
#endif

/* Error codes. The numbers are part of the ABI and of the programs' exit
 * codes: never renumber, only append. Each names the security decision. */
enum zupd_err {
    ZUPD_OK = 0,
    ZUPD_E_FORMAT = 1,      /* malformed input (JSON, metadata, delta) */
    ZUPD_E_TOOBIG = 2,      /* input over a size, depth or count cap */
    ZUPD_E_SIG = 3,         /* a signature is invalid */
    ZUPD_E_THRESHOLD = 4,   /* too few valid signatures by distinct keys */
    ZUPD_E_EXPIRED = 5,     /* metadata expired (freeze attack) */
    ZUPD_E_ROLLBACK = 6,    /* a version went backwards (rollback attack) */
    ZUPD_E_HASH = 7,        /* content hash does not match the signed one */
    ZUPD_E_LENGTH = 8,      /* content length does not match the signed one */
    ZUPD_E_IO = 9,          /* file system error; errno is kept */
    ZUPD_E_NET = 10,        /* network error */
    ZUPD_E_NOMEM = 11,      /* out of memory */
    ZUPD_E_MISUSE = 12,     /* bad arguments from the caller */
    ZUPD_E_KEYTYPE = 13,    /* unknown or unsupported key type or scheme */
    ZUPD_E_SPEC = 14,       /* unsupported spec_version */
    ZUPD_E_NOTFOUND = 15,   /* no such target, role, key or file */
    ZUPD_E_PASSPHRASE = 16, /* wrong passphrase or damaged key file */
    ZUPD_E_PERM = 17,       /* permission denied (EACCES, EPERM), or unsafe permissions */
    ZUPD_E_ROLE = 18,       /* wrong role type, or a role not delegated */
    ZUPD_E_MISMATCH = 19,   /* versions or names that must agree do not */
    ZUPD_E_BASE = 20,       /* delta base file is not the one the delta needs */
    ZUPD_E_EXISTS = 21,     /* refusing to overwrite (e.g. version published) */
    ZUPD_E_NOSPACE = 22,    /* no space left on device */
    ZUPD_E_TIMEOUT = 23,    /* connect timeout or transfer too slow (slow retrieval) */
    ZUPD_E_BUSY = 24,       /* server asked to retry later (429/503, Retry-After) */
    ZUPD_E__MAX             /* not an error: one past the last code */
};

/* Text for an error code; never NULL, for unknown codes "unknown error". */
ZUPD_API const char *zupd_strerror(int err);

/* Stable short name of an error code for machine output ("threshold"). */
ZUPD_API const char *zupd_errname(int err);

/* Caps on untrusted input. Every buffer that grows from input is bounded by
 * one of these or by a length in already-trusted metadata. Growable
 * (docs/api.md): start from zupd_limits_init() or ZUPD_LIMITS_DEFAULT,
 * which set size; fields a caller's headers lack take the library's
 * defaults. A size of 0 is refused (ZUPD_E_MISUSE). */
struct zupd_limits {
    size_t size;                 /* sizeof(struct zupd_limits) of the caller */
    size_t max_json_bytes;       /* any JSON document */
    size_t max_json_depth;       /* nesting of arrays/objects */
    size_t max_root_bytes;       /* root.json (spec default 512 KiB) */
    size_t max_timestamp_bytes;  /* timestamp.json (spec default 16 KiB) */
    size_t max_snapshot_bytes;   /* when timestamp gives no length */
    size_t max_targets_bytes;    /* when snapshot gives no length */
    size_t max_keys;             /* keys in one keys dictionary */
    size_t max_signatures;       /* signatures on one document */
    uint64_t max_root_rotations; /* root versions walked in one update */
    size_t max_delegations;      /* delegated roles visited per lookup */
    size_t max_roles;            /* delegated roles listed in one targets */
    size_t max_entries;          /* targets / meta entries in one document */
    size_t max_paths;            /* paths or hash prefixes of one delegated role */
};

#define ZUPD_LIMITS_DEFAULT                                                                        \
    {                                                                                              \
        .size = sizeof(struct zupd_limits), .max_json_bytes = 64u << 20, .max_json_depth = 64,     \
        .max_root_bytes = 512u << 10, .max_timestamp_bytes = 16u << 10,                            \
        .max_snapshot_bytes = 2000000, .max_targets_bytes = 5000000, .max_keys = 1024,             \
        .max_signatures = 1024, .max_root_rotations = 256, .max_delegations = 32,                  \
        .max_roles = 4096, .max_entries = 1u << 20, .max_paths = 4096                              \
    }

/* The default limits, size set. */
static inline void
zupd_limits_init(struct zupd_limits *lim)
{
    *lim = (struct zupd_limits)ZUPD_LIMITS_DEFAULT;
}

/* Log levels, most severe first. */
enum zupd_log_level { ZUPD_LOG_ERR = 0, ZUPD_LOG_WARN = 1, ZUPD_LOG_INFO = 2, ZUPD_LOG_DEBUG = 3 };

typedef void (*zupd_log_fn)(void *opaque, int level, const char *msg);

struct zupd_ctx;

/* A library context: logging callback and level. The library prints nothing
 * unless a callback is set. Ownership: release with zupd_ctx_free(). Returns
 * NULL when out of memory. */
ZUPD_API struct zupd_ctx *zupd_ctx_new(void);
ZUPD_API void zupd_ctx_free(struct zupd_ctx *ctx); /* NULL ok */
ZUPD_API void zupd_ctx_set_log(struct zupd_ctx *ctx, zupd_log_fn fn, void *opaque, int level);

/* Initialise the crypto libraries once per process. Idempotent and thread
 * safe. Returns ZUPD_OK or ZUPD_E_MISUSE if libsodium cannot initialise. */
ZUPD_API ZUPD_NODISCARD int zupd_init(void);

/* The library's version string, e.g. "0.1.0": ZUPD_VERSION_STRING of the
 * library that runs, which may differ from the headers a program was built
 * with. */
ZUPD_API const char *zupd_version(void);

/* The library's ZUPD_VERSION_NUMBER (MAJOR*100*100 + MINOR*100 + RELEASE),
 * e.g. 100 for 0.1.0. */
ZUPD_API unsigned zupd_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
