/* SPDX-License-Identifier: Apache-2.0 */
/* lib/manifest.c -- release manifests and channel pointers: strict parsing,
 * path safety, version ordering. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/hash.h>
#include <zupd/manifest.h>
#include <zupd/meta.h>

#include "zu/json.h"
#include "abi.h"

#define MAX_FILES 1000000
#define MAX_DELTAS 64

/* A malformed manifest: the reason into err, ZUPD_E_FORMAT. */
#define bad(err, cap, ...) (zu_say((err), (cap), __VA_ARGS__), ZUPD_E_FORMAT)

int
zupd_name_is_safe(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    if (n == 0 || n > ZUPD_NAME_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '~' || c == '-'))
            return 0;
    }
    return 1;
}

int
zupd_path_is_safe(const char *s, size_t len)
{
    size_t seg = 0;

    if (s == NULL || len == 0 || len > ZUPD_PATH_MAX || s[0] == '/')
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            size_t n = i - seg;
            if (n == 0)
                return 0; /* "//" or trailing '/' */
            if ((n == 1 && s[seg] == '.') || (n == 2 && s[seg] == '.' && s[seg + 1] == '.'))
                return 0;
            seg = i + 1;
            continue;
        }
        if (s[i] == 0 || s[i] == '\\')
            return 0;
    }
    return 1;
}

static int
get_sha256(const json_t *o, const char *key, uint8_t out[32])
{
    const char *hex;

    if (zu_json_get_str(o, key, &hex) != ZUPD_OK || strlen(hex) != 64)
        return ZUPD_E_FORMAT;
    for (size_t i = 0; i < 64; i++)
        if (hex[i] >= 'A' && hex[i] <= 'F')
            return ZUPD_E_FORMAT; /* lower case only: one spelling per hash */
    return zupd_hex_decode(out, 32, hex, 64);
}

static char *
dup_name(const json_t *o, const char *key)
{
    const char *s;

    if (zu_json_get_str(o, key, &s) != ZUPD_OK || !zupd_name_is_safe(s))
        return NULL;
    return strdup(s);
}

static int
parse_file(const json_t *f, struct zupd_file_entry *e, char *err, size_t cap)
{
    const char *path, *enc;
    json_t *blob, *deltas, *d;
    uint64_t mode;
    size_t i;

    if (!json_is_object(f) || zu_json_get_str(f, "path", &path) != ZUPD_OK)
        return bad(err, cap, "%s", "file without a string 'path'");
    if (!zupd_path_is_safe(path, json_string_length(json_object_get(f, "path"))))
        return bad(err, cap, "unsafe file path '%.200s'", path);
    e->path = strdup(path);
    if (e->path == NULL)
        return ZUPD_E_NOMEM;
    if (zu_json_get_u64(f, "mode", &mode) != ZUPD_OK || (mode & ~(uint64_t)0777) != 0)
        return bad(err, cap, "'%.200s': 'mode' must be permission bits (0..0777)", path);
    e->mode = (uint32_t)mode;
    if (zu_json_get_u64(f, "size", &e->size) != ZUPD_OK ||
        get_sha256(f, "sha256", e->sha256) != ZUPD_OK)
        return bad(err, cap, "'%.200s': needs 'size' and a lower-case hex 'sha256'", path);
    if (zu_json_get_obj(f, "blob", &blob) != ZUPD_OK ||
        get_sha256(blob, "sha256", e->blob_sha256) != ZUPD_OK ||
        zu_json_get_u64(blob, "size", &e->blob_size) != ZUPD_OK ||
        zu_json_get_str(blob, "encoding", &enc) != ZUPD_OK)
        return bad(err, cap, "'%.200s': bad 'blob'", path);
    if (strcmp(enc, "raw") == 0) {
        e->blob_encoding = ZUPD_ENC_RAW;
        if (e->blob_size != e->size || memcmp(e->blob_sha256, e->sha256, 32) != 0)
            return bad(err, cap, "'%.200s': a raw blob must be the content itself", path);
    } else if (strcmp(enc, "zstd") == 0) {
        e->blob_encoding = ZUPD_ENC_ZSTD;
    } else {
        return bad(err, cap, "'%.200s': blob 'encoding' must be \"raw\" or \"zstd\"", path);
    }
    deltas = json_object_get(f, "deltas");
    if (deltas == NULL)
        return ZUPD_OK;
    if (!json_is_array(deltas) || json_array_size(deltas) > MAX_DELTAS)
        return bad(err, cap, "'%.200s': 'deltas' must be an array of at most 64", path);
    e->deltas = calloc(json_array_size(deltas) + 1, sizeof(*e->deltas));
    if (e->deltas == NULL)
        return ZUPD_E_NOMEM;
    json_array_foreach (deltas, i, d) {
        struct zupd_delta_ref *r = &e->deltas[e->n_deltas];
        const char *method;
        if (!json_is_object(d) || get_sha256(d, "from_sha256", r->from_sha256) != ZUPD_OK ||
            get_sha256(d, "sha256", r->sha256) != ZUPD_OK ||
            zu_json_get_u64(d, "size", &r->size) != ZUPD_OK ||
            zu_json_get_str(d, "method", &method) != ZUPD_OK ||
            strlen(method) >= sizeof(r->method) || !zupd_name_is_safe(method))
            return bad(err, cap, "'%.200s': bad delta", path);
        memcpy(r->method, method, strlen(method) + 1);
        e->n_deltas++;
    }
    return ZUPD_OK;
}

void
zupd_manifest_free(struct zupd_manifest *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].path);
        free(m->files[i].deltas);
    }
    free(m->files);
    free(m->component);
    free(m->role);
    free(m->version);
    free(m->created);
    free(m->source_revision);
    free(m->builder);
    free(m);
}

/* The manifest is read a member at a time, and its files array a file at a
 * time: each file is loaded, made an entry and freed, so the peak is the
 * entries plus one file's tree, not jansson's tree of the whole document
 * (issue 14: 6.3x the manifest's size before, for 280,000 files). The
 * checks are those of zu_json_load(): strict JSON, no duplicate member,
 * no trailing data, the depth cap. */
struct reader {
    const uint8_t *buf;
    size_t len, pos;
    const struct zupd_limits *lim;
    char *err;
    size_t cap;
};

static void
skip_blanks(struct reader *r)
{
    while (r->pos < r->len && (r->buf[r->pos] == ' ' || r->buf[r->pos] == '\t' ||
                               r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r'))
        r->pos++;
}

/* The next byte after blanks, consumed when it is one of `want`. */
static int
punct(struct reader *r, const char *want)
{
    int c;

    skip_blanks(r);
    if (r->pos >= r->len)
        return bad(r->err, r->cap, "byte %zu: unexpected end of document", r->pos);
    c = r->buf[r->pos];
    if (strchr(want, c) == NULL || c == '\0')
        return bad(r->err, r->cap, "byte %zu: '%s' expected", r->pos, want);
    r->pos++;
    return c;
}

static int
value(struct reader *r, size_t depth, json_t **out)
{
    char why[160];
    size_t used;
    int rc;

    rc = zu_json_load_next(r->buf + r->pos, r->len - r->pos, r->lim, depth, &used, out, why,
                           sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(r->err, r->cap, rc, "byte %zu: %s", r->pos, why);
    r->pos += used;
    return ZUPD_OK;
}

static int
add_file(struct reader *r, struct zupd_manifest *m, size_t *cap_files)
{
    json_t *f = NULL;
    int rc;

    rc = value(r, 2, &f);
    if (rc != ZUPD_OK)
        return rc;
    rc = ZU_GROW(&m->files, cap_files, m->n_files + 1, MAX_FILES);
    if (rc == ZUPD_OK) {
        memset(&m->files[m->n_files], 0, sizeof(m->files[0]));
        rc = parse_file(f, &m->files[m->n_files], r->err, r->cap);
        m->n_files++;
    }
    json_decref(f);
    if (rc != ZUPD_OK)
        return rc;
    if (m->n_files > 1 && strcmp(m->files[m->n_files - 2].path, m->files[m->n_files - 1].path) >= 0)
        return bad(r->err, r->cap, "files not sorted by path or duplicated at '%.200s'",
                   m->files[m->n_files - 1].path);
    return ZUPD_OK;
}

static int
read_files(struct reader *r, struct zupd_manifest *m)
{
    size_t cap_files = 0;
    int c, rc;

    skip_blanks(r);
    if (r->pos >= r->len || r->buf[r->pos] != '[')
        return bad(r->err, r->cap, "%s", "'files' must be an array");
    r->pos++;
    skip_blanks(r);
    if (r->pos < r->len && r->buf[r->pos] == ']') {
        r->pos++;
        return ZUPD_OK;
    }
    do {
        rc = add_file(r, m, &cap_files);
        if (rc != ZUPD_OK)
            return rc;
        c = punct(r, ",]");
        if (c == ZUPD_E_FORMAT)
            return c;
    } while (c == ',');
    return ZUPD_OK;
}

/* The top-level object: "files" into m, every other member into *doc. */
static int
read_top(struct reader *r, struct zupd_manifest *m, json_t **doc, bool *files)
{
    json_t *key = NULL, *v = NULL;
    int c, rc;

    *doc = json_object();
    if (*doc == NULL)
        return ZUPD_E_NOMEM;
    if (r->len > r->lim->max_json_bytes)
        return zu_fail(r->err, r->cap, ZUPD_E_TOOBIG, "%s", "document too large");
    if (punct(r, "{") != '{')
        return bad(r->err, r->cap, "%s", "not a zupd manifest of format 1");
    skip_blanks(r);
    if (r->pos < r->len && r->buf[r->pos] == '}') {
        r->pos++;
        goto end;
    }
    do {
        const char *k;

        skip_blanks(r);
        if (r->pos >= r->len || r->buf[r->pos] != '"')
            return bad(r->err, r->cap, "byte %zu: member name expected", r->pos);
        rc = value(r, 1, &key);
        if (rc != ZUPD_OK)
            return rc;
        k = json_string_value(key);
        if (json_object_get(*doc, k) != NULL || (*files && strcmp(k, "files") == 0)) {
            rc = bad(r->err, r->cap, "duplicate member '%.100s'", k);
            json_decref(key);
            return rc;
        }
        if (punct(r, ":") != ':') {
            json_decref(key);
            return ZUPD_E_FORMAT;
        }
        if (strcmp(k, "files") == 0) {
            *files = true;
            rc = read_files(r, m);
        } else {
            rc = value(r, 1, &v);
            if (rc == ZUPD_OK && json_object_set_new(*doc, k, v) != 0)
                rc = ZUPD_E_NOMEM;
        }
        json_decref(key);
        if (rc != ZUPD_OK)
            return rc;
        c = punct(r, ",}");
        if (c == ZUPD_E_FORMAT)
            return c;
    } while (c == ',');
end:
    skip_blanks(r);
    if (r->pos != r->len)
        return bad(r->err, r->cap, "byte %zu: data after the manifest", r->pos);
    return ZUPD_OK;
}

int
zupd_manifest_parse(const uint8_t *buf, size_t len, const struct zupd_limits *caller_lim,
                    struct zupd_manifest **out, char *err, size_t cap)
{
    struct zupd_limits l;
    struct reader r = {.buf = buf, .len = len, .lim = &l, .err = err, .cap = cap};
    struct zupd_manifest *m = NULL;
    json_t *doc = NULL, *prov;
    uint64_t fmt;
    const char *s;
    bool files = false;
    int rc;

    *out = NULL;
    if (err != NULL && cap > 0)
        err[0] = 0;
    if (zu_limits_get(&l, caller_lim) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "limits without a size");
    if (buf == NULL && len > 0)
        return ZUPD_E_MISUSE;
    rc = ZUPD_E_NOMEM;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto out;
    rc = read_top(&r, m, &doc, &files);
    if (rc != ZUPD_OK)
        goto out;
    if (zu_json_get_u64(doc, "zupd_manifest", &fmt) != ZUPD_OK || fmt != ZUPD_MANIFEST_FORMAT) {
        rc = bad(err, cap, "%s", "not a zupd manifest of format 1");
        goto out;
    }
    m->component = dup_name(doc, "component");
    m->role = dup_name(doc, "role");
    m->version = dup_name(doc, "version");
    if (m->component == NULL || m->role == NULL || m->version == NULL) {
        rc = bad(err, cap, "%s", "'component', 'role' and 'version' must be safe names");
        goto out;
    }
    if (zu_json_get_str(doc, "created", &s) == ZUPD_OK)
        m->created = strdup(s);
    prov = json_object_get(doc, "provenance");
    if (prov != NULL) {
        if (!json_is_object(prov)) {
            rc = bad(err, cap, "%s", "'provenance' must be an object");
            goto out;
        }
        if (zu_json_get_str(prov, "source_revision", &s) == ZUPD_OK)
            m->source_revision = strdup(s);
        if (zu_json_get_str(prov, "builder", &s) == ZUPD_OK)
            m->builder = strdup(s);
    }
    if (!files) {
        rc = bad(err, cap, "%s", "'files' must be an array");
        goto out;
    }
    *out = m;
    m = NULL;
    rc = ZUPD_OK;
out:
    zupd_manifest_free(m);
    json_decref(doc);
    return rc;
}

const struct zupd_file_entry *
zupd_manifest_find(const struct zupd_manifest *m, const char *path)
{
    size_t lo = 0, hi = m->n_files;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, m->files[mid].path);
        if (c == 0)
            return &m->files[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void
zupd_channel_free(struct zupd_channel *c)
{
    if (c == NULL)
        return;
    free(c->component);
    free(c->channel);
    free(c->version);
    free(c->floor);
    free(c->note);
    free(c);
}

static bool
printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* The optional members of a channel pointer: absent, or well-formed. */
static int
channel_optional(const json_t *doc, struct zupd_channel *c)
{
    const json_t *v;
    const char *s;

    if (json_object_get(doc, "floor") != NULL && (c->floor = dup_name(doc, "floor")) == NULL)
        return ZUPD_E_FORMAT;
    if ((v = json_object_get(doc, "expires")) != NULL &&
        (!json_is_string(v) ||
         zupd_time_parse(json_string_value(v), json_string_length(v), &c->expires) != ZUPD_OK ||
         c->expires <= 0))
        return ZUPD_E_FORMAT;
    if ((v = json_object_get(doc, "rollback")) != NULL) {
        if (!json_is_boolean(v))
            return ZUPD_E_FORMAT;
        c->rollback = json_is_true(v);
    }
    if ((v = json_object_get(doc, "note")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) > ZUPD_CHANNEL_NOTE_MAX)
            return ZUPD_E_FORMAT;
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || !printable(s) || (c->note = strdup(s)) == NULL)
            return ZUPD_E_FORMAT;
    }
    return ZUPD_OK;
}

int
zupd_channel_parse(const uint8_t *buf, size_t len, struct zupd_channel **out)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_channel *c = NULL;
    json_t *doc = NULL;
    uint64_t fmt;
    int rc;

    *out = NULL;
    lim.max_json_bytes = 65536;
    rc = zu_json_load(buf, len, &lim, &doc, NULL, 0);
    if (rc != ZUPD_OK)
        return rc;
    rc = ZUPD_E_NOMEM;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto out;
    rc = ZUPD_E_FORMAT;
    if (!json_is_object(doc) || zu_json_get_u64(doc, "zupd_channel", &fmt) != ZUPD_OK || fmt != 1)
        goto out;
    c->component = dup_name(doc, "component");
    c->channel = dup_name(doc, "channel");
    c->version = dup_name(doc, "version");
    if (c->component == NULL || c->channel == NULL || c->version == NULL)
        goto out;
    if (channel_optional(doc, c) != ZUPD_OK)
        goto out;
    *out = c;
    c = NULL;
    rc = ZUPD_OK;
out:
    zupd_channel_free(c);
    json_decref(doc);
    return rc;
}

/* dpkg's order of a character in a non-digit run: '~' sorts before the end
 * of the string, letters before other characters */
static int
order(char c)
{
    if (c >= '0' && c <= '9')
        return 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return c;
    if (c == '~')
        return -1;
    if (c != 0)
        return c + 256;
    return 0;
}

static int
isdig(char c)
{
    return c >= '0' && c <= '9';
}

int
zupd_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        int first_diff = 0;
        while ((*a && !isdig(*a)) || (*b && !isdig(*b))) {
            int ac = order(*a), bc = order(*b);
            if (ac != bc)
                return ac - bc;
            a++;
            b++;
        }
        while (*a == '0')
            a++;
        while (*b == '0')
            b++;
        while (isdig(*a) && isdig(*b)) {
            if (!first_diff)
                first_diff = *a - *b;
            a++;
            b++;
        }
        if (isdig(*a))
            return 1;
        if (isdig(*b))
            return -1;
        if (first_diff)
            return first_diff;
    }
    return 0;
}
