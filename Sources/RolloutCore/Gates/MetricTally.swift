import Foundation

/// A metric gate's measurements within one stage: counts that decide, and the most recent measurements with their
/// inputs, for people. Bounded: only the last `recentKept` measurements are kept whole.
package struct MetricTally: Codable, Equatable, Sendable {
    /// Measurements taken in the stage, of each outcome.
    package var taken: Int
    package var successes: Int
    package var failures: Int
    package var errors: Int
    /// The current runs of successes and of errors (a failure ends both; a success ends a run of errors).
    package var consecutiveSuccesses: Int
    package var consecutiveErrors: Int
    /// When the last measurement was taken (the next is due an `interval` later).
    package var lastAt: Date?
    /// `taken` when a resumed inconclusive gate started counting again (`count` counts from there); nil: from 0.
    package var countedFrom: Int?
    /// The last measurements, oldest first.
    package var recent: [MetricMeasurement]

    package static let recentKept = 10

    package init() {
        taken = 0
        successes = 0
        failures = 0
        errors = 0
        consecutiveSuccesses = 0
        consecutiveErrors = 0
        recent = []
    }

    package var last: MetricMeasurement? { recent.last }

    /// Measurements counted towards the gate's `count`.
    package var takenTowardsCount: Int { taken - (countedFrom ?? 0) }

    /// After a person resumed an inconclusive gate: its `count` and its run of errors start again; failures stay
    /// counted (resuming judges again, it forgives nothing).
    package func restarted() -> MetricTally {
        var fresh = self
        fresh.consecutiveErrors = 0
        fresh.countedFrom = taken
        return fresh
    }

    /// Judges `reading` against `gate`'s bounds and counts it.
    package mutating func record(_ reading: MetricReading, gate: MetricGate, at: Date) {
        let outcome: MeasurementOutcome
        if let value = reading.value {
            outcome = gate.accepts(value) ? .success : .failure
        } else {
            outcome = .error
        }
        taken += 1
        lastAt = at
        switch outcome {
        case .success:
            successes += 1
            consecutiveSuccesses += 1
            consecutiveErrors = 0
        case .failure:
            failures += 1
            consecutiveSuccesses = 0
            consecutiveErrors = 0
        case .error:
            errors += 1
            consecutiveErrors += 1
        }
        var measurement = MetricMeasurement(at: at, outcome: outcome, value: reading.value, error: reading.error,
                                            input: reading.input)
        measurement.noData = reading.noData
        recent.append(measurement)
        if recent.count > Self.recentKept { recent.removeFirst(recent.count - Self.recentKept) }
    }
}

/// One measurement of a metric gate.
package struct MetricMeasurement: Codable, Equatable, Sendable {
    package var at: Date
    package var outcome: MeasurementOutcome
    package var value: Double?
    package var error: String?
    /// What was asked: the expanded query, or the URL with its secrets masked.
    package var input: String?
    /// An `error` measurement whose source answered with nothing to judge (no series, no datapoint).
    package var noData: Bool?

    package init(at: Date, outcome: MeasurementOutcome, value: Double?, error: String?, input: String?) {
        self.at = at
        self.outcome = outcome
        self.value = value
        self.error = error
        self.input = input
    }
}

/// How one measurement came out.
package enum MeasurementOutcome: String, Codable, Sendable, Equatable {
    /// Within the bounds.
    case success
    /// Outside them.
    case failure
    /// Not readable (no data, an error answer, a time-out): not a failure.
    case error
}
