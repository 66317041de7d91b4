/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/passphrase.h -- where the publisher's passphrases come from:
 * the environment (taken out of it at startup), a passphrase file, the
 * terminal. Every secret goes from read(2) straight into sodium_malloc
 * memory: no stdio buffer, no copy left in the environment. */
#ifndef ZP_PASSPHRASE_H
#define ZP_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "zu/internal.h"

/* Move every ZUPD_PASSPHRASE, ZUPD_PASSPHRASE_<NAME> and ZUPD_PKCS11_PIN variable out of the
 * environment into sodium_malloc memory: the value bytes are wiped where
 * they were (so /proc/PID/environ no longer shows them) and the variable is
 * unset (so a program run later does not get it). Call first in main(),
 * before any thread starts. Idempotent. */
void zp_pass_env_take(void);

/* The value of variable name ("ZUPD_PASSPHRASE", "ZUPD_PASSPHRASE_X" or
 * "ZUPD_PKCS11_PIN")
 * that zp_pass_env_take() took, or NULL. Borrowed, valid until exit. */
const char *zp_pass_env(const char *name);

/* The first line of passphrase file path into buf[0..cap), NUL-terminated,
 * without its line end. The file must be a regular file of the user with
 * no permission for group or others (as key files): else ZUPD_E_PERM and
 * why says so. Read with read(2) into buf; what follows the first line is
 * wiped. Returns ZUPD_OK, ZUPD_E_PERM, ZUPD_E_PASSPHRASE (empty, longer
 * than cap - 1, unreadable: why says which). */
ZU_NODISCARD int zp_pass_file_read(const char *path, char *buf, size_t cap, char *why,
                                   size_t why_cap);

/* The systemd credential name (LoadCredential=NAME:PATH), read from
 * $CREDENTIALS_DIRECTORY/NAME into buf as zp_pass_file_read does. systemd
 * makes that directory private to the unit (a ramfs the unit's user alone
 * may read, files mode 0400, owned by root with an ACL for the user, or by
 * the user): so the owner may be root or the caller, and the file must be
 * closed to others; a symlink is refused. ZUPD_E_NOTFOUND (why empty)
 * when CREDENTIALS_DIRECTORY is unset or has no NAME; other errors as
 * zp_pass_file_read. */
ZU_NODISCARD int zp_pass_cred_read(const char *name, char *buf, size_t cap, char *why,
                                   size_t why_cap);

/* The PIN of PKCS#11 token (when its URI has none) into buf[0..cap):
 * pin_file (--pin-file) when not NULL, else the systemd credential
 * pkcs11-pin, else ZUPD_PKCS11_PIN (taken by zp_pass_env_take()), else the
 * terminal. A file or credential that cannot be used: its error, and why
 * says so (else why is ""). */
ZU_NODISCARD int zp_pin_read(const char *pin_file, const char *token, char *buf, size_t cap,
                             char *why, size_t why_cap);

/* The passphrase of key into buf[0..cap) (sodium_malloc memory):
 * pass_file (--passphrase-file) when not NULL, else the systemd credential
 * passphrase-<KEY> or passphrase ($CREDENTIALS_DIRECTORY), else
 * ZUPD_PASSPHRASE_<KEY> (KEY upper-cased, other than letters and digits
 * '_'), else ZUPD_PASSPHRASE (both taken by zp_pass_env_take()), else the
 * terminal, asked twice when confirm. On failure why says why; *hint is
 * true when it is advice on how to give one (no source had one, or the
 * two entries differ), false when a file or credential could not be used. */
ZU_NODISCARD int zp_pass_read(const char *pass_file, const char *key, bool confirm, char *buf,
                              size_t cap, char *why, size_t why_cap, bool *hint);

/* Ask on /dev/tty with prompt, echo off; one line into buf[0..cap) as
 * above. ZUPD_E_PASSPHRASE when there is no terminal or the line is empty. */
ZU_NODISCARD int zp_pass_tty_read(const char *prompt, char *buf, size_t cap);

#endif
