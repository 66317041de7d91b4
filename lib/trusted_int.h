/* SPDX-License-Identifier: Apache-2.0 */
/* lib/trusted_int.h -- what lib/client.c may do to a zupd_trusted beyond the
 * public API: move its time forward to the signed-time floor. */
#ifndef ZUPD_LIB_TRUSTED_INT_H
#define ZUPD_LIB_TRUSTED_INT_H

#include <stdint.h>

struct zupd_trusted;

/* The time every later expiry check uses becomes now, if that is later than
 * the current one; never earlier. */
void zu_trusted_raise_now(struct zupd_trusted *t, int64_t now);

#endif
