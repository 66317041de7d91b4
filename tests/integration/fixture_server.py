#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/fixture_server.py -- the one HTTP/1.1 fixture server of
# the integration tests, on 127.0.0.1: honest files, and every misbehaviour a
# hostile mirror can show. Two roles, one handler:
#
#   python3 fixture_server.py fetch          (tests/integration/fetch_http.sh)
#   python3 fixture_server.py repo ROOT [RULES]   (tuf_*.sh, update_*.sh, sync.sh,
#                                                  tests/bench/idle_check.sh)
#
# Common to both: honest files get an ETag, Last-Modified, 304 to
# If-None-Match, and Range (206; 416 past the end); responses go out with
# TCP_NODELAY (headers and body are separate writes: without it, Nagle and
# the client's delayed ACK add 40 ms to every GET on a kept-alive
# connection); a client that hangs up is not an error.
#
# -- fetch: a fixed 300000-byte file and the misbehaviour named by the path.
# Prints "PORT <port> DEAD <port> SIZE <n> SHA256 <hex> STUCK <port>" (DEAD:
# a port nothing listens on; the file's size and hash; STUCK: a port where
# connects hang) on its first line, then serves until killed.
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
#
# -- repo: a directory of repositories, served honestly or with
# misbehaviours chosen per mirror and per path. Prints "PORT <port>" on its
# first line, then serves until killed.
# URL /<mirror>/<path> serves ROOT/<path>; <mirror> is any name ("good",
# "evil", ...). RULES (default ROOT/rules.json, re-read when it changes) is a
# JSON list of {"mirror": NAME or "*", "path": fnmatch pattern on <path>,
# "mode": MODE, ...}; the first matching rule applies ("min_size": N makes a
# rule match only files of at least N bytes):
#   file      serve the bytes of the file "from" instead (an old version,
#             another file's content); "etag": "real" gives them the ETag of
#             the genuine file
#   flip      the file with one byte changed (same length)
#   truncate  the first "n" bytes (default: all but one)
#   append    the file then "n" more bytes (default 1 MiB), honest length
#   endless   200 without a length, data for up to 60 s
#   liar      Content-Length 10^12, data for up to 60 s
#   cut       honest length, only the first "n" bytes (default half; one
#             flipped if "flip" is set), then the connection is closed
#   stall     honest length, the first "n" bytes (default half), then
#             nothing for "seconds" (default 120) before closing
#   trickle   honest length, one byte every "delay" seconds (default 1)
#   delay     the file, honestly, after "delay" seconds
#   status    HTTP status "code" (default 500), "retry_after" if given
#   noetag    the file, but no ETag/Last-Modified and no 304
# Honest files get an ETag (content hash). /_stats returns "requests=N
# bytes=M" (body bytes sent) since the last /_reset; /_log the requests, one
# a line ("<mirror> <path> <mode>").
import email.utils
import fnmatch
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time

LASTMOD = "Mon, 23 Nov 2026 10:00:00 GMT"
lock = threading.Lock()


class Base(http.server.BaseHTTPRequestHandler):
    """What both roles share: quiet, TCP_NODELAY, small answers, honest files."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.counted = False

    def log_message(self, fmt, *args):
        pass

    def body(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)

    def small(self, code, body=b"", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.body(body)

    def not_modified(self, etag, validators=True):
        """304 when the request's validators match (If-Modified-Since too, if
        the role honours it)"""
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm == etag or (self.ims_too and inm is None and ims == LASTMOD):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return True
        return False

    def serve(self, data, etag=None, honour_range=True):
        """the bytes, with Range and (etag given) validators and 304"""
        if etag is not None and self.not_modified(etag):
            return 304
        start = 0
        rng = self.headers.get("Range")
        if honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.small(416, self.range_416_body,
                           extra=[("Content-Range", "bytes */%d" % len(data))])
                return 416
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start))
        if etag is not None:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LASTMOD)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.body(data[start:])
        return 206 if start else 200

    def forever(self, length, byte):
        """200, a Content-Length of length (None: none), data for 60 s"""
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", length)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = byte * 65536
        deadline = time.time() + 60
        while time.time() < deadline:
            self.body(chunk)

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True


# ----------------------------------------------------------------- fetch
SIZE = 300000
DATA = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest()
                for i in range((SIZE + 31) // 32))[:SIZE]
BAD = DATA[:150000] + bytes([DATA[150000] ^ 1]) + DATA[150001:]
FETCH_ETAG = '"v1-%s"' % hashlib.sha256(DATA).hexdigest()[:16]
fetch_stats = {"connections": 0, "requests": 0, "proxied": 0}


class Fetch(Base):
    server_version = "hostile/1"
    ims_too = True
    range_416_body = b"nope\n"

    def send_small(self, code, body=b"nope\n", extra=()):
        self.small(code, body, extra)

    def serve_file(self, data, honour_range=True):
        self.serve(data, FETCH_ETAG, honour_range)

    def route(self):
        if self.path.startswith("http://"):
            # asked as a forward proxy: serve the path ourselves, count it
            with lock:
                fetch_stats["proxied"] += 1
            self.path = "/" + self.path.split("/", 3)[3]
        parts = self.path.split("?")[0].strip("/").split("/", 1)
        mode = parts[0]
        if mode == "stats":
            with lock:
                body = ("connections=%d requests=%d proxied=%d\n"
                        % (fetch_stats["connections"], fetch_stats["requests"],
                           fetch_stats["proxied"]))
            self.send_small(200, body.encode())
            return
        if mode == "reset":
            with lock:
                fetch_stats["connections"] = fetch_stats["requests"] = fetch_stats["proxied"] = 0
            self.send_small(200, b"ok\n")
            return
        with lock:
            fetch_stats["requests"] += 1
            if not self.counted:
                fetch_stats["connections"] += 1
                self.counted = True
        if mode == "ok":
            self.serve_file(DATA)
        elif mode == "small":
            self.serve_file(DATA[:1024])
        elif mode == "big":
            self.serve_file(DATA * 112)  # about 32 MiB, for throughput measurements
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
            self.forever(None, b"x")
        elif mode == "liar":
            self.forever(str(10 ** 12), b"x")
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


def main_fetch():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fetch)
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


# ----------------------------------------------------------------- repo
repo_conf = {"root": None, "rules": None}
repo_stats = {"requests": 0, "bytes": 0, "log": []}
rules_cache = {"mtime": None, "rules": []}


def rules():
    try:
        st = os.stat(repo_conf["rules"])
    except FileNotFoundError:
        return []
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    with lock:
        if rules_cache["mtime"] != key:
            with open(repo_conf["rules"]) as f:
                rules_cache["rules"] = json.load(f)
            rules_cache["mtime"] = key
        return rules_cache["rules"]


def full_path(path):
    root = repo_conf["root"]
    full = os.path.realpath(os.path.join(root, path))
    if not full.startswith(root + os.sep) or not os.path.isfile(full):
        return None
    return full


def read(path):
    full = full_path(path)
    if full is None:
        return None
    with open(full, "rb") as f:
        return f.read()


def matches(r, mirror, path):
    if r.get("mirror", "*") not in ("*", mirror) or not fnmatch.fnmatchcase(path, r["path"]):
        return False
    if "min_size" in r:
        full = full_path(path)
        return full is not None and os.path.getsize(full) >= int(r["min_size"])
    return True


class Repo(Base):
    server_version = "tuf-hostile/1"
    ims_too = False
    range_416_body = b""

    def body(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)
            with lock:
                repo_stats["bytes"] += len(data)

    def serve_repo(self, data, etag=True, tag_of=None):
        tag = '"%s"' % hashlib.sha256(tag_of if tag_of is not None else data).hexdigest()[:32]
        return self.serve(data, tag if etag else None)

    def route(self):
        url = self.path.split("?")[0]
        if url == "/_stats":
            with lock:
                text = "requests=%d bytes=%d\n" % (repo_stats["requests"], repo_stats["bytes"])
            self.small(200, text.encode())
            return
        if url == "/_reset":
            with lock:
                repo_stats.update(requests=0, bytes=0, log=[])
            self.small(200, b"ok\n")
            return
        if url == "/_log":
            with lock:
                text = "".join(line + "\n" for line in repo_stats["log"])
            self.small(200, text.encode())
            return
        parts = url.strip("/").split("/", 1)
        mirror, path = parts[0], parts[1] if len(parts) > 1 else ""
        rule = None
        for r in rules():
            if matches(r, mirror, path):
                rule = r
                break
        mode = rule["mode"] if rule else "ok"
        with lock:
            repo_stats["requests"] += 1
            repo_stats["log"].append("%s %s %s" % (mirror, path, mode))
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
            self.forever(None, b"{")
            return
        if mode == "liar":
            self.forever(str(10 ** 12), b"{")
            return
        if data is None:
            self.small(404, b"not found\n")
            return
        if mode == "file" and rule.get("etag") == "real":
            # the ETag of the file this mirror should have served
            self.serve_repo(data, tag_of=read(path) or b"")
        elif mode in ("ok", "file"):
            self.serve_repo(data)
        elif mode == "delay":
            time.sleep(float(rule.get("delay", 1)))
            self.serve_repo(data)
        elif mode == "noetag":
            self.serve_repo(data, etag=False)
        elif mode == "flip":
            i = len(data) // 2
            self.serve_repo(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:], etag=False)
        elif mode == "truncate":
            self.serve_repo(data[:int(rule.get("n", len(data) - 1))], etag=False)
        elif mode == "append":
            self.serve_repo(data + b" " * int(rule.get("n", 1 << 20)), etag=False)
        elif mode in ("cut", "stall"):
            # announces the whole file, sends the first "n" bytes (one flipped
            # when "flip" is set), closes at once (cut) or after "seconds"
            # (stall): the client keeps a partial
            n = int(rule.get("n", len(data) // 2))
            body = bytearray(data[:n])
            if rule.get("flip") and n > 0:
                body[n // 2] ^= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.body(bytes(body))
            self.wfile.flush()
            if mode == "stall":
                time.sleep(float(rule.get("seconds", 120)))
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


def main_repo(root, rules_path=None):
    repo_conf["root"] = os.path.abspath(root)
    repo_conf["rules"] = rules_path or os.path.join(repo_conf["root"], "rules.json")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Repo)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_port, flush=True)
    srv.serve_forever()


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "fetch":
        main_fetch()
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "repo":
        main_repo(*sys.argv[2:])
    else:
        sys.exit("usage: fixture_server.py fetch | fixture_server.py repo ROOT [RULES]")


if __name__ == "__main__":
    main()
