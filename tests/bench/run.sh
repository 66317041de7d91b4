#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh -- `make bench`: every tests/bench/*.sh, in turn. Never part of make check.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
rc=0
for b in "$here"/*.sh; do
    [ "$(basename "$b")" = run.sh ] && continue
    echo "== $(basename "$b")"
    bash "$b" || rc=1
done
exit $rc
