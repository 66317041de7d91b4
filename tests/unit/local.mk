# SPDX-License-Identifier: Apache-2.0
# tests/unit/local.mk -- cmocka unit tests, one program per module
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) \
	-DZUPD_UNITTESTS -DZU_TESTDATA='"$(abs_top_srcdir)/tests/data"'
UNIT_LIBS = lib/libzupd_test.la $(CMOCKA_LIBS)

UNIT_TESTS = \
	tests/unit/t_err \
	tests/unit/t_buf \
	tests/unit/t_hash \
	tests/unit/t_delta

check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_t_err_SOURCES = tests/unit/t_err.c
tests_unit_t_err_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_err_LDADD = $(UNIT_LIBS)
tests_unit_t_buf_SOURCES = tests/unit/t_buf.c
tests_unit_t_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_buf_LDADD = $(UNIT_LIBS)
tests_unit_t_hash_SOURCES = tests/unit/t_hash.c
tests_unit_t_hash_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_hash_LDADD = $(UNIT_LIBS)
# delta creation lives in libzupdpub (which carries the core): t_delta links it
tests_unit_t_delta_SOURCES = tests/unit/t_delta.c
tests_unit_t_delta_CFLAGS = $(UNIT_CFLAGS) $(ZSTD_CFLAGS) -I$(top_srcdir)/mirror
tests_unit_t_delta_LDADD = mirror/libzupdpub.la $(CMOCKA_LIBS) $(ZSTD_LIBS) $(BZ2_LIBS)
