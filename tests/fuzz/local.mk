# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/local.mk -- libFuzzer targets. With --enable-fuzzing they link
# libFuzzer; otherwise they link replay.c and replay their corpus in make check.
FUZZ_TARGETS =

if FUZZING
FUZZ_LINK = -fsanitize=fuzzer
FUZZ_MAIN =
else
FUZZ_LINK =
FUZZ_MAIN = tests/fuzz/replay.c
endif
FUZZ_TCFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(ZSTD_CFLAGS) \
	-DZU_CORPUS_ROOT='"$(abs_top_srcdir)/tests/fuzz/corpus"'
EXTRA_DIST += tests/fuzz/corpus

# The fetch client state parser (an untrusted file) and header-value filter.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_fetch_state
else
check_PROGRAMS += tests/fuzz/fuzz_fetch_state
TESTS += tests/fuzz/fuzz_fetch_state
endif
tests_fuzz_fuzz_fetch_state_SOURCES = tests/fuzz/fuzz_fetch_state.c $(FUZZ_MAIN)
tests_fuzz_fuzz_fetch_state_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_fetch_state"'
tests_fuzz_fuzz_fetch_state_LDADD = lib/libzupd_core.la
tests_fuzz_fuzz_fetch_state_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
