import Foundation

/// Capped, jittered exponential backoff ("full jitter"): attempt n waits a random time in
/// `[0, min(maxDelay, baseDelay · 2ⁿ)]`, at least the service's `Retry-After` (itself capped by `maxRetryAfter`).
package struct RetryPolicy: Sendable {
    /// Total tries, the first included (1…20).
    package var maxAttempts: Int
    package var baseDelaySeconds: Double
    package var maxDelaySeconds: Double
    package var maxRetryAfterSeconds: Double
    package var random: SeededRandom
    /// Waits between attempts; tests inject one that records instead of sleeping.
    package var sleep: @Sendable (Double) async throws -> Void

    package init(maxAttempts: Int = 6, baseDelaySeconds: Double = 0.2, maxDelaySeconds: Double = 20,
                maxRetryAfterSeconds: Double = 60, random: SeededRandom = SeededRandom(seed: UInt64.random(in: 0...UInt64.max)),
                sleep: @escaping @Sendable (Double) async throws -> Void = RetryPolicy.taskSleep) {
        precondition(maxAttempts >= 1 && maxAttempts <= 20, "maxAttempts must be 1…20")
        precondition(baseDelaySeconds >= 0 && maxDelaySeconds >= baseDelaySeconds, "delays must be ordered")
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.random = random
        self.sleep = sleep
    }

    package static let taskSleep: @Sendable (Double) async throws -> Void = { seconds in
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }

    /// The wait before retry number `retry` (1 = after the first failure).
    package func delay(beforeRetry retry: Int, retryAfterSeconds: Double?) -> Double {
        let exponent = min(max(retry - 1, 0), 30)
        let cap = min(maxDelaySeconds, baseDelaySeconds * pow(2, Double(exponent)))
        let jittered = random.nextDouble() * cap
        if let retryAfterSeconds, retryAfterSeconds > 0 {
            return max(jittered, min(retryAfterSeconds, maxRetryAfterSeconds))
        }
        return jittered
    }
}

/// SplitMix64 behind a lock: deterministic for a seed, shareable across tasks.
package final class SeededRandom: @unchecked Sendable {
    private let lock = NSLock()
    private var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    package func nextDouble() -> Double {
        Double(next() >> 11) / Double(UInt64(1) << 53)
    }
}
