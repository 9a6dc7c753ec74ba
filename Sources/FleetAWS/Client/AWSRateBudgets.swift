import Engine
import Foundation
import RolloutCore

/// One `AWSRateBudget` per account and region, shared by every `AWSClient` made from one `AWSConfiguration` (a
/// worker's): AWS throttles per account and region, not per rollout, so every rollout of the worker draws on the
/// same buckets. Keyed by `account/region` when the credentials name their account, else by region.
///
/// `acquire` is the one place a request waits for its token; the clock and the wait are injected, so tests
/// observe the waits instead of sleeping through them.
package final class AWSRateBudgets: @unchecked Sendable {
    package let quotas: AWSQuotas
    let now: @Sendable () -> Date
    let sleep: @Sendable (Double) async throws -> Void
    private let lock = NSLock()
    private var budgets: [String: AWSRateBudget] = [:]
    /// Workers sharing the quotas (`share(among:)`).
    private var divisor = 1

    /// Budgets are made per scope on first use; a worker touches a handful of regions at most.
    static let scopesMax = 64

    package init(quotas: AWSQuotas = .defaults, now: @escaping @Sendable () -> Date = { Date() },
                sleep: @escaping @Sendable (Double) async throws -> Void = RetryPolicy.taskSleep) {
        self.quotas = quotas
        self.now = now
        self.sleep = sleep
    }

    /// `account/region`, or `region` when the account is unknown.
    package static func scope(region: String, account: String?) -> String {
        account.map { "\($0)/\(region)" } ?? region
    }

    /// The budget of `region` (and `account`, when known).
    package func budget(region: String, account: String?) -> AWSRateBudget {
        let scope = AWSRateBudgets.scope(region: region, account: account)
        return lock.withLock {
            if let existing = budgets[scope] { return existing }
            precondition(budgets.count < AWSRateBudgets.scopesMax, "more AWS account-regions than a worker can use")
            let made = AWSRateBudget(scope: scope, quotas: quotas)
            made.share(among: divisor, at: now())
            budgets[scope] = made
            return made
        }
    }

    /// Waits until the budget lets one request of `operation` go; returns the seconds waited.
    @discardableResult
    package func acquire(operation: String, service: String, region: String, account: String?) async throws -> Double {
        let wait = budget(region: region, account: account).reserve(operation: operation, service: service, at: now())
        if wait > 0 { try await sleep(wait) }
        return wait
    }

    /// Gives this worker `1/workers` of every rate, in every scope now and later (workers on one database share
    /// the account's quotas; `PostgresLeases` counts them).
    package func share(among workers: Int) {
        precondition(workers >= 1, "at least this worker")
        let all = lock.withLock {
            divisor = workers
            return Array(budgets.values)
        }
        for budget in all { budget.share(among: workers, at: now()) }
    }

    /// Usage of every budget, by scope then API.
    package func usage() -> [FleetAPIUsage] {
        let all = lock.withLock { budgets.values.sorted { $0.scope < $1.scope } }
        let instant = now()
        return all.flatMap { $0.usage(at: instant) }
    }
}
