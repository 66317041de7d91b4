#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/idle_check.sh -- issue 3 "Performance" (run by `make bench`,
# never by make check): what `zupd check` costs against a repository served
# on 127.0.0.1 (nginx when installed, else tests/integration/fixture_server.py),
# against a floor measured in the same run:
#   idle check    nothing new: requests, bytes, wall time (median of N runs)
#                 vs `curl` fetching timestamp.json once (one GET), plain
#                 and conditional (If-None-Match, a 304)
#   cold refresh  an empty client state against a repository of 10,000
#                 targets in 256 hash bins (products -> bins-00..ff):
#                 requests, bytes, wall time vs one `curl` process fetching
#                 the same URLs over one connection
# Build without sanitizers for meaningful times (the script says which
# build it ran). Environment: BENCH_N (runs, default 30), BENCH_TARGETS
# (10000), BENCH_BITS (8), BENCH_SERVER (nginx|python).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
N=${BENCH_N:-30}
NT=${BENCH_TARGETS:-10000}
BITS=${BENCH_BITS:-8}
ZUPD=$top_builddir/updater/zupd
T=$top_builddir/tests/integration/tufrepo
[ -x "$ZUPD" ] || { echo "idle_check.sh: build first ($ZUPD missing)" >&2; exit 1; }
[ -x "$T" ] || make -C "$top_builddir" tests/integration/tufrepo >/dev/null
command -v curl >/dev/null || { echo "idle_check.sh: curl missing" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

W=$(mktemp -d "${TMPDIR:-/tmp}/zupd-idle.XXXXXX")
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/www"
chmod 755 "$W" # nginx workers run as an unprivileged user

san=$(sed -n 's/^SAN_CFLAGS = *//p' "$top_builddir/Makefile" 2>/dev/null)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg); build $top_builddir (sanitizers: ${san:-none})"

# ---------------------------------------------------------------- repositories
"$T" init "$W/www/idle/r" >/dev/null
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"1.0"}' >"$W/ptr.json"
"$T" add-target "$W/www/idle/r" products products/product/channels/stable.json "$W/ptr.json"
"$T" publish "$W/www/idle/r"
"$T" bench-repo "$W/www/big/r" "$NT" "$BITS" >/dev/null

# ---------------------------------------------------------------- server
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server=${BENCH_SERVER:-nginx}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || server=python
if [ "$server" = nginx ]; then
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$W/ng"
    cat >"$W/ng/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $W/ng/nginx.pid;
error_log $W/ng/error.log;
events { worker_connections 256; }
http {
    access_log $W/ng/access.log;
    client_body_temp_path $W/ng/body; proxy_temp_path $W/ng/proxy;
    fastcgi_temp_path $W/ng/fcgi; uwsgi_temp_path $W/ng/uwsgi; scgi_temp_path $W/ng/scgi;
    default_type application/octet-stream;
    keepalive_requests 10000;
    server { listen 127.0.0.1:$port; root $W/www; etag on; }
}
EOF
    "$NGINX" -c "$W/ng/nginx.conf" -p "$W/ng" 2>"$W/ng/start.err" &
    srv_pid=$!
    log=$W/ng/access.log
else
    python3 "$top_srcdir/tests/integration/fixture_server.py" repo "$W/www" >"$W/srv.out" &
    srv_pid=$!
    sleep 1
    port=$(cut -d' ' -f2 "$W/srv.out")
    log=
fi
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/idle/r/repo/metadata/timestamp.json" && break; sleep 0.1; done
echo "# server: $server on 127.0.0.1:$port"
base() { if [ "$server" = nginx ]; then echo "http://127.0.0.1:$port/$1/r/repo/"; else echo "http://127.0.0.1:$port/good/$1/r/repo/"; fi; }

conf() {
    cat >"$W/$1.conf" <<EOF
mirrors = [ "$(base "$1")" ];
trusted_root = "$W/www/$1/r/repo/metadata/1.root.json";
state_dir = "$W/state-$1";
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$W/install"; } );
EOF
}
conf idle
conf big

# fsync as a no-op (LD_PRELOAD), to show what durability costs; optional
nofsync=
if command -v cc >/dev/null; then
    printf 'int fsync(int fd) { (void)fd; return 0; }\nint fdatasync(int fd) { (void)fd; return 0; }\n' >"$W/nofsync.c"
    cc -shared -fPIC -O2 -o "$W/nofsync.so" "$W/nofsync.c" 2>/dev/null && nofsync=$W/nofsync.so
fi

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# timeit N CMD...: median wall time in microseconds over N runs
timeit() {
    local n=$1 i t0
    shift
    for ((i = 0; i < n; i++)); do
        t0=$(now_ns)
        "$@" >/dev/null 2>&1 || [ $? -eq 100 ]
        echo $(( ($(now_ns) - t0) / 1000 ))
    done | median
}
loglines() { if [ -n "$log" ]; then wc -l <"$log"; else echo 0; fi; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------- idle check
"$ZUPD" --config "$W/idle.conf" check >/dev/null 2>"$W/first.err" || [ $? -eq 100 ] || { cat "$W/first.err"; exit 1; } # first run: full refresh
"$ZUPD" --config "$W/idle.conf" --json check >"$W/idle.json" 2>"$W/idle.err" || true
l0=$(loglines)
"$ZUPD" --config "$W/idle.conf" --json check >"$W/idle.json" 2>"$W/idle.err" || true
l1=$(loglines)
idle_req=$(jget requests <"$W/idle.json")
idle_bytes=$(jget bytes <"$W/idle.json")
idle_srv=$((l1 - l0))
ts=$(base idle)metadata/timestamp.json
etag=$(curl -s -D - -o /dev/null "$ts" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
ts_size=$(curl -s -o /dev/null -w '%{size_download}' "$ts")
code304=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$ts")
files=
if command -v strace >/dev/null; then
    strace -f -qq -e trace=openat,open -o "$W/strace" "$ZUPD" --config "$W/idle.conf" check >/dev/null 2>&1 || true
    # files of the test directory and names opened relative to a directory fd
    files=$(grep -v ENOENT "$W/strace" | grep -o '"[^"]*"' | tr -d '"' |
            grep -e "^$W" -e "^[^/]" | sed "s|^$W/||" | sort | uniq -c |
            awk '{printf "%s%s", (NR>1?", ":""), $2 ($1>1?" x"$1:"")}')
fi
t_idle=$(timeit "$N" "$ZUPD" --config "$W/idle.conf" check)
[ -n "$nofsync" ] && t_idle_nf=$(LD_PRELOAD=$nofsync timeit "$N" "$ZUPD" --config "$W/idle.conf" check)
t_curl=$(timeit "$N" curl -s -o /dev/null "$ts")
t_curl304=$(timeit "$N" curl -s -o /dev/null -H "If-None-Match: $etag" "$ts")
echo
echo "idle check (nothing new), median of $N runs"
printf '  %-42s %8s %9s %10s\n' "" requests "bytes" "wall ms"
printf '  %-42s %8s %9s %10.2f\n' "zupd check" "$idle_req" "$idle_bytes" "$(echo "$t_idle / 1000" | bc -l)"
[ -n "$nofsync" ] && printf '  %-42s %8s %9s %10.2f\n' "zupd check, fsync a no-op (LD_PRELOAD)" "$idle_req" "$idle_bytes" "$(echo "$t_idle_nf / 1000" | bc -l)"
printf '  %-42s %8s %9s %10.2f\n' "curl GET timestamp.json (200)" 1 "$ts_size" "$(echo "$t_curl / 1000" | bc -l)"
printf '  %-42s %8s %9s %10.2f\n' "curl conditional GET timestamp.json ($code304)" 1 0 "$(echo "$t_curl304 / 1000" | bc -l)"
printf '  ratio zupd / curl GET: %.2f   zupd / curl 304: %.2f\n' \
    "$(echo "$t_idle / $t_curl" | bc -l)" "$(echo "$t_idle / $t_curl304" | bc -l)"
[ -n "$log" ] && echo "  requests seen by the server per idle check: $idle_srv: $(sed -n "$((l0 + 1)),${l1}p" "$log" | awk '{n=split($7, a, "/"); printf "%s(%s) ", a[n], $9}')"
[ -n "$files" ] && echo "  files of the test directory opened: $files"
if command -v strace >/dev/null; then
    strace -f -qq -c -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$W/sc" \
        "$ZUPD" --config "$W/idle.conf" check >/dev/null 2>&1 || true
    echo "  durable writes per idle check: $(awk '$NF ~ /^(fsync|fdatasync|rename|renameat|renameat2)$/ {printf "%s %s, ", $4, $NF}' "$W/sc")"
fi

# ---------------------------------------------------------------- cold refresh, 10,000 targets
NC=$(( N / 3 > 3 ? N / 3 : 3 ))
l0=$(loglines)
rm -rf "$W/state-big"
"$ZUPD" --config "$W/big.conf" --json check >"$W/big.json" 2>"$W/big.err" || true
l1=$(loglines)
big_req=$(jget requests <"$W/big.json")
big_bytes=$(jget bytes <"$W/big.json")
grep -q '"available": "1.0"' "$W/big.json" || { echo "cold refresh failed:"; cat "$W/big.err"; exit 1; }
cold() { rm -rf "$W/state-big"; "$ZUPD" --config "$W/big.conf" check; }
t_cold=$(timeit "$NC" cold)
[ -n "$nofsync" ] && t_cold_nf=$(LD_PRELOAD=$nofsync timeit "$NC" cold)
curl_args=()
urls=0
if [ -n "$log" ]; then
    while read -r path; do
        curl_args+=(-o /dev/null "http://127.0.0.1:$port$path")
        urls=$((urls + 1))
    done < <(sed -n "$((l0 + 1)),${l1}p" "$log" | awk '{print $7}')
    curl_bytes=$(curl -s "${curl_args[@]}" -w '%{size_download}\n' | awk '{s+=$1} END {print s}')
    t_curl_all=$(timeit "$NC" curl -s "${curl_args[@]}")
fi
snap=$(ls -S "$W/www/big/r/repo/metadata/" | head -n 1)
echo
echo "cold refresh: $NT targets in $((1 << BITS)) hash bins, empty client state, median of $NC runs"
printf '  %-42s %8s %9s %10s\n' "" requests "bytes" "wall ms"
printf '  %-42s %8s %9s %10.2f\n' "zupd check (cold)" "$big_req" "$big_bytes" "$(echo "$t_cold / 1000" | bc -l)"
[ -n "$nofsync" ] && printf '  %-42s %8s %9s %10.2f\n' "zupd check (cold), fsync a no-op" "$big_req" "$big_bytes" "$(echo "$t_cold_nf / 1000" | bc -l)"
if [ -n "$log" ]; then
    printf '  %-42s %8s %9s %10.2f\n' "curl, same $urls URLs, one process" "$urls" "$curl_bytes" "$(echo "$t_curl_all / 1000" | bc -l)"
    printf '  ratio zupd / curl: %.2f\n' "$(echo "$t_cold / $t_curl_all" | bc -l)"
    echo "  files: $(sed -n "$((l0 + 1)),${l1}p" "$log" | awk '{split($7, a, "/"); printf "%s(%s) ", a[length(a)], $9}')"
fi
if command -v strace >/dev/null; then
    rm -rf "$W/state-big"
    strace -f -qq -c -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$W/sc" \
        "$ZUPD" --config "$W/big.conf" check >/dev/null 2>&1 || true
    echo "  durable writes per cold refresh: $(awk '$NF ~ /^(fsync|fdatasync|rename|renameat|renameat2)$/ {printf "%s %s, ", $4, $NF}' "$W/sc")"
fi
echo "  largest metadata file: $snap ($(stat -c %s "$W/www/big/r/repo/metadata/$snap") bytes)"
