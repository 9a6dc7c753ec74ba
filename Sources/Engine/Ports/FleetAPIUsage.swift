import Foundation

/// How much of the fleet's API budget one API used since the worker started, for `/metrics`: plain counters the
/// fleet reports (the AWS fleet per account-region and API), so readers need not know the fleet.
package struct FleetAPIUsage: Sendable, Equatable {
    /// The API (or group of calls) one budget meters: `CreateJob`, `S3`, …
    package var api: String
    /// What the budget is shared by, e.g. an AWS region (`us-east-1`) or `account/region`.
    package var scope: String
    /// Requests sent (every attempt counts: a retried request spends the budget again).
    package var calls: Int
    /// Answers that were throttling (the service asked to slow down).
    package var throttled: Int
    /// Seconds callers waited for the budget before sending.
    package var budgetWaitSeconds: Double
    /// The budget's rate in calls per second; nil when no budget meters the API (it is only counted).
    package var ratePerSecond: Double?
    /// Share of the budget in use when read: 0 unused, 1 exhausted, above 1 while callers queue for it.
    package var budgetUsedRatio: Double?

    package init(api: String, scope: String, calls: Int, throttled: Int, budgetWaitSeconds: Double,
                ratePerSecond: Double?, budgetUsedRatio: Double?) {
        self.api = api
        self.scope = scope
        self.calls = calls
        self.throttled = throttled
        self.budgetWaitSeconds = budgetWaitSeconds
        self.ratePerSecond = ratePerSecond
        self.budgetUsedRatio = budgetUsedRatio
    }
}
