#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_net.sh -- zupd.conf's network settings (issue 15)
# against zupd-mirror serve and nginx on 127.0.0.1: proxy (through a tiny
# forward proxy, winning over http_proxy), ca_file and ca_path (nginx with a
# throw-away certificate: without them the update fails on the certificate),
# max_download_rate with full_speed_window (a 1 MB release takes >= 3 s
# capped at 256K/s, well under that inside the window). The https part skips
# loudly when nginx or openssl is missing; with ZUPD_TESTS_REQUIRE_NGINX=1
# (set by .ci/run) it fails instead.
set -u
. "$(dirname "$0")/lib.sh"
need python3
test_init net
unset no_proxy NO_PROXY http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

start_repo || exit 1
make_tree "$work/v1" 1.0 10
head -c 1048576 /dev/urandom >"$work/v1/bin/big" # incompressible: 1 MB on the wire
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1

# net_conf NAME MIRROR EXTRA: $work/NAME.conf with a fresh state and install
# path of its own, so every run downloads the whole release
net_conf() {
    rm -rf "$work/state-$1" "$work/opt-$1"
    cat >"$work/$1.conf" <<EOF2
mirrors = [ "$2" ];
trusted_root = "$work/repo/metadata/1.root.json";
state_dir = "$work/state-$1";
low_speed_time = 10;
parallel = 1;
$3
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$work/opt-$1"; keep = 3; }
);
EOF2
}
ms() { date +%s%N | cut -c1-13; }
u=http://127.0.0.1:$PORT/

# --- proxy
python3 "$top_srcdir/tests/integration/net_proxy.py" "$work/proxy.log" >"$work/proxy.port" 2>"$work/proxy.err" &
track_pid $!
i=0
while [ ! -s "$work/proxy.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PPORT=$(cat "$work/proxy.port")
[ -n "$PPORT" ] || { echo "the proxy did not start"; cat "$work/proxy.err"; exit 1; }
net_conf proxy "$u" "proxy = \"http://127.0.0.1:$PPORT\";"
# a dead proxy in the environment: the setting wins over it
http_proxy=http://127.0.0.1:1 expect_rc 0 "update through the configured proxy" \
    $ZUPD --config "$work/proxy.conf" update
diff -r "$work/v1" "$work/opt-proxy/" >/dev/null 2>&1 && ok "proxy: install path holds 1.0" || bad "proxy: not 1.0"
grep -q "^GET http://127.0.0.1:$PORT/metadata/timestamp.json$" "$work/proxy.log" &&
    grep -q "^GET http://127.0.0.1:$PORT/blobs/" "$work/proxy.log" &&
    ok "metadata and blobs went through the proxy ($(wc -l <"$work/proxy.log") requests)" ||
    bad "proxy log: $(cat "$work/proxy.log")"
: >"$work/proxy.log"
net_conf proxy "$u" "proxy = \"http://127.0.0.1:1\";"
expect_rc 20 "a dead proxy: the update fails" $ZUPD --config "$work/proxy.conf" update
net_conf direct "$u" ""
expect_rc 0 "no proxy setting: direct" $ZUPD --config "$work/direct.conf" update
[ ! -s "$work/proxy.log" ] && ok "nothing went through the proxy" || bad "proxy used: $(cat "$work/proxy.log")"

# --- bandwidth: capped outside full_speed_window, full speed inside
win() { # win FROM_OFFSET_MIN TO_OFFSET_MIN: "HH:MM-HH:MM" around now, local time
    python3 -c 'import datetime as d, sys; n = d.datetime.now()
f = lambda m: (n + d.timedelta(minutes=int(m))).strftime("%H:%M")
print(f(sys.argv[1]) + "-" + f(sys.argv[2]))' "$1" "$2"
}
net_conf fast "$u" "max_download_rate = \"256K\"; full_speed_window = \"$(win -60 60)\";"
t0=$(ms)
expect_rc 0 "update inside the full-speed window" $ZUPD --config "$work/fast.conf" update
t1=$(ms)
net_conf slow "$u" "max_download_rate = \"256K\"; full_speed_window = \"$(win 60 180)\";"
expect_rc 0 "update outside the full-speed window" $ZUPD --config "$work/slow.conf" update
t2=$(ms)
diff -r "$work/v1" "$work/opt-slow/" >/dev/null 2>&1 && ok "capped: install path holds 1.0" || bad "capped: not 1.0"
fast=$((t1 - t0)) slow=$((t2 - t1))
echo "  1 MB release: ${fast} ms inside the window, ${slow} ms capped at 256K/s"
[ "$slow" -ge 3000 ] && ok "capped at 256K/s: >= 3 s" || bad "capped run took only $slow ms"
[ "$fast" -lt 2000 ] && ok "inside the window: full speed (< 2 s)" || bad "full-speed run took $fast ms"

# --- ca_file, ca_path: nginx over TLS with a throw-away certificate
if ! find_nginx || ! command -v openssl >/dev/null 2>&1; then
    [ "${ZUPD_TESTS_REQUIRE_NGINX:-0}" = 1 ] && bad "nginx or openssl missing (ZUPD_TESTS_REQUIRE_NGINX=1)"
    skip_part https "nginx or openssl is missing"
    finish net
fi
chmod 755 "$work"
chmod -R a+rX "$work/repo"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 ||
    { echo "cannot make a certificate"; exit 1; }
mkdir -p "$work/ca.d" "$work/ng"
cp "$work/cert.pem" "$work/ca.d/$(openssl x509 -hash -noout -in "$work/cert.pem").0"
tport=$(free_port)
cat >"$work/ng/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/ng/nginx.pid;
error_log $work/ng/error.log;
events { worker_connections 64; }
http {
    client_body_temp_path $work/ng/body;
    proxy_temp_path $work/ng/proxy;
    fastcgi_temp_path $work/ng/fastcgi;
    uwsgi_temp_path $work/ng/uwsgi;
    scgi_temp_path $work/ng/scgi;
    access_log $work/ng/access.log;
    server {
        listen 127.0.0.1:$tport ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        root $work/repo;
    }
}
EOF
if ! start_nginx_conf "$work/ng" "$work/ng/nginx.conf" "$tport"; then
    [ "${ZUPD_TESTS_REQUIRE_NGINX:-0}" = 1 ] && bad "nginx did not start (ZUPD_TESTS_REQUIRE_NGINX=1)"
    skip_part https "nginx did not start"
    finish net
fi
h=https://127.0.0.1:$tport/
net_conf tls "$h" ""
expect_rc 20 "https without ca_file: refused" $ZUPD --config "$work/tls.conf" update
grep -qi "certificate" "$work/err" && ok "the error names the certificate" || bad "error: $(cat "$work/err")"
net_conf tls "$h" "ca_file = \"$work/cert.pem\";"
expect_rc 0 "https with ca_file" $ZUPD --config "$work/tls.conf" update
diff -r "$work/v1" "$work/opt-tls/" >/dev/null 2>&1 && ok "ca_file: install path holds 1.0" ||
    bad "ca_file: install path is not 1.0"
net_conf tls "$h" "ca_path = \"$work/ca.d\";"
expect_rc 0 "https with ca_path" $ZUPD --config "$work/tls.conf" update
grep -q 'GET /blobs/' "$work/ng/access.log" && ok "the release came from nginx over TLS" ||
    bad "no blob in nginx's log"
finish net
