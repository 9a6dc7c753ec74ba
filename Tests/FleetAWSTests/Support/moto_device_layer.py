"""moto 5.2.1 server plus the device-side behaviour AWS IoT has and moto lacks, for the FleetAWS tests.

Run: python3 moto_device_layer.py   (binds 127.0.0.1 on a free port, prints "PORT <n>", serves until stdin closes)

Over moto's WSGI app it adds:
  (a) CreateJob on a thing group gives one execution per member (moto makes one named after the group);
  (b) POST /_device-layer/outcomes moves a job's executions to SUCCEEDED/FAILED/TIMED_OUT/REJECTED/IN_PROGRESS by
      rule (thing-name regex or seeded share), optionally only the first `limit` of them;
  (c) jobProcessDetails recounted from the executions on every DescribeJob; a SNAPSHOT job with nothing pending
      becomes COMPLETED; CancelJob cancels QUEUED executions (IN_PROGRESS too with force, keeping their startedAt);
      a CancelJob of a job already CANCELED or COMPLETED answers 400 InvalidRequestException (moto accepts it;
      AWS documents InvalidRequestException for CancelJob: of the two answers a resent cancel may get, the refusal
      is the one a client must work harder to count as done);
  (c') an execution has no startedAt until a device starts it (moto stamps every execution at creation, so a QUEUED
      execution cancelled before any device took it would look started);
  (d) CreateJob with an existing job id answers 409 ResourceAlreadyExistsException, as AWS does;
  (e) POST /_device-layer/faults {name, rules} injects 400 ThrottlingException (iot) / 503 SlowDown (s3) or 5xx on a seeded
      share of the requests whose path contains a given text;
  (f) POST /_device-layer/play {name, jobPrefix, rules, default, startMs, finishMs, seed} makes devices act on their
      own over time: a background thread moves every QUEUED execution of a job whose id starts with `jobPrefix` to
      IN_PROGRESS after a random delay in `startMs`, then to its outcome after a delay in `finishMs` (first matching
      rule: optional `job` regex on the job id, then `match` (thing regex), `share` (seeded per job and thing) or
      `first` (the first n things of the job, sorted); else `default`; a rule may set its own `startMs`). Outcome
      IN_PROGRESS means the device never reports back; QUEUED means it never picks the job up. Executions of a
      CANCELED job are frozen (its in-progress devices never report), so what a rollback read stays what the tests
      read back. A payload without rules and default removes the play;
  (g) every CreateJob reaching moto is recorded per job id (attempts / created / conflicts): POST
      /_device-layer/creates {prefix} answers them, since moto itself would silently replace a duplicate;
  (h) loopback HTTP fixtures for the metric and webhook tests: POST /_device-layer/fixture {path, status, body,
      repeat, delayMs, failFirst} sets what GET/POST <path> (under /_fixture/) answers; every request to a fixture is
      recorded and POST /_device-layer/received {path} lists them (method, headers, body);
  (i) IAM SimulatePrincipalPolicy (moto has none) over the identity policies moto holds for a user or role;
  (j) fleet scale for `rollout bench --aws`: things found by name through an index (moto scans every thing for each
      lookup by name, so 100,000 group adds would take hours); POST /_device-layer/seed {region, group, prefix,
      count, bucket} creates `count` things `<prefix>-0000000…` in thing group `group` (and the bucket) directly in
      moto's backend; every AddThingToThingGroup is recorded per (thing, group) and POST /_device-layer/adds answers
      {calls, pairs, repeated} (a pair added twice counts once in `repeated`);
  (k) CloudWatch DescribeAlarmHistory (moto has none): the state updates of one alarm, from the states moto keeps;
  (l) CreateJob with `jobTemplateArn` takes the template's document (moto ignores the template);
  and ListThingsInThingGroup honours maxResults / nextToken (moto ignores them).
Control endpoints live under /_device-layer/ on the same port.
"""
import fnmatch
import io
import json
import os
import random
import re
import sys
import threading
import time
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from werkzeug.serving import make_server
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.iot.models import FakeJobExecution, IoTBackend, iot_backends
from moto.s3.models import s3_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_create_thing = IoTBackend.create_thing
_describe_thing = IoTBackend.describe_thing


def _things_by_name(backend):
    return backend.__dict__.setdefault("_device_layer_things_by_name", {})


def create_thing_indexed(self, thing_name, *args, **kwargs):
    thing = _create_thing(self, thing_name, *args, **kwargs)
    _things_by_name(self)[thing_name] = thing
    return thing


def describe_thing_indexed(self, thing_name):
    thing = _things_by_name(self).get(thing_name)
    if thing is not None and self.things.get(thing.arn) is thing:
        return thing
    return _describe_thing(self, thing_name)  # deleted or unknown: moto's own answer


IoTBackend.create_thing = create_thing_indexed
IoTBackend.describe_thing = describe_thing_indexed

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
        self.plays = {}  # name -> play (rules for devices acting over time)
        self.schedule = {}  # (region, job id, thing) -> {"at": monotonic seconds, "next": status, "outcome": status}
        self.regions = {"us-east-1"}
        self.creates = {}  # job id -> {"attempts", "created", "conflicts"}
        self.adds = {"calls": 0, "repeated": 0}  # AddThingToThingGroup requests, and those adding a pair again
        self.added_pairs = set()  # (thing, group)
        self.sorted_members = {}  # (region, group, size) -> member names, sorted (the last group read)
        self.fixtures = {}  # path -> canned answer
        self.received = {}  # path -> [request]

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
        for (execution_job, _), execution in backend.job_executions.items():
            if execution_job == job_id and execution.status == "QUEUED":
                execution.started_at = None  # not started until a device takes it
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
        if path.startswith("/_fixture/"):
            return self.fixture(environ, start_response, path, method)
        match = CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = (match.group(1), match.group(2)) if match else ("us-east-1", "")
        with self.lock:
            self.stats["requests"] += 1
            fault = self.pick_fault(path)
        if fault:
            # Read the request body first, as AWS does: left unread on a kept-alive connection it would be taken for
            # the next request (and an upload would see its answer before sending a byte).
            length = int(environ.get("CONTENT_LENGTH") or 0)
            while length > 0:
                chunk = environ["wsgi.input"].read(min(length, 1 << 16))
                if not chunk:
                    break
                length -= len(chunk)
            return self.inject(start_response, fault, service)
        if service == "iam" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            if form.get("Action") == ["SimulatePrincipalPolicy"]:
                return self.simulate_principal_policy(start_response, form)
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads the form again
        if service == "monitoring" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            if form.get("Action") == ["DescribeAlarmHistory"]:
                return self.describe_alarm_history(start_response, form, region)
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads the form again
        if service != "iot":
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        job_match = re.fullmatch(r"/jobs/([^/]+)", path)
        cancel_match = re.fullmatch(r"/jobs/([^/]+)/cancel", path)
        group_things = re.fullmatch(r"/thing-groups/([^/]+)/things", path)
        backend = self.backend(region)
        if path == "/thing-groups/addThingToThingGroup" and method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            try:
                request = json.loads(body or b"{}")
                pair = (request.get("thingName") or request.get("thingArn"),
                        request.get("thingGroupName") or request.get("thingGroupArn"))
            except ValueError:
                pair = None
            with self.lock:
                self.adds["calls"] += 1
                if pair in self.added_pairs:
                    self.adds["repeated"] += 1
                elif pair is not None:
                    self.added_pairs.add(pair)
                if pair is not None and pair[0] and pair[1] and not pair[0].startswith("arn:") \
                        and not pair[1].startswith("arn:"):
                    # Straight into moto's backend: its request dispatch costs more than the addition itself.
                    try:
                        backend.add_thing_to_thing_group(pair[1], None, pair[0], None)
                        return json_response(start_response, "200 OK", {})
                    except Exception:  # noqa: BLE001 - let moto produce its own error
                        pass
        with self.lock:
            self.regions.add(region)
            if job_match and method == "PUT":
                job_id = unquote(job_match.group(1))
                self.fill_from_template(environ, backend)
                record = self.creates.setdefault(job_id, {"attempts": 0, "created": 0, "conflicts": 0})
                record["attempts"] += 1
                if job_id in backend.jobs:
                    record["conflicts"] += 1
                    return json_response(start_response, "409 Conflict",
                                         {"message": f"Job {job_id} already exists", "resourceId": job_id},
                                         [("x-amzn-ErrorType", "ResourceAlreadyExistsException:")])
                def created():
                    record["created"] += 1
                    self.expand_groups(backend, job_id)
                return self.forward_then(environ, start_response, created)
            if job_match and method == "GET":
                self.recount(backend, unquote(job_match.group(1)))
                return self.app(environ, start_response)
            if cancel_match and method == "PUT":
                job_id = unquote(cancel_match.group(1))
                force = query.get("force", ["false"])[0] == "true"
                job = backend.jobs.get(job_id)
                if job is not None and job.status in ("CANCELED", "COMPLETED"):
                    return json_response(start_response, "400 Bad Request",
                                         {"message": f"Job {job_id} is {job.status} and cannot be canceled"},
                                         [("x-amzn-ErrorType", "InvalidRequestException:")])

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
                    members = backend.list_things_in_thing_group(group)
                except Exception:  # noqa: BLE001 - let moto produce its own error
                    return self.app(environ, start_response)
                # Sorted once per membership (a 100,000-thing group is read 400 pages at a time).
                key = (region, group, len(members))
                things = self.sorted_members.get(key)
                if things is None:
                    things = sorted(t.thing_name for t in members)
                    self.sorted_members = {key: things}
                size = int(query["maxResults"][0])
                offset = int(query.get("nextToken", ["0"])[0])
                page = things[offset:offset + size]
                answer = {"things": page}
                if offset + size < len(things):
                    answer["nextToken"] = str(offset + size)
                return json_response(start_response, "200 OK", answer)
        return self.app(environ, start_response)

    # -- IAM policy simulation (moto 5.2.1 has none) -----------------------------------------------------------

    def simulate_principal_policy(self, start_response, form):
        """(i) SimulatePrincipalPolicy over the identity policies moto holds for a user or role: an action is
        `allowed` when an Allow statement matches it and the resource (`*` and `?` wildcards) and no Deny does,
        `explicitDeny` when a Deny matches, else `implicitDeny`. Conditions, boundaries, groups and resource policies
        are not evaluated: enough for the tests, which give their principals plain identity policies."""
        from moto.iam.models import iam_backends

        def members(name):
            keys = [key for key in form if key.startswith(name + ".member.")]
            return [form[key][0] for key in sorted(keys, key=lambda key: int(key.rsplit(".", 1)[1]))]

        source = form.get("PolicySourceArn", [""])[0]
        actions = members("ActionNames")
        resource = (members("ResourceArns") or ["*"])[0]
        parts = source.split(":", 5)
        principal = None
        if len(parts) == 6:
            kind, _, name = parts[5].partition("/")
            name = name.rsplit("/", 1)[-1]
            backend = iam_backends[parts[4]][parts[1] or "aws"]
            try:
                principal = backend.get_user(name) if kind == "user" else backend.get_role(name) if kind == "role" else None
            except Exception:  # noqa: BLE001 - moto's NoSuchEntity
                principal = None
        if principal is None:
            body = ("<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no principal "
                    f"{escape(source)}</Message></Error><RequestId>device-layer</RequestId></ErrorResponse>").encode()
            start_response("404 Not Found", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
            return [body]
        documents = list(principal.policies.values())
        for policy in principal.managed_policies.values():
            documents += [version.document for version in policy.versions if version.is_default]
        statements = []
        for document in documents:
            parsed = json.loads(document) if isinstance(document, str) else document
            listed = parsed.get("Statement", [])
            statements += listed if isinstance(listed, list) else [listed]

        def matches(patterns, value):
            patterns = patterns if isinstance(patterns, list) else [patterns]
            return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in patterns)

        results = ""
        for action in actions:
            applicable = [st for st in statements
                          if matches(st.get("Action", []), action) and matches(st.get("Resource", "*"), resource)]
            if any(st.get("Effect") == "Deny" for st in applicable):
                decision = "explicitDeny"
            elif any(st.get("Effect") == "Allow" for st in applicable):
                decision = "allowed"
            else:
                decision = "implicitDeny"
            results += (f"<member><EvalActionName>{escape(action)}</EvalActionName><EvalResourceName>{escape(resource)}"
                        f"</EvalResourceName><EvalDecision>{decision}</EvalDecision></member>")
        body = ("<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                f"<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{results}"
                "</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>device-layer"
                "</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>").encode()
        with self.lock:
            self.stats["simulations"] = self.stats.get("simulations", 0) + 1
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

    # -- Jobs from job templates (moto 5.2.1 ignores jobTemplateArn) --------------------------------------------

    @staticmethod
    def fill_from_template(environ, backend):
        """(l) A CreateJob with `jobTemplateArn` and no document takes the template's document, as AWS does."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        arn = request.get("jobTemplateArn") if isinstance(request, dict) else None
        template = backend.jobs_templates.get(arn.rsplit("/", 1)[-1]) if arn else None
        if template is not None and not request.get("document") and not request.get("documentSource"):
            request["document"] = template.document
            body = json.dumps(request).encode()
            environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again

    # -- CloudWatch alarm history (moto 5.2.1 has none) --------------------------------------------------------

    def describe_alarm_history(self, start_response, form, region):
        """(k) DescribeAlarmHistory of state updates for one alarm (AlarmName), newest first, between StartDate and
        EndDate, from the states moto keeps for it (each SetAlarmState appends the state it replaces): every change
        is an item with HistoryData {oldState, newState} as AWS writes it. No paging: the tests make few changes."""
        from datetime import datetime, timezone
        from moto.cloudwatch.models import cloudwatch_backends

        def when(name):
            text = form.get(name, [""])[0]
            return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

        start, end = when("StartDate"), when("EndDate")
        alarm = cloudwatch_backends[DEFAULT_ACCOUNT_ID][region].alarms.get(form.get("AlarmName", [""])[0])
        items = []
        if alarm is not None:
            states = [(entry[3], entry[4]) for entry in alarm.history if entry[0] == "StateUpdate"]
            states.append((alarm.state_value, alarm.state_updated_timestamp))
            for (old, _), (new, stamp) in zip(states, states[1:]):
                stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
                if (start is None or stamp >= start) and (end is None or stamp <= end):
                    items.append((stamp, old, new))
        members = ""
        for stamp, old, new in sorted(items, reverse=True):
            data = json.dumps({"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}})
            members += (f"<member><AlarmName>{escape(alarm.name)}</AlarmName><AlarmType>MetricAlarm</AlarmType>"
                        f"<Timestamp>{stamp.isoformat()}</Timestamp><HistoryItemType>StateUpdate</HistoryItemType>"
                        f"<HistorySummary>Alarm updated from {old} to {new}</HistorySummary>"
                        f"<HistoryData>{escape(data)}</HistoryData></member>")
        body = ("<DescribeAlarmHistoryResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
                f"<DescribeAlarmHistoryResult><AlarmHistoryItems>{members}</AlarmHistoryItems>"
                "</DescribeAlarmHistoryResult><ResponseMetadata><RequestId>device-layer</RequestId>"
                "</ResponseMetadata></DescribeAlarmHistoryResponse>").encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

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
            if action == "play":
                name = payload.get("name", payload.get("jobPrefix", "default"))
                if payload.get("rules") is None and payload.get("default") is None:
                    self.plays.pop(name, None)
                else:
                    self.plays[name] = {
                        "jobPrefix": payload["jobPrefix"], "rules": payload.get("rules", []),
                        "default": payload.get("default", "SUCCEEDED"), "seed": payload.get("seed", 1),
                        "startMs": payload.get("startMs", [100, 300]), "finishMs": payload.get("finishMs", [100, 300]),
                    }
                return json_response(start_response, "200 OK", {"plays": sorted(self.plays)})
            if action == "seed":
                return json_response(start_response, "200 OK", self.seed(payload))
            if action == "adds":
                return json_response(start_response, "200 OK", dict(self.adds, pairs=len(self.added_pairs)))
            if action == "creates":
                prefix = payload.get("prefix", "")
                return json_response(start_response, "200 OK",
                                     {job: dict(record) for job, record in self.creates.items() if job.startswith(prefix)})
            if action == "fixture":
                self.fixtures[payload["path"]] = dict(payload, served=0)
                self.received.pop(payload["path"], None)
                return json_response(start_response, "200 OK", {"path": payload["path"]})
            if action == "received":
                return json_response(start_response, "200 OK", {"requests": self.received.get(payload["path"], [])})
        return json_response(start_response, "404 Not Found", {"message": f"no control action {action}"})

    def seed(self, payload):
        """(j) A fleet of `count` things in one thing group (and a bucket), made in moto's backend directly."""
        region = payload.get("region", "us-east-1")
        self.regions.add(region)
        backend = self.backend(region)
        group = payload["group"]
        if not any(g.thing_group_name == group for g in backend.thing_groups.values()):
            backend.create_thing_group(group, None, {})
        prefix = payload.get("prefix", "thing")
        count = int(payload["count"])
        for index in range(count):
            name = f"{prefix}-{index:07d}"
            thing = _things_by_name(backend).get(name) or backend.create_thing(name, None, None)
            backend.add_thing_to_thing_group(group, None, name, thing.arn)
        if payload.get("bucket"):
            s3 = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
            if payload["bucket"] not in s3.buckets:
                s3.create_bucket(payload["bucket"], region)
        return {"things": count, "group": group}

    # -- loopback HTTP fixtures -------------------------------------------------------------------------------

    def fixture(self, environ, start_response, path, method):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        with self.lock:
            self.received.setdefault(path, []).append(
                {"method": method, "headers": headers, "body": body.decode("utf-8", "replace"),
                 "query": environ.get("QUERY_STRING", "")})
            answer = self.fixtures.get(path)
            if answer is not None:
                answer["served"] += 1
                served = answer["served"]
        if answer is None:
            return json_response(start_response, "404 Not Found", {"message": f"no fixture {path}"})
        if answer.get("delayMs"):
            time.sleep(answer["delayMs"] / 1000)
        if served <= answer.get("failFirst", 0):
            return json_response(start_response, "503 Service Unavailable", {"message": "fixture failing first"})
        status = int(answer.get("status", 200))
        data = (answer.get("body", "") * int(answer.get("repeat", 1))).encode()
        reason = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Status")
        start_response(f"{status} {reason}", [("Content-Type", answer.get("contentType", "application/json")),
                                              ("Content-Length", str(len(data)))])
        return [data]

    # -- devices acting over time ------------------------------------------------------------------------------

    @staticmethod
    def draw(seed, index, job_id, thing):
        return random.Random(f"{seed}:{index}:{job_id}:{thing}").random()

    def outcome(self, play, job_id, thing, things):
        for index, rule in enumerate(play["rules"]):
            if "job" in rule and not re.search(rule["job"], job_id):
                continue
            if "match" in rule and not re.search(rule["match"], thing):
                continue
            if "share" in rule and self.draw(play["seed"], index, job_id, thing) >= rule["share"]:
                continue
            if "first" in rule and thing not in things[:rule["first"]]:
                continue
            return rule["status"], rule
        return play["default"], {}

    def play_once(self):
        now = time.monotonic()
        with self.lock:
            if not self.plays:
                return
            for region in list(self.regions):
                backend = self.backend(region)
                touched = set()
                by_job = {}
                prefixes = tuple(p["jobPrefix"] for p in self.plays.values())
                for (job_id, thing) in list(backend.job_executions):
                    if job_id.startswith(prefixes):
                        by_job.setdefault(job_id, []).append(thing)
                for job_id, things in by_job.items():
                    play = next((p for p in self.plays.values() if job_id.startswith(p["jobPrefix"])), None)
                    job = backend.jobs.get(job_id)
                    if play is None or job is None or job.status == "CANCELED":
                        continue
                    things.sort()
                    for thing in things:
                        execution = backend.job_executions[(job_id, thing)]
                        key = (region, job_id, thing)
                        plan = self.schedule.get(key)
                        if execution.status in TERMINAL:
                            self.schedule.pop(key, None)
                            continue
                        if plan is None:
                            outcome, rule = self.outcome(play, job_id, thing, things)
                            if outcome == "QUEUED" or execution.status != "QUEUED":
                                continue
                            low, high = rule.get("startMs", play["startMs"])
                            plan = {"at": now + random.uniform(low, high) / 1000, "outcome": outcome}
                            self.schedule[key] = plan
                        if now < plan["at"]:
                            continue
                        if execution.status == "QUEUED":
                            execution.status = "IN_PROGRESS"
                            execution.started_at = utcnow()
                            touched.add(job_id)
                            if plan["outcome"] == "IN_PROGRESS":
                                self.schedule.pop(key, None)  # never reports back
                                continue
                            low, high = play["finishMs"]
                            plan["at"] = now + random.uniform(low, high) / 1000
                        elif execution.status == "IN_PROGRESS":
                            execution.status = plan["outcome"]
                            touched.add(job_id)
                            self.schedule.pop(key, None)
                for job_id in touched:
                    self.recount(backend, job_id)

    def run_player(self):
        while True:
            time.sleep(0.05)
            try:
                self.play_once()
            except Exception as error:  # noqa: BLE001 - keep playing; the log shows what went wrong
                print(f"device layer player: {error!r}", file=sys.stderr, flush=True)

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
            if execution.started_at is None and status not in ("QUEUED", "CANCELED", "REMOVED"):
                execution.started_at = utcnow()  # a device that reports has started
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
    threading.Thread(target=app.run_player, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
