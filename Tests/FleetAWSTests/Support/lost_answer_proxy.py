"""A loopback HTTP/1.1 proxy in front of the device layer (moto) that loses answers on purpose, for the FleetAWS tests.

Run: python3 lost_answer_proxy.py --upstream http://127.0.0.1:PORT [--rules JSON]
     (binds 127.0.0.1 on a free port, prints "PORT <n>", serves until stdin closes)

Clients keep their connections alive (HTTP/1.1); the proxy forwards each request to the upstream and relays its answer,
unless a rule says otherwise. Rules are a JSON list, tried in order; each fires once, on the first request it matches:
  {"operation": "CreateJob", "path": "-rollback$", "action": "dropAnswer"}
      forwards the request (its effect happens upstream), then closes the connection without a byte of the answer;
      only on a connection that already served a request, which is what a client sees when a kept-alive connection
      dies under a request (curl then resends it on a fresh one);
  {"operation": "CreateJob", "path": "-rollback$", "action": "refuse", "status": 403, "code": "AccessDeniedException"}
      answers that error without forwarding (a definite refusal).
`operation` is the AWS operation name (CreateJob, CancelJob, PutObject, AddThingToThingGroup, DeleteThingGroup, …,
see `operation_of`); `path`, optional, is a regex searched in the request path.

The device layer behind the proxy answers a CreateJob for an existing job id with AWS's 409
ResourceAlreadyExistsException (moto would silently replace the job), so a resent CreateJob looks as it does on AWS.

Control endpoints, on the same port:
  GET  /_proxy/counts  -> {"forwarded": {operation: n}, "createJob": {job id: n}, "fired": [{rule, operation, path,
                           action}], "armed": [rule indices not fired yet]}
  POST /_proxy/rules   {"rules": [...]} replaces the rules (and re-arms them).
"""
import argparse
import http.client
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

CREDENTIAL_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
BODY_BYTES_MAX = 256 << 20
CHUNKS_MAX = 1 << 20

IOT_ROUTES = [
    ("PUT", r"/jobs/[^/]+/cancel", "CancelJob"),
    ("GET", r"/jobs/[^/]+/things", "ListJobExecutionsForJob"),
    ("GET", r"/jobs/[^/]+/job-document", "GetJobDocument"),
    ("PUT", r"/jobs/[^/]+", "CreateJob"),
    ("GET", r"/jobs/[^/]+", "DescribeJob"),
    ("DELETE", r"/jobs/[^/]+", "DeleteJob"),
    ("PUT", r"/thing-groups/addThingToThingGroup", "AddThingToThingGroup"),
    ("GET", r"/thing-groups/[^/]+/things", "ListThingsInThingGroup"),
    ("POST", r"/thing-groups/[^/]+", "CreateThingGroup"),
    ("GET", r"/thing-groups/[^/]+", "DescribeThingGroup"),
    ("DELETE", r"/thing-groups/[^/]+", "DeleteThingGroup"),
    ("GET", r"/things", "ListThings"),
    ("GET", r"/things/[^/]+", "DescribeThing"),
]
S3_OBJECT_OPERATIONS = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}


def operation_of(method, path, authorization):
    """The AWS operation a request is, from its signing service, method and path."""
    match = CREDENTIAL_RE.search(authorization or "")
    service = match.group(1) if match else ""
    if service == "iot":
        for route_method, pattern, name in IOT_ROUTES:
            if method == route_method and re.fullmatch(pattern, path):
                return name
        return f"iot {method} {path.split('/')[1] if '/' in path else path}"
    if service == "s3":
        segments = [segment for segment in path.split("/") if segment]
        if len(segments) >= 2 and method in S3_OBJECT_OPERATIONS:
            return S3_OBJECT_OPERATIONS[method]
        return f"s3 {method} bucket"
    return f"{service or 'unsigned'} {method}"


class Proxy:
    def __init__(self, upstream, rules):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.lock = threading.Lock()
        self.set_rules(rules)
        self.forwarded = {}
        self.create_job = {}

    def set_rules(self, rules):
        with self.lock:
            self.rules = [dict(rule, compiled=re.compile(rule.get("path", ""))) for rule in rules]
            self.armed = set(range(len(self.rules)))
            self.fired = []

    def take_rule(self, operation, path, kept_alive):
        """The first armed rule matching this request (disarmed now), or None."""
        with self.lock:
            for index, rule in enumerate(self.rules):
                if index not in self.armed or rule["operation"] != operation or not rule["compiled"].search(path):
                    continue
                if rule["action"] == "dropAnswer" and not kept_alive:
                    continue
                self.armed.discard(index)
                self.fired.append({"rule": index, "operation": operation, "path": path, "action": rule["action"]})
                return rule
        return None

    def count(self, operation, path):
        with self.lock:
            self.forwarded[operation] = self.forwarded.get(operation, 0) + 1
            if operation == "CreateJob":
                job_id = unquote(path.rsplit("/", 1)[-1])
                self.create_job[job_id] = self.create_job.get(job_id, 0) + 1

    def snapshot(self):
        with self.lock:
            return {"forwarded": dict(self.forwarded), "createJob": dict(self.create_job), "fired": list(self.fired),
                    "armed": sorted(self.armed)}

    def forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)
        try:
            connection.request(method, path, body=body if body or method in ("PUT", "POST") else None,
                               headers=headers)
            response = connection.getresponse()
            data = response.read() if method != "HEAD" else b""
            return response.status, response.reason, response.getheaders(), data
        finally:
            connection.close()


def make_handler(proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.served_on_connection = 0

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = b""
                for _ in range(CHUNKS_MAX):
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline()
                    if len(body) > BODY_BYTES_MAX:
                        break
                raise ValueError("chunked body too long")
            length = int(self.headers.get("Content-Length") or 0)
            if length > BODY_BYTES_MAX:
                raise ValueError("body too long")
            return self.rfile.read(length) if length else b""

        def answer(self, status, reason, headers, data, head_only=False):
            self.send_response_only(status, reason)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            length = dict((k.lower(), v) for k, v in headers).get("content-length", "0") if head_only else len(data)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if not head_only:
                self.wfile.write(data)

        def control(self, path, body):
            if path == "/_proxy/counts":
                data = json.dumps(proxy.snapshot()).encode()
            elif path == "/_proxy/rules":
                proxy.set_rules(json.loads(body or b"{}").get("rules", []))
                data = b'{"ok": true}'
            else:
                self.answer(404, "Not Found", [("Content-Type", "application/json")], b'{"message": "no such control"}')
                return
            self.answer(200, "OK", [("Content-Type", "application/json")], data)

        def relay(self):
            kept_alive = self.served_on_connection > 0
            self.served_on_connection += 1
            body = self.read_body()
            path = urlsplit(self.path).path
            if path.startswith("/_proxy/"):
                return self.control(path, body)
            operation = operation_of(self.command, path, self.headers.get("Authorization"))
            rule = proxy.take_rule(operation, path, kept_alive)
            if rule is not None and rule["action"] == "refuse":
                message = json.dumps({"message": rule.get("message", f"{operation} refused by the test proxy")}).encode()
                status = int(rule.get("status", 403))
                self.answer(status, "Refused", [("Content-Type", "application/json"),
                                                ("x-amzn-ErrorType", rule.get("code", "AccessDeniedException") + ":"),
                                                ("x-amzn-RequestId", "proxy-refused")], message)
                return
            headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            status, reason, answer_headers, data = proxy.forward(self.command, self.path, headers, body)
            proxy.count(operation, path)
            if rule is not None and rule["action"] == "dropAnswer":
                # The upstream did it; the client never hears so. Closing without a byte is what a dead kept-alive
                # connection looks like.
                self.close_connection = True
                return
            self.answer(status, reason, answer_headers, data, head_only=self.command == "HEAD")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--rules", default="[]")
    arguments = parser.parse_args()
    proxy = Proxy(arguments.upstream, json.loads(arguments.rules))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(proxy))
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)

    def watch_parent():
        # The test process holds our stdin: when it goes away, so do we.
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
