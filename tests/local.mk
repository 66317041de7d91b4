# SPDX-License-Identifier: Apache-2.0
# tests/local.mk -- whole-program tests: exported symbols, integration, interop
TESTS += tests/symbols.sh
EXTRA_DIST += tests/symbols.sh

# The one library every integration test sources (counting, skips, the work
# directory, free ports, zupd-mirror serve, nginx, the repository and TUF
# helpers) and the one fixture server for hostile HTTP behaviour.
EXTRA_DIST += tests/integration/lib.sh tests/integration/fixture_server.py

# The fetcher against a hostile HTTP server on 127.0.0.1 (fixture_server.py fetch).
check_PROGRAMS += tests/integration/fetchtool
tests_integration_fetchtool_SOURCES = tests/integration/fetchtool.c
tests_integration_fetchtool_CFLAGS = $(AM_CFLAGS)
tests_integration_fetchtool_LDADD = lib/libzupd_core.la
TESTS += tests/integration/fetch_http.sh
TESTS += tests/integration/fetch_https.sh
EXTRA_DIST += tests/integration/fetch_http.sh
EXTRA_DIST += tests/integration/fetch_https.sh

# zupd-mirror: every repository command, and publish killed at each step
TESTS += tests/integration/mirror_cli.sh
TESTS += tests/integration/mirror_crash.sh
TESTS += tests/integration/mirror_update.sh
TESTS += tests/integration/tlog_publish.sh
TESTS += tests/integration/tlog_monitor.sh
EXTRA_DIST += tests/integration/tlog_publish.sh
EXTRA_DIST += tests/integration/tlog_monitor.sh
# The endpoint's check against the log (tlog_endpoint.sh); notetool signs
# and cosigns notes as the test's witnesses and a foreign log key.
check_PROGRAMS += tests/integration/notetool
tests_integration_notetool_SOURCES = tests/integration/notetool.c
tests_integration_notetool_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/mirror
tests_integration_notetool_LDADD = mirror/libzupdpub.la lib/libzupd_core.la $(SODIUM_LIBS)
TESTS += tests/integration/tlog_endpoint.sh
EXTRA_DIST += tests/integration/tlog_endpoint.sh
# Rotating the log key with no flag day (tlog_keyrot.sh): a witness and three
# endpoints (old key, new key, both) across log key add and retire.
TESTS += tests/integration/tlog_keyrot.sh
EXTRA_DIST += tests/integration/tlog_keyrot.sh
TESTS += tests/integration/tlog_witness.sh
# The offline proof unit (zupd-mirror log proof): prooftool checks it as
# an offline endpoint would, with lib/tlog_proof.c alone.
check_PROGRAMS += tests/integration/prooftool
tests_integration_prooftool_SOURCES = tests/integration/prooftool.c
tests_integration_prooftool_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_prooftool_LDADD = lib/libzupd_core.la $(SODIUM_LIBS) $(JANSSON_LIBS)
TESTS += tests/integration/tlog_proof.sh
EXTRA_DIST += tests/integration/tlog_proof.sh
EXTRA_DIST += tests/integration/tlog_witness.sh
EXTRA_DIST += tests/integration/mirror_cli.sh
EXTRA_DIST += tests/integration/mirror_crash.sh
EXTRA_DIST += tests/integration/mirror_update.sh
TESTS += tests/integration/delta_compat.sh
# the one command line of zupd and zupd-mirror: exit codes (docs/errors.md)
TESTS += tests/integration/cli_exit.sh
EXTRA_DIST += tests/integration/cli_exit.sh
# --json: one envelope (docs/json-envelope.schema.json) for every command
TESTS += tests/integration/cli_json.sh
EXTRA_DIST += tests/integration/cli_json.sh tests/integration/json_schema.py
# --help on every command; every command and option in the man pages
TESTS += tests/integration/cli_help.sh
EXTRA_DIST += tests/integration/cli_help.sh
# the first messages: passphrase, configuration path, init, promote's role
TESTS += tests/integration/cli_messages.sh
EXTRA_DIST += tests/integration/cli_messages.sh
# keys in a PKCS#11 token (SoftHSM2): init, publish, promote, root rotation, errors
TESTS += tests/integration/hsm.sh
EXTRA_DIST += tests/integration/hsm.sh
EXTRA_DIST += tests/integration/delta_compat.sh tests/bench

# LD_PRELOAD shim for the crash tests: SIGKILL at the Nth file-system change
check_LTLIBRARIES += tests/integration/libfaultinject.la
tests_integration_libfaultinject_la_SOURCES = tests/integration/faultinject.c
tests_integration_libfaultinject_la_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes
tests_integration_libfaultinject_la_LDFLAGS = -module -avoid-version -rpath /nowhere -shared
tests_integration_libfaultinject_la_LIBADD = -ldl

# zupd-mirror serve (and nginx with packaging/nginx/zupd-mirror.conf) on 127.0.0.1
TESTS += tests/integration/serve.sh
TESTS += tests/integration/serve_load.sh
TESTS += tests/integration/serve_slow.sh
EXTRA_DIST += tests/integration/serve.sh tests/integration/http_strict.py
EXTRA_DIST += tests/integration/serve_load.sh tests/integration/serve_load.py
EXTRA_DIST += tests/integration/serve_slow.sh tests/integration/serve_slow.py

# benchmarks: `make bench`, never make check
EXTRA_DIST += tests/bench/run.sh tests/bench/serve.sh
noinst_PROGRAMS += tests/bench/manifest_mem
tests_bench_manifest_mem_SOURCES = tests/bench/manifest_mem.c
tests_bench_manifest_mem_LDADD = lib/libzupd_core.la
noinst_PROGRAMS += tests/bench/tlog_bench
tests_bench_tlog_bench_SOURCES = tests/bench/tlog_bench.c
tests_bench_tlog_bench_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_bench_tlog_bench_LDADD = lib/libzupd_core.la
# the real endpoint's cost per update against a log of 1,000 and 1,000,000
# entries (tests/bench/tlog_endpoint.sh; tlog_fill grows a repository's log)
noinst_PROGRAMS += tests/bench/tlog_fill
tests_bench_tlog_fill_SOURCES = tests/bench/tlog_fill.c
tests_bench_tlog_fill_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/mirror
tests_bench_tlog_fill_LDADD = mirror/libzupdpub.la lib/libzupd_core.la $(SODIUM_LIBS)
EXTRA_DIST += tests/bench/tlog_endpoint.sh

# tuf-js (npm, pinned by tests/interop/mirror/package-lock.json) refreshes
# from a repository zupd-mirror published
TESTS += tests/interop/tufjs_mirror.sh
EXTRA_DIST += tests/interop/tufjs_mirror.sh
EXTRA_DIST += tests/interop/mirror/package.json
EXTRA_DIST += tests/interop/mirror/package-lock.json
EXTRA_DIST += tests/interop/mirror/refresh.mjs

# zupd end to end against zupd-mirror publish + serve on 127.0.0.1
TESTS += tests/integration/update_e2e.sh
TESTS += tests/integration/audit.sh
TESTS += tests/integration/update_limits.sh
EXTRA_DIST += tests/integration/update_limits.sh
TESTS += tests/integration/update_budget.sh
EXTRA_DIST += tests/integration/update_budget.sh
EXTRA_DIST += tests/integration/update_e2e.sh
EXTRA_DIST += tests/integration/audit.sh
TESTS += tests/integration/update_clock.sh
EXTRA_DIST += tests/integration/update_clock.sh
TESTS += tests/integration/update_health.sh
EXTRA_DIST += tests/integration/update_health.sh
TESTS += tests/integration/update_local.sh
EXTRA_DIST += tests/integration/update_local.sh
TESTS += tests/integration/update_log.sh
EXTRA_DIST += tests/integration/update_log.sh
TESTS += tests/integration/update_chain.sh
EXTRA_DIST += tests/integration/update_chain.sh
TESTS += tests/integration/update_parallel.sh
EXTRA_DIST += tests/integration/update_parallel.sh
# file:// mirrors, verified like HTTP ones
TESTS += tests/integration/update_file.sh
EXTRA_DIST += tests/integration/update_file.sh
# zupd.conf's network settings: proxy, ca_file/ca_path, max_download_rate
TESTS += tests/integration/update_net.sh
EXTRA_DIST += tests/integration/update_net.sh tests/integration/net_proxy.py
# the enterprise policy repository: pins, fleet rollbacks, floor, attacks
TESTS += tests/integration/policy.sh
EXTRA_DIST += tests/integration/policy.sh
# crash safety: zupd update killed before each of its file-system changes
TESTS += tests/integration/update_crash.sh
EXTRA_DIST += tests/integration/update_crash.sh
# zupd updating from nginx running packaging/nginx/zupd-mirror.conf
TESTS += tests/integration/update_nginx.sh
EXTRA_DIST += tests/integration/update_nginx.sh
# TUF attacks against the real client (tests/integration/tuf_attacks.sh):
# tufrepo builds and mutates repositories, fixture_server.py misbehaves per path.
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
TESTS += tests/integration/sync.sh
EXTRA_DIST += tests/integration/sync.sh
# sync --channel/--keep: a filtered mirror, incremental, removal, crashes
TESTS += tests/integration/sync_keep.sh
EXTRA_DIST += tests/integration/sync_keep.sh
# sync --policy: a filtered mirror keeps what the enterprise policy pins; verify --policy
TESTS += tests/integration/sync_policy.sh
EXTRA_DIST += tests/integration/sync_policy.sh
# packaging/systemd: systemd-analyze verify and security --offline
TESTS += tests/integration/units.sh
EXTRA_DIST += tests/integration/units.sh
