import Engine
import Foundation
@testable import HTTPAdapters
import RolloutCore
import Testing

@testable import FleetAWS

/// `HTTPMetricSource` and `WebhookNotifier` against the loopback fixtures of the device layer (`/_fixture/…`).
@Suite("HTTP metric source and webhook notifier")
struct HTTPMetricSourceTests {
    // Short retries; time-outs that a loaded CI box's moto answers within (the time-out itself is tested apart).
    static let fast = HTTPMetricSource.Options(connectTimeoutSeconds: 5, totalTimeoutSeconds: 10, maxResponseBytes: 4096,
                                               attempts: 3, retryDelaySeconds: 0.01)

    static func gate(_ moto: MotoServer, _ path: String, pointer: String = "/release/crashRate") -> MetricGate {
        MetricGate(name: "crash-rate", url: moto.endpoint + path, pointer: pointer, max: 0.01)
    }

    @Test("reads the number at the JSON pointer, with rollout headers")
    func readsNumber() async throws {
        let moto = try await MotoServer.ready()
        let path = "/_fixture/\(UniqueName.make("metric"))/health"
        try await moto.fixture(path, body: #"{"release": {"crashRate": 0.0015, "ok": true, "label": "x"}}"#)
        let source = HTTPMetricSource(options: Self.fast)
        let reading = await source.read(Self.gate(moto, path + "?window=5m&token=s3cr3t"), values: .init(stage: "canary", rolloutId: "r-1", version: "2.1.0"))
        #expect(reading == MetricReading(value: 0.0015, input: "GET \(moto.endpoint)\(path)?window=***&token=***"))
        let requests = try await moto.received(path)
        #expect(requests.count == 1)
        let headers = requests.first?["headers"] as? [String: String] ?? [:]
        #expect(headers["x-rollout-id"] == "r-1" && headers["x-rollout-stage"] == "canary")
        #expect(requests.first?["query"] as? String == "window=5m&token=s3cr3t")

        let boolean = await source.read(Self.gate(moto, path, pointer: "/release/ok"), values: .init(stage: "s", rolloutId: "r", version: "2.1.0"))
        #expect(boolean.error?.contains("boolean") == true)
        let missing = await source.read(Self.gate(moto, path, pointer: "/release/nope"), values: .init(stage: "s", rolloutId: "r", version: "2.1.0"))
        #expect(missing.error == "crash-rate: GET \(moto.endpoint)\(path): no value at JSON pointer `/release/nope`")
    }

    @Test("retries 5xx, gives up with a readable reason that hides the query and user info")
    func retriesAndRedacts() async throws {
        let moto = try await MotoServer.ready()
        let path = "/_fixture/\(UniqueName.make("flaky"))/health"
        try await moto.fixture(path, body: #"{"release": {"crashRate": 0.5}}"#, failFirst: 2)
        let source = HTTPMetricSource(options: Self.fast)
        #expect(await source.read(Self.gate(moto, path), values: .init(stage: "s", rolloutId: "r", version: "2.1.0")).value == 0.5)
        #expect(try await moto.received(path).count == 3)

        let down = "/_fixture/\(UniqueName.make("down"))/health"
        try await moto.fixture(down, body: "{}", failFirst: 100)
        let url = moto.endpoint.replacingOccurrences(of: "http://", with: "http://user:pa55word@") + down + "?apiKey=s3cr3t"
        let reading = await source.read(MetricGate(name: "m", url: url, pointer: "/x", max: 1), values: .init(stage: "s", rolloutId: "r", version: "2.1.0"))
        let error = try #require(reading.error)
        let masked = moto.endpoint.replacingOccurrences(of: "http://", with: "http://***@") + down + "?apiKey=***"
        #expect(error == "m: GET \(masked): HTTP 503 (3 attempts at most)")
        #expect(!error.contains("s3cr3t") && !error.contains("pa55word"))
        let headers = try await moto.received(down).first?["headers"] as? [String: String] ?? [:]
        #expect(headers["authorization"] == "Basic " + Data("user:pa55word".utf8).base64EncodedString())

        let notFound = "/_fixture/\(UniqueName.make("gone"))/health"
        let missing = await source.read(Self.gate(moto, notFound), values: .init(stage: "s", rolloutId: "r", version: "2.1.0"))
        #expect(missing.error?.hasSuffix("/health: HTTP 404") == true, "\(missing)")
        #expect(try await moto.received(notFound).count == 1, "a 404 is not retried")
    }

    @Test("bounded: too large, too slow, not JSON, unreachable, unsupported scheme")
    func bounded() async throws {
        let moto = try await MotoServer.ready()
        let source = HTTPMetricSource(options: Self.fast)
        let large = "/_fixture/\(UniqueName.make("large"))"
        try await moto.fixture(large, body: "0123456789abcdef", repeat: 1024)
        #expect(await source.read(Self.gate(moto, large), values: .init(stage: "s", rolloutId: "r", version: "2.1.0")).error?.contains("too large") == true)

        let slow = "/_fixture/\(UniqueName.make("slow"))"
        try await moto.fixture(slow, body: #"{"release": {"crashRate": 0}}"#, delayMs: 3000)
        let oneTry = HTTPMetricSource(options: .init(connectTimeoutSeconds: 1, totalTimeoutSeconds: 0.5, attempts: 1))
        let started = Date()
        let reading = await oneTry.read(Self.gate(moto, slow), values: .init(stage: "s", rolloutId: "r", version: "2.1.0"))
        #expect(reading.error?.contains("timed out") == true)
        #expect(Date().timeIntervalSince(started) < 2.5)

        let html = "/_fixture/\(UniqueName.make("html"))"
        try await moto.fixture(html, body: "<html>", contentType: "text/html")
        #expect(await source.read(Self.gate(moto, html), values: .init(stage: "s", rolloutId: "r", version: "2.1.0")).error?.hasSuffix("response is not JSON") == true)

        let closed = MetricGate(name: "m", url: "http://127.0.0.1:1/metrics", pointer: "/x")
        #expect(await source.read(closed, values: .init(stage: "s", rolloutId: "r", version: "2.1.0")).error?.contains("could not connect") == true)
        let sim = MetricGate(name: "m", url: "sim://health", pointer: "/x")
        #expect(await source.read(sim, values: .init(stage: "s", rolloutId: "r", version: "2.1.0")).error == "m: sim://health: URL scheme `sim` is not supported (http or https)")
    }

    @Test("webhooks get sorted-key JSON with a Slack-compatible text; failures throw without the secret path")
    func webhooks() async throws {
        let moto = try await MotoServer.ready()
        let good = "/_fixture/\(UniqueName.make("hook"))/services/T000/B000/SECRET"
        try await moto.fixture(good, body: "ok", contentType: "text/plain")
        let notifier = WebhookNotifier()
        let notification = RolloutNotification(rolloutId: "fw-1a2b3c4d", stage: "wave-2", phase: .completed,
                                               fact: .completed(version: "2.1.0", devices: 30))
        try await notifier.send(notification, to: [WebhookTarget(url: moto.endpoint + good)])
        let received = try await moto.received(good)
        #expect(received.count == 1)
        #expect(received.first?["method"] as? String == "POST")
        #expect((received.first?["headers"] as? [String: String])?["content-type"] == "application/json")
        #expect(received.first?["body"] as? String
                == #"{"kind":"completed","phase":"completed","rolloutId":"fw-1a2b3c4d","stage":"wave-2","text":"fw-1a2b3c4d completed: 2.1.0 on 30 devices"}"#)

        // A person's reason quoted in the text reaches the channel with its credentials masked.
        let quoting = RolloutNotification(rolloutId: "fw-1a2b3c4d", stage: nil, phase: .baking, fact: .paused(PauseInfo(
            kind: .requested, since: Date(), by: "carol", note: "see https://wiki:hunter2@wiki.example.com/x?token=t0k")))
        #expect(String(decoding: try WebhookNotifier.encode(quoting), as: UTF8.self)
                == #"{"kind":"paused","phase":"baking","rolloutId":"fw-1a2b3c4d","text":"fw-1a2b3c4d paused: paused by carol: see https://***@wiki.example.com/x?token=***"}"#)

        // A 5xx target: retryable (the engine tries again); the good one still got it.
        let failing = "/_fixture/\(UniqueName.make("hook"))/services/T1/B1/HIDDEN"
        try await moto.fixture(failing, body: "no", status: 500)
        do {
            try await notifier.send(notification, to: [WebhookTarget(url: moto.endpoint + good),
                                                       WebhookTarget(url: moto.endpoint + failing)])
            Issue.record("expected a failure")
        } catch let error as FleetError {
            #expect(error.isRetryable)
            #expect(error.description == "notification completed not delivered: webhook 2 of 2 (\(moto.endpoint)/***): HTTP 500")
        }
        #expect(try await moto.received(good).count == 2)

        // A 404 will not heal: permanent, so the engine drops it at once. Unreachable: retryable, no path shown.
        let gone = "/_fixture/\(UniqueName.make("hook"))/services/T2/B2/GONE"
        await #expect(throws: FleetError.permanent("notification completed not delivered: webhook 1 of 1 (\(moto.endpoint)/***): HTTP 404")) {
            try await notifier.send(notification, to: [WebhookTarget(url: moto.endpoint + gone)])
        }
        do {
            try await notifier.send(notification, to: [WebhookTarget(url: "http://127.0.0.1:1/services/T3/B3/TOPSECRET")])
            Issue.record("expected a failure")
        } catch let error as FleetError {
            #expect(error.isRetryable && !error.description.contains("TOPSECRET"))
        }
    }
}

extension MotoServer {
    /// Sets what `path` (under `/_fixture/`) answers; clears what it received.
    func fixture(_ path: String, body: String, status: Int = 200, contentType: String = "application/json",
                 repeat count: Int = 1, delayMs: Int = 0, failFirst: Int = 0) async throws {
        try await control("fixture", ["path": path, "body": body, "status": status, "contentType": contentType,
                                      "repeat": count, "delayMs": delayMs, "failFirst": failFirst])
    }

    /// The requests `path` received: `method`, `headers` (lowercased names), `body`, `query`.
    func received(_ path: String) async throws -> [[String: Any]] {
        try await control("received", ["path": path])["requests"] as? [[String: Any]] ?? []
    }

    /// Makes devices act on jobs whose id starts with `jobPrefix` (see `moto_device_layer.py`, (f)).
    func play(jobPrefix: String, rules: [[String: Any]] = [], default outcome: String = "SUCCEEDED",
              startMs: [Int] = [100, 300], finishMs: [Int] = [100, 300]) async throws {
        try await control("play", ["name": jobPrefix, "jobPrefix": jobPrefix, "rules": rules, "default": outcome,
                                   "startMs": startMs, "finishMs": finishMs])
    }

    func stopPlaying(jobPrefix: String) async throws {
        try await control("play", ["name": jobPrefix])
    }

    /// CreateJob calls that reached moto, per job id starting with `prefix`.
    func createJobCalls(prefix: String) async throws -> [String: (attempts: Int, created: Int, conflicts: Int)] {
        let answer = try await control("creates", ["prefix": prefix])
        var calls: [String: (attempts: Int, created: Int, conflicts: Int)] = [:]
        for (jobId, value) in answer {
            let record = value as? [String: Int] ?? [:]
            calls[jobId] = (record["attempts"] ?? 0, record["created"] ?? 0, record["conflicts"] ?? 0)
        }
        return calls
    }
}
