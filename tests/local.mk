# SPDX-License-Identifier: Apache-2.0
# tests/local.mk -- whole-program tests: exported symbols, integration, interop
TESTS += tests/symbols.sh tests/integration/delta_compat.sh
EXTRA_DIST += tests/symbols.sh tests/integration/delta_compat.sh tests/data tests/bench
