import Foundation
import RolloutCore

/// AWS's request quotas as the rehearsal meets them: a token bucket per metered API (the scenario's `AWSQuotas`,
/// AWS's published defaults unless `api.quotas` overrides them), refilled by the fleet's clock, so a burst of calls
/// at one virtual instant is answered as AWS would answer it: the calls over the quota wait.
///
/// Each bucket holds one second's worth of calls (at least one), like the worker's own budget on the AWS path.
/// Not thread-safe: the fleet calls it under its lock.
struct SimulatedAPIBudget {
    private struct Bucket {
        var tokens: Double
        var refilledAt: Date
    }

    let quotas: AWSQuotas
    private var buckets: [String: Bucket] = [:]

    init(quotas: AWSQuotas) {
        self.quotas = quotas
    }

    /// The quota that meters the fleet call `operation`, as the AWS path meters it (`PutObject` is an S3 call; the
    /// others are IoT's), nil if none does.
    static func meteredAPI(_ operation: String, quotas: AWSQuotas) -> String? {
        quotas.meteredAPI(operation: operation, service: operation == "PutObject" ? "s3" : "iot")
    }

    /// Takes one call from the bucket of `api` at `now`. Nil when the call may go; otherwise the seconds until the
    /// bucket holds a call again (the call is not counted).
    mutating func take(_ api: String, at now: Date) -> Double? {
        guard let rate = quotas.ratesPerSecond[api], rate > 0 else { return nil }
        let capacity = max(1, rate)
        var bucket = buckets[api] ?? Bucket(tokens: capacity, refilledAt: now)
        let elapsed = max(0, now.timeIntervalSince(bucket.refilledAt))
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.refilledAt = max(bucket.refilledAt, now)
        defer { buckets[api] = bucket }
        guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
        bucket.tokens -= 1
        return nil
    }
}
