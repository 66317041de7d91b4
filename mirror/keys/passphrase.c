/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/passphrase.c -- passphrases from the environment, a file or
 * the terminal, read with read(2) into sodium_malloc memory. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "keys/keystore.h"
#include "keys/passphrase.h"

extern char **environ;

#define ENV_PREFIX "ZUPD_PASSPHRASE"
#define ENV_PIN "ZUPD_PKCS11_PIN" /* the PIN of PKCS#11 tokens, taken as passphrases are */
#define ENV_MAX 64                /* variables kept; more are still wiped and unset */

static char *env_tab[ENV_MAX]; /* "NAME=VALUE", sodium_malloc */
static size_t env_n;

static bool
is_pass_var(const char *e)
{
    size_t n = sizeof(ENV_PREFIX) - 1;

    if (strncmp(e, ENV_PIN "=", sizeof(ENV_PIN)) == 0)
        return true;
    return strncmp(e, ENV_PREFIX, n) == 0 && (e[n] == '=' || e[n] == '_') && strchr(e, '=') != NULL;
}

void
zp_pass_env_take(void)
{
    char **in, **out;

    if (sodium_init() < 0 || environ == NULL)
        return;
    /* one pass, dropping the variables from environ as unsetenv() would */
    for (in = out = environ; *in != NULL; in++) {
        char *e = *in, *eq;

        if (!is_pass_var(e)) {
            *out++ = e;
            continue;
        }
        if (env_n < ENV_MAX) {
            size_t len = strlen(e);
            char *copy = sodium_malloc(len + 1);

            if (copy != NULL) {
                memcpy(copy, e, len + 1);
                env_tab[env_n++] = copy;
            }
        }
        /* wipe the value where it lies: the process's initial environment
         * block is what /proc/PID/environ shows */
        eq = strchr(e, '=');
        sodium_memzero(eq + 1, strlen(eq + 1));
    }
    *out = NULL;
}

const char *
zp_pass_env(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = env_n; i-- > 0;) /* the last one wins, as getenv's would */
        if (strncmp(env_tab[i], name, n) == 0 && env_tab[i][n] == '=')
            return env_tab[i] + n + 1;
    return NULL;
}

/* buf[0..got) holds what was read: keep the first line, wipe the rest. */
static size_t
first_line(char *buf, size_t got)
{
    size_t n = 0;

    while (n < got && buf[n] != '\n')
        n++;
    sodium_memzero(buf + n, got - n);
    while (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return n;
}

/* the first line of path; cred: a systemd credential (owner root or the
 * caller, closed to others), else a file of the caller closed to group and
 * others */
static int
read_secret(const char *path, bool cred, char *buf, size_t cap, char *why, size_t why_cap)
{
    struct stat st;
    size_t got = 0;
    int fd, rc = ZUPD_E_PASSPHRASE;

    buf[0] = '\0';
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (cred ? O_NOFOLLOW : 0));
    if (fd < 0 && cred && errno == ENOENT)
        return ZUPD_E_NOTFOUND;
    if (fd < 0)
        return zu_fail(why, why_cap, cred && errno == ELOOP ? ZUPD_E_PERM : ZUPD_E_PASSPHRASE,
                       "cannot open passphrase file '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = zu_fail(why, why_cap, ZUPD_E_PERM, "passphrase file '%s' is not a regular file", path);
        goto out;
    }
    if (cred && ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 007) != 0)) {
        rc = zu_fail(why, why_cap, ZUPD_E_PERM,
                     "credential '%s' must be root's or yours and closed to others (mode %03o, "
                     "owner %u)",
                     path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
        goto out;
    }
    if (!cred && (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
        rc = zu_fail(why, why_cap, ZUPD_E_PERM,
                     "passphrase file '%s' must be yours and closed to group and others "
                     "(mode %03o, owner %u): chmod 600 it",
                     path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
        goto out;
    }
    while (got < cap - 1) {
        ssize_t r = read(fd, buf + got, cap - 1 - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = zu_fail(why, why_cap, ZUPD_E_PASSPHRASE, "cannot read passphrase file '%s': %s",
                         path, strerror(errno));
            sodium_memzero(buf, got);
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (memchr(buf, '\n', got) != NULL)
            break;
    }
    if (got == cap - 1 && memchr(buf, '\n', got) == NULL) {
        sodium_memzero(buf, cap);
        rc =
            zu_fail(why, why_cap, ZUPD_E_PASSPHRASE,
                    "passphrase file '%s': the first line is longer than %zu bytes", path, cap - 2);
        goto out;
    }
    buf[first_line(buf, got)] = '\0';
    if (buf[0] == '\0')
        rc = zu_fail(why, why_cap, ZUPD_E_PASSPHRASE, "passphrase file '%s' is empty", path);
    else
        rc = ZUPD_OK;
out:
    close(fd);
    return rc;
}

int
zp_pass_file_read(const char *path, char *buf, size_t cap, char *why, size_t why_cap)
{
    return read_secret(path, false, buf, cap, why, why_cap);
}

int
zp_pass_cred_read(const char *name, char *buf, size_t cap, char *why, size_t why_cap)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char path[4096];

    buf[0] = '\0';
    if (why_cap > 0)
        why[0] = '\0';
    if (dir == NULL || dir[0] == '\0' || strchr(name, '/') != NULL)
        return ZUPD_E_NOTFOUND;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return zu_fail(why, why_cap, ZUPD_E_PASSPHRASE, "credential path too long");
    return read_secret(path, true, buf, cap, why, why_cap);
}

int
zp_pass_tty_read(const char *prompt, char *buf, size_t cap)
{
    struct termios old, noecho;
    size_t got = 0;
    bool echo_off;
    int fd;

    buf[0] = '\0';
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return ZUPD_E_PASSPHRASE;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* asked anyway: the answer is what matters */
    }
    echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        noecho = old;
        noecho.c_lflag &= (tcflag_t)~ECHO;
        (void)tcsetattr(fd, TCSAFLUSH, &noecho);
    }
    /* one byte at a time: nothing after the line end is read */
    while (got < cap - 1) {
        ssize_t r = read(fd, buf + got, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf[got] == '\n')
            break;
        got++;
    }
    if (echo_off)
        (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* the prompt's line end only */
    }
    close(fd);
    buf[first_line(buf, got)] = '\0';
    return buf[0] != '\0' ? ZUPD_OK : ZUPD_E_PASSPHRASE;
}

int
zp_pin_read(const char *pin_file, const char *token, char *buf, size_t cap, char *why,
            size_t why_cap)
{
    char prompt[160];
    const char *v;
    int rc;

    buf[0] = '\0';
    if (why_cap > 0)
        why[0] = '\0';
    if (pin_file != NULL)
        return zp_pass_file_read(pin_file, buf, cap, why, why_cap);
    rc = zp_pass_cred_read("pkcs11-pin", buf, cap, why, why_cap);
    if (rc != ZUPD_E_NOTFOUND)
        return rc;
    v = zp_pass_env(ENV_PIN);
    if (v != NULL) {
        if (*v == '\0' || strlen(v) >= cap)
            return ZUPD_E_PASSPHRASE;
        memcpy(buf, v, strlen(v) + 1);
        return ZUPD_OK;
    }
    snprintf(prompt, sizeof(prompt), "PIN for PKCS#11 token '%.100s': ", token);
    return zp_pass_tty_read(prompt, buf, cap);
}

int
zp_pass_read(const char *pass_file, const char *key, bool confirm, char *buf, size_t cap, char *why,
             size_t why_cap, bool *hint)
{
    char var[ZP_KEYNAME_MAX + 32], prompt[ZP_KEYNAME_MAX + 64];
    const char *v;
    size_t n;
    int rc, tty;

    buf[0] = '\0';
    why[0] = '\0';
    *hint = false;
    if (pass_file != NULL)
        return zp_pass_file_read(pass_file, buf, cap, why, why_cap);
    /* systemd credentials (LoadCredential=): passphrase-<KEY>, then passphrase */
    snprintf(var, sizeof(var), "passphrase-%s", key);
    rc = zp_pass_cred_read(var, buf, cap, why, why_cap);
    if (rc == ZUPD_E_NOTFOUND)
        rc = zp_pass_cred_read("passphrase", buf, cap, why, why_cap);
    if (rc != ZUPD_E_NOTFOUND)
        return rc;
    *hint = true;
    n = (size_t)snprintf(var, sizeof(var), ENV_PREFIX "_%s", key);
    for (size_t i = sizeof(ENV_PREFIX); i < n && i < sizeof(var); i++)
        var[i] = isalnum((unsigned char)var[i]) ? (char)toupper((unsigned char)var[i]) : '_';
    v = zp_pass_env(var);
    if (v == NULL)
        v = zp_pass_env(ENV_PREFIX);
    if (v != NULL) {
        if (*v == '\0' || strlen(v) >= cap) {
            snprintf(why, why_cap, "%s or " ENV_PREFIX " is %s", var,
                     *v == '\0' ? "empty" : "too long");
            return ZUPD_E_PASSPHRASE;
        }
        memcpy(buf, v, strlen(v) + 1);
        return ZUPD_OK;
    }
    tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) {
        snprintf(why, why_cap,
                 "none given and no terminal to ask on; set %s or " ENV_PREFIX
                 ", or give --passphrase-file FILE",
                 var);
        return ZUPD_E_PASSPHRASE;
    }
    close(tty);
    snprintf(prompt, sizeof(prompt), "passphrase for key '%s': ", key);
    rc = zp_pass_tty_read(prompt, buf, cap);
    if (rc == ZUPD_OK && confirm) {
        char *again = sodium_malloc(cap);
        if (again == NULL)
            return ZUPD_E_NOMEM;
        snprintf(prompt, sizeof(prompt), "passphrase for key '%s' (again): ", key);
        rc = zp_pass_tty_read(prompt, again, cap);
        if (rc == ZUPD_OK && strcmp(again, buf) != 0) {
            snprintf(why, why_cap, "the two entries differ");
            rc = ZUPD_E_PASSPHRASE;
        }
        sodium_free(again);
    }
    return rc;
}
