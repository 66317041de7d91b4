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

FUZZ_TARGETS += tests/fuzz/fuzz_delta_apply
tests_fuzz_fuzz_delta_apply_SOURCES = tests/fuzz/fuzz_delta_apply.c $(FUZZ_MAIN)
tests_fuzz_fuzz_delta_apply_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_delta_apply"'
tests_fuzz_fuzz_delta_apply_LDADD = lib/libzupd_core.la
tests_fuzz_fuzz_delta_apply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

if FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
else
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += $(FUZZ_TARGETS)
endif
