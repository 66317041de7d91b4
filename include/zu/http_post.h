/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/http_post.h -- one HTTP POST with a small body and a capped
 * answer (lib/fetch_curl.c, libcurl): what the publisher sends to tlog
 * witnesses (docs/transparency.md). Internal, never installed. */
#ifndef ZU_HTTP_POST_H
#define ZU_HTTP_POST_H

#include "zu/internal.h"

struct zu_http_post {
    const char *url;  /* http:// or https:// only, no redirect followed */
    const void *body; /* sent as is */
    size_t body_len;
    const char *content_type; /* of the body; NULL: none sent */
    size_t max_answer;        /* body bytes accepted (> 0); more is ZUPD_E_TOOBIG */
    uint32_t timeout_ms;      /* the whole exchange; 0: 30 s */
};

struct zu_http_answer {
    long status;            /* the HTTP status */
    char content_type[128]; /* its Content-Type ("" none; cut at 127 bytes) */
    uint8_t *body;          /* NUL-terminated, malloc'd */
    size_t len;
};

/* POST p->body to p->url and read the answer, whatever its status, into
 * *a. Ownership: a->body is new on ZUPD_OK (zu_http_answer_release()),
 * NULL otherwise. Returns ZUPD_OK (any status), ZUPD_E_NET (no answer: err
 * says why), ZUPD_E_TIMEOUT, ZUPD_E_TOOBIG, ZUPD_E_NOMEM, ZUPD_E_MISUSE. */
ZU_NODISCARD int zu_http_post(const struct zu_http_post *p, struct zu_http_answer *a, char *err,
                              size_t err_cap);
void zu_http_answer_release(struct zu_http_answer *a);

#endif
