/* SPDX-License-Identifier: Apache-2.0 */
/* zu/fetch_state.h -- the client's fetch state file (lib/fetch.c): kept by
 * the updater (lib/update.c), read by tests/. Internal: not part of the ABI. */
#ifndef ZU_FETCH_STATE_H
#define ZU_FETCH_STATE_H

#include <zupd/fetch.h>

#include "zu/internal.h"

/* What a client keeps across runs about its repository's servers: the
 * validators of timestamp.json and a cool-down asked by Retry-After. The
 * program owns the file; the library only formats and parses. */
struct zu_fetch_state {
    struct zupd_validators timestamp;
    int64_t cooldown_until; /* unix time before which no request is sent; 0: none */
};

/* Text form ("zupd-fetch-state 1\n" and key value lines) into dst[0..dst_cap),
 * NUL-terminated, length in *out_len. ZUPD_E_TOOBIG if dst is too small. */
ZU_NODISCARD int zu_fetch_state_format(char *dst, size_t dst_cap, size_t *out_len,
                                       const struct zu_fetch_state *st);
/* Parse src[0..src_len) (untrusted: strict, bounded). On error *st is zeroed.
 * Returns ZUPD_OK or ZUPD_E_FORMAT. */
ZU_NODISCARD int zu_fetch_state_parse(const char *src, size_t src_len, struct zu_fetch_state *st);
/* Note a server's Retry-After at time now: the cool-down is extended to
 * now + retry_after (never shortened). */
void zu_fetch_state_cooldown(struct zu_fetch_state *st, int64_t now, uint32_t retry_after);
/* Seconds still to wait at time now; 0 when requests may be sent. */
uint64_t zu_fetch_state_wait(const struct zu_fetch_state *st, int64_t now);

#endif
