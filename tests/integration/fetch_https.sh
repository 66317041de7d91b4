#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/fetch_https.sh -- the libcurl fetcher against a real
# server (nginx, TLS with a throw-away certificate, on 127.0.0.1): HTTP/2 when
# offered, certificate verification on, no redirect from https to http, one
# connection for several GETs, 304 and Range against a real server.
# Skipped (77) when nginx or openssl is missing, or nginx does not start;
# with ZUPD_TESTS_REQUIRE_NGINX=1 (set by .ci/run) both fail instead.
set -u
. "$(dirname "$0")/lib.sh"
find_nginx || skip_or_fail ZUPD_TESTS_REQUIRE_NGINX "nginx is not installed"
need openssl python3
test_init fetch-https
tool=$top_builddir/tests/integration/fetchtool
chmod 755 "$tmp"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 \
    || { echo "cannot make a certificate"; exit 1; }
mkdir -p "$tmp/www/repo" "$tmp/tmpd"
head -c 300000 /dev/urandom >"$tmp/www/repo/file.bin"
printf '{"signed":{}}' >"$tmp/www/repo/timestamp.json"
chmod -R a+rX "$tmp/www"
sha=$(sha256sum "$tmp/www/repo/file.bin" | cut -d' ' -f1)
tport=$(free_port)
pport=$(free_port)
while [ "$pport" = "$tport" ]; do pport=$(free_port); done
cat >"$tmp/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 64; }
http {
    client_body_temp_path $tmp/tmpd/body;
    proxy_temp_path $tmp/tmpd/proxy;
    fastcgi_temp_path $tmp/tmpd/fastcgi;
    uwsgi_temp_path $tmp/tmpd/uwsgi;
    scgi_temp_path $tmp/tmpd/scgi;
    log_format conn '\$connection \$server_protocol \$status \$request_uri "\$http_user_agent" "\$http_accept_encoding"';
    access_log $tmp/access.log conn;
    server {
        listen 127.0.0.1:$tport ssl http2;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        root $tmp/www;
        location = /down/file.bin { return 302 http://127.0.0.1:$pport/repo/file.bin; }
        location = /side/file.bin { return 302 https://127.0.0.1:$tport/repo/file.bin; }
    }
    server {
        listen 127.0.0.1:$pport;
        root $tmp/www;
    }
}
EOF
start_nginx_conf "$tmp" "$tmp/nginx.conf" "$tport" ||
    skip_or_fail ZUPD_TESTS_REQUIRE_NGINX "nginx did not start"
u=https://127.0.0.1:$tport

ft() { "$tool" "$@" 2>>"$tmp/tool.err"; }

out=$(ft --cacert "$tmp/cert.pem" -m "$u/repo" --out "$tmp/f" get file.bin)
check "https GET over HTTP/2" "$out" "rc=ok " "status=200 " "http=20 " "bytes=300000 "
check "https bytes" "$(sha256sum "$tmp/f")" "^$sha "
out=$(ft -m "$u/repo" get file.bin)
check "unknown certificate refused" "$out" "rc=network "
out=$(ft --cacert "$tmp/cert.pem" -m "$u/down" get file.bin)
check "no redirect from https to http" "$out" "rc=network "
out=$(ft --cacert "$tmp/cert.pem" -m "$u/side" get file.bin)
check "redirect within https followed" "$out" "rc=ok " "bytes=300000 "
out=$(ft -m "http://127.0.0.1:$pport/repo" get file.bin)
check "plain http is HTTP/1.1" "$out" "rc=ok " "http=11 "

rm -f "$tmp/state"
out=$(ft --cacert "$tmp/cert.pem" -m "$u/repo" --state "$tmp/state" get timestamp.json)
check "timestamp with validators" "$out" "rc=ok " "status=200 "
out=$(ft --cacert "$tmp/cert.pem" -m "$u/repo" --state "$tmp/state" get timestamp.json)
check "idle check: 304 from nginx" "$out" "rc=ok " "status=304 " "notmod=1 " "recv=0 "

head -c 123456 "$tmp/www/repo/file.bin" >"$tmp/r.part"
out=$(ft --cacert "$tmp/cert.pem" -m "$u/repo" --dir "$tmp" file file.bin r 300000 "$sha")
check "Range resume against nginx" "$out" "rc=ok " "start=123456 " "bytes=176544 "
check "resumed bytes" "$(sha256sum "$tmp/r")" "^$sha "

: >"$tmp/access.log"
out=$(ft --cacert "$tmp/cert.pem" -m "$u" multi repo/file.bin repo/missing.json repo/timestamp.json repo/file.bin)
check "one connection for four GETs (client)" "$(printf '%s\n' "$out" | tail -n 1)" "conns=1$"
sleep 0.2
n=$(cut -d' ' -f1 "$tmp/access.log" | sort -u | wc -l)
check "one connection for four GETs (nginx log)" "$n $(wc -l <"$tmp/access.log")" "^1 4$"
check "user agent; no Accept-Encoding (the cap counts the bytes used)" "$(head -n 1 "$tmp/access.log")" \
    ' HTTP/2\.0 200 .* "zupd/[0-9]+\.[0-9]+\.[0-9]+" "-"$'

# measurement, not a test: FETCH_BENCH=N prints the per-GET cost of N small
# GETs on one reused handle against a new handle (and connection) per GET
if [ -n "${FETCH_BENCH:-}" ]; then
    echo "bench https: $(ft --cacert "$tmp/cert.pem" -m "$u/repo" bench timestamp.json "$FETCH_BENCH")"
    echo "bench http:  $(ft -m "http://127.0.0.1:$pport/repo" bench timestamp.json "$FETCH_BENCH")"
    # a whole idle check (process start, one conditional GET over https, a
    # 304) against the curl program sending the same conditional request
    etag=$(sed -n 's/^etag //p' "$tmp/state")
    ms() { date +%s%N; }
    t0=$(ms)
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        ft --cacert "$tmp/cert.pem" -m "$u/repo" --state "$tmp/state" get timestamp.json >/dev/null
    done
    t1=$(ms)
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        curl -s -o /dev/null --cacert "$tmp/cert.pem" -H "If-None-Match: $etag" "$u/repo/timestamp.json"
    done
    t2=$(ms)
    echo "bench idle check (process, https, 304): fetchtool $(( (t1 - t0) / 20000 )) us, curl $(( (t2 - t1) / 20000 )) us"
fi

if [ "$fail" -ne 0 ]; then
    echo "--- fetchtool stderr"; tail -n 40 "$tmp/tool.err"
fi
finish
