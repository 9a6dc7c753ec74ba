import Foundation

/// The previous firmware's failure rate on the same fleet (`gates.jobOutcomes.baseline`): what the stage's failure
/// rate is compared with. Taken once, when the rollout is prepared, and kept in the state as a fact:
/// - `previous`: the outcomes of the finished rollouts that deployed the plan's rollback version to the same fleet
///   selection (counts: the sequential test weighs how much evidence they are);
/// - `metric`: one reading of `baselineMetric` (a rate without counts: taken as known).
package struct OutcomeBaseline: Codable, Equatable, Sendable {
    package var version: String
    /// Outcomes (succeeded, failed, timed out, rejected) and `failed` ones over every stage of those rollouts.
    package var executed: Int
    package var failed: Int
    /// The rollouts counted, newest first (at most `rolloutsListedMax` named).
    package var rolloutIds: [String]
    /// `metric`: the failed share it reported, in percent (nil when it could not be read: see `measurement`).
    package var measuredPercent: Double?
    /// `metric`: what was asked and, when unreadable, why.
    package var measurement: MetricReading?

    package static let rolloutsListedMax = 10

    package init(version: String, executed: Int, failed: Int, rolloutIds: [String]) {
        self.version = version
        self.executed = executed
        self.failed = failed
        self.rolloutIds = rolloutIds
    }

    /// A baseline read from a metric.
    package static func measured(version: String, reading: MetricReading) -> OutcomeBaseline {
        var baseline = OutcomeBaseline(version: version, executed: 0, failed: 0, rolloutIds: [])
        // A rate outside 0…100% is not a failure rate: unreadable, so the gate judges against its own limit.
        if let value = reading.value, value >= 0, value <= 100 {
            baseline.measuredPercent = value
            baseline.measurement = reading
        } else {
            var unreadable = reading
            if let value = reading.value {
                unreadable = MetricReading(error: "\(MetricGate.baselineName): \(value) is not a failure rate in percent "
                                           + "(0 to 100)", input: reading.input)
            }
            baseline.measurement = unreadable
        }
        return baseline
    }

    /// The previous firmware's failed share, in percent (nil without outcomes or a reading).
    package var failedPercent: Double? {
        measuredPercent ?? (executed > 0 ? 100 * Double(failed) / Double(executed) : nil)
    }

    /// The tolerated failed share: the previous firmware's plus `marginPercent` (nil without outcomes).
    package func failedLimitPercent(marginPercent: Double) -> Double? {
        failedPercent.map { min(100, $0 + marginPercent) }
    }

    /// Whether a gate some stage is judged by compares with the previous firmware's outcomes in the history (the
    /// plan-wide gates count only for stages without their own).
    package static func isWanted(by plan: RolloutPlan) -> Bool {
        plan.rollback != nil && plan.stages.map(plan.gates(for:)).contains { $0.jobOutcomes.baseline == .previous }
    }

    /// The metric that reports the previous firmware's failure rate, when a gate of `plan` compares with one (the
    /// parser lets a plan have one baseline).
    package static func metric(of plan: RolloutPlan) -> MetricGate? {
        guard plan.rollback != nil else { return nil }
        return plan.stages.lazy.map(plan.gates(for:)).compactMap(\.jobOutcomes.baselineMetric).first
    }

    /// Sums the outcomes of finished rollouts (newest first) that deployed `plan`'s rollback version to its fleet.
    /// Nil when the plan has no rollback target; a baseline of 0 outcomes when there is no such history.
    package static func from(history: [(plan: RolloutPlan, state: RolloutState)], for plan: RolloutPlan,
                             excluding rolloutId: String) -> OutcomeBaseline? {
        guard let version = plan.rollback?.version else { return nil }
        var baseline = OutcomeBaseline(version: version, executed: 0, failed: 0, rolloutIds: [])
        for (earlier, state) in history where state.rolloutId != rolloutId && state.phase.isTerminal
            && earlier.release.version == version && earlier.release.firmware == plan.release.firmware
            && earlier.fleet == plan.fleet {
            let progress = state.stages.map(\.progress)
            baseline.executed += progress.reduce(0) { $0 + $1.executed }
            // `failed` only, as the stage's own failed share counts it (time-outs and rejections have their limits).
            baseline.failed += progress.reduce(0) { $0 + $1.failed }
            if baseline.rolloutIds.count < rolloutsListedMax { baseline.rolloutIds.append(state.rolloutId) }
        }
        return baseline
    }
}
