/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_net.h -- zupd-mirror serve's listening socket and TLS files.
 * Never installed. */
#ifndef ZU_SERVE_NET_H
#define ZU_SERVE_NET_H

#include <stddef.h>

/* Bind and listen (backlog 4096, SO_REUSEADDR, non-blocking, close-on-exec)
 * on spec: "ADDR:PORT" or "[ADDR6]:PORT", numeric only; port 0 picks one.
 * On ZUPD_OK *out_fd is the socket and addr the address really bound
 * ("127.0.0.1:41234"). Otherwise *out_fd is -1 and err names the address:
 * ZUPD_E_MISUSE (bad spec) or ZUPD_E_IO (bind/listen failed, errno text). */
int zu_listen_on(const char *spec, int *out_fd, char *addr, size_t addr_cap, char *err,
                 size_t err_cap);

/* Read a PEM file of at most 1 MiB. Ownership: on ZUPD_OK *out is new
 * (free(); wipe a key first), NUL-terminated, *out_len its length. Otherwise
 * *out is NULL and err names the file: ZUPD_E_NOTFOUND, ZUPD_E_IO,
 * ZUPD_E_TOOBIG, ZUPD_E_NOMEM. */
int zu_read_pem(const char *path, char **out, size_t *out_len, char *err, size_t err_cap);

#endif
