import Foundation
import StatusAPI
import Testing

/// Who may read and who may change state, over real HTTP. "Beyond loopback" is the real decision: these servers bind
/// 127.0.0.2, which the configuration does not count as loopback (only 127.0.0.1, ::1 and localhost do), so they
/// behave exactly as a worker listening on a network address would, while staying reachable from this machine only.
@Suite("read tokens and the read-only token")
struct ReadAccessTests {
    static let writeToken = "write-token-\(UUID().uuidString)"
    static let readToken = "read-token-\(UUID().uuidString)"
    static let readRoutes = ["/", "/metrics", "/openapi.json", "/v1/rollouts", "/v1/rollouts/nope-12345678",
                             "/v1/rollouts/nope-12345678/events"]

    static func documented(_ path: String) -> String {
        path.replacingOccurrences(of: "nope-12345678", with: "{id}")
    }

    @Test("beyond loopback every read but the probes needs a token; the read-only token reads and may not write")
    func beyondLoopback() async throws {
        let harness = try await WorkerHarness()
        let configuration = StatusServerConfiguration(host: "127.0.0.2", port: 0, token: Self.writeToken,
                                                      readToken: Self.readToken)
        #expect(!configuration.isLoopback && configuration.readsRequireToken)
        let server = try await TestServer.start(service: harness.worker, configuration: configuration)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        for probe in ["/healthz", "/readyz"] {
            #expect(try await client.checked("GET", probe, checker: checker).status == 200, "\(probe) stays open")
        }
        for route in Self.readRoutes {
            for authorization in ["", "Bearer wrong-token-0123456789", "Basic \(Self.readToken)"] {
                let refused = try await client.checked("GET", route, documentedAs: Self.documented(route),
                                                       authorization: authorization, checker: checker)
                #expect(refused.status == 401, "GET \(route) with `\(authorization)`")
                #expect(try refused.jsonValue()["code"]?.string == "unauthorized")
                #expect(refused.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            }
            for token in [Self.readToken, Self.writeToken] {
                let allowed = try await client.checked("GET", route, documentedAs: Self.documented(route),
                                                       authorization: "Bearer \(token)", checker: checker)
                #expect(allowed.status != 401 && allowed.status != 403, "GET \(route) → \(allowed.status)")
            }
        }

        // Writes: the read-only token is recognised and refused with 403, which says what is needed.
        let plan = TestPlans.slow(name: "api-read-only")
        let forbidden = try await client.checked("POST", "/v1/rollouts", body: plan,
                                                 authorization: "Bearer \(Self.readToken)", checker: checker)
        #expect(forbidden.status == 403)
        #expect(try forbidden.jsonValue()["code"]?.string == "forbidden")
        #expect(try forbidden.jsonValue()["message"]?.string?.contains("write token") == true)
        let anonymous = try await client.checked("POST", "/v1/rollouts", body: plan, authorization: "", checker: checker)
        #expect(anonymous.status == 401)
        let created = try await client.checked("POST", "/v1/rollouts", body: plan, checker: checker)
        #expect(created.status == 201)
        let id = try #require(try created.jsonValue()["id"]?.string)
        for verb in ["pause", "resume", "abort", "approve", "rollback", "promote"] {
            let response = try await client.checked("POST", "/v1/rollouts/\(id)/\(verb)",
                                                    documentedAs: "/v1/rollouts/{id}/\(verb)",
                                                    authorization: "Bearer \(Self.readToken)", checker: checker)
            #expect(response.status == 403, "\(verb)")
        }
        let read = try await client.get("/v1/rollouts/\(id)", authorization: "Bearer \(Self.readToken)")
        #expect(read.status == 200)
        #expect(try read.jsonValue()["phase"]?.string != "paused", "no refused command was recorded")

        await server.stop()
        await harness.stop()
    }

    @Test("beyond loopback with the write token only: reads need it")
    func writeTokenOnly() async throws {
        let server = try await TestServer.start(service: StubRolloutService(), configuration: StatusServerConfiguration(
            host: "127.0.0.2", port: 0, token: Self.writeToken))
        #expect(try await server.client.get("/v1/rollouts").status == 401)
        #expect(try await server.client.get("/v1/rollouts", authorization: "Bearer \(Self.writeToken)").status == 200)
        #expect(try await server.client.get("/healthz").status == 200)
        await server.stop()
    }

    @Test("on loopback reads stay open without a read-only token, and need one once it is configured")
    func loopback() async throws {
        let open = try await TestServer.start(service: StubRolloutService(), configuration: StatusServerConfiguration(
            host: "127.0.0.1", port: 0, token: Self.writeToken))
        for route in Self.readRoutes where !route.contains("nope") {
            #expect(try await open.client.get(route).status == 200, "GET \(route)")
        }
        await open.stop()

        let guarded = try await TestServer.start(service: StubRolloutService(), configuration: StatusServerConfiguration(
            host: "127.0.0.1", port: 0, token: Self.writeToken, readToken: Self.readToken))
        #expect(try await guarded.client.get("/v1/rollouts").status == 401)
        #expect(try await guarded.client.get("/v1/rollouts", authorization: "Bearer \(Self.readToken)").status == 200)
        #expect(try await guarded.client.get("/readyz").status == 200)
        await guarded.stop()
    }
}
