"""moto 5.2.1 server plus the device-side behaviour AWS IoT has and moto lacks, for the FleetAWS tests.

Run: python3 moto_device_layer.py   (binds 127.0.0.1 on a free port, prints "PORT <n>", serves until stdin closes)

Over moto's WSGI app it adds:
  (a) CreateJob on a thing group gives one execution per member (moto makes one named after the group);
  (b) POST /_device-layer/outcomes moves a job's executions to SUCCEEDED/FAILED/TIMED_OUT/REJECTED/IN_PROGRESS by
      rule (thing-name regex or seeded share), optionally only the first `limit` of them;
  (c) jobProcessDetails recounted from the executions on every DescribeJob; a SNAPSHOT job with nothing pending
      becomes COMPLETED; CancelJob cancels QUEUED executions (IN_PROGRESS too with force);
  (d) CreateJob with an existing job id answers 409 ResourceAlreadyExistsException, as AWS does;
  (e) POST /_device-layer/faults {name, rules} injects 400 ThrottlingException (iot) / 503 SlowDown (s3) or 5xx on a seeded
      share of the requests whose path contains a given text;
  and ListThingsInThingGroup honours maxResults / nextToken (moto ignores them).
Control endpoints live under /_device-layer/ on the same port.
"""
import json
import os
import random
import re
import sys
import threading
from urllib.parse import parse_qs, unquote

from werkzeug.serving import make_server
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iot.models import FakeJobExecution, iot_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

CREDENTIAL_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"}
COUNTERS = {
    "QUEUED": "numberOfQueuedThings",
    "IN_PROGRESS": "numberOfInProgressThings",
    "SUCCEEDED": "numberOfSucceededThings",
    "FAILED": "numberOfFailedThings",
    "TIMED_OUT": "numberOfTimedOutThings",
    "REJECTED": "numberOfRejectedThings",
    "REMOVED": "numberOfRemovedThings",
    "CANCELED": "numberOfCanceledThings",
}


def json_response(start_response, status, payload, headers=()):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + list(headers))
    return [body]


class DeviceLayer:
    def __init__(self, app):
        self.app = app
        self.lock = threading.RLock()
        self.faults = {}  # name -> rules, so concurrent tests keep their own
        self.stats = {"injected": {}, "requests": 0}

    # -- helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def backend(region):
        return iot_backends[DEFAULT_ACCOUNT_ID][region]

    def recount(self, backend, job_id):
        job = backend.jobs.get(job_id)
        if job is None:
            return
        counts = {name: 0 for name in COUNTERS.values()}
        for (execution_job, _), execution in backend.job_executions.items():
            if execution_job == job_id:
                counts[COUNTERS.get(execution.status, "numberOfQueuedThings")] += 1
        details = dict(job.job_process_details)
        details.update(counts)
        job.job_process_details = details
        pending = counts["numberOfQueuedThings"] + counts["numberOfInProgressThings"]
        if job.status not in ("CANCELED",) and job.target_selection in (None, "SNAPSHOT"):
            job.status = "IN_PROGRESS" if pending else "COMPLETED"

    def expand_groups(self, backend, job_id):
        job = backend.jobs[job_id]
        for target in job.targets or []:
            if ":thinggroup/" not in target:
                continue
            group = target.split(":thinggroup/", 1)[1]
            backend.job_executions.pop((job_id, group), None)
            for thing in backend.list_things_in_thing_group(group):
                backend.job_executions[(job_id, thing.thing_name)] = FakeJobExecution(job_id, thing.arn)
        self.recount(backend, job_id)

    def pick_fault(self, path):
        for name, rules in self.faults.items():
            for rule in rules:
                if rule.get("match", "") in path and rule["random"].random() < rule["share"]:
                    self.stats["injected"][name] = self.stats["injected"].get(name, 0) + 1
                    return rule
        return None

    # -- WSGI ------------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_device-layer/"):
            return self.control(environ, start_response, path[len("/_device-layer/"):], method)
        match = CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = (match.group(1), match.group(2)) if match else ("us-east-1", "")
        with self.lock:
            self.stats["requests"] += 1
            fault = self.pick_fault(path)
        if fault:
            return self.inject(start_response, fault, service)
        if service != "iot":
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        job_match = re.fullmatch(r"/jobs/([^/]+)", path)
        cancel_match = re.fullmatch(r"/jobs/([^/]+)/cancel", path)
        group_things = re.fullmatch(r"/thing-groups/([^/]+)/things", path)
        backend = self.backend(region)
        with self.lock:
            if job_match and method == "PUT":
                job_id = unquote(job_match.group(1))
                if job_id in backend.jobs:
                    return json_response(start_response, "409 Conflict",
                                         {"message": f"Job {job_id} already exists", "resourceId": job_id},
                                         [("x-amzn-ErrorType", "ResourceAlreadyExistsException:")])
                return self.forward_then(environ, start_response, lambda: self.expand_groups(backend, job_id))
            if job_match and method == "GET":
                self.recount(backend, unquote(job_match.group(1)))
                return self.app(environ, start_response)
            if cancel_match and method == "PUT":
                job_id = unquote(cancel_match.group(1))
                force = query.get("force", ["false"])[0] == "true"

                def cancel_executions():
                    for (execution_job, _), execution in backend.job_executions.items():
                        if execution_job == job_id and (execution.status == "QUEUED"
                                                        or (force and execution.status == "IN_PROGRESS")):
                            execution.status = "CANCELED"
                    self.recount(backend, job_id)
                return self.forward_then(environ, start_response, cancel_executions)
            if group_things and method == "GET" and "maxResults" in query:
                group = unquote(group_things.group(1))
                try:
                    things = sorted(t.thing_name for t in backend.list_things_in_thing_group(group))
                except Exception:  # noqa: BLE001 - let moto produce its own error
                    return self.app(environ, start_response)
                size = int(query["maxResults"][0])
                offset = int(query.get("nextToken", ["0"])[0])
                page = things[offset:offset + size]
                answer = {"things": page}
                if offset + size < len(things):
                    answer["nextToken"] = str(offset + size)
                return json_response(start_response, "200 OK", answer)
        return self.app(environ, start_response)

    def forward_then(self, environ, start_response, after):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("2"):
            after()
        start_response(captured["status"], captured["headers"])
        return [body]

    def inject(self, start_response, fault, service):
        kind = fault.get("kind", "throttle")
        if kind == "mixed":
            kind = fault["random"].choice(["throttle", "5xx"])
        headers = [("x-amzn-RequestId", "injected")]
        if fault.get("retryAfter") is not None:
            headers.append(("Retry-After", str(fault["retryAfter"])))
        if service == "s3":
            code, status = ("SlowDown", "503 Slow Down") if kind == "throttle" else ("InternalError", "500 Internal Server Error")
            body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected</Message><RequestId>injected</RequestId></Error>".encode()
            start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))] + headers)
            return [body]
        if kind == "throttle":
            return json_response(start_response, "400 Bad Request", {"message": "Rate exceeded (injected)"},
                                 headers + [("x-amzn-ErrorType", "ThrottlingException:")])
        return json_response(start_response, "503 Service Unavailable", {"message": "injected outage"},
                             headers + [("x-amzn-ErrorType", "ServiceUnavailableException:")])

    # -- control ---------------------------------------------------------------------------------------------

    def control(self, environ, start_response, action, method):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        with self.lock:
            if action == "health":
                return json_response(start_response, "200 OK", {"ok": True})
            if action == "stats":
                return json_response(start_response, "200 OK", self.stats)
            if action == "faults":
                name = payload.get("name", "default")
                rules = [dict(rule, random=random.Random(rule.get("seed", 1))) for rule in payload.get("rules", [])]
                if rules:
                    self.faults[name] = rules
                else:
                    self.faults.pop(name, None)
                self.stats["injected"].pop(name, None)
                return json_response(start_response, "200 OK", {"rules": len(rules)})
            if action == "outcomes":
                return json_response(start_response, "200 OK", self.apply_outcomes(payload))
        return json_response(start_response, "404 Not Found", {"message": f"no control action {action}"})

    def apply_outcomes(self, payload):
        backend = self.backend(payload.get("region", "us-east-1"))
        job_id = payload["jobId"]
        rng = random.Random(payload.get("seed", 7))
        rules = payload.get("rules", [])
        default = payload.get("default", "SUCCEEDED")
        limit = payload.get("limit")
        moved = {}
        keys = sorted(key for key in backend.job_executions if key[0] == job_id)
        for _, thing in keys:
            execution = backend.job_executions[(job_id, thing)]
            if execution.status in TERMINAL:
                continue
            if limit is not None and sum(moved.values()) >= limit:
                break
            status = default
            for rule in rules:
                if "match" in rule and re.search(rule["match"], thing):
                    status = rule["status"]
                    break
                if "share" in rule and rng.random() < rule["share"]:
                    status = rule["status"]
                    break
            if status is None:
                continue
            execution.status = status
            moved[status] = moved.get(status, 0) + 1
        self.recount(backend, job_id)
        job = backend.jobs.get(job_id)
        return {"moved": moved, "status": job.status if job else None}


def main():
    app = DeviceLayer(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)

    def watch_parent():
        # The test process holds our stdin: when it goes away, so do we.
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
