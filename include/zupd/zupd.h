/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/zupd.h -- umbrella header of libzupd. */
#ifndef ZUPD_ZUPD_H
#define ZUPD_ZUPD_H

#include <zupd/common.h>
#include <zupd/hash.h>
#include <zupd/json.h>
#include <zupd/manifest.h>
#include <zupd/fetch.h>
#include <zupd/store.h>
#include <zupd/meta.h>
#include <zupd/trusted.h>
#include <zupd/client.h>
#include <zupd/delta.h>
#include <zupd/update.h>

#endif
