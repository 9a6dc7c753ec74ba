import Foundation
import HTTPTransport

/// Sends a request that carries its own proof instead of a signature (STS AssumeRoleWithWebIdentity, the SSO
/// portal's bearer token), retrying as `AWSClient` does: throttling, 5xx, time-outs and lost connections, with the
/// policy's bounded attempts and backoff.
enum UnsignedRequestSender {
    /// The 2xx response, or the service's error as `AWSError` (attempts counted), or the transport's error.
    ///
    /// - Parameter retryableCodes: error codes worth another try for this operation besides the usual ones
    ///   (`IDPCommunicationError`: the identity provider did not answer STS in time).
    static func send(_ request: HTTPRequest, operation: String, transport: any HTTPTransport, retry: RetryPolicy,
                     retryableCodes: Set<String> = []) async throws -> HTTPResponse {
        var retryNumber = 0
        while true {
            let failure: Error
            let retryAfter: Double?
            do {
                let response = try await transport.send(request)
                if response.isSuccess { return response }
                var error = AWSError.from(response)
                error.attempts = retryNumber + 1
                error.operation = operation
                guard error.isRetryable || retryableCodes.contains(error.code) else { throw error }
                failure = error
                retryAfter = error.retryAfterSeconds
            } catch let error as TransportError where error.isRetryable {
                failure = error
                retryAfter = nil
            }
            retryNumber += 1
            guard retryNumber < retry.maxAttempts else { throw failure }
            try await retry.sleep(retry.delay(beforeRetry: retryNumber, retryAfterSeconds: retryAfter))
        }
    }
}
