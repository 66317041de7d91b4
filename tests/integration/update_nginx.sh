#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_nginx.sh -- the endpoint client updating from nginx
# on 127.0.0.1, serving a tree published by zupd-mirror with the shipped
# packaging/nginx/zupd-mirror.conf (only listen, root and access_log
# rewritten, as tests/integration/serve.sh runs it): first install, an idle
# check answered 304, an update by delta, a download cut short by another
# mirror and resumed from nginx by a Range request, a vendor rollback. Skips
# (exit 77) only when nginx is not installed; with ZUPD_TESTS_REQUIRE_NGINX=1
# (set by .ci/run) a missing nginx fails instead.
set -u
LC_ALL=C ZUPD_KDF_COST=min
export LC_ALL ZUPD_KDF_COST
. "$(dirname "$0")/lib.sh"
test_init nginx
find_nginx || skip_or_fail ZUPD_TESTS_REQUIRE_NGINX "nginx is not installed (scripts/deps.sh installs nginx-light)"

# jq_check FILE PYTHON-ASSERTIONS: run assertions on the JSON report d
jq_check() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["components"][0] if "components" in d else {}
exec(sys.argv[2])
PY
}

"$MIRROR" init "$work/repo" --keys "$work/keys" --same-passphrase > "$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
make_tree "$work/v1" 1.0 40
make_tree "$work/v2" 2.0 40
make_tree "$work/v3" 3.0 40
head -c 1500000 /dev/urandom > "$work/v3/bin/big" # an incompressible 1.5 MB blob
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1

start_nginx "$work/repo" 1 || { echo "FAIL: nginx did not start"; exit 1; }
PORT=${nginx_url##*:}
ACCESS=$work/nginx/access.log
echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*version: //') serving $work/repo on $nginx_url"
write_conf
Z="$ZUPD --config $work/zupd.conf"
# nginx keeps open files up to open_file_cache_valid (1 s): a timestamp.json
# renamed into place reaches clients within a second
settle() { sleep 1.2; }

# --- first install
expect_rc 0 "first install from nginx" $Z --json update
tree_is "$work/v1" && ok "install path holds 1.0" || bad "install path is not 1.0"
jq_check "$work/out" '
print("  1.0: %(files)d files, %(whole)d whole, %(downloaded)d of %(full_size)d bytes" % c)
assert c["action"] == "installed" and c["to"] == "1.0" and c["whole"] == c["files"] > 40
assert 0 < c["downloaded"] <= c["full_size"]' && ok "first install: every file whole" ||
    bad "first install report: $(cat "$work/out")"
expect_rc 0 "verify 1.0" $Z verify

# --- an idle check: the root probe (404) and a 304 for timestamp.json
expect_rc 0 "idle check" $Z --json check
jq_check "$work/out" '
print("  idle check: %(requests)d requests, %(bytes)d body bytes" % d)
assert d["requests"] == 2 and not d["metadata_changed"]' &&
    ok "idle check against nginx: 2 requests" || bad "idle check: $(cat "$work/out")"
tail -n 2 "$ACCESS" | grep -q '"GET /metadata/timestamp.json HTTP/1.1" 304' &&
    ok "nginx answered the timestamp with 304" || { bad "no 304 from nginx"; tail -n 3 "$ACCESS"; }

# --- an update by delta
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
settle
expect_rc 0 "update 1.0 -> 2.0 from nginx" $Z --json update
tree_is "$work/v2" && ok "install path holds 2.0" || bad "install path is not 2.0"
jq_check "$work/out" '
print("  2.0: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, %(whole)d whole, "
      "%(downloaded)d of %(full_size)d bytes" % c)
assert c["action"] == "installed" and c["by_delta"] >= 1 and c["unchanged"] >= 30
assert c["downloaded"] * 5 < c["full_size"]' && ok "2.0 came by delta and links" ||
    bad "2.0 report: $(cat "$work/out")"
grep -q '"GET /blobs/sha256/' "$ACCESS" && ok "blobs came from nginx" || bad "no blob request in nginx's log"

# --- a download cut short by another mirror, resumed from nginx by Range
publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
settle
big_hex=$(python3 - "$work/repo" <<'PY'
import glob, json, sys
m = json.load(open(glob.glob(sys.argv[1] + "/targets/products/product/3.0/*.manifest.json")[0]))
for f in m["files"]:
    if f["path"] == "bin/big":
        print(f["blob"]["sha256"])
PY
)
big_size=$(stat -c %s "$work/repo/blobs/sha256/$(echo "$big_hex" | cut -c1-2)/$big_hex" 2> /dev/null)
[ -n "$big_hex" ] && [ "${big_size:-0}" -gt 1000000 ] && ok "3.0's big blob: $big_size bytes" ||
    bad "no big blob in 3.0 ($big_hex)"
# a mirror that sends half of any blob over 1 MB, then closes the connection
printf '[{"path":"blobs/*","mode":"cut","min_size":1000001}]\n' >"$work/cut-rules.json"
start_fixture cut repo "$work/repo" "$work/cut-rules.json" || exit 1
sed "s|http://127.0.0.1:$PORT/|http://127.0.0.1:$cut_port/cut/|" "$work/zupd.conf" > "$work/cut.conf"
"$ZUPD" --config "$work/cut.conf" update > "$work/out" 2> "$work/err"; rc=$?
[ "$rc" != 0 ] && ok "the update through the cutting mirror fails (exit $rc: $(head -c 120 "$work/err"))" ||
    bad "the update through the cutting mirror succeeded"
tree_is "$work/v2" && ok "still on 2.0 after the failed update" || bad "not on 2.0 after the failed update"
part=$work/state/cache/$big_hex.part
part_size=$(stat -c %s "$part" 2> /dev/null || echo 0)
[ "$part_size" -gt 0 ] && [ "$part_size" -lt "$big_size" ] &&
    ok "a partial download of $part_size of $big_size bytes stays in the cache" ||
    bad "no partial download in the cache ($part_size bytes)"
kill "$cut_pid" 2> /dev/null; wait "$cut_pid" 2> /dev/null
lines_before=$(wc -l < "$ACCESS")
expect_rc 0 "update 2.0 -> 3.0 from nginx, resuming the partial" $Z --json update
tree_is "$work/v3" && ok "install path holds 3.0" || bad "install path is not 3.0"
range_line=$(tail -n +"$((lines_before + 1))" "$ACCESS" | grep "GET /blobs/sha256/../$big_hex ")
echo "  nginx: $range_line"
echo "$range_line" | grep -q '" 206 ' && ok "nginx answered the resumed blob with 206" ||
    bad "the big blob was not resumed by a Range request"
sent=$(echo "$range_line" | awk '{print $10}')
[ "$((part_size + sent))" = "$big_size" ] &&
    ok "nginx sent the missing $sent bytes (partial $part_size + $sent = $big_size)" ||
    bad "nginx sent $sent bytes after a partial of $part_size (blob $big_size)"
jq_check "$work/out" "
print('  3.0: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, %(whole)d whole, '
      '%(downloaded)d of %(full_size)d bytes' % c)
assert c['action'] == 'installed' and c['to'] == '3.0' and c['whole'] >= 1
assert c['downloaded'] < $big_size" && ok "3.0 downloaded less than the big blob" ||
    bad "3.0 report: $(cat "$work/out")"
expect_rc 0 "verify 3.0" $Z verify

# --- the vendor's rollback reaches the endpoint through nginx without a download
promote product 2.0 stable --rollback || exit 1
settle
expect_rc 0 "vendor rollback through nginx" $Z --json update
tree_is "$work/v2" && ok "rolled back to 2.0" || bad "not on 2.0 after the vendor rollback"
jq_check "$work/out" 'assert c["action"] == "installed" and c["downloaded"] == 0' &&
    ok "the rollback downloaded no payload" || bad "rollback report: $(cat "$work/out")"

[ -z "$(grep -v '" \(200\|206\|304\|404\) ' "$ACCESS")" ] && ok "nginx answered only 200, 206, 304, 404" ||
    { bad "unexpected answers from nginx"; grep -v '" \(200\|206\|304\|404\) ' "$ACCESS" | head; }
finish update_nginx
