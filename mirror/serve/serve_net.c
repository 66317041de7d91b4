/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_net.c -- zupd-mirror serve's listening socket and TLS files. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zupd/common.h>

#include "serve/serve_net.h"
#include "zu/fsio.h"

/* Read a PEM file (at most 1 MiB) into a new NUL-terminated string. */
int
zu_read_pem(const char *path, char **out, size_t *out_len, char *err, size_t err_cap)
{
    char *buf = NULL;
    size_t len = 0;
    int fd, rc = ZUPD_E_IO;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_cap, "cannot open '%s': %s", path, strerror(errno));
        return zu_errno_to_err(errno);
    }
    buf = malloc((1u << 20) + 1);
    if (buf == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, (1u << 20) - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_cap, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == (1u << 20)) {
            snprintf(err, err_cap, "'%s' is over 1 MiB: not a PEM file", path);
            rc = ZUPD_E_TOOBIG;
            goto out;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = ZUPD_OK;
out:
    if (buf != NULL) {
        explicit_bzero(buf, len);
        free(buf);
    }
    close(fd);
    return rc;
}

/* Bind and listen on spec ("host:port", "[v6]:port"); the fd or -1 with err. */
int
zu_listen_on(const char *spec, int *out_fd, char *addr, size_t addr_cap, char *err, size_t err_cap)
{
    char host[INET6_ADDRSTRLEN + 2], port[8];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    size_t hl;
    int fd = -1, one = 1, e;

    *out_fd = -1;
    if (colon == NULL || colon == spec || strlen(colon + 1) == 0 || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        snprintf(err, err_cap, "bad listen address '%s': want ADDR:PORT", spec);
        return ZUPD_E_MISUSE;
    }
    hl = (size_t)(colon - spec);
    if (spec[0] == '[') {
        if (hl < 3 || spec[hl - 1] != ']') {
            snprintf(err, err_cap, "bad listen address '%s': want [ADDR6]:PORT", spec);
            return ZUPD_E_MISUSE;
        }
        spec++;
        hl -= 2;
    }
    if (hl >= sizeof(host)) {
        snprintf(err, err_cap, "bad listen address '%s'", spec);
        return ZUPD_E_MISUSE;
    }
    memcpy(host, spec, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    if (strtoul(port, NULL, 10) > 65535) {
        snprintf(err, err_cap, "bad port '%s'", port);
        return ZUPD_E_MISUSE;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    e = getaddrinfo(host, port, &hints, &ai);
    if (e != 0) {
        snprintf(err, err_cap, "bad listen address '%s:%s': %s (a numeric address is needed)", host,
                 port, gai_strerror(e));
        return ZUPD_E_MISUSE;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, err_cap, "cannot listen on '%s:%s': %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return ZUPD_E_IO;
    }
    freeaddrinfo(ai);
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(addr, addr_cap, "[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&ss;

        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(addr, addr_cap, "%s:%u", host, (unsigned)ntohs(s4->sin_port));
    }
    *out_fd = fd;
    return ZUPD_OK;
}
