#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/tlog.sh -- `make bench`: the transparency log's costs
# (docs/transparency.md, issue 16) at BENCH_TLOG_SIZES entries (default
# "1000 1000000"): building the log, one publish's append, what an endpoint
# reads and verifies for one update, and the whole-log check of
# `zupd-mirror log verify`. See tests/bench/tlog_bench.c.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(pwd)}
P=$top_builddir/tests/bench/tlog_bench
[ -x "$P" ] || { echo "tlog.sh: build first ($P missing)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/zupd-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT
for n in ${BENCH_TLOG_SIZES:-1000 1000000}; do
    echo "--- log of $n entries"
    "$P" "$W/log-$n" "$n"
    rm -rf "$W/log-$n"
done
