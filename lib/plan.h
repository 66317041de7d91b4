/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plan.h -- how to build one file of a release from installed content:
 * the cheapest chain of signed deltas, over the release's manifest and
 * earlier releases' manifests. Pure: no I/O. Never installed. */
#ifndef ZU_PLAN_H
#define ZU_PLAN_H

#include <zupd/manifest.h>

#include "zu/internal.h"

#define ZU_PLAN_MAX_STEPS 8 /* deltas in one chain */

/* One delta of a chain: applied to the content of the previous step (or to
 * the installed content plan.from_sha256), it gives to_sha256/to_size. */
struct zu_plan_step {
    const struct zupd_delta_ref *delta; /* borrowed from a manifest */
    const uint8_t *to_sha256;           /* borrowed from a manifest */
    uint64_t to_size;
};

struct zu_plan {
    uint8_t from_sha256[32]; /* installed content the first delta applies to */
    struct zu_plan_step steps[ZU_PLAN_MAX_STEPS];
    size_t n_steps;
    uint64_t cost; /* sum of the deltas' signed sizes */
};

/* Is content with this sha256 installed (usable as a delta source)? */
typedef bool (*zu_plan_local_fn)(void *opaque, const uint8_t *sha256);

/* The cheapest chain of at most max_steps deltas (at most ZU_PLAN_MAX_STEPS)
 * that ends at content `target` of file `path`, starts at content for which
 * is_local() is true, and costs less than budget (the full blob's size).
 * Edges are the deltas the manifests ms[0..n) list for that path (a delta
 * of a manifest goes from its from_sha256 to that manifest's content of the
 * path); the first of equally cheap chains with the fewest steps wins.
 * The plan borrows from the manifests: keep them until it is used.
 * Returns ZUPD_OK, ZUPD_E_NOTFOUND (no chain cheaper than budget) or
 * ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_plan_chain(const struct zupd_manifest *const *ms, size_t n, const char *path,
                               const uint8_t *target, uint64_t budget, size_t max_steps,
                               zu_plan_local_fn is_local, void *opaque, struct zu_plan *out);

#endif
