# SPDX-License-Identifier: Apache-2.0
# mirror/local.mk -- zupd-mirror and libzupdpub (signing, deltas, publishing, serve)
LIBZUPDPUB_SRC =
LIBZUPDPUB_SRC += mirror/pub.h
LIBZUPDPUB_SRC += mirror/pub_version.c
LIBZUPDPUB_SRC += mirror/keys/signer.h
LIBZUPDPUB_SRC += mirror/keys/signer.c
LIBZUPDPUB_SRC += mirror/keys/notesign.h
LIBZUPDPUB_SRC += mirror/keys/notesign.c
LIBZUPDPUB_SRC += mirror/keys/pkcs11.h
LIBZUPDPUB_SRC += mirror/keys/pkcs11.c
LIBZUPDPUB_SRC += mirror/repo/fsops.h
LIBZUPDPUB_SRC += mirror/repo/fsops.c
LIBZUPDPUB_SRC += mirror/keys/keystore.h
LIBZUPDPUB_SRC += mirror/keys/keystore.c
LIBZUPDPUB_SRC += mirror/keys/passphrase.c mirror/keys/passphrase.h
LIBZUPDPUB_SRC += mirror/repo/layout.h
LIBZUPDPUB_SRC += mirror/repo/layout.c
LIBZUPDPUB_SRC += mirror/repo/repo.h
LIBZUPDPUB_SRC += mirror/repo/change.h
LIBZUPDPUB_SRC += mirror/repo/repo_int.h
LIBZUPDPUB_SRC += mirror/repo/repo.c
LIBZUPDPUB_SRC += mirror/repo/init.c
LIBZUPDPUB_SRC += mirror/repo/repo_commit.c
LIBZUPDPUB_SRC += mirror/repo/publish.c
LIBZUPDPUB_SRC += mirror/repo/publish_delta.c
LIBZUPDPUB_SRC += mirror/repo/maint.c
LIBZUPDPUB_SRC += mirror/repo/channel.c
LIBZUPDPUB_SRC += mirror/repo/policy_repo.c
LIBZUPDPUB_SRC += mirror/repo/offline.c
LIBZUPDPUB_SRC += mirror/repo/staged.c
LIBZUPDPUB_SRC += mirror/repo/keyadmin.c
LIBZUPDPUB_SRC += mirror/repo/audit.h
LIBZUPDPUB_SRC += mirror/repo/audit.c
LIBZUPDPUB_SRC += mirror/repo/verify.c
LIBZUPDPUB_SRC += mirror/repo/translog.c
LIBZUPDPUB_SRC += mirror/repo/logaudit.c
LIBZUPDPUB_SRC += mirror/repo/logaudit.h
LIBZUPDPUB_SRC += mirror/delta/create.h
LIBZUPDPUB_SRC += mirror/delta/create_int.h
LIBZUPDPUB_SRC += mirror/delta/delta_create.c
LIBZUPDPUB_SRC += mirror/delta/candidates.c
LIBZUPDPUB_SRC += mirror/delta/scan.c
LIBZUPDPUB_SRC += mirror/delta/block.c
LIBZUPDPUB_SRC += mirror/delta/write.c
LIBZUPDPUB_SRC += mirror/delta/realign.c
LIBZUPDPUB_SRC += mirror/serve/serve_http.h
LIBZUPDPUB_SRC += mirror/serve/serve_http.c
LIBZUPDPUB_SRC += mirror/serve/serve.h
LIBZUPDPUB_SRC += mirror/serve/serve_int.h
LIBZUPDPUB_SRC += mirror/serve/serve.c
LIBZUPDPUB_SRC += mirror/serve/serve_cache.c
LIBZUPDPUB_SRC += mirror/serve/serve_net.h
LIBZUPDPUB_SRC += mirror/serve/serve_net.c
LIBZUPDPUB_SRC += mirror/witness/witness.h
LIBZUPDPUB_SRC += mirror/witness/witness.c
LIBZUPDPUB_SRC += mirror/witness/witness_http.c
LIBZUPDPUB_SRC += mirror/repo/cosign.c
LIBZUPDPUB_SRC += mirror/sync/sync.h
LIBZUPDPUB_SRC += mirror/sync/sync_int.h
LIBZUPDPUB_SRC += mirror/sync/sync.c
LIBZUPDPUB_SRC += mirror/sync/sync_commit.c
LIBZUPDPUB_SRC += mirror/sync/sync_pins.c
LIBZUPDPUB_SRC += mirror/sync/sync_log.c
LIBZUPDPUB_SRC += mirror/sync/log_url.c
LIBZUPDPUB_SRC += mirror/repo/select.h
LIBZUPDPUB_SRC += mirror/repo/select.c
LIBZUPDPUB_SRC += mirror/repo/pins.h
LIBZUPDPUB_SRC += mirror/repo/upstream.h
LIBZUPDPUB_SRC += mirror/repo/upstream.c
LIBZUPDPUB_SRC += mirror/repo/pins.c

LIBZUPDPUB_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(LIB_WARN_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(ZSTD_CFLAGS) $(LZMA_CFLAGS) \
	$(JANSSON_CFLAGS) $(MHD_CFLAGS) $(PKCS11_CFLAGS)
LIBZUPDPUB_LIBS = $(SODIUM_LIBS) $(CRYPTO_LIBS) $(ZSTD_LIBS) $(LZMA_LIBS) $(JANSSON_LIBS) $(MHD_LIBS) \
	$(DIVSUFSORT_LIBS) $(BZ2_LIBS) $(DL_LIBS) -lpthread

noinst_LTLIBRARIES += mirror/libzupdpub.la
mirror_libzupdpub_la_SOURCES = $(LIBZUPDPUB_SRC)
mirror_libzupdpub_la_CFLAGS = $(LIBZUPDPUB_CFLAGS) $(VIS_CFLAGS)
mirror_libzupdpub_la_LIBADD = $(LIBZUPDPUB_LIBS)

bin_PROGRAMS += mirror/zupd-mirror
ZUPD_MIRROR_SRC =
ZUPD_MIRROR_SRC += mirror/cli/main.c
ZUPD_MIRROR_SRC += mirror/cli/cmd_delta.c
ZUPD_MIRROR_SRC += mirror/cli/cmd_repo.h
ZUPD_MIRROR_SRC += mirror/cli/cmd_repo.c
ZUPD_MIRROR_SRC += mirror/cli/cmd_common.c
ZUPD_MIRROR_SRC += mirror/cli/cmd_common.h
ZUPD_MIRROR_SRC += mirror/cli/cmd_policy.c
ZUPD_MIRROR_SRC += mirror/cli/cmd_keys.c
ZUPD_MIRROR_SRC += common/cli.c include/zu/cli.h
ZUPD_MIRROR_SRC += mirror/cli/cmd_log.c
mirror_zupd_mirror_SOURCES = $(ZUPD_MIRROR_SRC)
mirror_zupd_mirror_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS) -DZU_PKGLIBEXECDIR='"$(pkglibexecdir)"'
mirror_zupd_mirror_LDADD = mirror/libzupdpub.la lib/libzupd_core.la $(LIBCONFIG_LIBS)
# the network libraries only sync and serve use are not loaded (net_main.c)
mirror_zupd_mirror_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed

# `zupd-mirror sync` and `zupd-mirror serve` run these (mirror/cli/net_main.c)
pkglibexec_PROGRAMS += mirror/zupd-mirror-sync
mirror_zupd_mirror_sync_SOURCES = mirror/cli/net_main.c mirror/cli/cmd_sync.h mirror/cli/cmd_sync.c \
	common/cli.c include/zu/cli.h
mirror_zupd_mirror_sync_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(JANSSON_CFLAGS) -DZU_NET_SYNC
mirror_zupd_mirror_sync_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_sync_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
pkglibexec_PROGRAMS += mirror/zupd-mirror-audit
mirror_zupd_mirror_audit_SOURCES = mirror/cli/net_main.c mirror/cli/cmd_audit.h mirror/cli/cmd_audit.c \
	common/cli.c include/zu/cli.h
mirror_zupd_mirror_audit_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(JANSSON_CFLAGS) -DZU_NET_AUDIT
mirror_zupd_mirror_audit_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_audit_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
pkglibexec_PROGRAMS += mirror/zupd-mirror-serve
mirror_zupd_mirror_serve_SOURCES = mirror/cli/net_main.c mirror/cli/cmd_serve.h mirror/cli/cmd_serve.c \
	mirror/cli/daemon.h mirror/cli/daemon.c \
	common/cli.c include/zu/cli.h
mirror_zupd_mirror_serve_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(JANSSON_CFLAGS)
mirror_zupd_mirror_serve_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_serve_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
pkglibexec_PROGRAMS += mirror/zupd-mirror-witness
mirror_zupd_mirror_witness_SOURCES = mirror/cli/net_main.c mirror/cli/cmd_witness.h \
	mirror/cli/daemon.h mirror/cli/daemon.c \
	mirror/cli/cmd_witness.c common/cli.c include/zu/cli.h
mirror_zupd_mirror_witness_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mirror $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) -DZU_NET_WITNESS
mirror_zupd_mirror_witness_LDADD = mirror/libzupdpub.la lib/libzupd_core.la
mirror_zupd_mirror_witness_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
