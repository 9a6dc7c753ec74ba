import Foundation
@testable import StatusAPI
import Testing

@Suite("status server configuration and token check")
struct StatusServerConfigurationTests {
    @Test("loopback needs no token; any other address does", arguments: ["127.0.0.1", "::1", "localhost", "[::1]"])
    func loopback(host: String) throws {
        try StatusServerConfiguration(host: host).validate()
    }

    @Test("listening beyond loopback without a token is refused with a readable error")
    func refusesOpenNetwork() throws {
        for host in ["0.0.0.0", "::", "10.1.2.3", "example.com"] {
            let error = #expect(throws: StatusServerConfigurationError.self) {
                try StatusServerConfiguration(host: host, token: nil).validate()
            }
            #expect(error?.message.contains("without a token") == true)
            #expect(error?.message.contains("--token-file or ROLLOUT_TOKEN") == true, "names the real flag")
            try StatusServerConfiguration(host: host, token: "s3cret").validate()
        }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(token: "").validate() }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(port: 70000).validate() }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(bodyBytesMax: 0).validate() }
    }

    @Test("a read-only token needs a write token, differs from it, and is not empty")
    func readToken() throws {
        let needsWrite = #expect(throws: StatusServerConfigurationError.self) {
            try StatusServerConfiguration(readToken: "read-0123456789abcdef").validate()
        }
        #expect(needsWrite?.message.contains("--token-file or ROLLOUT_TOKEN") == true)
        #expect(throws: StatusServerConfigurationError.self) {
            try StatusServerConfiguration(token: "same-0123456789abcdef", readToken: "same-0123456789abcdef").validate()
        }
        #expect(throws: StatusServerConfigurationError.self) {
            try StatusServerConfiguration(token: "write-0123456789abcdef", readToken: "").validate()
        }
        let both = StatusServerConfiguration(host: "0.0.0.0", token: "write-0123456789abcdef", readToken: "read-0123456789abcdef")
        try both.validate()
        #expect(both.readsRequireToken)
        #expect(!StatusServerConfiguration(token: "write-0123456789abcdef").readsRequireToken, "loopback reads stay open")
        #expect(StatusServerConfiguration(token: "write-0123456789abcdef", readToken: "read-0123456789abcdef").readsRequireToken)
    }

    @Test("artifact directories must be existing directories")
    func artifactDirectories() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-dir-\(UUID().uuidString)").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        for directory in [file, file + "-missing"] {
            let error = #expect(throws: StatusServerConfigurationError.self) {
                try StatusServerConfiguration(artifactDirectories: [directory]).validate()
            }
            #expect(error?.message == "--artifacts-dir \(directory) is not a directory")
        }
        try StatusServerConfiguration(artifactDirectories: [FileManager.default.temporaryDirectory.path]).validate()
    }

    @Test("access: probes are open, reads need a known token when required, writes the write token (403 for the read one)")
    func access() {
        let write = "write-0123456789abcdef", read = "read-0123456789abcdef"
        #expect(AccessPolicy.assessNeed(method: .get, path: "/healthz") == .nothing)
        #expect(AccessPolicy.assessNeed(method: .head, path: "/readyz") == .nothing)
        #expect(AccessPolicy.assessNeed(method: .post, path: "/healthz") == .write)
        #expect(AccessPolicy.assessNeed(method: .get, path: "/healthz/") == .read)
        #expect(AccessPolicy.assessNeed(method: .get, path: "/v1/rollouts") == .read)
        #expect(AccessPolicy.assessNeed(method: .delete, path: "/v1/rollouts/x") == .write)

        let guarded = AccessPolicy(configuration: StatusServerConfiguration(host: "0.0.0.0", token: write, readToken: read))
        #expect(guarded.decide(.nothing, authorization: nil) == .allowed)
        #expect(guarded.decide(.read, authorization: "Bearer \(read)") == .allowed)
        #expect(guarded.decide(.read, authorization: "Bearer \(write)") == .allowed)
        #expect(guarded.decide(.write, authorization: "Bearer \(write)") == .allowed)
        guard case .unauthorized = guarded.decide(.read, authorization: nil) else {
            Issue.record("a read without a token must be refused")
            return
        }
        guard case .forbidden(let message) = guarded.decide(.write, authorization: "Bearer \(read)") else {
            Issue.record("the read-only token must be refused on writes with 403")
            return
        }
        #expect(message.contains("write token"))
        guard case .unauthorized = guarded.decide(.write, authorization: "Bearer nope") else {
            Issue.record("an unknown token is 401")
            return
        }

        let open = AccessPolicy(configuration: StatusServerConfiguration())
        #expect(open.decide(.read, authorization: nil) == .allowed)
        #expect(open.decide(.write, authorization: nil) == .allowed, "loopback without tokens: as before")
    }

    @Test("run() refuses a configuration that does not validate")
    func runValidates() async throws {
        let server = StatusServer(service: StubRolloutService(),
                                  configuration: StatusServerConfiguration(host: "0.0.0.0", port: 0),
                                  logger: TestServer.quietLogger)
        await #expect(throws: StatusServerConfigurationError.self) { try await server.run() }
    }

    @Test("bearer tokens compare exactly")
    func bearer() {
        let token = BearerToken("abc123")
        #expect(token.accepts(authorizationHeader: "Bearer abc123"))
        #expect(token.accepts(authorizationHeader: "bearer abc123"))
        #expect(!token.accepts(authorizationHeader: nil))
        #expect(!token.accepts(authorizationHeader: "Bearer abc12"))
        #expect(!token.accepts(authorizationHeader: "Bearer abc1234"))
        #expect(!token.accepts(authorizationHeader: "Bearer abd123"))
        #expect(!token.accepts(authorizationHeader: "abc123"))
        #expect(!token.accepts(authorizationHeader: "Bearer "))
        #expect(BearerToken.constantTimeEqual([], []))
        #expect(!BearerToken.constantTimeEqual([1], []))
    }
}
