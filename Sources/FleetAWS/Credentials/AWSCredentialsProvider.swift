import Foundation

/// Gives credentials for signing; the chain caches and refreshes them.
public protocol AWSCredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// One link of the credential chain: returns nil when its source is not configured (the chain moves on), throws when
/// it is configured but broken (the chain stops: a half-set environment must not silently fall through to IMDS).
public protocol AWSCredentialsSource: Sendable {
    /// Shown in "no credentials found (tried …)".
    var name: String { get }
    func loadCredentials() async throws -> AWSCredentials?
}

/// Fixed credentials (tests, or keys handed over explicitly).
public struct StaticCredentialsProvider: AWSCredentialsProvider, AWSCredentialsSource {
    public let name = "static"
    private let value: AWSCredentials

    public init(_ credentials: AWSCredentials) {
        value = credentials
    }

    public func credentials() async throws -> AWSCredentials { value }
    public func loadCredentials() async throws -> AWSCredentials? { value }
}

/// Why no usable credentials could be had. Never carries a secret.
public struct CredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "credentials: \(message)" }
}
