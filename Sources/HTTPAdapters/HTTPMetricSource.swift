import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The HTTP JSON `MetricSource`: GET of the gate's URL (placeholders expanded, percent-encoded), then the number at
/// the gate's JSON pointer. Bounded and authenticated as `MetricHTTPReader` describes; whatever goes wrong becomes
/// `MetricReading(error:)` with a reason a person can act on and the URL's secrets masked.
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

        /// A libcurl transport with these time-outs and size limit.
        package func makeTransport() -> any HTTPTransport {
            CurlTransport(options: .init(connectTimeoutSeconds: connectTimeoutSeconds,
                                         totalTimeoutSeconds: totalTimeoutSeconds, maxResponseBytes: maxResponseBytes,
                                         threadCount: 2))
        }
    }

    package var options: Options { reader.options }
    let reader: MetricHTTPReader

    /// - Parameters:
    ///   - transport: nil for a libcurl transport with `options`' time-outs and size limit (tests inject one).
    ///   - environment: where `bearerTokenEnv` and `passwordEnv` are looked up (the process's environment).
    ///   - secrets: which files and variables a plan may name (`MetricSecretPolicy`).
    package init(options: Options = Options(), transport: (any HTTPTransport)? = nil,
                environment: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] },
                secrets: MetricSecretPolicy = .fromEnvironment()) {
        reader = MetricHTTPReader(options: options, transport: transport ?? options.makeTransport(), signer: nil,
                                  environment: environment, secrets: secrets)
    }

    package func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        let url = MetricQueryTemplate.expand(gate.url, values) { URIEncoding.encode($0) }
        let answer = await reader.get(url, gate: gate, headers: [
            ("Accept", "application/json"), ("X-Rollout-Id", values.rolloutId), ("X-Rollout-Stage", values.stage),
        ])
        let place = "\(gate.name): \(answer.shown)"
        switch answer.result {
        case .failure(let problem):
            return MetricReading(error: "\(place): \(problem.message)", input: answer.shown)
        case .success(let response):
            guard response.isSuccess else { return MetricReading(error: "\(place): HTTP \(response.status)", input: answer.shown) }
            switch JSONPointer.number(at: gate.pointer, inJSON: response.body) {
            case .success(let value):
                guard value.isFinite else { return MetricReading(error: "\(place): value is not finite", input: answer.shown) }
                return MetricReading(value: value, input: answer.shown)
            case .failure(let problem):
                return MetricReading(error: "\(place): \(problem.message)", input: answer.shown)
            }
        }
    }
}
