/// The success criteria that judge a stage before the next one may start.
package struct GateSet: Codable, Equatable, Sendable {
    package var jobOutcomes: OutcomeGate
    package var metrics: [MetricGate]

    package init(jobOutcomes: OutcomeGate = OutcomeGate(), metrics: [MetricGate] = []) {
        self.jobOutcomes = jobOutcomes
        self.metrics = metrics
    }
}

/// Limits on how a stage's job executions ended. Shares are of *executed* devices (those with an outcome).
package struct OutcomeGate: Codable, Equatable, Sendable {
    package var failedMaxPercent: Double
    package var timedOutMaxPercent: Double
    package var rejectedMaxPercent: Double
    /// No verdict other than `wait` before this many executions have an outcome (capped at the stage's size).
    package var executedMin: Int
    /// Share of the stage's devices that must have an outcome before the gate may pass.
    package var completedMinPercent: Double
    /// How `failedMaxPercent` is judged; nil is `threshold` (and keeps plans stored before it existed as they were).
    package var method: Method?
    /// Confidence of the sequential test, in percent (default 95).
    package var confidencePercent: Double?
    /// `previous` or `metric`: `failedMaxPercent` is a margin over the previous firmware's failure rate on this fleet.
    package var baseline: Baseline?
    /// `baseline: {metric: …}`: where the previous firmware's failure rate (in percent) is read, once, when the
    /// rollout is prepared (named `MetricGate.baselineName`; `${version}` is the rollback version).
    package var baselineMetric: MetricGate?

    /// What the failed share is compared with.
    package enum Baseline: String, Codable, Sendable, Equatable {
        /// The previous firmware's outcomes on the same fleet, from this worker's history (`OutcomeBaseline`).
        case previous
        /// The previous firmware's failure rate as a metric reports it (`baselineMetric`).
        case metric
    }

    /// How the failed share is judged.
    package enum Method: String, Codable, Sendable, Equatable {
        /// The observed share against the limit: fails once it is above, passes at the bake's end if not.
        case threshold
        /// `SequentialOutcomeTest`: fails or passes only when the evidence says so with the confidence.
        case sequential
    }

    package static let confidencePercentRange = 50.1...99.99
    package static let confidencePercentDefault = 95.0

    package init(failedMaxPercent: Double = 5, timedOutMaxPercent: Double = 5, rejectedMaxPercent: Double = 5,
                executedMin: Int = 10, completedMinPercent: Double = 95) {
        self.failedMaxPercent = failedMaxPercent
        self.timedOutMaxPercent = timedOutMaxPercent
        self.rejectedMaxPercent = rejectedMaxPercent
        self.executedMin = executedMin
        self.completedMinPercent = completedMinPercent
    }
}
