#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve.sh -- zupd-mirror serve on 127.0.0.1: 200 and its
# headers, HEAD, 304 by ETag and by date, Range 206/416, keep-alive reuse,
# traversal refused (.., %2e%2e, %2F, symlinks out of the tree, hidden
# files), directories 404, 405, metadata cache refreshed after a rename, the
# access log, limits (path and header size, per-IP connections, idle
# timeout), strictness (a NUL in the target, no Host or two, a space before
# the colon, an unknown Transfer-Encoding: 400/501 at once), startup errors,
# clean stop, TLS. The content, refusal and strictness requests are also
# sent to nginx running packaging/nginx/zupd-mirror.conf: both must answer
# the same status codes.
set -u
. "$(dirname "$0")/lib.sh"
need python3 curl
test_init serve

root=$tmp/repo
make_serve_tree "$root"
start_serve zs "$root" --access-log "$tmp/access.log" --threads 2 || exit 1
u=$zs_url
size=$(stat -c %s "$root/$BLOB")

hdrs() { curl -s -D - -o "$tmp/body" --path-as-is "$@" | tr -d '\r'; }
code() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
hdr() { printf '%s\n' "$1" | sed -n "s/^$2: //Ip" | head -n 1; }

# ------------------------------------------------------------ content
h=$(hdrs "$u/timestamp.json")
check "timestamp.json 200 with validators and short caching" "$h" '^HTTP/1.1 200' \
    '^ETag: "[0-9a-f]{32}"$' '^Last-Modified: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} ' \
    '^Cache-Control: public, max-age=60$' '^Content-Type: application/json$' \
    "^Content-Length: $(stat -c %s "$root/timestamp.json")$" '^Accept-Ranges: bytes$'
cmp -s "$tmp/body" "$root/timestamp.json"; eq "timestamp.json body" $? 0
ts_etag=$(hdr "$h" ETag)
ts_lm=$(hdr "$h" Last-Modified)

h=$(hdrs "$u/$BLOB")
check "blob 200, immutable, octet-stream" "$h" '^HTTP/1.1 200' '^ETag: "' \
    '^Cache-Control: public, max-age=31536000, immutable$' \
    '^Content-Type: application/octet-stream$' "^Content-Length: $size$"
cmp -s "$tmp/body" "$root/$BLOB"; eq "blob body (sendfile)" $? 0
blob_etag=$(hdr "$h" ETag)
check "versioned metadata immutable" "$(hdrs "$u/1.root.json")" '^HTTP/1.1 200' \
    '^Cache-Control: public, max-age=31536000, immutable$'
check "hash-prefixed target immutable" "$(hdrs "$u/$MANIFEST")" '^HTTP/1.1 200' \
    '^Cache-Control: public, max-age=31536000, immutable$'
check "channel pointer short caching" "$(hdrs "$u/products/av/channels/stable.json")" \
    '^HTTP/1.1 200' '^Cache-Control: public, max-age=60$'

h=$(curl -s -I "$u/$BLOB" | tr -d '\r')
check "HEAD blob: length, no body" "$h" '^HTTP/1.1 200' "^Content-Length: $size$"
h=$(curl -s -I "$u/timestamp.json" | tr -d '\r')
check "HEAD metadata" "$h" '^HTTP/1.1 200' "^ETag: $ts_etag$"

# conditional requests
eq "304 If-None-Match (metadata)" "$(code -H "If-None-Match: $ts_etag" "$u/timestamp.json")" 304
eq "304 If-None-Match list" "$(code -H "If-None-Match: \"x\", W/$ts_etag" "$u/timestamp.json")" 304
eq "304 If-None-Match (blob)" "$(code -H "If-None-Match: $blob_etag" "$u/$BLOB")" 304
eq "200 other ETag" "$(code -H 'If-None-Match: "nope"' "$u/$BLOB")" 200
eq "304 If-Modified-Since" "$(code -H "If-Modified-Since: $ts_lm" "$u/timestamp.json")" 304
eq "304 If-Modified-Since (blob)" "$(code -H "If-Modified-Since: $ts_lm" "$u/$BLOB")" 304
eq "200 If-Modified-Since earlier" \
    "$(code -H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT' "$u/$BLOB")" 200
rm -f "$tmp/body"
h=$(hdrs -H "If-None-Match: $ts_etag" "$u/timestamp.json")
check "304 keeps validators and caching" "$h" "^ETag: $ts_etag$" '^Cache-Control: public'
eq "304 has no body" "$(cat "$tmp/body" 2>/dev/null)" ""

# ranges
h=$(hdrs -r 10-19 "$u/$BLOB")
check "Range 206" "$h" '^HTTP/1.1 206' "^Content-Range: bytes 10-19/$size$" '^Content-Length: 10$'
dd if="$root/$BLOB" bs=1 skip=10 count=10 2>/dev/null | cmp -s - "$tmp/body"; eq "Range bytes" $? 0
h=$(hdrs -r -100 "$u/$BLOB")
check "suffix Range 206" "$h" '^HTTP/1.1 206' "^Content-Range: bytes $((size - 100))-$((size - 1))/$size$"
h=$(hdrs -r 5- "$u/timestamp.json")
check "Range on metadata (memory)" "$h" '^HTTP/1.1 206' '^Content-Range: bytes 5-'
h=$(hdrs -r "$size-" "$u/$BLOB")
check "Range past the end 416" "$h" '^HTTP/1.1 416' "^Content-Range: bytes \*/$size$"
eq "If-Range stale: whole file" "$(code -r 0-9 -H 'If-Range: "old"' "$u/$BLOB")" 200
eq "If-Range current: 206" "$(code -r 0-9 -H "If-Range: $blob_etag" "$u/$BLOB")" 206

: >"$root/empty.json"
eq "empty metadata file" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$u/empty.json")" "200 0"
eq "Range on an empty file: 416" "$(code -r 0-1 "$u/empty.json")" 416

# keep-alive: the second request rides the first connection
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$u/timestamp.json" "$u/$BLOB" | tr '\n' ' ')
eq "keep-alive: 2 requests, 1 connection" "$n" "1 0 "
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$u/nope" \
    -H 'If-None-Match: *' "$u/timestamp.json" "$u/1.root.json" | tr '\n' ' ')
eq "keep-alive across a 404 and a 304" "$n" "1 0 0 "
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' -X POST "$u/timestamp.json" \
    "$u/timestamp.json" | tr '\n' ' ')
eq "keep-alive across a 405" "$n" "1 0 "

# ------------------------------------------------------------ refusals
eq "/../etc/passwd" "$(code "$u/../etc/passwd")" 400
eq "/%2e%2e/etc/passwd" "$(code "$u/%2e%2e/etc/passwd")" 400
eq "/%2e%2e%2fetc%2fpasswd" "$(code "$u/%2e%2e%2fetc%2fpasswd")" 400
eq "/a%2Fb (a/b exists)" "$(code "$u/a%2Fb")" 400
eq "/a/b itself" "$(code "$u/a/b")" 200
eq "a query is ignored" "$(code "$u/timestamp.json?v=a%2Fb")" 200
eq "backslash" "$(code "$u/a\\b")" 400
eq "symlink to /etc/passwd" "$(code "$u/passwd")" 404
eq "through a symlinked dir" "$(code "$u/etc/passwd")" 404
eq "symlink inside the tree" "$(code "$u/ts-link.json")" 404
eq "hidden temp file" "$(code "$u/.zupd-tmp.12345678")" 404
eq "directory with slash" "$(code "$u/blobs/")" 404
eq "directory without slash" "$(code "$u/blobs")" 404
eq "root" "$(code "$u/")" 404
eq "missing" "$(code "$u/nope.json")" 404
h=$(hdrs -X POST "$u/timestamp.json")
check "POST 405 with Allow" "$h" '^HTTP/1.1 405' '^Allow: GET, HEAD$'
eq "PUT with a body 405" "$(code -X PUT --data x "$u/timestamp.json")" 405
eq "POST of 300 KB 405" "$(code --data-binary "@$root/$BLOB" "$u/timestamp.json")" 405
eq "GET with a body: body ignored" "$(code -X GET --data x "$u/timestamp.json")" 200
long=$(python3 -c 'print("a" * 5000)')
eq "path over 4096 bytes: 414" "$(code "$u/$long")" 414
big=$(python3 -c 'print("x" * 20000)')
c=$(code -H "X-Big: $big" "$u/timestamp.json")
check "20 KB header refused" "$c" '^4[0-9][0-9]$'
eq "still serving after it" "$(code "$u/timestamp.json")" 200

# the same refusals where the kernel has no openat2: one openat(O_NOFOLLOW)
# per component
ZUPD_SERVE_WALK_PATHS=1 start_serve walk "$root" || exit 1
w=$walk_url
eq "walk: nested file" "$(code "$w/$BLOB")" 200
eq "walk: nested metadata" "$(code "$w/products/av/channels/stable.json")" 200
eq "walk: through a symlinked dir" "$(code "$w/etc/passwd")" 404
eq "walk: symlink file" "$(code "$w/passwd")" 404
eq "walk: /../etc/passwd" "$(code "$w/../etc/passwd")" 400
eq "walk: missing dir" "$(code "$w/nodir/x.json")" 404
eq "walk: file as dir" "$(code "$w/timestamp.json/x")" 404
mkdir -p "$root/d1/d2"
ln -s ../../etc "$root/d1/d2/up"
echo in >"$root/d1/d2/f"
eq "walk: deep file" "$(code "$w/d1/d2/f")" 200
eq "walk: deep symlinked dir" "$(code "$w/d1/d2/up/passwd")" 404
eq "openat2: deep symlinked dir" "$(code "$u/d1/d2/up/passwd")" 404
kill "$walk_pid"; wait "$walk_pid" 2>/dev/null; walk_pid=

# ------------------------------------------------------------ the metadata cache
curl -s -o /dev/null "$u/timestamp.json"
printf '{"signed":{"_type":"timestamp","version":2}}\n' >"$root/.zupd-tmp.ts"
mv "$root/.zupd-tmp.ts" "$root/timestamp.json"
h=$(hdrs "$u/timestamp.json")
cmp -s "$tmp/body" "$root/timestamp.json"; eq "renamed timestamp.json served at once" $? 0
check "new ETag" "$h" '^ETag: "' 
[ "$(hdr "$h" ETag)" != "$ts_etag" ]; eq "ETag changed" $? 0
eq "old ETag no longer 304" "$(code -H "If-None-Match: $ts_etag" "$u/timestamp.json")" 200
# same size, same second: the inode and ctime still tell
printf '{"signed":{"_type":"timestamp","version":3}}\n' >"$root/.zupd-tmp.ts"
mv "$root/.zupd-tmp.ts" "$root/timestamp.json"
curl -s -o "$tmp/body" "$u/timestamp.json"
cmp -s "$tmp/body" "$root/timestamp.json"; eq "same-size rename served at once" $? 0

# ------------------------------------------------------------ access log
sleep 0.2
check "access log lines" "$(cat "$tmp/access.log")" \
    '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /timestamp.json HTTP/1.1" 200 [0-9]+ [0-9]+\.[0-9]{6}$' \
    "\"HEAD /$BLOB HTTP/1.1\" 200 0 " "\"GET /$BLOB HTTP/1.1\" 206 10 " \
    '"GET /../etc/passwd HTTP/1.1" 400 ' '"POST /timestamp.json HTTP/1.1" 405 ' \
    '"GET /timestamp.json HTTP/1.1" 304 0 '

# ------------------------------------------------------------ zupd's own fetcher
# libzupd's fetcher (tests/integration/fetchtool) against this server: the
# idle check is a 304, a cut download resumes with Range, many GETs share
# one connection. The same against nginx below.
fetcher_checks() {
    fn=$1 fb=$2
    ft=$top_builddir/tests/integration/fetchtool
    [ -x "$ft" ] || { echo "note: fetchtool not built: fetcher checks skipped"; return 0; }
    sha=$(sha256sum "$root/$BLOB" | cut -d' ' -f1)
    rm -f "$tmp/state.$fn" "$tmp/f.$fn" "$tmp/f.$fn.part"
    out=$("$ft" -m "$fb" --state "$tmp/state.$fn" get timestamp.json 2>&1)
    check "$fn: fetcher GET keeps validators" "$out" "rc=ok " "status=200 "
    out=$("$ft" -m "$fb" --state "$tmp/state.$fn" get timestamp.json 2>&1)
    check "$fn: fetcher idle check is a 304" "$out" "rc=ok " "status=304 " "bytes=0 "
    head -c 100000 "$root/$BLOB" >"$tmp/f.$fn.part"
    out=$("$ft" -m "$fb" --dir "$tmp" file "$BLOB" "f.$fn" "$size" "$sha" 2>&1)
    check "$fn: fetcher resumes a partial download with Range" "$out" "rc=ok " "start=100000 " \
        "bytes=$((size - 100000)) "
    out=$("$ft" -m "$fb" multi timestamp.json "$BLOB" nope.json 1.root.json 2>&1 | tail -n 1)
    check "$fn: fetcher: 4 GETs, one connection" "$out" "conns=1$"
}
fetcher_checks serve "$u"

# ------------------------------------------------------------ strictness (RFC 9112)
# requests HTTP/1.1 says to refuse, answered at once as nginx does
# (tests/integration/http_strict.py; compared with nginx below)
strict() { python3 "$top_srcdir/tests/integration/http_strict.py" "$@"; }
STRICT_CASES="good query no-host-1.0 nul-in-path no-host-1.1 two-hosts space-before-colon unknown-te"
out=$(strict "${u##*:}" $STRICT_CASES)
check "strictness: answers at once" "$out" '^good 200 0\.' '^query 200 0\.' '^no-host-1\.0 200 0\.' '^nul-in-path 400 0\.' \
    '^no-host-1\.1 400 0\.' '^two-hosts 400 0\.' '^space-before-colon 400 0\.' '^unknown-te 501 0\.'
eq "strictness: a 400 still serves the next connection" "$(code "$u/timestamp.json")" 200
# what libmicrohttpd 0.9.75 does not let the server see (docs/zupd-mirror-serve.md):
# TLS bytes never end a request line, so the request timeout ends them
start_serve st "$root" --request-timeout 2 || exit 1
out=$(strict "${st_url##*:}" tls-hello)
check "strictness: TLS bytes closed by the request timeout" "$out" '^tls-hello close [23]\.'

# ------------------------------------------------------------ nginx, same codes
if start_nginx "$root"; then
    g=$nginx_url
    for req in "timestamp.json" "$BLOB" "1.root.json" "$MANIFEST" "a/b" "nope.json" \
        "../etc/passwd" "%2e%2e/etc/passwd" "a%2Fb" "a\\b" "passwd" "etc/passwd" \
        ".zupd-tmp.12345678" "blobs/" "blobs" "" "timestamp.json?v=a%2Fb" "a%2Fb?v=1"; do
        eq "nginx = serve: GET /$req" "$(code "$g/$req")" "$(code "$u/$req")"
    done
    eq "nginx = serve: strictness" "$(strict "${g##*:}" $STRICT_CASES | cut -d' ' -f1,2)" \
        "$(strict "${u##*:}" $STRICT_CASES | cut -d' ' -f1,2)"
    eq "nginx = serve: HEAD" "$(code -I "$g/$BLOB")" "$(code -I "$u/$BLOB")"
    eq "nginx = serve: POST" "$(code -X POST "$g/timestamp.json")" "$(code -X POST "$u/timestamp.json")"
    eq "nginx = serve: Range" "$(code -r 10-19 "$g/$BLOB")" "$(code -r 10-19 "$u/$BLOB")"
    eq "nginx = serve: Range 416" "$(code -r "$size-" "$g/$BLOB")" "$(code -r "$size-" "$u/$BLOB")"
    eq "nginx = serve: Range list" "$(code -r 0-1,5-9 "$g/$BLOB")" "$(code -r 0-1,5-9 "$u/$BLOB")"
    ge=$(hdr "$(hdrs "$g/$BLOB")" ETag)
    eq "nginx: 304 If-None-Match" "$(code -H "If-None-Match: $ge" "$g/$BLOB")" 304
    glm=$(hdr "$(hdrs "$g/$BLOB")" Last-Modified)
    eq "nginx: 304 If-Modified-Since" "$(code -H "If-Modified-Since: $glm" "$g/$BLOB")" 304
    for p in timestamp.json "$BLOB" 1.root.json "$MANIFEST" products/av/channels/stable.json; do
        eq "nginx = serve: Cache-Control of /$p" "$(hdr "$(hdrs "$g/$p")" Cache-Control)" \
            "$(hdr "$(hdrs "$u/$p")" Cache-Control)"
        eq "nginx = serve: Content-Type of /$p" "$(hdr "$(hdrs "$g/$p")" Content-Type)" \
            "$(hdr "$(hdrs "$u/$p")" Content-Type)"
    done
    n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$g/timestamp.json" "$g/$BLOB" | tr '\n' ' ')
    eq "nginx keep-alive" "$n" "1 0 "
    fetcher_checks nginx "$g"
else
    rc=$?
    if [ $rc = 77 ] && [ "${ZUPD_TESTS_REQUIRE_NGINX:-0}" != 1 ]; then
        skip_part nginx "nginx is not installed: the nginx comparison did not run"
    else
        bad "nginx did not start (or is not installed)"
    fi
fi

# ------------------------------------------------------------ limits
start_serve lim "$root" --max-per-ip 2 --timeout 2 || exit 1
out=$(python3 - "${lim_url##*:}" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    return s
def get(s):
    s.sendall(b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\n\r\n")
    return s.recv(65536)
a, b = conn(), conn()
ok = get(a).startswith(b"HTTP/1.1 200") and get(b).startswith(b"HTTP/1.1 200")
c = conn()
try:
    third = get(c)
except OSError:
    third = b""
print("two=%s third_refused=%s" % (ok, not third.startswith(b"HTTP/1.1 200")))
a.close(); b.close(); c.close()
time.sleep(0.3)
d = conn()
print("after_close=%s" % get(d).startswith(b"HTTP/1.1 200"))
t0 = time.time()
try:
    rest = d.recv(100)
except OSError:
    rest = b""
print("idle_closed=%s after=%.1f" % (rest == b"", time.time() - t0))
EOF
)
check "per-IP limit and idle timeout" "$out" "two=True third_refused=True" "after_close=True" \
    "idle_closed=True after=[1-4]\."

# ------------------------------------------------------------ startup errors, stop
busy=${lim_url##*:}
"$MIRROR" serve "$root" --listen "127.0.0.1:$busy" >"$tmp/o" 2>&1; rc=$?
check "port in use: clear error" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "cannot listen on '127.0.0.1:$busy': Address already in use"
"$MIRROR" serve "$tmp/nowhere" --listen 127.0.0.1:0 >"$tmp/o" 2>&1; rc=$?
check "missing DIR: clear error" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "cannot open directory '$tmp/nowhere'"
"$MIRROR" serve "$root/timestamp.json" --listen 127.0.0.1:0 >"$tmp/o" 2>&1; rc=$?
check "DIR a file: clear error" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "[Nn]ot a directory"
"$MIRROR" serve "$root" --listen nowhere >"$tmp/o" 2>&1; rc=$?
check "bad address" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "bad listen address"
"$MIRROR" serve "$root" --threads x >"$tmp/o" 2>&1; rc=$?
check "bad number" "rc=$rc $(cat "$tmp/o")" "^rc=1 " "bad value 'x' for --threads"

# an open idle connection must not hold the stop
python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', ${zs_url##*:}))
print('connected'); sys.stdout.flush(); time.sleep(5)" >"$tmp/idle" &
idle=$!
i=0
while ! grep -q connected "$tmp/idle" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s%3N)
kill -TERM "$zs_pid"
i=0
while kill -0 "$zs_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait "$zs_pid"; rc=$?
zs_pid=
kill "$idle" 2>/dev/null
check "SIGTERM with an idle connection open: clean stop" "rc=$rc $(tail -n 1 "$tmp/zs.err")" "^rc=0 zupd-mirror: stopped$"
el=$(( $(date +%s%3N) - t0 ))
[ "$el" -lt 3000 ]; eq "stopped in ${el} ms (< 3 s)" $? 0

# ------------------------------------------------------------ TLS
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
    if start_serve tls "$root" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"; then
        check "TLS URL" "$tls_url" '^https://127\.0\.0\.1:'
        h=$(curl -s --cacert "$tmp/cert.pem" -D - -o "$tmp/body" "$tls_url/$BLOB" | tr -d '\r')
        check "TLS GET" "$h" '^HTTP/1.1 200' "^Content-Length: $size$"
        cmp -s "$tmp/body" "$root/$BLOB"; eq "TLS body" $? 0
        n=$(curl -s --cacert "$tmp/cert.pem" -o /dev/null -o /dev/null -w '%{num_connects}\n' \
            "$tls_url/timestamp.json" "$tls_url/1.root.json" | tr '\n' ' ')
        eq "TLS keep-alive" "$n" "1 0 "
    else
        bad "TLS server did not start"
    fi
    "$MIRROR" serve "$root" --listen 127.0.0.1:0 --tls-cert "$tmp/cert.pem" >"$tmp/o" 2>&1; rc=$?
    check "TLS cert without key" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "both a certificate and a key"
    "$MIRROR" serve "$root" --listen 127.0.0.1:0 --tls-cert "$tmp/nope" --tls-key "$tmp/key.pem" >"$tmp/o" 2>&1; rc=$?
    check "TLS cert missing" "rc=$rc $(cat "$tmp/o")" "^rc=[1-9]" "cannot open '$tmp/nope'"
else
    echo "note: openssl missing: TLS not tested"
fi

finish
