import Foundation

/// Where and how the status API listens.
///
/// The API binds to loopback unless told otherwise, and refuses to listen anywhere else without a bearer token
/// (`validate()`): every state-changing call would otherwise be open to the network.
public struct StatusServerConfiguration: Sendable {
    /// Address to bind: `127.0.0.1` (default), `::1`, `localhost`, or any other address when a token is set.
    public var host: String
    /// TCP port; 0 picks a free one (learn it from `StatusServer.run(onRunning:)`).
    public var port: Int
    /// When set, every POST must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// Largest request body accepted (a submitted plan); larger ones get 413.
    public var bodyBytesMax: Int
    /// The OpenAPI 3 document served at `/openapi.json` (the embedded one, identical to `Sources/StatusAPI/Resources/openapi.json`).
    public var openAPIDocument: String
    /// Seconds between reloads of the HTML status page.
    public var pageRefreshSeconds: Int
    /// Rollouts shown on the HTML status page, newest first.
    public var pageRolloutsMax: Int

    public static let bodyBytesMaxDefault = 1 << 20
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "[::1]", "localhost"]

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil,
                bodyBytesMax: Int = StatusServerConfiguration.bodyBytesMaxDefault,
                openAPIDocument: String = OpenAPIDocument.json, pageRefreshSeconds: Int = 5, pageRolloutsMax: Int = 200) {
        self.host = host
        self.port = port
        self.token = token
        self.bodyBytesMax = bodyBytesMax
        self.openAPIDocument = openAPIDocument
        self.pageRefreshSeconds = pageRefreshSeconds
        self.pageRolloutsMax = pageRolloutsMax
    }

    public var isLoopback: Bool { Self.loopbackHosts.contains(host.lowercased()) }

    /// Throws a readable error for a configuration the worker must not run with.
    public func validate() throws(StatusServerConfigurationError) {
        if host.isEmpty {
            throw StatusServerConfigurationError(message: "the HTTP host is empty; use 127.0.0.1 for loopback")
        }
        if !(0...65535).contains(port) {
            throw StatusServerConfigurationError(message: "HTTP port \(port) is out of range: expected 0…65535")
        }
        if let token, token.isEmpty {
            throw StatusServerConfigurationError(message: "the HTTP token is empty; give a secret or no token at all")
        }
        if token == nil && !isLoopback {
            throw StatusServerConfigurationError(message:
                "refusing to listen on \(host) without a token: anyone who can reach it could pause, abort or roll back "
                + "rollouts; set a bearer token (e.g. --http-token-file) or bind to 127.0.0.1")
        }
        if bodyBytesMax < 1 {
            throw StatusServerConfigurationError(message: "bodyBytesMax must be at least 1 byte (got \(bodyBytesMax))")
        }
        if pageRefreshSeconds < 1 || pageRolloutsMax < 1 {
            throw StatusServerConfigurationError(message: "the status page needs a refresh of at least 1 s and at least 1 rollout")
        }
    }
}
