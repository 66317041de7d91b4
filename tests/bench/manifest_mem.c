/* SPDX-License-Identifier: Apache-2.0 */
/* tests/bench/manifest_mem.c -- `make bench` (manifest_mem.sh): the peak
 * memory of parsing one release manifest, against the file's size. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <zupd/manifest.h>

#include "zu/fsio.h"

static long
peak_kib(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

int
main(int argc, char **argv)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_manifest *m = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    long before, after;
    char err[256] = "";
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: manifest_mem MANIFEST.json\n");
        return 2;
    }
    rc = zu_read_capped(AT_FDCWD, argv[1], (size_t)1 << 31, &buf, &len);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "manifest_mem: cannot read '%s': %s\n", argv[1], zupd_strerror(rc));
        return 1;
    }
    if (len > lim.max_json_bytes) /* measure past the default cap too */
        lim.max_json_bytes = len;
    before = peak_kib();
    rc = zupd_manifest_parse(buf, len, &lim, &m, err, sizeof(err));
    after = peak_kib();
    if (rc != ZUPD_OK) {
        fprintf(stderr, "manifest_mem: '%s': %s\n", argv[1], err[0] ? err : zupd_strerror(rc));
        free(buf);
        return 1;
    }
    /* size, files, peak before the parse (the file itself read), peak after */
    printf("%zu %zu %ld %ld\n", len, m->n_files, before, after);
    zupd_manifest_free(m);
    free(buf);
    return 0;
}
