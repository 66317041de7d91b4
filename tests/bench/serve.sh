#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/serve.sh -- zupd-mirror serve against nginx running
# packaging/nginx/zupd-mirror.conf, same tree, same run, wrk on 127.0.0.1:
# requests/s and p99 latency for timestamp.json, for conditional requests
# answered 304, and MB/s for a large blob. Both log every request to a file
# and use the same number of workers. A benchmark, never a test: it prints
# figures and fails only when something does not run.
#   BENCH_SECONDS   per measurement (default 4)
#   BENCH_ROUNDS    rounds, servers taking turns; medians reported (default 5)
#   BENCH_CONNS     wrk connections for the small requests (default 100)
#   BENCH_THREADS   server threads / nginx workers (default 2)
#   BENCH_BLOB_MIB  size of the large blob (default 64)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
secs=${BENCH_SECONDS:-4}
conns=${BENCH_CONNS:-100}
threads=${BENCH_THREADS:-2}
mib=${BENCH_BLOB_MIB:-64}
reps=${BENCH_ROUNDS:-5}
command -v wrk >/dev/null || { echo "serve bench: wrk missing (apt-get install wrk)"; exit 1; }
. "$top_srcdir/tests/integration/lib.sh"
test_init bench-serve

if nm "$MIRROR" 2>/dev/null | grep -q __asan_init || nm "$top_builddir/mirror/.libs/zupd-mirror" 2>/dev/null | grep -q __asan_init; then
    echo "serve bench: WARNING: $MIRROR is built with sanitizers; build without --enable-sanitizers for real figures"
fi
root=$tmp/repo
make_serve_tree "$root" "$mib"
# a timestamp.json of a realistic size (~1 KB: one signature, snapshot meta)
python3 -c 'import json,sys; print(json.dumps({"signatures":[{"keyid":"a"*64,"sig":"b"*128}],"signed":{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"hashes":{"sha256":"c"*64,"sha512":"d"*128},"length":1234,"version":42}},"spec_version":"1.0.31","version":4242}}, indent=1))' >"$root/timestamp.json"
start_serve zs "$root" --threads "$threads" --access-log "$tmp/zs-access.log" || exit 1
start_nginx "$root" "$threads" || { echo "serve bench: nginx did not start"; exit 1; }

# run_wrk URL CONNS [HEADER]: prints "REQS_PER_S P99_MS MB_PER_S"
run_wrk() {
    url=$1 c=$2
    shift 2
    if [ $# -gt 0 ]; then
        wrk -t2 -c"$c" -d"${secs}s" --timeout 30s --latency -H "$1" "$url" >"$tmp/wrk.out" 2>&1
    else
        wrk -t2 -c"$c" -d"${secs}s" --timeout 30s --latency "$url" >"$tmp/wrk.out" 2>&1
    fi
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                         if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
        function mb(v) { if (v ~ /GB$/) return v * 1024; if (v ~ /MB$/) return v + 0;
                         if (v ~ /KB$/) return v / 1024; if (v ~ /B$/) return v / 1048576; return v }
        $1 == "Requests/sec:" { r = $2 }
        $1 == "99%" { p = ms($2) }
        $1 == "Transfer/sec:" { t = mb($2) }
        /Non-2xx or 3xx/ { bad = $NF }
        /Socket errors/ { err = $0; sub(/.*Socket errors: */, "", err); gsub(/, /, ",", err); gsub(/ /, "=", err) }
        END { printf "%.0f %.3f %.1f %s\n", r, p, t, (bad ? "non2xx3xx=" bad : "") (err ? "socket-errors:" err : "") }
    ' "$tmp/wrk.out"
}

etag_of() {
    curl -s -I "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo "serve bench: $(nproc) CPUs (load average $(cut -d' ' -f1-3 /proc/loadavg)), wrk -t2, ${secs}s per run, $reps alternating rounds, medians"
echo "serve bench: $threads server threads / nginx workers; zupd-mirror $zs_url, nginx $("$NGINX" -v 2>&1 | sed 's/.*version: //') $nginx_url"
for srv in zs ng; do
    [ $srv = zs ] && u=$zs_url || u=$nginx_url
    # warm both (page cache, metadata cache)
    curl -s -o /dev/null "$u/timestamp.json"
    curl -s -o /dev/null "$u/blobs/sha256/ab/big"
done
# the servers take turns, so that the neighbours' load falls on both alike
rep=1
while [ $rep -le "$reps" ]; do
    for srv in zs ng; do
        [ $srv = zs ] && u=$zs_url || u=$nginx_url
        set -- $(run_wrk "$u/timestamp.json" "$conns")
        echo "$1" >>"$tmp/${srv}_ts_rps"; echo "$2" >>"$tmp/${srv}_ts_p99"; [ -n "${4:-}" ] && echo "$srv timestamp: $4"
        set -- $(run_wrk "$u/timestamp.json" "$conns" "If-None-Match: $(etag_of "$u/timestamp.json")")
        echo "$1" >>"$tmp/${srv}_nm_rps"; echo "$2" >>"$tmp/${srv}_nm_p99"; [ -n "${4:-}" ] && echo "$srv 304: $4"
        set -- $(run_wrk "$u/blobs/sha256/ab/big" 4)
        echo "$3" >>"$tmp/${srv}_bl_mbs"; echo "$2" >>"$tmp/${srv}_bl_p99"; [ -n "${4:-}" ] && echo "$srv blob: $4"
    done
    echo "serve bench: round $rep: timestamp $(tail -n 1 "$tmp/zs_ts_rps")/$(tail -n 1 "$tmp/ng_ts_rps") req/s, 304 $(tail -n 1 "$tmp/zs_nm_rps")/$(tail -n 1 "$tmp/ng_nm_rps") req/s, blob $(tail -n 1 "$tmp/zs_bl_mbs")/$(tail -n 1 "$tmp/ng_bl_mbs") MiB/s (zupd/nginx)"
    rep=$((rep + 1))
done
median() { sort -n "$tmp/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for m in ts_rps ts_p99 nm_rps nm_p99 bl_mbs bl_p99; do
    eval "zs_$m=$(median zs_$m) ng_$m=$(median ng_$m)"
done
# check the 304 runs were 304s
code304() { curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $(etag_of "$1/timestamp.json")" "$1/timestamp.json"; }
echo "serve bench: conditional request answered $(code304 "$zs_url") by zupd-mirror, $(code304 "$nginx_url") by nginx"

printf '\n| %-36s | %17s | %12s | %16s |\n' "measure" "zupd-mirror serve" "nginx" "zupd / nginx"
printf '| %-36s | %17s | %12s | %16s |\n' "------------------------------------" "-----------------" "------------" "----------------"
row() { printf '| %-36s | %17s | %12s | %16s |\n' "$1" "$2" "$3" "$4"; }
row "timestamp.json requests/s (c=$conns)" "$zs_ts_rps" "$ng_ts_rps" "$(ratio "$zs_ts_rps" "$ng_ts_rps")"
row "timestamp.json p99 ms" "$zs_ts_p99" "$ng_ts_p99" "$(ratio "$zs_ts_p99" "$ng_ts_p99")"
row "304 (If-None-Match) requests/s" "$zs_nm_rps" "$ng_nm_rps" "$(ratio "$zs_nm_rps" "$ng_nm_rps")"
row "304 (If-None-Match) p99 ms" "$zs_nm_p99" "$ng_nm_p99" "$(ratio "$zs_nm_p99" "$ng_nm_p99")"
row "$mib MiB blob MiB/s (c=4)" "$zs_bl_mbs" "$ng_bl_mbs" "$(ratio "$zs_bl_mbs" "$ng_bl_mbs")"
row "$mib MiB blob p99 ms" "$zs_bl_p99" "$ng_bl_p99" "$(ratio "$zs_bl_p99" "$ng_bl_p99")"
echo
echo "(ratios above 1 are better for zupd-mirror on requests/s and MiB/s, below 1 on p99)"
exit 0
