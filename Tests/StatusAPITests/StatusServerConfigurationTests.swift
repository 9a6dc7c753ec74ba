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
            try StatusServerConfiguration(host: host, token: "s3cret").validate()
        }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(token: "").validate() }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(port: 70000).validate() }
        #expect(throws: StatusServerConfigurationError.self) { try StatusServerConfiguration(bodyBytesMax: 0).validate() }
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
