#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/hostile_server.py -- an HTTP/1.1 server on 127.0.0.1 for
# the fetcher's tests: honest files, and servers that send forever, lie about
# lengths, trickle, fail, ask to retry later, cut connections, ignore Range,
# serve wrong bytes, redirect badly. Prints "PORT <port> DEAD <port> SIZE <n>
# SHA256 <hex> STUCK <port>" (DEAD: a port nothing listens on; the file's size
# and hash; STUCK: a port where connects hang) on its first line, then serves
# until killed.
#
# Paths: /<mode>/<name>, modes:
#   ok        the file: Range (206), ETag/Last-Modified, 304 to validators
#   small big  1 KiB / ~32 MiB files (measurements)
#   norange   the file, ignoring Range (always 200)
#   bad       the file with one byte changed (same length)
#   cut       announces the whole file, sends 100000 bytes, closes
#   endless   200 without a length, data forever
#   liar      Content-Length 10^12, data forever
#   trickle   Content-Length 100, one byte a second
#   silent    accepts the request, answers nothing for 30 s
#   e404 e403 e500  that status, small body; e500big e404big: 10 MB / 1 MB bodies
#   busy503 busy429  that status with Retry-After 120 / 7
#   busydate busyhuge  503, Retry-After an HTTP date 300 s ahead / 99999999 s
#   badrange  206 from byte 0 whatever was asked   shortcl  Content-Length 1000, then more
#   headerbomb  header lines forever   redirbomb  302 with an endless body
#   redirftp  302 to ftp://   redirloop  302 to itself   redirok  302 to /ok/
# /stats: "connections=N requests=M proxied=P" (connections that carried a
# non-stats request; requests received as a forward proxy); /reset zeroes them.
# A request with an absolute URI (as sent to a proxy) is served from its path.
import email.utils
import hashlib
import http.server
import socket
import threading
import time

SIZE = 300000
DATA = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest()
                for i in range((SIZE + 31) // 32))[:SIZE]
BAD = DATA[:150000] + bytes([DATA[150000] ^ 1]) + DATA[150001:]
BIG = DATA * 112  # about 32 MiB, for throughput measurements
ETAG = '"v1-%s"' % hashlib.sha256(DATA).hexdigest()[:16]
LASTMOD = "Mon, 23 Nov 2026 10:00:00 GMT"

lock = threading.Lock()
stats = {"connections": 0, "requests": 0, "proxied": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle and
        # the client's delayed ACK add 40 ms to every GET on a kept-alive connection
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.counted = False

    def log_message(self, fmt, *args):
        pass

    def send_small(self, code, body=b"nope\n", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_file(self, data, honour_range=True):
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm == ETAG or (inm is None and ims == LASTMOD):
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        start = 0
        rng = self.headers.get("Range")
        if honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_small(416, extra=[("Content-Range", "bytes */%d" % len(data))])
                return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", ETAG)
        self.send_header("Last-Modified", LASTMOD)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data[start:])

    def forever(self, length_header):
        self.send_response(200)
        if length_header:
            self.send_header("Content-Length", length_header)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"x" * 65536
        deadline = time.time() + 60
        while time.time() < deadline:
            self.wfile.write(chunk)

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def route(self):
        if self.path.startswith("http://"):
            # asked as a forward proxy: serve the path ourselves, count it
            with lock:
                stats["proxied"] += 1
            self.path = "/" + self.path.split("/", 3)[3]
        parts = self.path.split("?")[0].strip("/").split("/", 1)
        mode = parts[0]
        if mode == "stats":
            with lock:
                body = ("connections=%d requests=%d proxied=%d\n"
                        % (stats["connections"], stats["requests"], stats["proxied"]))
            self.send_small(200, body.encode())
            return
        if mode == "reset":
            with lock:
                stats["connections"] = stats["requests"] = stats["proxied"] = 0
            self.send_small(200, b"ok\n")
            return
        with lock:
            stats["requests"] += 1
            if not self.counted:
                stats["connections"] += 1
                self.counted = True
        if mode == "ok":
            self.serve_file(DATA)
        elif mode == "small":
            self.serve_file(DATA[:1024])
        elif mode == "big":
            self.serve_file(BIG)
        elif mode == "norange":
            self.serve_file(DATA, honour_range=False)
        elif mode == "bad":
            self.serve_file(BAD)
        elif mode == "cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA[:100000])
            self.wfile.flush()
            self.close_connection = True
        elif mode == "endless":
            self.forever(None)
        elif mode == "liar":
            self.forever(str(10 ** 12))
        elif mode == "silent":
            time.sleep(30)
            self.close_connection = True
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for i in range(100):
                self.wfile.write(b"t")
                self.wfile.flush()
                time.sleep(1)
        elif mode in ("e404", "e403", "e500"):
            self.send_small(int(mode[1:]), b"error page\n" * 100)
        elif mode == "badrange":
            # a 206 that does not start where it was asked to
            self.send_response(206)
            self.send_header("Content-Range", "bytes 0-%d/%d" % (len(DATA) - 1, len(DATA)))
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)
        elif mode == "shortcl":
            # Content-Length says 1000, then the whole file follows (and the
            # connection closes: whether libcurl would see the excess before
            # reusing the connection is a race)
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(DATA)
        elif mode == "e404big":
            self.send_small(404, b"<p>not here</p>\n" * 65536)
        elif mode == "e500big":
            self.send_response(500)
            self.send_header("Content-Length", str(10 << 20))
            self.end_headers()
            self.wfile.write(b"e" * (10 << 20))
        elif mode == "busy503":
            self.send_small(503, extra=[("Retry-After", "120")])
        elif mode == "busydate":
            when = email.utils.formatdate(time.time() + 300, usegmt=True)
            self.send_small(503, extra=[("Retry-After", when)])
        elif mode == "busyhuge":
            self.send_small(503, extra=[("Retry-After", "99999999")])
        elif mode == "busy429":
            self.send_small(429, extra=[("Retry-After", "7")])
        elif mode == "headerbomb":
            deadline = time.time() + 30
            line = b"X-Junk: " + b"j" * 1000 + b"\r\n"
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while time.time() < deadline:
                self.wfile.write(line * 64)
        elif mode == "redirbomb":
            self.send_response(302)
            self.send_header("Location", "/ok/" + (parts[1] if len(parts) > 1 else ""))
            self.send_header("Content-Length", str(10 ** 12))
            self.end_headers()
            deadline = time.time() + 30
            while time.time() < deadline:
                self.wfile.write(b"r" * 65536)
        elif mode == "redirftp":
            self.send_small(302, extra=[("Location", "ftp://127.0.0.1:%d/x" % self.server.server_port)])
        elif mode == "redirloop":
            self.send_small(302, extra=[("Location", self.path)])
        elif mode == "redirok":
            self.send_small(302, extra=[("Location", "/ok/" + (parts[1] if len(parts) > 1 else ""))])
        else:
            self.send_small(404)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    # a listener whose accept queue is full and never drained: new SYNs are
    # dropped, so a connect hangs (connect timeout tests)
    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(0)
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(stuck.getsockname())
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.2)
    print("PORT %d DEAD %d SIZE %d SHA256 %s STUCK %d"
          % (srv.server_port, dead, SIZE, hashlib.sha256(DATA).hexdigest(),
             stuck.getsockname()[1]), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
