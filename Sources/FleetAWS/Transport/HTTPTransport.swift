import Foundation

/// Sends one HTTP request and returns the whole response (bodies are bounded by the transport).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// Header names lowercased; repeated headers joined with `,`.
    public var headers: [String: String]
    public var body: Data
    /// Lowercase hex SHA-256 of the bytes actually streamed from a file body (nil for other bodies), so the caller
    /// can tell that the file did not change between hashing and sending.
    public var sentBodySHA256: String?

    public init(status: Int, headers: [String: String] = [:], body: Data = Data(), sentBodySHA256: String? = nil) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0),\($1)" })
        self.body = body
        self.sentBodySHA256 = sentBodySHA256
    }

    public subscript(header name: String) -> String? {
        headers[name.lowercased()]
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A request that got no HTTP answer (or one too large to accept).
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Connect or total time-out.
        case timeout
        /// Could not connect, connection reset, empty reply, …: the request may not have been processed.
        case connection
        /// The response body exceeded the transport's limit.
        case responseTooLarge
        /// The file body could not be read (or changed size while streaming).
        case bodyRead
        /// Anything else curl reported (bad URL, TLS setup, …).
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Time-outs and connection failures are worth another try.
    public var isRetryable: Bool { kind == .timeout || kind == .connection }

    public var description: String { "\(kind.rawValue): \(message)" }
}
