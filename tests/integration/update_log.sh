#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_log.sh -- what an update did, refused or failed
# goes to the log (syslog; here $ZUPD_SYSLOG_SOCKET, a datagram socket this
# test reads, so no syslog daemon is needed): one line per event with the
# component, the versions and the reason; log_syslog = false turns it off;
# the terminal output stays as it was. Events: installed, up to date,
# rolled back after a failed health check, a version marked bad, refused.
set -u
. "$(dirname "$0")/lib.sh"
test_init log
need python3

start_repo || exit 1
make_tree "$work/v1" 1.0 20
make_tree "$work/v2" 2.0 20
make_tree "$work/v3" 3.0 20
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
write_conf
Z="$ZUPD --config $work/zupd.conf"

# the syslog stand-in: every datagram, one line each, into $work/syslog
ZUPD_SYSLOG_SOCKET=$work/log.sock
export ZUPD_SYSLOG_SOCKET
python3 - "$ZUPD_SYSLOG_SOCKET" "$work/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode("utf-8", "replace") + "\n")
PY
track_pid $!
i=0
while [ ! -S "$ZUPD_SYSLOG_SOCKET" ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
[ -S "$ZUPD_SYSLOG_SOCKET" ] || { bad "the syslog stand-in did not start"; finish; }
: >"$work/syslog"
# the lines of the last run: datagrams are delivered before send() returns,
# but the reader may still be writing them out
logged() {
    sleep 0.3
    cat "$work/syslog"
    : >"$work/syslog"
}

expect_rc 0 "first install" $Z update
check "the terminal output is as it was" "$(cat "$work/out")" "^product: none -> 1.0: [0-9]+ files"
check "install: logged with component, versions and bytes" "$(logged)" \
    "^<29>zupd\[[0-9]+\]: component=product action=installed from=none to=1.0 bytes=[1-9][0-9]*$"

expect_rc 0 "up to date" $Z update
check "the terminal output is as it was" "$(cat "$work/out")" "^product: up-to-date on 1.0$"
check "up to date: logged" "$(logged)" \
    "^<30>zupd\[[0-9]+\]: component=product action=up-to-date version=1.0$"
grep -q "root\.json" "$work/err" && bad "info lines without -v: $(cat "$work/err")" \
    || ok "without -v: no info lines on stderr"

# -v: the library's info lines too (here: the probe for a next root,
# 404); the log is the same
expect_rc 0 "up to date, -v" $Z -v update
check "-v: the library's info lines on stderr" "$(cat "$work/err")" "^zupd: .*2\.root\.json"
check "-v: the terminal output is as it was" "$(cat "$work/out")" "^product: up-to-date on 1.0$"
check "-v: logged as before" "$(logged)" "component=product action=up-to-date version=1.0$"

# 2.0 fails its health check: rolled back, logged with the reason; the
# next run refuses the version marked bad
write_conf "$work/hc.sh"
printf '#!/bin/sh\nexit 1\n' >"$work/hc.sh" && chmod 755 "$work/hc.sh"
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
expect_rc 101 "2.0 fails its health check" $Z update
check "rolled back: logged with both versions and the reason" "$(logged)" \
    "^<27>zupd\[[0-9]+\]: component=product action=rolled-back from=1.0 to=2.0 reason=health check failed on 2.0: back on 1.0"
expect_rc 0 "2.0 is marked bad" $Z update
check "the bad version: logged as refused at warning" "$(logged)" \
    "^<28>zupd\[[0-9]+\]: component=product action=refused from=1.0 to=2.0 reason=2.0 is marked bad"
write_conf

# 3.0 with every blob and delta damaged on the mirror: refused on its hash
publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
find "$work/repo" -path '*blobs*' -type f | while read -r f; do
    printf 'damaged by the test' >"$f"
done
expect_rc_any() { # any failure; the code depends on which check saw the damage first
    "$@" >"$work/out" 2>"$work/err"
    _rc=$?
    if [ $_rc -ge 10 ]; then ok "damaged 3.0: refused (exit $_rc)"; else
        bad "damaged 3.0: exit $_rc"
        cat "$work/err"
    fi
}
expect_rc_any $Z update
l=$(logged)
check "refused: logged with component, versions and reason" "$l" \
    "^<27>zupd\[[0-9]+\]: component=product action=refused from=1.0 to=3.0 reason=.+ \((hash|length) mismatch"
printf '%s\n' "$l" | grep -q "$(sed -n 's/^zupd: cannot update .product.: //p' "$work/err" | head -1)" \
    && ok "the logged reason is the terminal's" || bad "reason differs: $l / $(cat "$work/err")"
eq "one line for the refused run" "$(printf '%s\n' "$l" | grep -c .)" 1

# -q: errors only on the terminal (no warnings); the log is the same
expect_rc_any $Z -q update
check "-q: only errors on stderr" "$(cat "$work/err")" "^zupd: cannot update 'product'"
grep -q "warning" "$work/err" && bad "-q: warnings on stderr" || ok "-q: no warnings on stderr"
check "-q: refused, logged as before" "$(logged)" "component=product action=refused from=1.0 to=3.0"

echo "log_syslog = false;" >>"$work/zupd.conf"
expect_rc_any $Z update
eq "log_syslog = false: nothing logged" "$(logged)" ""
finish
