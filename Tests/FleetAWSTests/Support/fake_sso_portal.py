"""A loopback stand-in for the IAM Identity Center (SSO) portal's GetRoleCredentials, for the SSO credential tests
(moto has no portal).

Prints "PORT <n>"; exits when stdin closes. argv[1]: the bearer token the portal accepts.
GET /federation/credentials?account_id=…&role_name=… with header x-amz-sso_bearer_token answers role credentials
whose key is numbered (…1, …2) so the tests can see a refresh; a wrong token answers 401 UnauthorizedException.
GET /_requests lists the (account_id, role_name) pairs asked for.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

EXPECTED_TOKEN = sys.argv[1]
LOCK = threading.Lock()
STATE = {"count": 0, "requests": []}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_requests":
            with LOCK:
                return self.answer(200, {"requests": STATE["requests"]})
        if url.path != "/federation/credentials":
            return self.answer(404, {"message": "not found"})
        query = parse_qs(url.query)
        account = query.get("account_id", [""])[0]
        role = query.get("role_name", [""])[0]
        if self.headers.get("x-amz-sso_bearer_token") != EXPECTED_TOKEN:
            return self.answer(401, {"message": "Session token not found or invalid"},
                               {"x-amzn-ErrorType": "UnauthorizedException"})
        if not account or not role:
            return self.answer(400, {"message": "account_id and role_name are required"},
                               {"x-amzn-ErrorType": "InvalidRequestException"})
        with LOCK:
            STATE["count"] += 1
            number = STATE["count"]
            STATE["requests"].append({"account_id": account, "role_name": role})
        expiration_ms = int((time.time() + 3600) * 1000)
        self.answer(200, {"roleCredentials": {"accessKeyId": f"ASIASSO{number}", "secretAccessKey": "sso-secret",
                                              "sessionToken": "sso-session-token", "expiration": expiration_ms}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_port}", flush=True)

    def watch_parent():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
