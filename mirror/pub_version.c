/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/pub_version.c -- version of the publisher library. */
#include "config.h"

#include "pub.h"

const char *
zp_pub_version(void)
{
    return PACKAGE_VERSION;
}
