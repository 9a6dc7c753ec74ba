import Foundation
import HTTPTransport

/// Gives credentials for signing; the chain caches and refreshes them.
package protocol AWSCredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// One link of the credential chain: returns nil when its source is not configured (the chain moves on), throws when
/// it is configured but broken (the chain stops: a half-set environment must not silently fall through to IMDS).
package protocol AWSCredentialsSource: Sendable {
    /// Shown in "no credentials found (tried …)".
    var name: String { get }
    func loadCredentials() async throws -> AWSCredentials?
}

/// Fixed credentials (tests, or keys handed over explicitly).
package struct StaticCredentialsProvider: AWSCredentialsProvider, AWSCredentialsSource {
    package let name = "static"
    private let value: AWSCredentials

    package init(_ credentials: AWSCredentials) {
        value = credentials
    }

    package func credentials() async throws -> AWSCredentials { value }
    package func loadCredentials() async throws -> AWSCredentials? { value }
}

/// Why no usable credentials could be had. Never carries a secret.
package struct CredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { "credentials: \(message)" }

    /// What a failed credentials call says without the service's own message, which may quote the request (a web
    /// identity token, an SSO token): the error code and HTTP status, or the transport's failure.
    static func summary(of error: Error) -> String {
        switch error {
        case let error as AWSError:
            return "\(error.code) (HTTP \(error.status)\(error.attempts > 1 ? ", after \(error.attempts) attempts" : ""))"
        case let error as TransportError:
            return "\(error)"
        default:
            return "\(type(of: error))"
        }
    }
}
