"""A loopback stand-in for the IAM Identity Center (SSO) portal's GetRoleCredentials and for SSO OIDC's CreateToken
(refresh_token grant), for the SSO credential tests (moto has neither).

Prints "PORT <n>"; exits when stdin closes. argv[1]: the bearer token the portal accepts.
Optional: --oidc CLIENT_ID CLIENT_SECRET REFRESH_TOKEN: the registration and refresh token CreateToken accepts;
--expires-in N: the expiresIn it answers (default 3600).
GET /federation/credentials?account_id=…&role_name=… with header x-amz-sso_bearer_token answers role credentials
whose key is numbered (…1, …2) so the tests can see a refresh; a wrong token answers 401 UnauthorizedException.
POST /token with {"grantType": "refresh_token", "clientId", "clientSecret", "refreshToken"} matching --oidc mints
"refreshed-access-token-<n>" (then accepted by the portal too) and rotates the refresh token to
"rotated-refresh-token-<n>" (the old one is refused from then on); anything else answers 400 InvalidGrantException
(or InvalidClientException for a wrong client), as the service does.
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
STATE = {"count": 0, "requests": [], "tokens": {EXPECTED_TOKEN}, "minted": 0, "oidc": None, "expires_in": 3600}


def parse_options(arguments):
    index = 0
    while index < len(arguments):
        if arguments[index] == "--oidc":
            client_id, client_secret, refresh_token = arguments[index + 1:index + 4]
            STATE["oidc"] = {"clientId": client_id, "clientSecret": client_secret, "refreshToken": refresh_token}
            index += 4
        elif arguments[index] == "--expires-in":
            STATE["expires_in"] = int(arguments[index + 1])
            index += 2
        else:
            raise SystemExit(f"unknown option {arguments[index]}")


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
        with LOCK:
            accepted = self.headers.get("x-amz-sso_bearer_token") in STATE["tokens"]
        if not accepted:
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

    def do_POST(self):
        if urlparse(self.path).path != "/token":
            return self.answer(404, {"message": "not found"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            return self.answer(413, {"message": "too large"})
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.answer(400, {"error": "invalid_request"}, {"x-amzn-ErrorType": "InvalidRequestException"})
        with LOCK:
            oidc = STATE["oidc"]
            if oidc is None or body.get("clientId") != oidc["clientId"] \
                    or body.get("clientSecret") != oidc["clientSecret"]:
                return self.answer(401, {"error": "invalid_client"}, {"x-amzn-ErrorType": "InvalidClientException"})
            if body.get("grantType") != "refresh_token" or body.get("refreshToken") != oidc["refreshToken"]:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid refresh token provided"},
                                   {"x-amzn-ErrorType": "InvalidGrantException"})
            STATE["minted"] += 1
            number = STATE["minted"]
            access_token = f"refreshed-access-token-{number}"
            oidc["refreshToken"] = f"rotated-refresh-token-{number}"
            STATE["tokens"].add(access_token)
            answer = {"accessToken": access_token, "expiresIn": STATE["expires_in"],
                      "refreshToken": oidc["refreshToken"], "tokenType": "Bearer"}
        self.answer(200, answer)


def main():
    parse_options(sys.argv[2:])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_port}", flush=True)

    def watch_parent():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
