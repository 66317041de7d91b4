#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/run.sh -- `make bench`: every benchmark, in turn. Never part of make check.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
bash "$here/delta.sh"
