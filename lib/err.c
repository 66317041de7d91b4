/* SPDX-License-Identifier: Apache-2.0 */
/* lib/err.c -- error texts, assertion failure, library init and version. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "zu/internal.h"

static const struct {
    const char *name;
    const char *text;
} errs[] = {
    [ZUPD_OK] = {"ok", "success"},
    [ZUPD_E_FORMAT] = {"format", "malformed input"},
    [ZUPD_E_TOOBIG] = {"toobig", "input exceeds a size limit"},
    [ZUPD_E_SIG] = {"signature", "invalid signature"},
    [ZUPD_E_THRESHOLD] = {"threshold", "signature threshold not met"},
    [ZUPD_E_EXPIRED] = {"expired", "metadata has expired"},
    [ZUPD_E_ROLLBACK] = {"rollback", "version rollback refused"},
    [ZUPD_E_HASH] = {"hash", "hash mismatch"},
    [ZUPD_E_LENGTH] = {"length", "length mismatch"},
    [ZUPD_E_IO] = {"io", "input/output error"},
    [ZUPD_E_NET] = {"network", "network error"},
    [ZUPD_E_NOMEM] = {"nomem", "out of memory"},
    [ZUPD_E_MISUSE] = {"misuse", "invalid argument"},
    [ZUPD_E_KEYTYPE] = {"keytype", "unsupported key type or scheme"},
    [ZUPD_E_SPEC] = {"spec", "unsupported specification version"},
    [ZUPD_E_NOTFOUND] = {"notfound", "not found"},
    [ZUPD_E_PASSPHRASE] = {"passphrase", "wrong passphrase or damaged key file"},
    [ZUPD_E_PERM] = {"permissions", "permission denied or unsafe file permissions"},
    [ZUPD_E_ROLE] = {"role", "role not trusted for this"},
    [ZUPD_E_MISMATCH] = {"mismatch", "values that must agree differ"},
    [ZUPD_E_BASE] = {"base", "delta base does not match"},
    [ZUPD_E_EXISTS] = {"exists", "already exists"},
    [ZUPD_E_NOSPACE] = {"nospace", "no space left on device"},
    [ZUPD_E_TIMEOUT] = {"timeout", "network timeout or transfer too slow"},
    [ZUPD_E_BUSY] = {"busy", "server asked to retry later"},
};

const char *
zupd_strerror(int err)
{
    if (err < 0 || err >= ZUPD_E__MAX)
        return "unknown error";
    return errs[err].text;
}

const char *
zupd_errname(int err)
{
    if (err < 0 || err >= ZUPD_E__MAX)
        return "unknown";
    return errs[err].name;
}

_Noreturn void
zu_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "libzupd: assertion failed: %s (%s:%d)\n", what, file, line);
    abort();
}

static int init_rc = -1;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
do_init(void)
{
    init_rc = sodium_init() < 0 ? ZUPD_E_MISUSE : ZUPD_OK;
    if (init_rc == ZUPD_OK && OPENSSL_init_crypto(0, NULL) != 1)
        init_rc = ZUPD_E_MISUSE;
}

int
zupd_init(void)
{
    if (pthread_once(&init_once, do_init) != 0)
        return ZUPD_E_MISUSE;
    return init_rc;
}

const char *
zupd_version(void)
{
    return ZUPD_VERSION_STRING;
}

unsigned
zupd_version_number(void)
{
    return ZUPD_VERSION_NUMBER;
}
