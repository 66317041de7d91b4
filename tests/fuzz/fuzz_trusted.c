/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_trusted.c -- the client workflow's trusted metadata set
 * (include/zupd/trusted.h) fed a sequence of documents, as a hostile mirror
 * could serve them, and checked for the TUF decisions it must keep.
 *
 * Input: records separated by the line "---zupd---" (SEP below). Each record
 * is a header line, then the document's bytes:
 *   record 0:   "<now>"                 trusted root; now in seconds (Unix)
 *   then any of "root"                  zupd_trusted_update_root
 *               "timestamp"             zupd_trusted_update_timestamp
 *               "snapshot"              zupd_trusted_update_snapshot
 *               "snapshot cache"        the same, from_cache (no length/hash)
 *               "targets ROLE DELEGATOR" zupd_trusted_update_targets
 * Unknown headers are skipped. tests/fuzz/corpus/fuzz_trusted/ holds whole
 * sequences made from a zupd-mirror repository (see its README).
 *
 * Checked after every step (abort() when broken):
 *   - a refused update leaves the role it names unchanged (the same
 *     document), except where trusted.h says the new one is kept anyway
 *     (an expired timestamp; a snapshot that is expired or not the version
 *     timestamp names);
 *   - root only moves by one version, and only with ZUPD_OK;
 *   - timestamp, and the snapshot version it names, never go back;
 *   - a snapshot or targets role accepted with ZUPD_OK is unexpired and the
 *     version its parent (timestamp, snapshot) names;
 *   - whatever is trusted verifies against the trusted root (and a targets
 *     role against its delegator). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/trusted.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n---zupd---\n"
#define MAX_RECORDS 32

static const uint8_t *
find(const uint8_t *p, size_t n, const char *needle, size_t nl)
{
    for (size_t i = 0; nl <= n && i <= n - nl; i++)
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, nl) == 0)
            return p + i;
    return NULL;
}

/* the next record of [*p, end): header (NUL-terminated copy) and body view */
static int
next_record(const uint8_t **p, const uint8_t *end, char *hdr, size_t hdr_cap, const uint8_t **body,
            size_t *body_len)
{
    const uint8_t *s = *p, *e, *nl;
    size_t n;

    if (s == NULL || s > end)
        return 0;
    e = find(s, (size_t)(end - s), SEP, sizeof(SEP) - 1);
    n = e != NULL ? (size_t)(e - s) : (size_t)(end - s);
    *p = e != NULL ? e + sizeof(SEP) - 1 : NULL;
    nl = memchr(s, '\n', n);
    if (nl == NULL || (size_t)(nl - s) >= hdr_cap)
        return -1; /* no header: a record to skip */
    memcpy(hdr, s, (size_t)(nl - s));
    hdr[nl - s] = '\0';
    *body = nl + 1;
    *body_len = n - (size_t)(nl + 1 - s);
    return 1;
}

static uint64_t
version_of(const struct zupd_meta *m)
{
    return m != NULL ? zupd_meta_version(m) : 0;
}

/* the version of name.json that the document m lists (0: not listed) */
static uint64_t
listed(const struct zupd_meta *m, const char *name)
{
    struct zupd_meta_file f;

    if (m == NULL || zupd_meta_file(m, name, &f) != ZUPD_OK)
        return 0;
    return f.version;
}

static void
check_trusted(const struct zupd_trusted *t)
{
    const struct zupd_meta *root = zupd_trusted_get(t, "root");
    const struct zupd_meta *ts = zupd_trusted_get(t, "timestamp");
    const struct zupd_meta *snap = zupd_trusted_get(t, "snapshot");

    if (root == NULL || zupd_meta_verify_role(root, "root", root, NULL, 0) != ZUPD_OK)
        abort();
    if (ts != NULL && zupd_meta_verify_role(root, "timestamp", ts, NULL, 0) != ZUPD_OK)
        abort();
    if (snap != NULL && zupd_meta_verify_role(root, "snapshot", snap, NULL, 0) != ZUPD_OK)
        abort();
}

/* Returns the update's result, or -1 when args are not a call to make. */
static int
step_targets(struct zupd_trusted *t, char *args, const uint8_t *b, size_t n, char *err,
             size_t err_cap)
{
    const struct zupd_meta *before, *after, *parent;
    char *role = args, *delegator = strchr(args, ' ');
    char fname[ZUPD_ROLE_NAME_MAX + 8];
    bool misuse;
    int rc;

    if (delegator == NULL)
        return -1;
    *delegator++ = '\0';
    if (*role == '\0' || *delegator == '\0' || strchr(delegator, ' ') != NULL)
        return -1;
    /* any names: trusted.h refuses what no client may ask ("targets" by
     * anything but "root", a top-level role as a delegated one, a delegated
     * role by root, snapshot or timestamp), and changes nothing then */
    misuse = strcmp(role, "root") == 0 || strcmp(role, "timestamp") == 0 ||
             strcmp(role, "snapshot") == 0 || strcmp(delegator, "timestamp") == 0 ||
             strcmp(delegator, "snapshot") == 0 ||
             (strcmp(role, "targets") == 0) != (strcmp(delegator, "root") == 0);
    before = zupd_trusted_get(t, role);
    rc = zupd_trusted_update_targets(t, role, delegator, b, n, err, err_cap);
    after = zupd_trusted_get(t, role);
    if (misuse && rc != ZUPD_E_MISUSE)
        abort();
    if (rc != ZUPD_OK) {
        if (after != before)
            abort();
        return rc;
    }
    parent = zupd_trusted_get(t, delegator);
    if (after == NULL || parent == NULL ||
        zupd_meta_verify_role(parent, role, after, NULL, 0) != ZUPD_OK ||
        zupd_meta_is_expired(after, zupd_trusted_now(t)))
        abort();
    if ((size_t)snprintf(fname, sizeof(fname), "%s.json", role) >= sizeof(fname) ||
        zupd_meta_version(after) != listed(zupd_trusted_get(t, "snapshot"), fname))
        abort();
    return rc;
}

static void
step(struct zupd_trusted *t, char *hdr, const uint8_t *b, size_t n)
{
    const struct zupd_meta *root = zupd_trusted_get(t, "root");
    const struct zupd_meta *ts = zupd_trusted_get(t, "timestamp");
    const struct zupd_meta *snap = zupd_trusted_get(t, "snapshot");
    const struct zupd_meta *after;
    uint64_t rv = version_of(root), tv = version_of(ts), sv = listed(ts, "snapshot.json");
    char err[256];
    int rc;

    if (strcmp(hdr, "root") == 0) {
        rc = zupd_trusted_update_root(t, b, n, err, sizeof(err));
        if (rc == ZUPD_OK ? version_of(zupd_trusted_get(t, "root")) != rv + 1
                          : zupd_trusted_get(t, "root") != root)
            abort();
    } else if (strcmp(hdr, "timestamp") == 0) {
        rc = zupd_trusted_update_timestamp(t, b, n, err, sizeof(err));
        after = zupd_trusted_get(t, "timestamp");
        /* a new timestamp: only with OK or EXPIRED (an expired root gives
         * EXPIRED too, and changes nothing), and never older */
        if (after != ts &&
            (after == NULL || (rc != ZUPD_OK && rc != ZUPD_E_EXPIRED) ||
             (ts != NULL && version_of(after) <= tv) || listed(after, "snapshot.json") < sv))
            abort();
        if (rc == ZUPD_OK && (after == ts || zupd_meta_is_expired(after, zupd_trusted_now(t))))
            abort();
    } else if (strcmp(hdr, "snapshot") == 0 || strcmp(hdr, "snapshot cache") == 0) {
        rc = zupd_trusted_update_snapshot(t, b, n, hdr[8] != '\0', err, sizeof(err));
        if (rc != ZUPD_OK && rc != ZUPD_E_EXPIRED && rc != ZUPD_E_MISMATCH &&
            zupd_trusted_get(t, "snapshot") != snap)
            abort();
        snap = zupd_trusted_get(t, "snapshot");
        if (rc == ZUPD_OK &&
            (snap == NULL || zupd_meta_is_expired(snap, zupd_trusted_now(t)) ||
             zupd_meta_version(snap) != listed(zupd_trusted_get(t, "timestamp"), "snapshot.json")))
            abort();
    } else if (strncmp(hdr, "targets ", 8) == 0) {
        rc = step_targets(t, hdr + 8, b, n, err, sizeof(err));
        if (rc < 0)
            return;
    } else {
        return;
    }
#ifdef ZU_FUZZ_TRACE /* to check that the seeds get where they should */
    fprintf(stderr, "%s: %s %s\n", hdr, zupd_strerror(rc), err);
#endif
    check_trusted(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_trusted *t = NULL;
    const uint8_t *p = data, *end = data + size, *body;
    char hdr[ZUPD_ROLE_NAME_MAX * 2 + 16], err[256], *e;
    size_t len;
    long long now;
    int r;

    lim.max_json_bytes = 1u << 20;
    if (next_record(&p, end, hdr, sizeof(hdr), &body, &len) != 1)
        return 0;
    now = strtoll(hdr, &e, 10);
    if (e == hdr || *e != '\0')
        return 0;
    if (zupd_trusted_new(body, len, (int64_t)now, &lim, &t, err, sizeof(err)) != ZUPD_OK) {
        if (t != NULL)
            abort(); /* out is NULL on failure */
        return 0;
    }
    check_trusted(t);
    for (int i = 1; i < MAX_RECORDS; i++) {
        r = next_record(&p, end, hdr, sizeof(hdr), &body, &len);
        if (r == 0)
            break;
        if (r == 1)
            step(t, hdr, body, len);
    }
    zupd_trusted_free(t);
    return 0;
}
