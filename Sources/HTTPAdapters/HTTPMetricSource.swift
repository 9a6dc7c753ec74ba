import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The `MetricSource` of the worker: HTTP GET of a metric gate's URL, then the number at the gate's JSON pointer.
///
/// Each read is bounded: a connect and a total time-out per attempt, a response size limit, and a few attempts
/// (time-outs, connection failures, 429 and 5xx are tried again after a short pause; other answers are not).
/// Whatever goes wrong becomes `MetricReading(error:)` with a reason a person can act on; the reason shows the URL
/// with its user info and query values masked (`CredentialRedaction.url`), never the headers (they may hold tokens).
///
/// A URL with user info (`https://user:password@host/…`) is read with HTTP Basic authentication.
package struct HTTPMetricSource: MetricSource {
    package struct Options: Sendable {
        package var connectTimeoutSeconds: Double
        /// One attempt, answer included.
        package var totalTimeoutSeconds: Double
        package var maxResponseBytes: Int
        /// Tries per read, the first included (1…5).
        package var attempts: Int
        /// Pause before the second attempt; doubled for each further one.
        package var retryDelaySeconds: Double

        package init(connectTimeoutSeconds: Double = 5, totalTimeoutSeconds: Double = 10, maxResponseBytes: Int = 1 << 20,
                    attempts: Int = 3, retryDelaySeconds: Double = 0.5) {
            precondition(attempts >= 1 && attempts <= 5, "attempts must be 1…5")
            precondition(maxResponseBytes > 0, "maxResponseBytes must be positive")
            precondition(connectTimeoutSeconds > 0 && totalTimeoutSeconds > 0, "time-outs must be positive")
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.totalTimeoutSeconds = totalTimeoutSeconds
            self.maxResponseBytes = maxResponseBytes
            self.attempts = attempts
            self.retryDelaySeconds = retryDelaySeconds
        }
    }

    package let options: Options
    let transport: any HTTPTransport

    /// - Parameter transport: nil for a libcurl transport with `options`' time-outs and size limit (tests inject one).
    package init(options: Options = Options(), transport: (any HTTPTransport)? = nil) {
        self.options = options
        self.transport = transport ?? CurlTransport(options: .init(
            connectTimeoutSeconds: options.connectTimeoutSeconds, totalTimeoutSeconds: options.totalTimeoutSeconds,
            maxResponseBytes: options.maxResponseBytes, threadCount: 2))
    }

    package func read(_ gate: MetricGate, rolloutId: String, stage: String) async -> MetricReading {
        let target: PlainHTTPTarget
        do {
            target = try PlainHTTPTarget(gate.url)
        } catch {
            return MetricReading(error: "\(gate.name): \(error)")
        }
        var request = target.request(method: "GET")
        request.headers["Accept"] = "application/json"
        request.headers["X-Rollout-Id"] = rolloutId
        request.headers["X-Rollout-Stage"] = stage
        let place = "GET \(target.shown)"
        var lastProblem = "no attempt made"
        for attempt in 1...options.attempts {
            if attempt > 1 {
                let delay = options.retryDelaySeconds * pow(2, Double(attempt - 2))
                try? await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1_000_000_000))
            }
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError {
                lastProblem = target.describe(error)
                if error.isRetryable { continue }
                break
            } catch {
                lastProblem = "request failed: \(type(of: error))"
                break
            }
            if response.body.count > options.maxResponseBytes {
                lastProblem = "response larger than \(options.maxResponseBytes) bytes"
                break
            }
            guard response.isSuccess else {
                lastProblem = "HTTP \(response.status)"
                if response.status == 429 || response.status >= 500 { continue }
                break
            }
            switch JSONPointer.number(at: gate.pointer, inJSON: response.body) {
            case .success(let value):
                guard value.isFinite else { return MetricReading(error: "\(gate.name): \(place): value is not finite") }
                return MetricReading(value: value)
            case .failure(let problem):
                return MetricReading(error: "\(gate.name): \(place): \(problem.message)")
            }
        }
        let tries = options.attempts == 1 ? "" : " (\(options.attempts) attempts at most)"
        return MetricReading(error: "\(gate.name): \(place): \(lastProblem)\(tries)")
    }
}
