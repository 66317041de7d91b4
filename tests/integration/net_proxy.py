# SPDX-License-Identifier: Apache-2.0
# tests/integration/net_proxy.py -- a tiny HTTP forward proxy on 127.0.0.1
# for update_net.sh: relays absolute-URL GETs (no CONNECT), writes each
# request line to LOG, prints its port once listening.
# usage: net_proxy.py LOG
import http.server
import sys
import urllib.error
import urllib.request

LOG = sys.argv[1]
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        with open(LOG, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        if not self.path.startswith("http://"):
            self.send_error(400, "absolute URL expected")
            return
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        req = urllib.request.Request(self.path, headers=hdrs)
        try:
            r = opener.open(req, timeout=30)
            code, rh, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            code, rh, body = e.code, e.headers, e.read()
        self.send_response(code)
        for k, v in rh.items():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Via", "1.1 net_proxy")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304:
            self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(srv.server_address[1], flush=True)
srv.serve_forever()
