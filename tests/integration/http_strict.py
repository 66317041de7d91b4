#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/http_strict.py -- raw requests that HTTP/1.1 (RFC 9112)
# says a server must refuse, sent to a server of 127.0.0.1. For each case
# prints "NAME STATUS SECONDS": STATUS is the answer's status code, "close"
# when the server closed without one, "none" when it said nothing within
# the 4 s wait; SECONDS how long that took.
#
# usage: http_strict.py PORT [CASE...] (default: every case)
import socket
import sys
import time

CASES = [
    ("good", b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("nul-in-path", b"GET /timestamp.json\x00x HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("no-host-1.1", b"GET /timestamp.json HTTP/1.1\r\n\r\n"),
    ("no-host-1.0", b"GET /timestamp.json HTTP/1.0\r\n\r\n"),
    ("query", b"GET /timestamp.json?a=b&c HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("two-hosts", b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
    ("space-before-colon", b"GET /timestamp.json HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("folded-header", b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n"),
    ("unknown-te", b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n"),
    ("tls-hello", bytes.fromhex("16030100a5010000a10303") + b"\x00" * 32 + b"\x00\x00\x02\x13\x01\x01\x00"),
    ("garbage", b"GARBAGE\r\n\r\n"),
]


def probe(port, req):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(4)
    t0 = time.time()
    s.sendall(req)
    try:
        data = s.recv(256)
    except socket.timeout:
        data = None
    except OSError:
        data = b""
    s.close()
    dt = time.time() - t0
    if data is None:
        return "none", dt
    if not data:
        return "close", dt
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/"):
        return parts[1].decode("ascii", "replace"), dt
    return "junk", dt


port = int(sys.argv[1])
only = set(sys.argv[2:])
for name, req in CASES:
    if only and name not in only:
        continue
    st, dt = probe(port, req)
    print("%s %s %.1f" % (name, st, dt))
