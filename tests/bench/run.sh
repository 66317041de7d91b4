#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh -- `make bench`: every benchmark (tests/bench/*.sh but
# this one), in turn; BENCH_ONLY="idle_check" runs only those named. Never
# part of make check.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
for b in "$here"/*.sh; do
    name=$(basename "$b" .sh)
    # wide-corpus.sh fetches a corpus (delta.sh runs it with BENCH_WIDE=1)
    case $name in run | wide-corpus) continue ;; esac
    if [ -n "${BENCH_ONLY:-}" ]; then
        case " $BENCH_ONLY " in *" $name "*) ;; *) continue ;; esac
    fi
    echo "=== $name"
    bash "$b"
done
