# SPDX-License-Identifier: Apache-2.0
# lib/local.mk -- libzupd: the core both programs share.
# One entry per line, so that parallel changes merge cleanly.
pkginclude_HEADERS += include/zupd/zupd.h
pkginclude_HEADERS += include/zupd/common.h
pkginclude_HEADERS += include/zupd/hash.h
pkginclude_HEADERS += include/zupd/json.h
pkginclude_HEADERS += include/zupd/manifest.h
pkginclude_HEADERS += include/zupd/fetch.h
pkginclude_HEADERS += include/zupd/store.h

LIBZUPD_SRC =
LIBZUPD_SRC += include/zu/internal.h
LIBZUPD_SRC += lib/err.c
LIBZUPD_SRC += lib/log.c
LIBZUPD_SRC += lib/buf.c
LIBZUPD_SRC += lib/hash.c
LIBZUPD_SRC += include/zu/json.h
LIBZUPD_SRC += lib/json.c
LIBZUPD_SRC += include/zu/key.h
LIBZUPD_SRC += lib/key.c
LIBZUPD_SRC += lib/manifest.c
LIBZUPD_SRC += lib/policy.c
LIBZUPD_SRC += include/zu/fsio.h
LIBZUPD_SRC += lib/fsio.c
LIBZUPD_SRC += lib/fetch_int.h
LIBZUPD_SRC += lib/fetch.c
LIBZUPD_SRC += lib/fetch_mem.c
LIBZUPD_SRC += lib/fetch_curl.c
LIBZUPD_SRC += lib/store_int.h
LIBZUPD_SRC += lib/store.c
LIBZUPD_SRC += lib/stage.c
LIBZUPD_SRC += lib/meta_int.h
LIBZUPD_SRC += lib/meta.c
LIBZUPD_SRC += lib/meta_query.c
LIBZUPD_SRC += lib/meta_build.c
LIBZUPD_SRC += lib/trusted.c
LIBZUPD_SRC += lib/client.c
LIBZUPD_SRC += lib/update_int.h
LIBZUPD_SRC += lib/update.c
LIBZUPD_SRC += lib/install.c
LIBZUPD_SRC += lib/plan.h
LIBZUPD_SRC += lib/plan.c
pkginclude_HEADERS += include/zupd/meta.h
pkginclude_HEADERS += include/zupd/trusted.h
pkginclude_HEADERS += include/zupd/client.h
pkginclude_HEADERS += include/zupd/update.h
pkginclude_HEADERS += include/zupd/delta.h
LIBZUPD_SRC += include/zu/delta_format.h
LIBZUPD_SRC += lib/delta_apply_int.h
LIBZUPD_SRC += lib/delta_apply.c
LIBZUPD_SRC += lib/delta_stream.c
LIBZUPD_SRC += lib/delta_bsdiff.c

LIBZUPD_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/lib $(LIB_WARN_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) \
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
