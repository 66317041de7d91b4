/* SPDX-License-Identifier: Apache-2.0 */
/* lib/policy.c -- which version a component installs when an enterprise
 * policy repository also names one (docs/formats.md, "Enterprise policy"). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <zupd/meta.h>
#include <zupd/update.h>

static void
copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

void
zupd_channel_decide(const struct zupd_channel *vendor, const struct zupd_channel *policy,
                    int64_t now, struct zupd_resolved *out)
{
    char when[32] = "?";

    memset(out, 0, sizeof(*out));
    copy(out->vendor_version, sizeof(out->vendor_version), vendor->version);
    copy(out->floor, sizeof(out->floor), vendor->floor);
    copy(out->version, sizeof(out->version), vendor->version);
    out->source = ZUPD_SOURCE_VENDOR;
    if (policy == NULL)
        return;
    copy(out->policy_version, sizeof(out->policy_version), policy->version);
    copy(out->note, sizeof(out->note), policy->note);
    out->policy_expires = policy->expires;
    out->policy_rollback = policy->rollback;
    if (policy->expires != 0 && now >= policy->expires) {
        if (zupd_time_format(policy->expires, when, sizeof(when)) != ZUPD_OK)
            copy(when, sizeof(when), "?");
        snprintf(out->why, sizeof(out->why),
                 "the policy's pin to %s expired on %s; the vendor's channel applies",
                 policy->version, when);
        return;
    }
    if (vendor->floor != NULL && zupd_version_cmp(policy->version, vendor->floor) < 0) {
        snprintf(out->why, sizeof(out->why),
                 "the policy pins %s, below the vendor's security floor %s; the vendor's "
                 "channel applies",
                 policy->version, vendor->floor);
        return;
    }
    copy(out->version, sizeof(out->version), policy->version);
    out->source = ZUPD_SOURCE_POLICY;
}
