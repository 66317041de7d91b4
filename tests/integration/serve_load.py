#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tests/integration/serve_load.py -- many concurrent keep-alive connections to
# an HTTP server on 127.0.0.1. Opens CONNS connections first (all open at the
# same time), then each sends REQS requests in turn on its own connection, a
# mix of GET timestamp.json, GET of a blob, a conditional GET answered 304 and
# a Range GET; every answer is checked (status, length, bytes).
# Prints "conns=N open=N requests=N errors=N seconds=S"; exit 1 on any error.
#   serve_load.py PORT ROOT BLOB CONNS REQS
import asyncio
import resource
import sys
import time

port, root, blob = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conns, reqs = int(sys.argv[4]), int(sys.argv[5])

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

ts = open(root + "/timestamp.json", "rb").read()
bl = open(root + "/" + blob, "rb").read()
errors = []


async def request(r, w, path, headers=""):
    w.write(("GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (path, headers)).encode())
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    h = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            h[k.strip().lower()] = v.strip()
    n = int(h.get("content-length", "0"))
    body = await r.readexactly(n) if status != 304 and n else b""
    if h.get("connection", "").lower() == "close":
        raise RuntimeError("server closed the keep-alive connection on /%s" % path)
    return status, h, body


async def client(i, opened, go):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        errors.append("connect: %s" % e)
        opened.append(False)
        return 0
    opened.append(True)
    await go.wait()
    done = 0
    etag = None
    try:
        for k in range(reqs):
            m = (i + k) % 4
            if m == 0:
                st, h, b = await request(r, w, "timestamp.json")
                if st != 200 or b != ts:
                    raise RuntimeError("timestamp: %d %d bytes" % (st, len(b)))
                etag = h.get("etag")
            elif m == 1:
                st, h, b = await request(r, w, blob)
                if st != 200 or b != bl:
                    raise RuntimeError("blob: %d %d bytes" % (st, len(b)))
            elif m == 2:
                hdr = "If-None-Match: %s\r\n" % etag if etag else ""
                st, h, b = await request(r, w, "timestamp.json", hdr)
                if st != (304 if etag else 200):
                    raise RuntimeError("conditional: %d" % st)
            else:
                st, h, b = await request(r, w, blob, "Range: bytes=100-199\r\n")
                if st != 206 or b != bl[100:200]:
                    raise RuntimeError("range: %d %d bytes" % (st, len(b)))
            done += 1
    except Exception as e:  # noqa: BLE001 -- every failure counts
        errors.append("conn %d request %d: %r" % (i, done, e))
    w.close()
    return done


async def main():
    opened = []
    go = asyncio.Event()
    tasks = [asyncio.create_task(client(i, opened, go)) for i in range(conns)]
    while len(opened) < conns:
        await asyncio.sleep(0.01)
    t0 = time.time()
    go.set()
    done = await asyncio.gather(*tasks)
    dt = time.time() - t0
    print("conns=%d open=%d requests=%d errors=%d seconds=%.2f"
          % (conns, sum(opened), sum(done), len(errors), dt))
    for e in errors[:5]:
        print("error: " + e)
    return 1 if errors or sum(opened) != conns else 0


sys.exit(asyncio.run(main()))
