/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plan.c -- the cheapest chain of signed deltas from installed content
 * to a file of a release: a hop-bounded Bellman-Ford over content hashes,
 * backwards from the wanted content. Pure code. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define INF UINT64_MAX

struct edge {
    size_t from, to; /* node indexes */
    const struct zupd_delta_ref *d;
    const struct zupd_file_entry *e; /* the content the delta gives */
};

struct graph {
    const uint8_t **node; /* sha256 of each node (borrowed) */
    size_t n_nodes;
    struct edge *edge;
    size_t n_edges;
};

static int
node_of(struct graph *g, const uint8_t *sha, size_t *out)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (memcmp(g->node[i], sha, 32) == 0) {
            *out = i;
            return ZUPD_OK;
        }
    g->node[g->n_nodes] = sha; /* room was counted by the caller */
    *out = g->n_nodes++;
    return ZUPD_OK;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
    return a > INF - b ? INF : a + b;
}

int
zu_plan_chain(const struct zupd_manifest *const *ms, size_t n, const char *path,
              const uint8_t *target, uint64_t budget, size_t max_steps, zu_plan_local_fn is_local,
              void *opaque, struct zu_plan *out)
{
    struct graph g = {0};
    uint64_t *dist = NULL; /* [(max_steps + 1) * n_nodes]: cost to target in <= r steps */
    size_t *via = NULL;    /* [(max_steps + 1) * n_nodes]: edge taken at round r, or SIZE_MAX */
    size_t n_cap = 1, best = SIZE_MAX, best_r = 0, rounds, t;
    uint64_t best_cost = INF;
    int rc = ZUPD_E_NOMEM;

    memset(out, 0, sizeof(*out));
    if (max_steps > ZU_PLAN_MAX_STEPS)
        max_steps = ZU_PLAN_MAX_STEPS;
    for (size_t k = 0; k < n; k++) {
        const struct zupd_file_entry *e = zupd_manifest_find(ms[k], path);
        if (e != NULL)
            n_cap += 2 * e->n_deltas;
    }
    g.node = calloc(n_cap, sizeof(*g.node));
    g.edge = calloc(n_cap, sizeof(*g.edge));
    if (g.node == NULL || g.edge == NULL)
        goto out;
    (void)node_of(&g, target, &t);
    for (size_t k = 0; k < n; k++) {
        const struct zupd_file_entry *e = zupd_manifest_find(ms[k], path);
        for (size_t j = 0; e != NULL && j < e->n_deltas; j++) {
            struct edge *x = &g.edge[g.n_edges];
            if (memcmp(e->deltas[j].from_sha256, e->sha256, 32) == 0)
                continue; /* a delta to itself leads nowhere */
            (void)node_of(&g, e->deltas[j].from_sha256, &x->from);
            (void)node_of(&g, e->sha256, &x->to);
            x->d = &e->deltas[j];
            x->e = e;
            g.n_edges++;
        }
    }
    rounds = max_steps + 1;
    dist = calloc(rounds * g.n_nodes, sizeof(*dist));
    via = calloc(rounds * g.n_nodes, sizeof(*via));
    if (dist == NULL || via == NULL)
        goto out;
    for (size_t v = 0; v < g.n_nodes; v++) {
        dist[v] = v == t ? 0 : INF;
        via[v] = SIZE_MAX;
    }
    for (size_t r = 1; r < rounds; r++) {
        uint64_t *prev = dist + (r - 1) * g.n_nodes, *cur = dist + r * g.n_nodes;
        size_t *cvia = via + r * g.n_nodes;

        memcpy(cur, prev, g.n_nodes * sizeof(*cur));
        for (size_t v = 0; v < g.n_nodes; v++)
            cvia[v] = SIZE_MAX;
        for (size_t i = 0; i < g.n_edges; i++) {
            const struct edge *x = &g.edge[i];
            uint64_t c;
            if (prev[x->to] == INF)
                continue;
            c = add_sat(prev[x->to], x->d->size);
            if (c < cur[x->from]) {
                cur[x->from] = c;
                cvia[x->from] = i;
            }
        }
    }
    /* the cheapest installed start; rounds in order: fewest steps on a tie */
    for (size_t v = 0; v < g.n_nodes; v++) {
        uint64_t c = dist[(rounds - 1) * g.n_nodes + v];
        if (v == t || c >= budget || c >= best_cost || !is_local(opaque, g.node[v]))
            continue;
        best = v;
        best_cost = c;
    }
    rc = ZUPD_E_NOTFOUND;
    if (best == SIZE_MAX)
        goto out;
    for (best_r = 1; best_r < rounds; best_r++)
        if (dist[best_r * g.n_nodes + best] == best_cost)
            break;
    memcpy(out->from_sha256, g.node[best], 32);
    out->cost = best_cost;
    for (size_t v = best, r = best_r; v != t && r > 0; r--) {
        size_t i = via[r * g.n_nodes + v];
        if (i == SIZE_MAX)
            continue; /* the same cost was already reached in fewer steps */
        out->steps[out->n_steps].delta = g.edge[i].d;
        out->steps[out->n_steps].to_sha256 = g.edge[i].e->sha256;
        out->steps[out->n_steps].to_size = g.edge[i].e->size;
        out->n_steps++;
        v = g.edge[i].to;
    }
    rc = out->n_steps > 0 ? ZUPD_OK : ZUPD_E_NOTFOUND;
out:
    if (rc != ZUPD_OK)
        memset(out, 0, sizeof(*out));
    free(dist);
    free(via);
    free(g.node);
    free(g.edge);
    return rc;
}
