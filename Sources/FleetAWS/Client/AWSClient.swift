import Foundation
import HTTPTransport
import Logging

/// Sign, send, retry: one service at one endpoint.
///
/// Every attempt first takes a token from the worker's budget for its account, region and operation
/// (`AWSRateBudgets`, when set), so all rollouts of a worker stay within AWS's rates together; answers that are
/// throttling are counted there too. Retries throttling (`ThrottlingException` as 400 in IoT, 429, `SlowDown`,
/// `RequestLimitExceeded`, …), 5xx, time-outs and connection failures with the `RetryPolicy`; other answers ≥ 300
/// become `AWSError` at once. A retryable failure that outlives the attempts is rethrown as is (`AWSError` or
/// `TransportError`) with the attempt count.
package struct AWSClient: Sendable {
    /// Signing name: `iot`, `s3`.
    package let service: String
    package let region: String
    package let endpoint: HTTPEndpoint
    package let credentials: any AWSCredentialsProvider
    package let transport: any HTTPTransport
    package let retry: RetryPolicy
    package let now: @Sendable () -> Date
    package let logger: Logger
    /// The worker's request budgets (nil: unmetered, as in tools that make a handful of calls).
    package let budgets: AWSRateBudgets?

    package init(service: String, region: String, endpoint: HTTPEndpoint, credentials: any AWSCredentialsProvider,
                transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(),
                now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "rollout.aws"), budgets: AWSRateBudgets? = nil) {
        self.budgets = budgets
        self.service = service
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.now = now
        self.logger = logger
    }

    package var signer: SigV4Signer { SigV4Signer(service: service, region: region) }

    /// Sends `request` (signed anew for every attempt) and returns the 2xx (or, with `acceptStatus`, another
    /// accepted) response.
    ///
    /// - Parameters:
    ///   - operation: name for logs and errors (`CreateJob`).
    ///   - payloadHash: hex SHA-256 of a file body (or `UNSIGNED-PAYLOAD`).
    ///   - acceptStatus: statuses returned instead of thrown (e.g. 404 for HeadObject).
    package func send(_ request: HTTPRequest, operation: String, payloadHash: String? = nil,
                     acceptStatus: Set<Int> = []) async throws -> HTTPResponse {
        var retryNumber = 0
        while true {
            let attempt = retryNumber + 1
            let failure: Error
            let retryAfter: Double?
            do {
                var signed = request
                let credentials = try await self.credentials.credentials()
                if let budgets {
                    let waited = try await budgets.acquire(operation: operation, service: service, region: region,
                                                           account: credentials.accountId)
                    if waited > 0 { logger.debug("\(service) \(operation) waited \(waited) s for the request budget") }
                }
                // Signed after any wait: the signature's time must be close to when the request leaves.
                signer.sign(&signed, credentials: credentials, date: now(), payloadHash: payloadHash)
                let response = try await transport.send(signed)
                if response.isSuccess || acceptStatus.contains(response.status) {
                    return response
                }
                var error = AWSError.from(response)
                error.attempts = attempt
                error.operation = operation
                if error.isThrottling {
                    budgets?.budget(region: region, account: credentials.accountId)
                        .recordThrottled(operation: operation, service: service)
                }
                guard error.isRetryable else { throw error }
                failure = error
                retryAfter = error.retryAfterSeconds
            } catch let error as TransportError where error.isRetryable {
                failure = error
                retryAfter = nil
            }
            retryNumber += 1
            guard retryNumber < retry.maxAttempts else {
                logger.warning("\(service) \(operation) failed after \(attempt) attempts: \(failure)")
                throw failure
            }
            let delay = retry.delay(beforeRetry: retryNumber, retryAfterSeconds: retryAfter)
            logger.debug("\(service) \(operation) attempt \(attempt) failed (\(failure)); retrying in \(delay) s")
            try await retry.sleep(delay)
        }
    }

    /// Sends a JSON request body (or `{}` for a body-less PUT/POST) and decodes the JSON answer.
    package func json<Response: Decodable>(_ method: String, _ path: String, query: [QueryItem] = [],
                                          body: (any Encodable)? = nil, operation: String,
                                          as type: Response.Type = Response.self) async throws -> Response {
        var headers = HTTPHeaders()
        var payload = HTTPBody.empty
        if let body {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            payload = .data(try encoder.encode(body))
            headers["Content-Type"] = "application/json"
        } else if method == "PUT" || method == "POST" || method == "PATCH" {
            payload = .data(Data("{}".utf8))
            headers["Content-Type"] = "application/json"
        }
        let request = HTTPRequest(method: method, endpoint: endpoint, path: path, query: query, headers: headers,
                                  body: payload)
        let response = try await send(request, operation: operation)
        let data = response.body.isEmpty ? Data("{}".utf8) : response.body
        do {
            return try JSONDecoder().decode(Response.self, from: data)
        } catch {
            throw AWSError(code: "InvalidResponse", message: "\(operation) answered JSON of an unexpected shape: \(error)",
                           status: response.status, requestId: response[header: "x-amzn-requestid"])
        }
    }
}

/// A JSON answer whose content does not matter.
package struct EmptyResponse: Decodable, Sendable {}
