# SPDX-License-Identifier: Apache-2.0
# mirror/local.mk -- zupd-mirror and libzupdpub (signing, deltas, publishing, serve)
LIBZUPDPUB_SRC =
LIBZUPDPUB_SRC += mirror/pub.h
LIBZUPDPUB_SRC += mirror/pub_version.c
LIBZUPDPUB_SRC += mirror/signer.h
LIBZUPDPUB_SRC += mirror/signer.c
LIBZUPDPUB_SRC += mirror/fsops.h
LIBZUPDPUB_SRC += mirror/fsops.c
LIBZUPDPUB_SRC += mirror/keystore.h
LIBZUPDPUB_SRC += mirror/keystore.c
LIBZUPDPUB_SRC += mirror/repo.h
LIBZUPDPUB_SRC += mirror/repo_int.h
LIBZUPDPUB_SRC += mirror/repo.c
LIBZUPDPUB_SRC += mirror/repo_commit.c
LIBZUPDPUB_SRC += mirror/publish.c
LIBZUPDPUB_SRC += mirror/delta_hook.c
LIBZUPDPUB_SRC += mirror/maint.c
LIBZUPDPUB_SRC += mirror/policy.c
LIBZUPDPUB_SRC += mirror/offline.c
LIBZUPDPUB_SRC += mirror/verify.c
LIBZUPDPUB_SRC += mirror/delta.h
LIBZUPDPUB_SRC += mirror/delta_create.c
LIBZUPDPUB_SRC += mirror/serve_http.h
LIBZUPDPUB_SRC += mirror/serve_http.c
LIBZUPDPUB_SRC += mirror/serve.h
LIBZUPDPUB_SRC += mirror/serve_int.h
LIBZUPDPUB_SRC += mirror/serve.c
LIBZUPDPUB_SRC += mirror/serve_cache.c
LIBZUPDPUB_SRC += mirror/serve_net.h
LIBZUPDPUB_SRC += mirror/serve_net.c
LIBZUPDPUB_SRC += mirror/sync.h
LIBZUPDPUB_SRC += mirror/sync_int.h
LIBZUPDPUB_SRC += mirror/sync.c
LIBZUPDPUB_SRC += mirror/sync_commit.c
LIBZUPDPUB_SRC += mirror/sync_select.h
LIBZUPDPUB_SRC += mirror/sync_select.c

LIBZUPDPUB_CFLAGS = $(AM_CFLAGS) $(LIB_WARN_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(ZSTD_CFLAGS) \
	$(JANSSON_CFLAGS) $(MHD_CFLAGS)
LIBZUPDPUB_LIBS = $(SODIUM_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(JANSSON_LIBS) $(MHD_LIBS) \
	$(DIVSUFSORT_LIBS) $(BZ2_LIBS) -lpthread

noinst_LTLIBRARIES += mirror/libzupdpub.la
mirror_libzupdpub_la_SOURCES = $(LIBZUPDPUB_SRC)
mirror_libzupdpub_la_CFLAGS = $(LIBZUPDPUB_CFLAGS) $(VIS_CFLAGS)
mirror_libzupdpub_la_LIBADD = $(LIBZUPDPUB_LIBS)

bin_PROGRAMS += mirror/zupd-mirror
ZUPD_MIRROR_SRC =
ZUPD_MIRROR_SRC += mirror/main.c
ZUPD_MIRROR_SRC += mirror/cmd_delta.c
ZUPD_MIRROR_SRC += mirror/cmd_repo.h
ZUPD_MIRROR_SRC += mirror/cmd_repo.c
ZUPD_MIRROR_SRC += mirror/cmd_common.h
ZUPD_MIRROR_SRC += mirror/cmd_policy.c
mirror_zupd_mirror_SOURCES = $(ZUPD_MIRROR_SRC)
mirror_zupd_mirror_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) -DZU_PKGLIBEXECDIR='"$(pkglibexecdir)"'
mirror_zupd_mirror_LDADD = mirror/libzupdpub.la lib/libzupd_core.la $(LIBCONFIG_LIBS)
# the network libraries only sync and serve use are not loaded (net_main.c)
mirror_zupd_mirror_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed

# `zupd-mirror sync` and `zupd-mirror serve` run these (mirror/net_main.c)
pkglibexec_PROGRAMS += mirror/zupd-mirror-sync
mirror_zupd_mirror_sync_SOURCES = mirror/net_main.c mirror/cmd_sync.h mirror/cmd_sync.c
mirror_zupd_mirror_sync_CFLAGS = $(AM_CFLAGS) -DZU_NET_SYNC
mirror_zupd_mirror_sync_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_sync_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
pkglibexec_PROGRAMS += mirror/zupd-mirror-serve
mirror_zupd_mirror_serve_SOURCES = mirror/net_main.c mirror/cmd_serve.h mirror/cmd_serve.c
mirror_zupd_mirror_serve_CFLAGS = $(AM_CFLAGS)
mirror_zupd_mirror_serve_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_serve_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
