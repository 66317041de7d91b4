# SPDX-License-Identifier: Apache-2.0
# tests/interop/local.mk -- interoperability with tuf-js (npm): the libzupd
# side (zupd-interop), the node side (*.mjs, pinned by package-lock.json) and
# the test that runs both (tufjs.sh); see docs/internals/interop.md.
noinst_PROGRAMS += tests/interop/zupd-interop
tests_interop_zupd_interop_SOURCES = tests/interop/zupd-interop.c
tests_interop_zupd_interop_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) \
	-I$(top_srcdir)/mirror
tests_interop_zupd_interop_LDADD = mirror/libzupdpub.la lib/libzupd_core.la

TESTS += tests/interop/tufjs.sh
EXTRA_DIST += \
	tests/interop/tufjs.sh \
	tests/interop/package.json \
	tests/interop/package-lock.json \
	tests/interop/lib.mjs \
	tests/interop/make-repo.mjs \
	tests/interop/verify.mjs \
	tests/interop/client.mjs \
	tests/interop/serve.mjs \
	tests/interop/canon.mjs \
	tests/interop/tamper.mjs

# the node_modules copy tufjs.sh makes in the build tree when the source
# tree is read-only (make distcheck)
clean-local: clean-local-interop
clean-local-interop:
	-rm -rf tests/interop/node
.PHONY: clean-local-interop

# The transparency log against Go's sumdb/note and sumdb/tlog (tlog_go.sh):
# the libzupd side (tlogtool) and the Go side (tlogcheck.go, built by the test).
noinst_PROGRAMS += tests/interop/tlogtool
tests_interop_tlogtool_SOURCES = tests/interop/tlogtool.c
tests_interop_tlogtool_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/mirror
tests_interop_tlogtool_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
TESTS += tests/interop/tlog_go.sh
EXTRA_DIST += tests/interop/tlog_go.sh tests/interop/tlogcheck.go
