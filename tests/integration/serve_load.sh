#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve_load.sh -- zupd-mirror serve under load on
# 127.0.0.1: 1,000 connections open at once, each sending 12 keep-alive
# requests (metadata, a 64 KiB blob, a 304, a Range), no errors; then the
# same load four more times while the server's VmRSS is watched. Bounded:
# about 10-20 s. Memory must stay flat: after a first (warm-up) round, four
# more rounds may add at most 24 MiB of RSS in all (a leak of one small
# buffer per request would add more: 48,000 requests); and under ASan,
# LeakSanitizer must find nothing when the server stops.
set -u
. "$(dirname "$0")/lib.sh"
need python3 curl
test_init serve-load

CONNS=${CONNS:-1000}
REQS=${REQS:-12}
ROUNDS=${ROUNDS:-4}
BOUND_KIB=$((24 * 1024))

root=$tmp/repo
make_serve_tree "$root"
head -c 65536 /dev/urandom >"$root/blobs/sha256/ab/ab64"
# no ASan quarantine: freed memory is reused at once, so RSS means something
# (a quarantine fills up to its size while the load runs and looks like a
# leak); LeakSanitizer still checks the exit
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0
export ASAN_OPTIONS
start_serve zs "$root" --threads 2 --max-connections 4096 --max-per-ip 0 --timeout 60 \
    --access-log "$tmp/access.log" || exit 1
port=${zs_url##*:}

load() {
    python3 "$top_srcdir/tests/integration/serve_load.py" "$port" "$root" \
        blobs/sha256/ab/ab64 "$CONNS" "$REQS"
}

out=$(load)
check "warm-up round: $out" "$out" "^conns=$CONNS open=$CONNS requests=$((CONNS * REQS)) errors=0 "
rss0=$(rss_kib "$zs_pid")
check "VmRSS readable" "$rss0" '^[0-9]+$' || exit 1
i=1
while [ $i -le "$ROUNDS" ]; do
    out=$(load)
    check "round $i: $out" "$out" "^conns=$CONNS open=$CONNS requests=$((CONNS * REQS)) errors=0 "
    echo "   VmRSS after round $i: $(rss_kib "$zs_pid") KiB"
    i=$((i + 1))
done
rss1=$(rss_kib "$zs_pid")
grow=$((rss1 - rss0))
echo "   VmRSS after warm-up ${rss0} KiB, after $ROUNDS more rounds ${rss1} KiB (+${grow} KiB, bound ${BOUND_KIB} KiB)"
[ "$grow" -le "$BOUND_KIB" ]; eq "memory flat (+${grow} KiB <= ${BOUND_KIB} KiB)" $? 0
lines=$(wc -l <"$tmp/access.log")
eq "one access log line per request" "$lines" $((CONNS * REQS * (ROUNDS + 1)))
grep -v '" \(200\|206\|304\) ' "$tmp/access.log" | head -n 3
eq "still answering" "$(curl -s -o /dev/null -w '%{http_code}' "$zs_url/timestamp.json")" 200
# a clean stop; under ASan, LeakSanitizer runs at exit and fails it on a leak
kill -TERM "$zs_pid"
wait "$zs_pid"; rc=$?
zs_pid=
check "clean stop after the load, no leak" "rc=$rc $(cat "$tmp/zs.err")" "^rc=0 " "stopped"
grep -q LeakSanitizer "$tmp/zs.err" && cat "$tmp/zs.err"

finish
