import Foundation

/// Sends one HTTP request and returns the whole response (bodies are bounded by the transport).
package protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

package struct HTTPResponse: Sendable, Equatable {
    package var status: Int
    /// Header names lowercased; repeated headers joined with `,`.
    package var headers: [String: String]
    package var body: Data
    /// Lowercase hex SHA-256 of the bytes actually streamed from a file body (nil for other bodies), so the caller
    /// can tell that the file did not change between hashing and sending.
    package var sentBodySHA256: String?

    package init(status: Int, headers: [String: String] = [:], body: Data = Data(), sentBodySHA256: String? = nil) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0),\($1)" })
        self.body = body
        self.sentBodySHA256 = sentBodySHA256
    }

    package subscript(header name: String) -> String? {
        headers[name.lowercased()]
    }

    package var isSuccess: Bool { (200..<300).contains(status) }
}

/// A request that got no HTTP answer (or one too large to accept).
///
/// What matters to a caller is whether the request may have had its effect: only a failure that proves it never
/// reached the server (`setup`) or that lies in our own body or limits is final. Everything else leaves the outcome
/// unknown and is worth another try; the AWS calls are idempotent, so a retry adopts what the first attempt did.
package struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        /// Connect or total time-out: the request may or may not have been processed.
        case timeout
        /// The server could not be reached (name resolution, connect, TLS handshake): nothing was processed.
        case connection
        /// The request went out (or may have), but no complete answer came back: connection reset or closed, send or
        /// receive error, an empty or broken reply, a body curl could not resend. Its outcome is unknown.
        case answerLost
        /// The response body exceeded the transport's limit.
        case responseTooLarge
        /// The file body could not be read (or changed size while streaming).
        case bodyRead
        /// A definite failure on this side before anything was sent: malformed URL, unsupported protocol, TLS set-up
        /// or certificate problem. Trying again cannot help.
        case setup
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Every failure whose outcome is unknown, and every unreachable server, is worth another try.
    package var isRetryable: Bool { kind == .timeout || kind == .connection || kind == .answerLost }

    package var description: String { "\(kind.rawValue): \(message)" }
}
