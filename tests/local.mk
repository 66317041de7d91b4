# SPDX-License-Identifier: Apache-2.0
# tests/local.mk -- whole-program tests: exported symbols, integration, interop
TESTS += tests/symbols.sh
EXTRA_DIST += tests/symbols.sh

# The fetcher against a hostile HTTP server on 127.0.0.1 (python3 fixture).
check_PROGRAMS += tests/integration/fetchtool
tests_integration_fetchtool_SOURCES = tests/integration/fetchtool.c
tests_integration_fetchtool_CFLAGS = $(AM_CFLAGS)
tests_integration_fetchtool_LDADD = lib/libzupd_core.la
TESTS += tests/integration/fetch_http.sh
EXTRA_DIST += tests/integration/fetch_http.sh tests/integration/hostile_server.py
TESTS += tests/integration/delta_compat.sh
EXTRA_DIST += tests/integration/delta_compat.sh tests/bench

# TUF attacks against the real client (tests/integration/tuf_attacks.sh):
# tufrepo builds and mutates repositories, tuf_server.py misbehaves per path.
check_PROGRAMS += tests/integration/tufrepo
tests_integration_tufrepo_SOURCES = tests/integration/tufrepo.c
tests_integration_tufrepo_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/mirror
tests_integration_tufrepo_LDADD = mirror/libzupdpub.la lib/libzupd_core.la $(JANSSON_LIBS) $(SODIUM_LIBS)
TESTS += tests/integration/tuf_attacks.sh
TESTS += tests/integration/tuf_keys.sh
TESTS += tests/integration/tuf_network.sh
TESTS += tests/integration/tuf_mirrors.sh
TESTS += tests/integration/tuf_payload.sh
EXTRA_DIST += tests/integration/tuf_attacks.sh
EXTRA_DIST += tests/integration/tuf_keys.sh
EXTRA_DIST += tests/integration/tuf_network.sh
EXTRA_DIST += tests/integration/tuf_mirrors.sh
EXTRA_DIST += tests/integration/tuf_payload.sh
EXTRA_DIST += tests/integration/tuf_lib.sh
EXTRA_DIST += tests/integration/tuf_server.py
