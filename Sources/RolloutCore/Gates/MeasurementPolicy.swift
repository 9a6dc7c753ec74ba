import Foundation

/// When a metric gate is measured and how its measurements decide, after Argo Rollouts' analysis semantics.
///
/// - `initialDelaySeconds` after the stage's job is created, the first measurement; then one every
///   `intervalSeconds` (never more often than the worker polls), `count` times or, without a count, until the stage
///   is judged.
/// - More than `failureLimit` failed measurements fail the gate (0: the first one does).
/// - More than `consecutiveErrorLimit` unreadable measurements in a row make it inconclusive (a person looks):
///   an error is not a failure.
/// - With `consecutiveSuccessLimit`, the gate passes only after that many successful measurements in a row.
package struct MeasurementPolicy: Codable, Equatable, Sendable {
    /// At most one measurement per interval; nil: one per poll.
    package var intervalSeconds: Int?
    /// Measurements to take, then the gate decides; nil: measured until the stage is decided.
    package var count: Int?
    /// Failed measurements tolerated.
    package var failureLimit: Int
    /// Unreadable measurements in a row tolerated.
    package var consecutiveErrorLimit: Int
    /// Successful measurements in a row a pass needs; nil: no such run.
    package var consecutiveSuccessLimit: Int?
    /// No measurement before this long after the stage's job was created.
    package var initialDelaySeconds: Int

    /// Argo's default: five errors in a row are too many.
    package static let consecutiveErrorLimitDefault = 4
    package static let countMax = 1_000
    package static let limitMax = 1_000

    package init(intervalSeconds: Int? = nil, count: Int? = nil, failureLimit: Int = 0,
                consecutiveErrorLimit: Int = MeasurementPolicy.consecutiveErrorLimitDefault,
                consecutiveSuccessLimit: Int? = nil, initialDelaySeconds: Int = 0) {
        self.intervalSeconds = intervalSeconds
        self.count = count
        self.failureLimit = failureLimit
        self.consecutiveErrorLimit = consecutiveErrorLimit
        self.consecutiveSuccessLimit = consecutiveSuccessLimit
        self.initialDelaySeconds = initialDelaySeconds
    }

    /// Whether a measurement is due at `now` for a stage whose job was created at `bakeStartedAt`. Without an
    /// `interval`, `defaultIntervalSeconds` (the worker's poll interval) spaces them: derived from the stored last
    /// measurement, so a restarted worker measures exactly when the first would have.
    package func isDue(tally: MetricTally?, bakeStartedAt: Date, now: Date, defaultIntervalSeconds: Double = 0) -> Bool {
        if now < bakeStartedAt.addingTimeInterval(TimeInterval(initialDelaySeconds)) { return false }
        guard let tally else { return true }
        if let count, tally.takenTowardsCount >= count { return false }
        let interval = intervalSeconds.map(Double.init) ?? defaultIntervalSeconds
        if let last = tally.lastAt, now < last.addingTimeInterval(interval) || now <= last {
            return false
        }
        return true
    }
}
