# SPDX-License-Identifier: Apache-2.0
# updater/local.mk -- zupd, the endpoint client (never links signing or diff code)
bin_PROGRAMS += updater/zupd
updater_zupd_SOURCES = updater/main.c updater/zupd.h updater/cmd.c updater/lock.c updater/events.c updater/signers.c \
	updater/conf.h updater/conf.c common/cli.c include/zu/cli.h
updater_zupd_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(JANSSON_CFLAGS)
updater_zupd_LDADD = lib/libzupd_core.la $(LIBCONFIG_LIBS)

# The client CLI of the public TUF conformance suite (tuf-conformance)
bin_PROGRAMS += updater/zupd-tuf-client
updater_zupd_tuf_client_SOURCES = updater/tufclient.c
updater_zupd_tuf_client_CFLAGS = $(AM_CFLAGS)
updater_zupd_tuf_client_LDADD = lib/libzupd_core.la
