import Engine
import FleetAWS
import Foundation
@testable import HTTPAdapters
import Glibc
import RolloutCore
import StatusAPI
import Testing

/// A plan whose metric URL carries user info and an API key and whose webhook path is a Slack-style secret, run by a
/// real worker (real HTTP metric source and webhook notifier, both failing against a loopback port nobody listens on)
/// behind a real server: no response body and no log line shows a secret, and the masked forms are there instead.
@Suite("credentials are masked in every response and log line")
struct CredentialRedactionEndToEndTests {
    static let token = "redaction-token-\(UUID().uuidString)"
    static let secrets = ["pa55word", "K3YSECRET", "T0SECRET", "B0SECRET", "XXSECRETXX", "hunter2", "TOKSECRET"]

    static func plan(port: Int) -> String {
        """
        name: api-secrets
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 10, bake: 30m}
        waves:
          - {percent: 100, bake: 30m}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 5}
          metrics:
            - {name: crash-rate, url: "http://127.0.0.1:\(port)/health?tenant=K3YSECRET&window=5m",
               pointer: /release/crashRate, max: 0.01}
        schedule: {evidenceTimeout: 300d}
        notifications:
          webhooks: ["http://127.0.0.1:\(port)/services/T0SECRET/B0SECRET/XXSECRETXX"]
        """
    }

    /// A loopback port that was free a moment ago and that nothing listens on: connections are refused at once.
    static func closedLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0, named == 0 else { throw HTTPTestClient.Failure("cannot find a free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func leaked(_ text: String) -> [String] {
        Self.secrets.filter { text.contains($0) }
    }

    @Test("list, detail, events, status page, metrics, errors and logs show masked URLs only")
    func nothingLeaks() async throws {
        let port = try Self.closedLoopbackPort()
        let log = CapturedLog()
        let metricSource = HTTPMetricSource(options: .init(connectTimeoutSeconds: 1, totalTimeoutSeconds: 2, attempts: 1))
        let harness = try await WorkerHarness(metricSource: metricSource, notifier: WebhookNotifier(),
                                              logger: log.logger(label: "rollout.worker"))
        let server = try await TestServer.start(
            service: harness.worker, configuration: StatusServerConfiguration(host: "127.0.0.1", port: 0, token: Self.token),
            logger: log.logger(label: "rollout.http"))
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client
        var bodies: [(what: String, text: String)] = []

        let submitted = try await client.checked("POST", "/v1/rollouts", body: Self.plan(port: port), checker: checker)
        #expect(submitted.status == 201)
        bodies.append(("submit", submitted.text))
        let id = try #require(try submitted.jsonValue()["id"]?.string)

        // The metric gate has been read (and failed) and a notification has failed, so their errors exist.
        let shownMetric = "http://127.0.0.1:\(port)/health?tenant=***&window=***"
        let shownWebhook = "http://127.0.0.1:\(port)/***"
        let metricFailed = await harness.worker.engine.readModel.wait(for: id, timeoutSeconds: 60) {
            $0.rollout.state.stages.contains { $0.metrics["crash-rate"]?.error != nil }
        }
        #expect(metricFailed != nil, "a failed metric read is recorded")
        _ = try await poll(attempts: 400, "a failed notification in the log") {
            log.lines.contains { $0.contains("webhook 1 of 1 (\(shownWebhook))") } ? true : nil
        }

        // A person's reason with a link that carries credentials, echoed in state, events, page and logs.
        let reason = "see https://wiki:hunter2@wiki.example.com/incident?token=TOKSECRET for details"
        let paused = try await client.checked("POST", "/v1/rollouts/\(id)/pause", documentedAs: "/v1/rollouts/{id}/pause",
                                              body: #"{"by": "carol", "reason": "\#(reason)"}"#, checker: checker)
        #expect(paused.status == 202)
        bodies.append(("pause", paused.text))
        let again = try await client.checked("POST", "/v1/rollouts/\(id)/pause", documentedAs: "/v1/rollouts/{id}/pause",
                                             body: #"{"reason": "\#(reason)"}"#, checker: checker)
        #expect(again.status == 409)
        bodies.append(("pause again (error)", again.text))

        // The command's commit reaches the read model before the 202: the detail shows the pause at once.
        let detail = try await client.checked("GET", "/v1/rollouts/\(id)", documentedAs: "/v1/rollouts/{id}",
                                              checker: checker)
        #expect(try detail.jsonValue()["state"]?["pause"]?.object != nil)
        bodies.append(("detail", detail.text))
        let document = try detail.jsonValue()
        #expect(document["plan"]?["gates"]?["metrics"]?[0]?["url"]?.string == shownMetric)
        #expect(document["gates"]?[0]?["criteria"]?["metrics"]?[0]?["url"]?.string == shownMetric)
        #expect(document["plan"]?["notifications"]?[0]?["url"]?.string == shownWebhook)
        #expect(document["pause"]?["reason"]?.string
                == "paused by carol: see https://***@wiki.example.com/incident?token=*** for details")
        #expect(document["state"]?["pause"]?["note"]?.string
                == "see https://***@wiki.example.com/incident?token=*** for details")

        let list = try await client.checked("GET", "/v1/rollouts", checker: checker)
        bodies.append(("list", list.text))
        #expect(list.text.contains(id))
        let events = try await client.checked("GET", "/v1/rollouts/\(id)/events?limit=1000",
                                              documentedAs: "/v1/rollouts/{id}/events", checker: checker)
        bodies.append(("events", events.text))
        #expect(events.text.contains("crash-rate: GET \(shownMetric)"))
        #expect(events.text.contains("see https://***@wiki.example.com/incident?token=*** for details"))
        let page = try await client.checked("GET", "/", checker: checker)
        #expect(page.text.contains("paused by carol"))
        bodies.append(("status page", page.text))
        #expect(page.text.contains("https://***@wiki.example.com/incident?token=***"))
        bodies.append(("metrics", try await client.get("/metrics").text))

        for (what, text) in bodies {
            #expect(leaked(text).isEmpty, "\(what) shows \(leaked(text)): \(text.prefix(2000))")
        }
        let lines = log.lines
        #expect(lines.contains { $0.contains("https://***@wiki.example.com/incident?token=***") },
                "the pause is logged, masked")
        for line in lines {
            #expect(leaked(line).isEmpty, "a log line shows \(leaked(line)): \(line)")
        }

        // What is stored and what the engine uses keep the real URLs.
        let stored = try #require(try await harness.worker.rollout(id: id))
        #expect(stored.rollout.plan.gates.metrics[0].url.contains("K3YSECRET"))
        #expect(stored.rollout.plan.notifications[0].url.hasSuffix("/XXSECRETXX"))

        await server.stop()
        await harness.stop()
    }
}
