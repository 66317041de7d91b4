# SPDX-License-Identifier: Apache-2.0
# tests/unit/local.mk -- cmocka unit tests, one program per module
UNIT_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/lib $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) \
	-DZU_TESTDATA='"$(abs_top_srcdir)/tests/data"'
UNIT_LIBS = lib/libzupd_core.la $(CMOCKA_LIBS)
# tests of the publisher library (mirror/)
PUB_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mirror
PUB_UNIT_LIBS = mirror/libzupdpub.la $(UNIT_LIBS)

UNIT_TESTS =
UNIT_TESTS += tests/unit/t_err
UNIT_TESTS += tests/unit/t_buf
UNIT_TESTS += tests/unit/t_hash
UNIT_TESTS += tests/unit/t_json
UNIT_TESTS += tests/unit/t_key
UNIT_TESTS += tests/unit/t_signer
UNIT_TESTS += tests/unit/t_passphrase
UNIT_TESTS += tests/unit/t_conf
UNIT_TESTS += tests/unit/t_manifest
UNIT_TESTS += tests/unit/t_fetch_mem
UNIT_TESTS += tests/unit/t_store
UNIT_TESTS += tests/unit/t_meta
UNIT_TESTS += tests/unit/t_meta_match
UNIT_TESTS += tests/unit/t_meta_build
UNIT_TESTS += tests/unit/t_repo
UNIT_TESTS += tests/unit/t_delta
UNIT_TESTS += tests/unit/t_fsio
UNIT_TESTS += tests/unit/t_serve_http
UNIT_TESTS += tests/unit/t_serve_cache
UNIT_TESTS += tests/unit/t_sync_select
UNIT_TESTS += tests/unit/t_plan

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
tests_unit_t_json_SOURCES = tests/unit/t_json.c
tests_unit_t_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_json_LDADD = $(UNIT_LIBS)
tests_unit_t_key_SOURCES = tests/unit/t_key.c
tests_unit_t_key_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_key_LDADD = $(UNIT_LIBS)
tests_unit_t_signer_SOURCES = tests/unit/t_signer.c
tests_unit_t_signer_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_signer_LDADD = $(PUB_UNIT_LIBS)
tests_unit_t_passphrase_SOURCES = tests/unit/t_passphrase.c
tests_unit_t_passphrase_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_passphrase_LDADD = $(PUB_UNIT_LIBS)
tests_unit_t_conf_SOURCES = tests/unit/t_conf.c updater/conf.c
tests_unit_t_conf_CFLAGS = $(UNIT_CFLAGS) $(LIBCONFIG_CFLAGS) -I$(top_srcdir)/updater -DZU_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_t_conf_LDADD = lib/libzupd_core.la $(CMOCKA_LIBS) $(LIBCONFIG_LIBS)
tests_unit_t_manifest_SOURCES = tests/unit/t_manifest.c
tests_unit_t_manifest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_manifest_LDADD = $(UNIT_LIBS)
tests_unit_t_fetch_mem_SOURCES = tests/unit/t_fetch_mem.c
tests_unit_t_fetch_mem_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_fetch_mem_LDADD = $(UNIT_LIBS)
tests_unit_t_store_SOURCES = tests/unit/t_store.c
tests_unit_t_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_store_LDADD = $(UNIT_LIBS)
tests_unit_t_meta_SOURCES = tests/unit/t_meta.c tests/unit/t_meta_util.h
tests_unit_t_meta_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_meta_LDADD = $(UNIT_LIBS) $(JANSSON_LIBS)
tests_unit_t_meta_match_SOURCES = tests/unit/t_meta_match.c
tests_unit_t_meta_match_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_meta_match_LDADD = $(UNIT_LIBS)
tests_unit_t_meta_build_SOURCES = tests/unit/t_meta_build.c tests/unit/t_meta_util.h
tests_unit_t_meta_build_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_meta_build_LDADD = $(UNIT_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)
tests_unit_t_repo_SOURCES = tests/unit/t_repo.c
tests_unit_t_repo_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_repo_LDADD = $(PUB_UNIT_LIBS)
# delta creation lives in libzupdpub: t_delta links it
tests_unit_t_delta_SOURCES = tests/unit/t_delta.c tests/fuzz/exe_ref.h
tests_unit_t_delta_CFLAGS = $(UNIT_CFLAGS) $(ZSTD_CFLAGS) $(LZMA_CFLAGS) -I$(top_srcdir)/mirror
tests_unit_t_delta_LDADD = $(PUB_UNIT_LIBS) $(ZSTD_LIBS) $(LZMA_LIBS) $(BZ2_LIBS)
tests_unit_t_fsio_SOURCES = tests/unit/t_fsio.c
tests_unit_t_fsio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_fsio_LDADD = $(UNIT_LIBS)
tests_unit_t_serve_http_SOURCES = tests/unit/t_serve_http.c
tests_unit_t_serve_http_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_serve_http_LDADD = $(PUB_UNIT_LIBS)
tests_unit_t_serve_cache_SOURCES = tests/unit/t_serve_cache.c
tests_unit_t_serve_cache_CFLAGS = $(PUB_UNIT_CFLAGS) $(MHD_CFLAGS)
tests_unit_t_serve_cache_LDADD = $(PUB_UNIT_LIBS)
tests_unit_t_sync_select_SOURCES = tests/unit/t_sync_select.c
tests_unit_t_sync_select_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_sync_select_LDADD = $(PUB_UNIT_LIBS)
tests_unit_t_plan_SOURCES = tests/unit/t_plan.c
tests_unit_t_plan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_t_plan_LDADD = $(UNIT_LIBS)

# The transparency log core (lib/tlog.c, lib/note.c) and note signing (mirror/keys/notesign.c).
UNIT_TESTS += tests/unit/t_tlog
tests_unit_t_tlog_SOURCES = tests/unit/t_tlog.c tests/unit/t_tlog_mem.h
tests_unit_t_tlog_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_tlog_LDADD = $(PUB_UNIT_LIBS)
# The auditor's checks of a log (mirror/repo/logaudit.c): consistency, fork, rollback, entries.
UNIT_TESTS += tests/unit/t_logaudit
tests_unit_t_logaudit_SOURCES = tests/unit/t_logaudit.c tests/unit/t_tlog_mem.h
tests_unit_t_logaudit_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_logaudit_LDADD = $(PUB_UNIT_LIBS)

# The log proof unit (lib/tlog_proof.c): format, parser, offline check.
UNIT_TESTS += tests/unit/t_tlog_proof
tests_unit_t_tlog_proof_SOURCES = tests/unit/t_tlog_proof.c tests/unit/t_tlog_mem.h
tests_unit_t_tlog_proof_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_tlog_proof_LDADD = $(PUB_UNIT_LIBS)

# The tlog-witness: request parser and decisions (mirror/witness/witness.c).
UNIT_TESTS += tests/unit/t_witness
tests_unit_t_witness_SOURCES = tests/unit/t_witness.c
tests_unit_t_witness_CFLAGS = $(PUB_UNIT_CFLAGS)
tests_unit_t_witness_LDADD = $(PUB_UNIT_LIBS)
