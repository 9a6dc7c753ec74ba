import Foundation

/// The previous firmware's job outcomes on the same fleet (`gates.jobOutcomes.baseline: previous`): what the
/// stage's failure rate is compared with. Taken once, when the rollout is prepared, from the finished rollouts that
/// deployed the plan's rollback version to the same fleet selection; kept in the state as a fact.
package struct OutcomeBaseline: Codable, Equatable, Sendable {
    package var version: String
    /// Outcomes (succeeded, failed, timed out, rejected) and `failed` ones over every stage of those rollouts.
    package var executed: Int
    package var failed: Int
    /// The rollouts counted, newest first (at most `rolloutsListedMax` named).
    package var rolloutIds: [String]

    package static let rolloutsListedMax = 10

    package init(version: String, executed: Int, failed: Int, rolloutIds: [String]) {
        self.version = version
        self.executed = executed
        self.failed = failed
        self.rolloutIds = rolloutIds
    }

    /// The previous firmware's failed share, in percent (nil without outcomes).
    package var failedPercent: Double? {
        executed > 0 ? 100 * Double(failed) / Double(executed) : nil
    }

    /// The tolerated failed share: the previous firmware's plus `marginPercent` (nil without outcomes).
    package func failedLimitPercent(marginPercent: Double) -> Double? {
        failedPercent.map { min(100, $0 + marginPercent) }
    }

    /// Whether any of `plan`'s gates compares with the previous firmware.
    package static func isWanted(by plan: RolloutPlan) -> Bool {
        plan.rollback != nil && ([plan.gates] + plan.stages.compactMap(\.gates)).contains { $0.jobOutcomes.baseline == .previous }
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
