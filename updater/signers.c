/* SPDX-License-Identifier: Apache-2.0 */
/* updater/signers.c -- which keys signed what is installed: at install, the
 * keys whose signatures on the role's metadata verify (with the names the
 * delegator's key table gives them, "x-zupd-key-names"), kept per version in
 * the component's signed-by.json; zupd status shows those of the current
 * version. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <zupd/zupd.h>

#include "zu/fsio.h"
#include "zu/meta_names.h"
#include "zupd.h"

#define SIGNED_BY "signed-by.json"
#define SIGNED_BY_MAX (1u << 20)
#define SIGNERS_MAX 64

static json_t *
load(int dfd)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;

    if (zu_read_capped(dfd, SIGNED_BY, SIGNED_BY_MAX, &buf, &len) == ZUPD_OK)
        j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

int
zupd_signers_record(struct zupd_updater *u, struct zupd_store *st, const char *role,
                    const char *version)
{
    const struct zupd_trusted *t = zupd_client_trusted(zupd_updater_client(u));
    const struct zupd_meta *d = t != NULL ? zupd_trusted_get(t, "targets") : NULL;
    const struct zupd_meta *doc = t != NULL ? zupd_trusted_get(t, role) : NULL;
    char ids[SIGNERS_MAX][65], **vers = NULL;
    size_t n = 0, nv = 0;
    json_t *all = NULL, *list = json_array();
    char *text = NULL;
    int dfd = -1, rc;

    if (d == NULL || doc == NULL || list == NULL) {
        json_decref(list);
        return ZUPD_E_NOTFOUND;
    }
    rc = zu_meta_signers(d, role, doc, ids, SIGNERS_MAX, &n);
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        const char *name = zu_meta_key_name(d, ids[i]);
        json_array_append_new(list, name != NULL
                                        ? json_pack("{s:s,s:s}", "keyid", ids[i], "name", name)
                                        : json_pack("{s:s,s:n}", "keyid", ids[i], "name"));
    }
    if (rc == ZUPD_OK) {
        dfd = open(zupd_store_dir(st), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = dfd < 0 ? ZUPD_E_IO : ZUPD_OK;
    }
    if (rc == ZUPD_OK) {
        all = load(dfd);
        /* only the versions still installed */
        if (zupd_store_list(st, &vers, &nv) == ZUPD_OK) {
            const char *k;
            json_t *v;
            void *tmp;
            json_object_foreach_safe (all, tmp, k, v) {
                bool keep = false;
                for (size_t i = 0; i < nv; i++)
                    keep = keep || strcmp(vers[i], k) == 0;
                if (!keep)
                    json_object_del(all, k);
            }
            zupd_strv_free(vers, nv);
        }
        json_object_set(all, version, list);
        text = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS);
        rc =
            text != NULL ? zu_atomic_write(dfd, SIGNED_BY, text, strlen(text), 0644) : ZUPD_E_NOMEM;
    }
    free(text);
    json_decref(all);
    json_decref(list);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

json_t *
zupd_signers_get(struct zupd_store *st, const char *version)
{
    int dfd = open(zupd_store_dir(st), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    json_t *all, *list;

    if (dfd < 0)
        return json_array();
    all = load(dfd);
    close(dfd);
    list = json_object_get(all, version);
    list = json_is_array(list) ? json_incref(list) : json_array();
    json_decref(all);
    return list;
}

void
zupd_signers_print(json_t *list)
{
    size_t i;
    json_t *e;

    printf("  signed by:");
    if (json_array_size(list) == 0)
        printf(" unknown");
    json_array_foreach (list, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *id = json_string_value(json_object_get(e, "keyid"));
        printf("%s %s (%.16s...)", i > 0 ? "," : "", name != NULL ? name : "unnamed",
               id != NULL ? id : "?");
    }
    printf("\n");
}
