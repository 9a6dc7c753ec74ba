import Engine
import Foundation
import RolloutCore
import Testing

@Suite("status API probes, metrics and the OpenAPI document")
struct StatusServerProbeTests {
    @Test("/healthz is ok; /readyz follows the service")
    func healthAndReadiness() async throws {
        let checker = try RepositoryFiles.openAPIChecker()
        let stub = StubRolloutService(ready: false)
        let server = try await TestServer.start(service: stub)
        let health = try await server.client.checked("GET", "/healthz", checker: checker)
        #expect(health.status == 200)
        #expect(try health.jsonValue() == .object(["status": .string("ok")]))
        let starting = try await server.client.checked("GET", "/readyz", checker: checker)
        #expect(starting.status == 503)
        await server.stop()

        let harness = try await WorkerHarness()
        let live = try await TestServer.start(service: harness.worker)
        let ready = try await live.client.checked("GET", "/readyz", checker: checker)
        #expect(ready.status == 200)
        await live.stop()
        await harness.stop()
    }

    @Test("/metrics is Prometheus text with every family, HELP and TYPE")
    func metrics() async throws {
        let server = try await TestServer.start(service: StubRolloutService())
        let response = try await server.client.checked("GET", "/metrics", checker: try RepositoryFiles.openAPIChecker())
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = try PrometheusText(parsing: response.text)
        let families: [String: String] = [
            "rollout_rollouts": "gauge", "rollout_stages": "gauge", "rollout_gate_verdicts_total": "counter",
            "rollout_fleet_calls_total": "counter", "rollout_fleet_errors_total": "counter",
            "rollout_jobs_created_total": "counter", "rollout_commits_total": "counter",
            "rollout_effect_queue_depth": "gauge", "rollout_step_errors_total": "counter", "rollout_steps_total": "counter",
        ]
        for (family, type) in families {
            #expect(text.types[family] == type, "\(family)")
            #expect(text.helps[family]?.isEmpty == false, "\(family)")
            #expect(text.samples.contains { $0.name == family }, "\(family)")
        }
        #expect(text.value("rollout_rollouts", ["phase": "baking"]) == 2)
        #expect(text.value("rollout_rollouts", ["phase": "aborted"]) == 0)
        #expect(text.value("rollout_stages", ["status": "passed"]) == 3)
        #expect(text.value("rollout_gate_verdicts_total", ["verdict": "wait"]) == 9)
        #expect(text.value("rollout_effect_queue_depth") == 1)
        await server.stop()
    }

    @Test("/metrics shows a worker's leases only when it shares its database, labelled with its id")
    func coordinationMetrics() async throws {
        let stub = StubRolloutService()
        let server = try await TestServer.start(service: stub)
        let alone = try PrometheusText(parsing: try await server.client.get("/metrics").text)
        #expect(!alone.samples.contains { $0.name.hasPrefix("rollout_worker_lease") || $0.name == "rollout_workers_alive" })

        var statistics = CoordinationStatistics(workerId: "vm-7-1cbe5c7c")
        statistics.leasesHeld = 12
        statistics.claims = 20
        statistics.takeovers = 5
        statistics.released = 8
        statistics.fencingRejections = 1
        statistics.roundFailures = 2
        statistics.workersAlive = 3
        await stub.setCoordination(statistics)
        let shared = try PrometheusText(parsing: try await server.client.get("/metrics").text)
        let worker = ["worker": "vm-7-1cbe5c7c"]
        let expected: [(String, String, Double)] = [
            ("rollout_worker_leases_held", "gauge", 12), ("rollout_worker_lease_claims_total", "counter", 20),
            ("rollout_worker_takeovers_total", "counter", 5), ("rollout_worker_leases_released_total", "counter", 8),
            ("rollout_worker_fencing_rejections_total", "counter", 1),
            ("rollout_worker_round_failures_total", "counter", 2), ("rollout_workers_alive", "gauge", 3),
        ]
        for (family, type, value) in expected {
            #expect(shared.types[family] == type, "\(family)")
            #expect(shared.value(family, worker) == value, "\(family)")
        }
        await server.stop()
    }

    @Test("/openapi.json is the file in workflows/, a valid OpenAPI 3.0 document covering every route")
    func openAPIDocument() async throws {
        let server = try await TestServer.start(service: StubRolloutService())
        let served = try await server.client.get("/openapi.json")
        #expect(served.status == 200)
        #expect(served.headers["content-type"]?.hasPrefix("application/json") == true)
        let file = try Data(contentsOf: RepositoryFiles.openAPIDocument)
        #expect(served.body == file, "the served document differs from Sources/StatusAPI/Resources/openapi.json")

        let document = try JSONValue.parse(served.body)
        let checker = try OpenAPIChecker(document: document)
        #expect(checker.unresolvedReferences().isEmpty)
        let paths = try #require(document["paths"]?.object)
        let expected: [String: [String]] = [
            "/healthz": ["get"], "/readyz": ["get"], "/metrics": ["get"], "/openapi.json": ["get"], "/": ["get"],
            "/v1/rollouts": ["get", "post"], "/v1/rollouts/{id}": ["get"], "/v1/rollouts/{id}/events": ["get"],
            "/v1/rollouts/{id}/pause": ["post"], "/v1/rollouts/{id}/resume": ["post"], "/v1/rollouts/{id}/abort": ["post"],
            "/v1/rollouts/{id}/approve": ["post"], "/v1/rollouts/{id}/rollback": ["post"], "/v1/rollouts/{id}/promote": ["post"],
            "/v1/rollouts/{id}/devices/{thing}": ["get"], "/v1/rollouts/{id}/devices/{thing}/exclude": ["post"],
            "/v1/rollouts/{id}/devices/{thing}/cancel": ["post"], "/rollouts/{id}": ["get"],
        ]
        #expect(Set(paths.keys) == Set(expected.keys))
        for (path, methods) in expected {
            for method in methods {
                #expect(paths[path]?[method]?["responses"]?.object?.isEmpty == false, "\(method) \(path)")
            }
        }
        for name in ["Error", "RolloutSummary", "RolloutDetail", "EventPage", "SubmitResult", "CommandResult", "RolloutList"] {
            #expect(document["components"]?["schemas"]?[name] != nil, "schema \(name)")
        }
        // Every POST is documented as needing the (write) bearer token, refusing the read-only one; every read but
        // the probes as taking a token (optional on loopback: the empty requirement).
        for (path, item) in paths {
            if let post = item["post"] {
                #expect(post["security"]?.array == [.object(["bearerAuth": .array([])])], "POST \(path)")
                #expect(post["responses"]?["401"] != nil, "POST \(path)")
                #expect(post["responses"]?["403"] != nil, "POST \(path)")
            }
            if let get = item["get"] {
                let probe = path == "/healthz" || path == "/readyz"
                #expect((get["security"]?.array?.contains(.object(["bearerAuth": .array([])])) ?? false) == !probe, "GET \(path)")
                #expect((get["responses"]?["401"] != nil) == !probe, "GET \(path)")
            }
        }
        await server.stop()
    }

    @Test("the checker itself catches a missing property, a wrong type and a bad date")
    func checkerCatchesMistakes() throws {
        let checker = try RepositoryFiles.openAPIChecker()
        let schema = JSONValue.object(["$ref": .string("#/components/schemas/SubmitResult")])
        let good = JSONValue.object(["id": .string("a-1"), "created": .bool(true), "phase": .string("scheduled"),
                                     "message": .null, "location": .string("/v1/rollouts/a-1")])
        #expect(checker.check(good, schema, at: "$").isEmpty)
        var missing = good.object!
        missing["created"] = nil
        #expect(checker.check(.object(missing), schema, at: "$").count == 1)
        var wrongType = good.object!
        wrongType["created"] = .integer(1)
        #expect(checker.check(.object(wrongType), schema, at: "$").count == 1)
        var badEnum = good.object!
        badEnum["phase"] = .string("sleeping")
        #expect(checker.check(.object(badEnum), schema, at: "$").count == 1)
        let event = JSONValue.object(["sequence": .integer(1), "at": .string("yesterday"), "type": .string("submitted"),
                                      "event": .object([:])])
        #expect(checker.check(event, .object(["$ref": .string("#/components/schemas/Event")]), at: "$").count == 1)
    }
}
