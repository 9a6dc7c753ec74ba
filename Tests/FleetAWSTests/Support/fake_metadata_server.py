"""A loopback stand-in for the ECS container credentials endpoint and EC2 IMDSv2, for the credential chain tests.

Prints "PORT <n>"; exits when stdin closes. argv[1]: the Authorization value the container endpoint requires.
Every credentials answer numbers its key (…1, …2) so the tests can see a refresh.
"""
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXPECTED_AUTH = sys.argv[1] if len(sys.argv) > 1 else ""
COUNTER = {"container": 0, "imds": 0}
LOCK = threading.Lock()


def credentials(kind):
    with LOCK:
        COUNTER[kind] += 1
        number = COUNTER[kind]
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return {"Code": "Success", "AccessKeyId": f"AKID{kind.upper()}{number}", "SecretAccessKey": f"secret-{kind}",
            "Token": f"token-{kind}", "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, "TOKEN123", "text/plain")
        self.answer(400, {"message": "bad token request"})

    def do_GET(self):
        if self.path.startswith("/creds"):
            if self.headers.get("Authorization", "") != EXPECTED_AUTH:
                return self.answer(403, {"message": "bad authorization"})
            return self.answer(200, credentials("container"))
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != "TOKEN123":
                return self.answer(401, "")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if role == "":
                return self.answer(200, "my-role\n", "text/plain")
            if role == "my-role":
                return self.answer(200, credentials("imds"))
        self.answer(404, {"message": "not found"})


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
