/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/t_tlog_mem.h -- an in-memory log directory for the unit tests
 * of the transparency log (t_tlog.c, t_tlog_proof.c, t_logaudit.c): the
 * zu_tlog_reader and zu_tlog_writer callbacks over a list of files, with a
 * count of reads. Files are written once: writing a path again must give
 * the same bytes (full tiles, and a partial tile of one width, never
 * change). Include after <cmocka.h> and "zu/tlog.h". */
#ifndef ZUPD_T_TLOG_MEM_H
#define ZUPD_T_TLOG_MEM_H

struct mem_file {
    char path[ZU_TLOG_PATH_MAX];
    uint8_t *data;
    size_t len;
};
struct mem_store {
    struct mem_file *f;
    size_t n, cap;
    size_t reads;
};

static struct mem_file *
mem_find(struct mem_store *m, const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->f[i].path, path) == 0)
            return &m->f[i];
    return NULL;
}

static int
mem_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
         size_t cap)
{
    struct mem_store *m = opaque;
    struct mem_file *f = mem_find(m, path);

    *data = NULL;
    *len = 0;
    m->reads++;
    if (f == NULL)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s': no such file", path);
    if (f->len > max)
        return ZUPD_E_TOOBIG;
    *data = malloc(f->len + 1);
    assert_non_null(*data);
    memcpy(*data, f->data, f->len);
    *len = f->len;
    return ZUPD_OK;
}

static int
mem_write(void *opaque, const char *path, const uint8_t *data, size_t len, char *err, size_t cap)
{
    struct mem_store *m = opaque;
    struct mem_file *f = mem_find(m, path);

    (void)err;
    (void)cap;
    if (f != NULL) {
        assert_int_equal(f->len, len);
        assert_memory_equal(f->data, data, len);
        return ZUPD_OK;
    }
    assert_int_equal(ZU_GROW(&m->f, &m->cap, m->n + 1, 0), ZUPD_OK);
    f = &m->f[m->n++];
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->data = malloc(len + 1);
    assert_non_null(f->data);
    memcpy(f->data, data, len);
    f->len = len;
    return ZUPD_OK;
}

static void
mem_free(struct mem_store *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->f[i].data);
    free(m->f);
    memset(m, 0, sizeof(*m));
}

#endif
