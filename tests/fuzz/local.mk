# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/local.mk -- libFuzzer targets. With --enable-fuzzing they link
# libFuzzer; otherwise they link replay.c and replay their corpus in make check.
FUZZ_TARGETS =
FUZZ_TARGETS += tests/fuzz/fuzz_cjson
FUZZ_TARGETS += tests/fuzz/fuzz_keyfile
FUZZ_TARGETS += tests/fuzz/fuzz_manifest
FUZZ_TARGETS += tests/fuzz/fuzz_meta_parse

if FUZZING
FUZZ_LINK = -fsanitize=fuzzer
FUZZ_MAIN =
else
FUZZ_LINK =
FUZZ_MAIN = tests/fuzz/replay.c
endif
FUZZ_TCFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/lib $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(ZSTD_CFLAGS) $(LZMA_CFLAGS) \
	-DZU_CORPUS_ROOT='"$(abs_top_srcdir)/tests/fuzz/corpus"'
EXTRA_DIST += tests/fuzz/corpus
EXTRA_DIST += tests/fuzz/dict/json.dict tests/fuzz/dict/http.dict

# The fetch client state parser (an untrusted file) and header-value filter.
FUZZ_TARGETS += tests/fuzz/fuzz_fetch_state
tests_fuzz_fuzz_fetch_state_SOURCES = tests/fuzz/fuzz_fetch_state.c $(FUZZ_MAIN)
tests_fuzz_fuzz_fetch_state_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_fetch_state"'
tests_fuzz_fuzz_fetch_state_LDADD = lib/libzupd_core.la
tests_fuzz_fuzz_fetch_state_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

FUZZ_LDADD = lib/libzupd_core.la
FUZZ_TARGETS += tests/fuzz/fuzz_delta_apply
tests_fuzz_fuzz_delta_apply_SOURCES = tests/fuzz/fuzz_delta_apply.c $(FUZZ_MAIN)
tests_fuzz_fuzz_delta_apply_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_delta_apply"'
tests_fuzz_fuzz_delta_apply_LDADD = lib/libzupd_core.la
tests_fuzz_fuzz_delta_apply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# The executable stage of deltas: the ELF parser, the transform, and
# apply(create(old, new)) == new on ELF-looking pairs.
FUZZ_TARGETS += tests/fuzz/fuzz_delta_exe
tests_fuzz_fuzz_delta_exe_SOURCES = tests/fuzz/fuzz_delta_exe.c tests/fuzz/exe_ref.h $(FUZZ_MAIN)
tests_fuzz_fuzz_delta_exe_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror \
	-DZU_FUZZ_NAME='"fuzz_delta_exe"'
tests_fuzz_fuzz_delta_exe_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_delta_exe_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# The sync selection file (DIR/.zupd/sync-selection) and the choice of what a
# filtered sync keeps.
FUZZ_TARGETS += tests/fuzz/fuzz_sync_select
tests_fuzz_fuzz_sync_select_SOURCES = tests/fuzz/fuzz_sync_select.c $(FUZZ_MAIN)
tests_fuzz_fuzz_sync_select_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror \
	-DZU_FUZZ_NAME='"fuzz_sync_select"'
tests_fuzz_fuzz_sync_select_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_sync_select_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# What zupd-mirror serve parses of a request: path, Range, dates, ETag lists.
FUZZ_TARGETS += tests/fuzz/fuzz_serve_http
tests_fuzz_fuzz_serve_http_SOURCES = tests/fuzz/fuzz_serve_http.c $(FUZZ_MAIN)
tests_fuzz_fuzz_serve_http_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror \
	-DZU_FUZZ_NAME='"fuzz_serve_http"'
tests_fuzz_fuzz_serve_http_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_serve_http_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# The client workflow's trusted metadata set (lib/trusted.c): a sequence of
# (role, document) records from a trusted root on, and the TUF decisions.
FUZZ_TARGETS += tests/fuzz/fuzz_trusted
tests_fuzz_fuzz_trusted_SOURCES = tests/fuzz/fuzz_trusted.c $(FUZZ_MAIN)
tests_fuzz_fuzz_trusted_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_trusted"'
tests_fuzz_fuzz_trusted_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_trusted_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# zupd-mirror audit over a hostile repository (mirror/repo/audit.c): the
# staged release.json, metadata, manifests, blobs and deltas it fetches.
FUZZ_TARGETS += tests/fuzz/fuzz_audit
tests_fuzz_fuzz_audit_SOURCES = tests/fuzz/fuzz_audit.c $(FUZZ_MAIN)
tests_fuzz_fuzz_audit_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror -DZU_FUZZ_NAME='"fuzz_audit"'
tests_fuzz_fuzz_audit_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_audit_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# The transparency log (lib/tlog.c, lib/note.c): signed notes with
# cosignatures and vkeys, checkpoint text, tiles and bundles from a hostile
# server, proofs. Seeds: tests/interop/tlogtool seeds (docs/transparency.md).
FUZZ_TARGETS += tests/fuzz/fuzz_note
tests_fuzz_fuzz_note_SOURCES = tests/fuzz/fuzz_note.c tests/fuzz/fuzz_tlog_keys.h $(FUZZ_MAIN)
tests_fuzz_fuzz_note_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_note"'
tests_fuzz_fuzz_note_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_note_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_checkpoint
tests_fuzz_fuzz_checkpoint_SOURCES = tests/fuzz/fuzz_checkpoint.c $(FUZZ_MAIN)
tests_fuzz_fuzz_checkpoint_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_checkpoint"'
tests_fuzz_fuzz_checkpoint_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_checkpoint_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_tlog_custom
tests_fuzz_fuzz_tlog_custom_SOURCES = tests/fuzz/fuzz_tlog_custom.c $(FUZZ_MAIN)
tests_fuzz_fuzz_tlog_custom_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_tlog_custom"'
tests_fuzz_fuzz_tlog_custom_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlog_custom_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_witness_req
tests_fuzz_fuzz_witness_req_SOURCES = tests/fuzz/fuzz_witness_req.c tests/fuzz/fuzz_tlog_keys.h $(FUZZ_MAIN)
tests_fuzz_fuzz_witness_req_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror -DZU_FUZZ_NAME='"fuzz_witness_req"'
tests_fuzz_fuzz_witness_req_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_witness_req_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_tlog_tiles
tests_fuzz_fuzz_tlog_tiles_SOURCES = tests/fuzz/fuzz_tlog_tiles.c $(FUZZ_MAIN)
tests_fuzz_fuzz_tlog_tiles_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_tlog_tiles"'
tests_fuzz_fuzz_tlog_tiles_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlog_tiles_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_tlog_proof
tests_fuzz_fuzz_tlog_proof_SOURCES = tests/fuzz/fuzz_tlog_proof.c $(FUZZ_MAIN)
tests_fuzz_fuzz_tlog_proof_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_tlog_proof"'
tests_fuzz_fuzz_tlog_proof_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlog_proof_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
# The offline log proof unit (lib/tlog_proof.c): parser, writer, check.
FUZZ_TARGETS += tests/fuzz/fuzz_tlog_proof_unit
tests_fuzz_fuzz_tlog_proof_unit_SOURCES = tests/fuzz/fuzz_tlog_proof_unit.c tests/fuzz/fuzz_tlog_keys.h $(FUZZ_MAIN)
tests_fuzz_fuzz_tlog_proof_unit_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_tlog_proof_unit"'
tests_fuzz_fuzz_tlog_proof_unit_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlog_proof_unit_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
EXTRA_DIST += tests/fuzz/dict/note.dict

if FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
else
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += $(FUZZ_TARGETS)
endif

tests_fuzz_fuzz_cjson_SOURCES = tests/fuzz/fuzz_cjson.c $(FUZZ_MAIN)
tests_fuzz_fuzz_cjson_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_cjson"'
tests_fuzz_fuzz_cjson_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_cjson_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

tests_fuzz_fuzz_keyfile_SOURCES = tests/fuzz/fuzz_keyfile.c $(FUZZ_MAIN)
tests_fuzz_fuzz_keyfile_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror -DZU_FUZZ_NAME='"fuzz_keyfile"'
tests_fuzz_fuzz_keyfile_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_keyfile_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

# PKCS#11 URIs (RFC 7512), given on the command line and kept in key references
FUZZ_TARGETS += tests/fuzz/fuzz_pkcs11_uri
tests_fuzz_fuzz_pkcs11_uri_SOURCES = tests/fuzz/fuzz_pkcs11_uri.c $(FUZZ_MAIN)
tests_fuzz_fuzz_pkcs11_uri_CFLAGS = $(FUZZ_TCFLAGS) -I$(top_srcdir)/mirror -DZU_FUZZ_NAME='"fuzz_pkcs11_uri"'
tests_fuzz_fuzz_pkcs11_uri_LDADD = mirror/libzupdpub.la $(FUZZ_LDADD)
tests_fuzz_fuzz_pkcs11_uri_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

tests_fuzz_fuzz_manifest_SOURCES = tests/fuzz/fuzz_manifest.c $(FUZZ_MAIN)
tests_fuzz_fuzz_manifest_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_manifest"'
tests_fuzz_fuzz_manifest_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_manifest_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

tests_fuzz_fuzz_meta_parse_SOURCES = tests/fuzz/fuzz_meta_parse.c $(FUZZ_MAIN)
tests_fuzz_fuzz_meta_parse_CFLAGS = $(FUZZ_TCFLAGS) -DZU_FUZZ_NAME='"fuzz_meta_parse"'
tests_fuzz_fuzz_meta_parse_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_meta_parse_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)


EXTRA_DIST += tests/fuzz/gen_trusted_corpus.sh
EXTRA_DIST += tests/fuzz/gen_audit_corpus.sh

# zupd.conf (updater/conf.c, over libconfig): sizes, windows, mirrors,
# components; and the full_speed_window parser alone.
FUZZ_TARGETS += tests/fuzz/fuzz_conf
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c updater/conf.c $(FUZZ_MAIN)
tests_fuzz_fuzz_conf_CFLAGS = $(FUZZ_TCFLAGS) $(LIBCONFIG_CFLAGS) -I$(top_srcdir)/updater \
	-DZU_FUZZ_NAME='"fuzz_conf"'
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LDADD) $(LIBCONFIG_LIBS)
tests_fuzz_fuzz_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
