"""A loopback proxy in front of Fedgate for schemathesis: it computes what a real
client computes — the access-key signature for /api/v1, the session cookie and CSRF
token for /manage/v1 — so the fuzzer's requests reach the handlers instead of all
stopping at authentication. It fills in only what the fuzzer sent: a request without
all four signature headers (or without the session cookie, or the CSRF header) goes
on without them, and must be refused. Bodies, paths and queries pass through byte
for byte.

Usage: signing_proxy.py LISTEN_PORT UPSTREAM_URL CREDENTIALS_JSON
"""

import hashlib
import hmac
import http.client
import json
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, CREDENTIALS = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]
with open(CREDENTIALS) as f:
    CREDS = json.load(f)


def canonical_query(q):
    pairs = sorted(
        (urllib.parse.quote(k, safe="~"), urllib.parse.quote(v, safe="~"))
        for k, v in urllib.parse.parse_qsl(q, keep_blank_values=True)
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        sent = {k.lower() for k in self.headers.keys()}
        signing = ("x-fedgate-key-id", "x-fedgate-timestamp", "x-fedgate-nonce",
                   "x-fedgate-signature")
        cookie = self.headers.get("cookie", "")
        # What the proxy computes replaces what the fuzzer sent under any spelling.
        replaced = ("host", "connection", "content-length")
        if path.startswith("/api/") and all(h in sent for h in signing):
            replaced += signing
        if path.startswith("/manage/"):
            replaced += ("cookie", "x-csrf-token")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in replaced}
        if path.startswith("/api/") and all(h in sent for h in signing):
            ts, nonce = str(int(time.time())), secrets.token_hex(16)
            to_sign = "\n".join(["FEDGATE-HMAC-SHA256", CREDS["keyId"], ts, nonce, self.command,
                                 path, canonical_query(query), hashlib.sha256(body).hexdigest()])
            headers.update({
                "x-fedgate-key-id": CREDS["keyId"], "x-fedgate-timestamp": ts,
                "x-fedgate-nonce": nonce,
                "x-fedgate-signature": hmac.new(CREDS["secret"].encode(), to_sign.encode(),
                                                hashlib.sha256).hexdigest(),
            })
        elif path.startswith("/manage/"):
            if "fedgate_session=" in cookie:
                headers["cookie"] = CREDS["cookie"]
            if "x-csrf-token" in sent:
                headers["x-csrf-token"] = CREDS["csrf"]
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
        conn.request(self.command, self.path, body=body or None, headers=headers)
        res = conn.getresponse()
        data = res.read()
        self.send_response(res.status, res.reason)
        for k, v in res.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    def __getattr__(self, name):
        # Every method, including ones the fuzzer makes up (QUERY, FOO), goes upstream.
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)


ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
