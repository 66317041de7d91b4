# SPDX-License-Identifier: Apache-2.0
# docs/local.mk -- man pages and guides shipped in the tarball
EXTRA_DIST += docs
dist_man_MANS += docs/zupd-mirror.1
dist_man_MANS += docs/zupd.1
dist_man_MANS += docs/zupd.conf.5
