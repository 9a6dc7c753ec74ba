"""A real Prometheus server on loopback, scraping a small exporter whose values the tests set, behind the
tests' own authenticating front door.

Starts `prometheus` (Debian's package) with a 1 s scrape interval on a free loopback port and a fresh TSDB in a
temporary directory, then serves on another loopback port:
  /_exporter/metrics          the exporter Prometheus scrapes (text format)
  POST /_exporter/set         JSON {"name": ..., "labels": {...}, "value": ...}: sets a sample (value null removes it)
  /open/...                   proxied to Prometheus as is
  /bearer/...                 proxied only with "Authorization: Bearer <argv[1]>" (401 otherwise)
  /basic/...                  proxied only with HTTP Basic "rollout:<argv[2]>" (401 otherwise)
  /sigv4/...                  proxied only with a SigV4 Authorization header for service aps (403 otherwise);
                              the header it saw is kept at /_last/sigv4
Prints "PORT <n>"; exits (and stops Prometheus) when stdin closes.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEARER = sys.argv[1] if len(sys.argv) > 1 else "bearer-token"
PASSWORD = sys.argv[2] if len(sys.argv) > 2 else "password"
SAMPLES = {}
LAST = {}
LOCK = threading.Lock()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def exposition():
    lines = []
    with LOCK:
        for (name, labels), value in sorted(SAMPLES.items()):
            label_text = ",".join(f'{key}="{val}"' for key, val in labels)
            lines.append(f"{name}{{{label_text}}} {value}")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    prometheus_port = 0

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/_exporter/set":
            return self.answer(404, {"error": "unknown path"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        key = (body["name"], tuple(sorted((body.get("labels") or {}).items())))
        with LOCK:
            if body.get("value") is None:
                SAMPLES.pop(key, None)
            else:
                SAMPLES[key] = body["value"]
        self.answer(200, {"ok": True})

    def do_GET(self):
        if self.path == "/_exporter/metrics":
            return self.answer(200, exposition(), "text/plain; version=0.0.4")
        if self.path == "/_last/sigv4":
            with LOCK:
                return self.answer(200, {"authorization": LAST.get("sigv4", ""), "date": LAST.get("date", "")})
        door, _, rest = self.path[1:].partition("/")
        auth = self.headers.get("Authorization") or ""
        if door == "bearer" and auth != f"Bearer {BEARER}":
            return self.answer(401, {"status": "error", "errorType": "unauthorized", "error": "bearer token required"})
        if door == "basic":
            import base64
            expected = "Basic " + base64.b64encode(f"rollout:{PASSWORD}".encode()).decode()
            if auth != expected:
                return self.answer(401, {"status": "error", "errorType": "unauthorized", "error": "basic auth required"})
        if door == "sigv4":
            if not (auth.startswith("AWS4-HMAC-SHA256 Credential=") and "/aps/aws4_request" in auth
                    and self.headers.get("X-Amz-Date")):
                return self.answer(403, {"status": "error", "errorType": "forbidden", "error": "SigV4 for aps required"})
            with LOCK:
                LAST["sigv4"] = auth
                LAST["date"] = self.headers.get("X-Amz-Date")
        if door not in ("open", "bearer", "basic", "sigv4"):
            return self.answer(404, {"error": "unknown path"})
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.prometheus_port}/{rest}", timeout=10) as upstream:
                return self.answer(upstream.status, upstream.read())
        except urllib.error.HTTPError as error:
            return self.answer(error.code, error.read())


def start_prometheus(exporter_port, workdir):
    """Starts Prometheus on a free port (tried again on another port if it loses a race for one)."""
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as out:
        out.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                  "scrape_configs:\n"
                  "  - job_name: fleet\n"
                  "    metrics_path: /_exporter/metrics\n"
                  f"    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n")
    log = open(os.path.join(workdir, "prometheus.log"), "w")
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
                                    f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                   stdout=log, stderr=log)
        for _ in range(300):  # up to 30 s
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as ready:
                    if ready.status == 200:
                        return process, port
            except OSError:
                pass
            time.sleep(0.1)
        process.kill()
    log.close()
    sys.stderr.write(open(os.path.join(workdir, "prometheus.log")).read()[-2000:])
    raise SystemExit("prometheus did not become ready")


def main():
    workdir = tempfile.mkdtemp(prefix="rollout-prometheus-")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    process, Handler.prometheus_port = start_prometheus(port, workdir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
