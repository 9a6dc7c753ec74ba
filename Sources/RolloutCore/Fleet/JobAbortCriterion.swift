/// A stop rule the fleet applies to a stage's job by itself (AWS IoT `abortConfig`): once `executedMin` executions
/// have an outcome and the share of those ending in `outcome` reaches `thresholdPercent`, the fleet cancels the job's
/// executions that are still QUEUED. It keeps a bad stage from spreading while the worker is down; the worker stays
/// the judge (its gates still cancel, and roll back).
package struct JobAbortCriterion: Codable, Equatable, Sendable {
    package enum Outcome: String, Codable, Sendable {
        case failed = "FAILED", rejected = "REJECTED", timedOut = "TIMED_OUT"
    }

    package var outcome: Outcome
    /// 0.01…100, two decimals (AWS's precision).
    package var thresholdPercent: Double
    /// At least 1.
    package var executedMin: Int

    package init(outcome: Outcome, thresholdPercent: Double, executedMin: Int) {
        precondition(thresholdPercent > 0 && thresholdPercent <= 100, "threshold out of 0…100")
        precondition(executedMin >= 1, "at least one execution")
        self.outcome = outcome
        self.thresholdPercent = thresholdPercent
        self.executedMin = executedMin
    }

    /// The criteria equivalent to a stage's job-outcome gate. The gate fails when a share is *above* its maximum;
    /// the fleet aborts when a share *reaches* its threshold, so the threshold is the maximum plus 0.01 (AWS's
    /// precision). A maximum of 100% can never be exceeded and gives no criterion.
    package static func derived(from gate: OutcomeGate) -> [JobAbortCriterion] {
        let limits: [(Outcome, Double)] = [(.failed, gate.failedMaxPercent), (.rejected, gate.rejectedMaxPercent),
                                           (.timedOut, gate.timedOutMaxPercent)]
        return limits.compactMap { outcome, maximum in
            let threshold = ((maximum * 100).rounded(.down) + 1) / 100
            guard maximum >= 0, threshold <= 100 else { return nil }
            return JobAbortCriterion(outcome: outcome, thresholdPercent: threshold, executedMin: max(1, gate.executedMin))
        }
    }
}
