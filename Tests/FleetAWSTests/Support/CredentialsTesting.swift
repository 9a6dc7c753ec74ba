import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// Shared set-up of the credential source tests: a chain with STS, the SSO portal and SSO OIDC on loopback, a
/// transport that keeps every request (headers and body), and the check that a text holds no secret.
enum CredentialsTesting {
    static let transport = CurlTransport(options: .init(connectTimeoutSeconds: 2, totalTimeoutSeconds: 20, threadCount: 2))
    /// Two attempts, no real waiting between them.
    static let retry = RetryPolicy(maxAttempts: 2, baseDelaySeconds: 0.001, maxDelaySeconds: 0.01,
                                   random: SeededRandom(seed: 7))

    /// `CredentialsChain.standard` in us-east-1 with IMDS off (unless the environment points it somewhere).
    static func chain(_ environment: [String: String], profile: String? = nil, stsURL: String? = nil,
                      ssoURL: String? = nil, ssoOIDCURL: String? = nil,
                      transport: any HTTPTransport = CredentialsTesting.transport,
                      processTimeoutSeconds: Double = 60,
                      now: @escaping @Sendable () -> Date = { Date() }) throws -> CredentialsChain {
        var environment = environment
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil { environment["AWS_EC2_METADATA_DISABLED"] = "true" }
        return try CredentialsChain.standard(environment: environment, profile: profile, region: "us-east-1",
                                             stsEndpointOverride: stsURL.flatMap { HTTPEndpoint(url: $0) },
                                             ssoEndpointOverride: ssoURL.flatMap { HTTPEndpoint(url: $0) },
                                             ssoOIDCEndpointOverride: ssoOIDCURL.flatMap { HTTPEndpoint(url: $0) },
                                             transport: transport, metadataTransport: transport, retry: retry,
                                             processTimeoutSeconds: processTimeoutSeconds, now: now)
    }

    /// The error `body` throws, as text (`CredentialsError` expected; anything else fails the test).
    static func failure(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> String {
        do {
            try await body()
            Issue.record("expected a CredentialsError", sourceLocation: sourceLocation)
            return ""
        } catch let error as CredentialsError {
            return error.description
        } catch {
            Issue.record("expected a CredentialsError, got \(error)", sourceLocation: sourceLocation)
            return "\(error)"
        }
    }

    static func expectNoSecret(in text: String, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets {
            #expect(!text.contains(secret), "a secret leaked into: \(text)", sourceLocation: sourceLocation)
        }
    }

    /// Writes `text` to `directory/name`, executable when `executable`.
    @discardableResult
    static func write(_ text: String, to directory: String, _ name: String, executable: Bool = false) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                             attributes: executable ? [.posixPermissions: 0o755] : nil)
        else { throw TestFailure("cannot write \(path)") }
        return path
    }
}

/// Passes requests on and keeps them whole (headers, body), to check what was signed or sent.
final class CapturingTransport: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    private let lock = NSLock()
    private var captured: [HTTPRequest] = []

    init(_ inner: any HTTPTransport = CredentialsTesting.transport) {
        self.inner = inner
    }

    var requests: [HTTPRequest] { lock.withLock { captured } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { captured.append(request) }
        return try await inner.send(request)
    }
}

extension HTTPRequest {
    /// The body as text (form-encoded STS requests).
    var bodyText: String {
        if case .data(let data) = body { return String(decoding: data, as: UTF8.self) }
        return ""
    }

    /// The form parameter `name`, decoded.
    func formValue(_ name: String) -> String? {
        for pair in bodyText.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name { return String(parts[1]).removingPercentEncoding }
        }
        return nil
    }
}
