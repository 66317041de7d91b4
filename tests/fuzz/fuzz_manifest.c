/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_manifest.c -- release manifest and channel pointer parsers.
 * The manifest is read a member and a file at a time (lib/manifest.c); it
 * must never accept a document the whole-document parser (zu_json_load(),
 * the strict one every other signed document goes through) refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/manifest.h>
#include <zupd/update.h>

#include "zu/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_manifest *m = NULL;
    struct zupd_channel *c = NULL;
    char err[256];

    lim.max_json_bytes = 1u << 20;
    if (zupd_manifest_parse(data, size, &lim, &m, err, sizeof(err)) == ZUPD_OK) {
        json_t *doc = NULL;
        if (zu_json_load(data, size, &lim, &doc, NULL, 0) != ZUPD_OK ||
            json_array_size(json_object_get(doc, "files")) != m->n_files)
            abort();
        json_decref(doc);
        for (size_t i = 0; i < m->n_files; i++)
            if (zupd_manifest_find(m, m->files[i].path) != &m->files[i] ||
                !zupd_path_is_safe(m->files[i].path, strlen(m->files[i].path)))
                abort();
        zupd_manifest_free(m);
    }
    if (zupd_channel_parse(data, size, &c) == ZUPD_OK) {
        /* the decision between a vendor and a policy pointer picks one of
         * the two versions, whatever the optional members say */
        struct zupd_channel v = *c;
        struct zupd_resolved r;
        v.version = c->floor != NULL ? c->floor : c->version;
        zupd_channel_decide(&v, c, c->expires, &r);
        if (strcmp(r.version, v.version) != 0 && strcmp(r.version, c->version) != 0)
            abort();
        if (c->note != NULL && strlen(c->note) > ZUPD_CHANNEL_NOTE_MAX)
            abort();
        zupd_channel_free(c);
    }
    return 0;
}
