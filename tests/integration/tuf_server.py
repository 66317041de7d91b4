#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_server.py -- an HTTP/1.1 server on 127.0.0.1 that
# serves a directory of TUF repositories honestly or with misbehaviours chosen
# per mirror and per path, for the attack tests (tests/integration/tuf_*.sh)
# and the benchmark. Prints "PORT <port>" on its first line, then serves until
# killed.
#
#   python3 tuf_server.py ROOT [RULES]
#
# URL /<mirror>/<path> serves ROOT/<path>; <mirror> is any name ("good",
# "evil", ...). RULES (default ROOT/rules.json, re-read when it changes) is a
# JSON list of {"mirror": NAME or "*", "path": fnmatch pattern on <path>,
# "mode": MODE, ...}; the first matching rule applies:
#   file      serve the bytes of the file "from" instead (an old version,
#             another file's content); "etag": "real" gives them the ETag of
#             the genuine file
#   flip      the file with one byte changed (same length)
#   truncate  the first "n" bytes (default: all but one)
#   append    the file then "n" more bytes (default 1 MiB), honest length
#   endless   200 without a length, data for up to 60 s
#   liar      Content-Length 10^12, data for up to 60 s
#   cut       honest length, only the first "n" bytes (one flipped if "flip"
#             is set), then the connection is closed
#   trickle   honest length, one byte every "delay" seconds (default 1)
#   status    HTTP status "code" (default 500), "retry_after" if given
#   noetag    the file, but no ETag/Last-Modified and no 304
# Honest files get an ETag (content hash), Last-Modified, 304 to
# If-None-Match, and Range (206). /_stats returns "requests=N bytes=M" (body
# bytes sent) since the last /_reset; /_log the requests, one a line.
import fnmatch
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time

ROOT = os.path.abspath(sys.argv[1])
RULES = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "rules.json")
LASTMOD = "Mon, 23 Nov 2026 10:00:00 GMT"

lock = threading.Lock()
stats = {"requests": 0, "bytes": 0, "log": []}
rules_cache = {"mtime": None, "rules": []}


def rules():
    try:
        st = os.stat(RULES)
    except FileNotFoundError:
        return []
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    with lock:
        if rules_cache["mtime"] != key:
            with open(RULES) as f:
                rules_cache["rules"] = json.load(f)
            rules_cache["mtime"] = key
        return rules_cache["rules"]


def read(path):
    full = os.path.realpath(os.path.join(ROOT, path))
    if not full.startswith(ROOT + os.sep) or not os.path.isfile(full):
        return None
    with open(full, "rb") as f:
        return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tuf-hostile/1"

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle
        # and delayed ACKs cost 40 ms per request
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def body(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)
            with lock:
                stats["bytes"] += len(data)

    def small(self, code, body=b"", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.body(body)

    def serve(self, data, etag=True, tag_of=None):
        tag = '"%s"' % hashlib.sha256(tag_of if tag_of is not None else data).hexdigest()[:32]
        if etag:
            inm = self.headers.get("If-None-Match")
            if inm is not None and inm == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return 304
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.small(416, extra=[("Content-Range", "bytes */%d" % len(data))])
                return 416
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start))
        if etag:
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", LASTMOD)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.body(data[start:])
        return 206 if start else 200

    def forever(self, length):
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", length)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"{" * 65536
        deadline = time.time() + 60
        while time.time() < deadline:
            self.body(chunk)

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def route(self):
        url = self.path.split("?")[0]
        if url == "/_stats":
            with lock:
                text = "requests=%d bytes=%d\n" % (stats["requests"], stats["bytes"])
            self.small(200, text.encode())
            return
        if url == "/_reset":
            with lock:
                stats.update(requests=0, bytes=0, log=[])
            self.small(200, b"ok\n")
            return
        if url == "/_log":
            with lock:
                text = "".join(line + "\n" for line in stats["log"])
            self.small(200, text.encode())
            return
        parts = url.strip("/").split("/", 1)
        mirror, path = parts[0], parts[1] if len(parts) > 1 else ""
        rule = None
        for r in rules():
            if r.get("mirror", "*") in ("*", mirror) and fnmatch.fnmatchcase(path, r["path"]):
                rule = r
                break
        mode = rule["mode"] if rule else "ok"
        with lock:
            stats["requests"] += 1
            stats["log"].append("%s %s %s" % (mirror, path, mode))
        data = read(path)
        if mode == "file":
            with open(rule["from"], "rb") as f:
                data = f.read()
        if mode == "status":
            extra = []
            if "retry_after" in rule:
                extra.append(("Retry-After", str(rule["retry_after"])))
            self.small(int(rule.get("code", 500)), b"error\n", extra)
            return
        if mode == "endless":
            self.forever(None)
            return
        if mode == "liar":
            self.forever(str(10 ** 12))
            return
        if data is None:
            self.small(404, b"not found\n")
            return
        if mode == "file" and rule.get("etag") == "real":
            # the ETag of the file this mirror should have served
            self.serve(data, tag_of=read(path) or b"")
        elif mode in ("ok", "file"):
            self.serve(data)
        elif mode == "noetag":
            self.serve(data, etag=False)
        elif mode == "flip":
            i = len(data) // 2
            self.serve(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:], etag=False)
        elif mode == "truncate":
            self.serve(data[:int(rule.get("n", len(data) - 1))], etag=False)
        elif mode == "append":
            self.serve(data + b" " * int(rule.get("n", 1 << 20)), etag=False)
        elif mode == "cut":
            # announces the whole file, sends the first "n" bytes (one flipped
            # when "flip" is set), closes: the client keeps a partial
            n = int(rule.get("n", len(data) // 2))
            body = bytearray(data[:n])
            if rule.get("flip") and n > 0:
                body[n // 2] ^= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.body(bytes(body))
            self.wfile.flush()
            self.close_connection = True
        elif mode == "trickle":
            delay = float(rule.get("delay", 1))
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                self.body(data[i:i + 1])
                self.wfile.flush()
                time.sleep(delay)
        else:
            self.small(500, b"unknown mode\n")


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
