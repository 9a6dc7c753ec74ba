import Engine
import Foundation
import RolloutCore
import Testing

@Suite("status API errors")
struct StatusServerErrorTests {
    static let token = "err-token-\(UUID().uuidString)"

    @Test("state-changing calls need the bearer token; reads do not")
    func unauthorized() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client
        let plan = TestPlans.slow(name: "api-auth")

        for authorization in ["", "Bearer wrong-token", "Basic \(Self.token)", "Bearer \(Self.token)x", "Bearer"] {
            let response = try await client.checked("POST", "/v1/rollouts", body: plan, authorization: authorization,
                                                    checker: checker)
            #expect(response.status == 401, "authorization `\(authorization)`")
            #expect(try response.jsonValue()["code"]?.string == "unauthorized")
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        }
        #expect(try await client.get("/v1/rollouts").jsonValue()["rollouts"]?.array?.isEmpty == true)

        let created = try await client.checked("POST", "/v1/rollouts", body: plan,
                                               authorization: "bearer \(Self.token)", checker: checker)
        #expect(created.status == 201)
        let id = try #require(try created.jsonValue()["id"]?.string)
        for verb in ["pause", "resume", "abort", "approve", "rollback", "promote"] {
            let response = try await client.checked("POST", "/v1/rollouts/\(id)/\(verb)",
                                                    documentedAs: "/v1/rollouts/{id}/\(verb)", authorization: "",
                                                    checker: checker)
            #expect(response.status == 401, "\(verb)")
        }
        #expect(try await client.get("/v1/rollouts/\(id)").status == 200)
        await server.stop()
        await harness.stop()
    }

    @Test("approve when nothing awaits approval is 409 illegal_transition")
    func illegalTransition() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let created = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-conflict"),
                                               checker: checker)
        let id = try #require(try created.jsonValue()["id"]?.string)
        try await waitForPhase("baking", id: id, in: harness, client: client, checker: checker)
        let response = try await client.checked("POST", "/v1/rollouts/\(id)/approve", documentedAs: "/v1/rollouts/{id}/approve",
                                                checker: checker)
        #expect(response.status == 409)
        let error = try response.jsonValue()
        #expect(error["code"]?.string == "illegal_transition")
        #expect(error["message"]?.string?.contains("nothing awaits approval") == true)

        let resume = try await client.checked("POST", "/v1/rollouts/\(id)/resume", documentedAs: "/v1/rollouts/{id}/resume",
                                              checker: checker)
        #expect(resume.status == 409)
        await server.stop()
        await harness.stop()
    }

    @Test("a body above the limit is 413 body_too_large")
    func bodyTooLarge() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token, bodyBytesMax: 4096)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let padding = String(repeating: "# padding to make the plan too large for this server\n", count: 400)
        let oversized = TestPlans.quick(name: "api-large") + "\n" + padding
        #expect(oversized.utf8.count > 4096)
        let response = try await client.checked("POST", "/v1/rollouts", body: oversized, checker: checker)
        #expect(response.status == 413)
        #expect(try response.jsonValue()["code"]?.string == "body_too_large")

        let command = try await client.checked("POST", "/v1/rollouts/anything/pause", documentedAs: "/v1/rollouts/{id}/pause",
                                               body: #"{"reason": ""# + String(repeating: "x", count: 5000) + #""}"#,
                                               checker: checker)
        #expect(command.status == 413)

        // Just under the limit is accepted.
        let fits = try await client.checked("POST", "/v1/rollouts", body: TestPlans.quick(name: "api-fits"), checker: checker)
        #expect(fits.status == 201)
        await server.stop()
        await harness.stop()
    }

    @Test("unknown rollouts and routes are 404 not_found")
    func notFound() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let detail = try await client.checked("GET", "/v1/rollouts/nope-12345678", documentedAs: "/v1/rollouts/{id}",
                                              checker: checker)
        #expect(detail.status == 404)
        #expect(try detail.jsonValue()["code"]?.string == "not_found")
        let events = try await client.checked("GET", "/v1/rollouts/nope-12345678/events",
                                              documentedAs: "/v1/rollouts/{id}/events", checker: checker)
        #expect(events.status == 404)
        for verb in ["pause", "abort", "approve"] {
            let response = try await client.checked("POST", "/v1/rollouts/nope-12345678/\(verb)",
                                                    documentedAs: "/v1/rollouts/{id}/\(verb)", checker: checker)
            #expect(response.status == 404, "\(verb)")
            #expect(try response.jsonValue()["code"]?.string == "not_found")
        }
        let route = try await client.get("/v2/nothing-here")
        #expect(route.status == 404)
        #expect(try route.jsonValue()["code"]?.string == "not_found")
        #expect(try route.jsonValue()["message"]?.string?.isEmpty == false)
        await server.stop()
        await harness.stop()
    }

    @Test("an invalid plan is 400 invalid_plan with located issues")
    func invalidPlan() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let broken = TestPlans.quick(name: "api-broken").replacingOccurrences(of: "failedMaxPercent", with: "failedMaxPercnt")
        let response = try await client.checked("POST", "/v1/rollouts?file=broken.yaml", documentedAs: "/v1/rollouts",
                                                body: broken, checker: checker)
        #expect(response.status == 400)
        let error = try response.jsonValue()
        #expect(error["code"]?.string == "invalid_plan")
        let issue = try #require(error["issues"]?[0])
        #expect(issue["file"]?.string == "broken.yaml")
        #expect(issue["line"]?.int ?? 0 > 0)
        #expect(issue["field"]?.string?.contains("failedMaxPercnt") == true)

        let empty = try await client.checked("POST", "/v1/rollouts", body: "", checker: checker)
        #expect(empty.status == 400)
        #expect(try empty.jsonValue()["code"]?.string == "invalid_plan")
        await server.stop()
        await harness.stop()
    }

    @Test("bad parameters and bodies are 400 with a stable code")
    func badRequests() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        for query in ["phase=sleeping", "limit=0", "limit=1001", "limit=ten"] {
            let response = try await client.checked("GET", "/v1/rollouts?\(query)", checker: checker)
            #expect(response.status == 400, "\(query)")
            #expect(try response.jsonValue()["code"]?.string == "invalid_parameter")
        }
        let created = try await client.post("/v1/rollouts", body: TestPlans.slow(name: "api-bad-body"))
        let id = try #require(try created.jsonValue()["id"]?.string)
        let events = try await client.checked("GET", "/v1/rollouts/\(id)/events?limit=5000",
                                              documentedAs: "/v1/rollouts/{id}/events", checker: checker)
        #expect(events.status == 400)
        let badBody = try await client.checked("POST", "/v1/rollouts/\(id)/pause", documentedAs: "/v1/rollouts/{id}/pause",
                                               body: "not json", checker: checker)
        #expect(badBody.status == 400)
        #expect(try badBody.jsonValue()["code"]?.string == "invalid_request")
        await server.stop()
        await harness.stop()
    }

    @Test("service failures are JSON errors, not dropped connections")
    func serviceFailures() async throws {
        let stub = StubRolloutService(rollouts: [try StubRolloutService.hostileRollout()])
        let server = try await TestServer.start(service: stub)
        await stub.setFailure(StoreError.database("disk on fire"))
        let response = try await server.client.get("/v1/rollouts")
        #expect(response.status == 503)
        #expect(try response.jsonValue()["code"]?.string == "store_unavailable")
        await stub.setFailure(CocoaError(.fileReadUnknown))
        let other = try await server.client.get("/v1/rollouts")
        #expect(other.status == 500)
        #expect(try other.jsonValue()["code"]?.string == "internal_error")
        await server.stop()
    }
}
