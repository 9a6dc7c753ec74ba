/// The success criteria that judge a stage before the next one may start.
public struct GateSet: Codable, Equatable, Sendable {
    public var jobOutcomes: OutcomeGate
    public var metrics: [MetricGate]

    public init(jobOutcomes: OutcomeGate = OutcomeGate(), metrics: [MetricGate] = []) {
        self.jobOutcomes = jobOutcomes
        self.metrics = metrics
    }
}

/// Limits on how a stage's job executions ended. Shares are of *executed* devices (those with an outcome).
public struct OutcomeGate: Codable, Equatable, Sendable {
    public var failedMaxPercent: Double
    public var timedOutMaxPercent: Double
    public var rejectedMaxPercent: Double
    /// No verdict other than `wait` before this many executions have an outcome (capped at the stage's size).
    public var executedMin: Int
    /// Share of the stage's devices that must have an outcome before the gate may pass.
    public var completedMinPercent: Double

    public init(failedMaxPercent: Double = 5, timedOutMaxPercent: Double = 5, rejectedMaxPercent: Double = 5,
                executedMin: Int = 10, completedMinPercent: Double = 95) {
        self.failedMaxPercent = failedMaxPercent
        self.timedOutMaxPercent = timedOutMaxPercent
        self.rejectedMaxPercent = rejectedMaxPercent
        self.executedMin = executedMin
        self.completedMinPercent = completedMinPercent
    }
}

/// An external health metric: HTTP GET of a JSON document, a JSON pointer to a number, a threshold.
public struct MetricGate: Codable, Equatable, Sendable {
    public var name: String
    public var url: String
    /// RFC 6901 JSON pointer, e.g. `/data/crashRate`.
    public var pointer: String
    /// The gate fails when the value is above `max` …
    public var max: Double?
    /// … or below `min`.
    public var min: Double?

    public init(name: String, url: String, pointer: String, max: Double? = nil, min: Double? = nil) {
        self.name = name
        self.url = url
        self.pointer = pointer
        self.max = max
        self.min = min
    }
}
