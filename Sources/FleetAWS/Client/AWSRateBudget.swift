import Engine
import Foundation
import RolloutCore

/// The request budget of one AWS account in one region: a token bucket per metered API (rates from `AWSQuotas`)
/// and counters per API (calls, throttled answers, seconds waited), shared by every `AWSClient` of a worker.
///
/// Pure bookkeeping behind a lock: callers pass the time and do their own waiting (`AWSRateBudgets.acquire`).
package final class AWSRateBudget: @unchecked Sendable {
    /// `region` or `account/region`.
    package let scope: String
    package let quotas: AWSQuotas
    private let lock = NSLock()
    private var buckets: [String: TokenBucket] = [:]
    private var counters: [String: Counters] = [:]
    /// Workers sharing these quotas: each request draws on `rate / divisor`.
    private var divisor = 1

    struct Counters {
        var calls = 0
        var throttled = 0
        var waitedSeconds = 0.0
    }

    package init(scope: String, quotas: AWSQuotas) {
        self.scope = scope
        self.quotas = quotas
    }

    /// The API name requests of `operation` are counted under: the metered API, else the operation itself.
    package func countedAPI(operation: String, service: String) -> String {
        quotas.meteredAPI(operation: operation, service: service) ?? operation
    }

    /// Takes a token for one request of `operation` at `now`; returns the seconds to wait before sending it (0 when
    /// the budget had room, always 0 for an unmetered call). The request is counted as sent.
    package func reserve(operation: String, service: String, at now: Date) -> Double {
        let metered = quotas.meteredAPI(operation: operation, service: service)
        let api = metered ?? operation
        return lock.withLock {
            counters[api, default: Counters()].calls += 1
            guard let metered, let quota = quotas.ratesPerSecond[metered] else { return 0 }
            let rate = quota / Double(divisor)
            var bucket = buckets[metered] ?? TokenBucket(capacity: max(1, rate), refillPerSecond: rate, now: now)
            let wait = bucket.reserve(at: now)
            buckets[metered] = bucket
            counters[api, default: Counters()].waitedSeconds += wait
            return wait
        }
    }

    /// Draws on `1/workers` of each rate from now on; a bucket keeps its tokens up to its new size.
    package func share(among workers: Int, at now: Date) {
        precondition(workers >= 1, "at least this worker")
        lock.withLock {
            guard workers != divisor else { return }
            divisor = workers
            for (api, bucket) in buckets {
                guard let quota = quotas.ratesPerSecond[api] else { continue }
                let rate = quota / Double(workers)
                buckets[api] = bucket.resized(capacity: max(1, rate), refillPerSecond: rate, at: now)
            }
        }
    }

    /// Records that a request of `operation` was answered with throttling.
    package func recordThrottled(operation: String, service: String) {
        let api = countedAPI(operation: operation, service: service)
        lock.withLock { counters[api, default: Counters()].throttled += 1 }
    }

    /// Every API used so far (and every metered one, used or not), sorted by name.
    package func usage(at now: Date) -> [FleetAPIUsage] {
        lock.withLock {
            let names = Set(counters.keys).union(quotas.ratesPerSecond.keys)
            return names.sorted().map { api in
                let counted = counters[api] ?? Counters()
                let rate = quotas.ratesPerSecond[api].map { $0 / Double(divisor) }
                let used = buckets[api].map { $0.usedRatio(at: now) } ?? (rate == nil ? nil : 0)
                return FleetAPIUsage(api: api, scope: scope, calls: counted.calls, throttled: counted.throttled,
                                     budgetWaitSeconds: counted.waitedSeconds, ratePerSecond: rate, budgetUsedRatio: used)
            }
        }
    }
}
