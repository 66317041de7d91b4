/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_audit.h -- `zupd-mirror audit` (run as zupd-mirror-audit). */
#ifndef ZP_CMD_AUDIT_H
#define ZP_CMD_AUDIT_H

/* argv[0] is "audit". Returns the exit code: 0 signed, 1 usage, 10 +
 * ZUPD_E_MISMATCH when a check failed (nothing signed), 10 + the error
 * that stopped the audit. */
int cmd_audit(int argc, char **argv);

#endif
