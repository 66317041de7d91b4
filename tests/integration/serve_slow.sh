#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve_slow.sh -- zupd-mirror serve under a slowloris
# attack (connections that trickle a request header a byte at a time):
# the request timeout closes them however slowly they send, and the default
# per-address limit keeps one address from taking every connection, so an
# ordinary client is still served. Also: a flood of malformed requests
# writes at most a few log lines a second, then one "suppressed" line.
set -u
. "$(dirname "$0")/lib.sh"
need python3
test_init serve_slow

root=$tmp/repo
make_serve_tree "$root"
slow() { python3 "$top_srcdir/tests/integration/serve_slow.py" "$@"; }

# 1. request timeout: 20 connections (all there are) trickle headers from
# the client's own address, with no per-address limit; the server closes
# them after 2 s, then the client is served
start_serve rt "$root" --max-connections 20 --max-per-ip 0 --request-timeout 2 || exit 1
out=$(slow "${rt_url##*:}" 20 6 127.0.0.1 127.0.0.1 0)
check "request timeout: slow headers closed, client served ($out)" "$out" \
    'served=[1-9][0-9]* first=[1-5]\.' 'attackers_closed=20$'

# 2. per-address limit by default: 40 connections from 127.0.0.2 that
# reconnect at once when closed take at most half of --max-connections 20;
# a client from 127.0.0.1 is served at once, and again and again (about 15
# tries in 4 s; at least 5 answered on a loaded machine)
start_serve pi "$root" --max-connections 20 || exit 1
out=$(slow "${pi_url##*:}" 40 4 127.0.0.2 127.0.0.1 1)
check "default per-address limit: client served during the attack ($out)" "$out" \
    'served=([5-9]|[1-9][0-9]) first=0\.'

# 3. log flood: 300 malformed requests in a burst write at most 10 lines a
# second and say how many were suppressed
start_serve lf "$root" || exit 1
python3 - "${lf_url##*:}" <<'PY'
import socket, sys
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
PY
sleep 1.5
lines=$(grep -vc -e 'serving ' -e 'suppressed ' "$tmp/lf.err")
[ "$lines" -le 30 ] && [ "$lines" -ge 1 ] && ok "log flood: $lines lines for 300 bad requests" ||
    bad "log flood: $lines lines for 300 bad requests (want 1..30): $(head -3 "$tmp/lf.err")"
check "log flood: suppressed count reported" "$(cat "$tmp/lf.err")" \
    'suppressed [0-9]+ more log lines \(at most 10 a second\)'
finish
