# SPDX-License-Identifier: Apache-2.0
# lib/local.mk -- libzupd: the core both programs share.
pkginclude_HEADERS += include/zupd/zupd.h include/zupd/common.h include/zupd/hash.h include/zupd/delta.h

LIBZUPD_SRC = \
	lib/internal.h \
	lib/err.c \
	lib/log.c \
	lib/buf.c \
	lib/hash.c \
	lib/delta_int.h \
	lib/delta_apply.c

LIBZUPD_CFLAGS = $(AM_CFLAGS) $(LIB_WARN_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) \
	$(ZSTD_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
LIBZUPD_LIBS = $(SODIUM_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(BZ2_LIBS) -lpthread

# The core as a convenience library (hidden internals), linked into the
# programs and into the installed shared library.
noinst_LTLIBRARIES += lib/libzupd_core.la
lib_libzupd_core_la_SOURCES = $(LIBZUPD_SRC)
lib_libzupd_core_la_CFLAGS = $(LIBZUPD_CFLAGS) $(VIS_CFLAGS)
lib_libzupd_core_la_LIBADD = $(LIBZUPD_LIBS)

# The installed library: exports exactly the ZUPD_API symbols (tests/symbols.txt).
lib_LTLIBRARIES += lib/libzupd.la
lib_libzupd_la_SOURCES =
lib_libzupd_la_LIBADD = lib/libzupd_core.la
lib_libzupd_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined

# Unit-test build: file-local functions reachable (ZU_STATIC).
check_LTLIBRARIES += lib/libzupd_test.la
lib_libzupd_test_la_SOURCES = $(LIBZUPD_SRC)
lib_libzupd_test_la_CFLAGS = $(LIBZUPD_CFLAGS) -DZUPD_UNITTESTS
lib_libzupd_test_la_LIBADD = $(LIBZUPD_LIBS)
