import Foundation

/// Where and how the status API listens, who may call it, and which local files submitted plans may name.
///
/// The API binds to loopback unless told otherwise, and refuses to listen anywhere else without a bearer token
/// (`validate()`): every state-changing call would otherwise be open to the network. Beyond loopback, reads need a
/// token too (the write token or a read-only one): rollout details show the fleet, the firmware and the gates.
package struct StatusServerConfiguration: Sendable {
    /// Address to bind: `127.0.0.1` (default), `::1`, `localhost`, or any other address when a token is set.
    /// Only those three names count as loopback; any other address (`127.0.0.2` included) is treated as reachable
    /// from the network.
    package var host: String
    /// TCP port; 0 picks a free one (learn it from `StatusServer.run(onRunning:)`).
    package var port: Int
    /// The write token: when set, every state-changing call must carry `Authorization: Bearer <token>`.
    package var token: String?
    /// A read-only token: accepted on reads, refused (403) on state-changing calls. Needs `token` as well; when set,
    /// reads need a token even on loopback.
    package var readToken: String?
    /// Directories whose files (artifacts, signing keys) plans submitted over HTTP may name; empty: only `s3://`
    /// artifacts. Checked with symlinks resolved (see `ArtifactPolicy`).
    package var artifactDirectories: [String]
    /// Largest request body accepted (a submitted plan); larger ones get 413.
    package var bodyBytesMax: Int
    /// The OpenAPI 3 document served at `/openapi.json` (the embedded one, identical to `Sources/StatusAPI/Resources/openapi.json`).
    package var openAPIDocument: String
    /// Seconds between reloads of the HTML status page.
    package var pageRefreshSeconds: Int
    /// Rollouts shown on the HTML status page, newest first.
    package var pageRolloutsMax: Int

    package static let bodyBytesMaxDefault = 1 << 20
    package static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "[::1]", "localhost"]

    package init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, readToken: String? = nil,
                artifactDirectories: [String] = [], bodyBytesMax: Int = StatusServerConfiguration.bodyBytesMaxDefault,
                openAPIDocument: String = OpenAPIDocument.json, pageRefreshSeconds: Int = 5, pageRolloutsMax: Int = 200) {
        self.host = host
        self.port = port
        self.token = token
        self.readToken = readToken
        self.artifactDirectories = artifactDirectories
        self.bodyBytesMax = bodyBytesMax
        self.openAPIDocument = openAPIDocument
        self.pageRefreshSeconds = pageRefreshSeconds
        self.pageRolloutsMax = pageRolloutsMax
    }

    package var isLoopback: Bool { Self.loopbackHosts.contains(host.lowercased()) }

    /// Reads (everything but `/healthz` and `/readyz`) need a token beyond loopback, and wherever a read-only token
    /// is configured (configuring one says reads are to be protected).
    package var readsRequireToken: Bool { !isLoopback || readToken != nil }

    /// Throws a readable error for a configuration the worker must not run with.
    package func validate() throws(StatusServerConfigurationError) {
        if host.isEmpty {
            throw StatusServerConfigurationError(message: "the HTTP host is empty; use 127.0.0.1 for loopback")
        }
        if !(0...65535).contains(port) {
            throw StatusServerConfigurationError(message: "HTTP port \(port) is out of range: expected 0…65535")
        }
        if let token, token.isEmpty {
            throw StatusServerConfigurationError(message: "the HTTP token is empty; give a secret or no token at all")
        }
        if let readToken, readToken.isEmpty {
            throw StatusServerConfigurationError(message: "the read-only token is empty; give a secret or none at all")
        }
        if token == nil && !isLoopback {
            throw StatusServerConfigurationError(message:
                "refusing to listen on \(host) without a token: anyone who can reach it could pause, abort or roll back "
                + "rollouts; set a bearer token (--token-file or ROLLOUT_TOKEN) or listen on 127.0.0.1")
        }
        if readToken != nil && token == nil {
            throw StatusServerConfigurationError(message:
                "a read-only token (--read-token-file or ROLLOUT_READ_TOKEN) needs a write token as well "
                + "(--token-file or ROLLOUT_TOKEN): otherwise reads would be guarded and state changes open")
        }
        if let readToken, readToken == token {
            throw StatusServerConfigurationError(message:
                "the read-only token equals the write token; give it a different secret")
        }
        for directory in artifactDirectories where CanonicalPath.directory(directory) == nil {
            throw StatusServerConfigurationError(message: "--artifacts-dir \(directory) is not a directory")
        }
        if bodyBytesMax < 1 {
            throw StatusServerConfigurationError(message: "bodyBytesMax must be at least 1 byte (got \(bodyBytesMax))")
        }
        if pageRefreshSeconds < 1 || pageRolloutsMax < 1 {
            throw StatusServerConfigurationError(message: "the status page needs a refresh of at least 1 s and at least 1 rollout")
        }
    }
}
