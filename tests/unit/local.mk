# SPDX-License-Identifier: Apache-2.0
# tests/unit/local.mk -- cmocka unit tests, one program per module
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) \
	-DZUPD_UNITTESTS -DZU_TESTDATA='"$(abs_top_srcdir)/tests/data"'
UNIT_LIBS = lib/libzupd_test.la $(CMOCKA_LIBS)

UNIT_TESTS = \
	tests/unit/t_err \
	tests/unit/t_buf \
	tests/unit/t_hash \
	tests/unit/t_fetch_mem \
	tests/unit/t_fsio

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
tests_unit_t_fetch_mem_SOURCES = tests/unit/t_fetch_mem.c
tests_unit_t_fetch_mem_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_fetch_mem_LDADD = $(UNIT_LIBS)
tests_unit_t_fsio_SOURCES = tests/unit/t_fsio.c
tests_unit_t_fsio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_fsio_LDADD = $(UNIT_LIBS)
