import Engine
import Foundation
import RolloutCore
import RolloutText

/// Everything about one rollout (`GET /v1/rollouts/{id}`): the summary's fields, then the plan, the full state,
/// each stage's gates with their last verdict and numbers, the verdict history and the worker's schedule.
/// The plan and the gate criteria are shown with credentials masked (`CredentialRedaction.plan`).
struct RolloutDetailDocument: Encodable, Sendable {
    var summary: RolloutSummary
    var fleetKind: String
    var plan: RolloutPlan
    var state: RolloutState
    var gates: [StageGates]
    var verdicts: [VerdictEntry]
    var nextWakeAt: Date?
    var pendingEffects: Int
    var pause: Explained<PauseInfo>?
    var rollback: Explained<RollbackState>?
    /// Effects being tried again after a failed attempt (one waiting for a job slot among them).
    var retrying: [RetryEntry]
    /// Polls of the job failing since (no evidence is arriving), nil while they work; error masked.
    var pollFailure: PollFailure?

    /// A pending effect whose last attempt failed, with its error (credentials masked).
    struct RetryEntry: Encodable, Sendable {
        var key: String
        var attempts: Int
        var nextAttemptAt: Date
        var lastError: String
        /// Set when the effect waits for fleet capacity (`a job slot`): it is tried until it gets it.
        var waitingFor: String?

        enum CodingKeys: String, CodingKey {
            case key, attempts, nextAttemptAt, lastError, waitingFor
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(waitingFor, forKey: .waitingFor)
        }
    }

    /// One stage's gates: what they require and what they last said.
    struct StageGates: Encodable, Sendable {
        var stage: String
        var status: String
        var criteria: GateSet
        /// Last verdict, nil before the first evaluation.
        var verdict: String?
        var summary: String?
        var results: [GateResult]
        /// Each metric gate's measurements in this stage (empty before the first), errors masked.
        var measurements: [MetricMeasurements]

        enum CodingKeys: String, CodingKey {
            case stage, status, criteria, verdict, summary, results, measurements
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stage, forKey: .stage)
            try container.encode(status, forKey: .status)
            try container.encode(criteria, forKey: .criteria)
            try container.encode(verdict, forKey: .verdict)
            try container.encode(summary, forKey: .summary)
            try container.encode(results, forKey: .results)
            try container.encode(measurements, forKey: .measurements)
        }
    }

    /// One metric gate's measurements in one stage: the counts that decide and the most recent measurements.
    struct MetricMeasurements: Encodable, Sendable {
        var name: String
        var provider: String
        var dryRun: Bool
        var taken: Int
        var successes: Int
        var failures: Int
        var errors: Int
        var consecutiveErrors: Int
        var consecutiveSuccesses: Int
        var recent: [MetricMeasurement]

        init(gate: MetricGate, tally: MetricTally) {
            name = gate.name
            provider = gate.kind.rawValue
            dryRun = gate.isDryRun
            taken = tally.taken
            successes = tally.successes
            failures = tally.failures
            errors = tally.errors
            consecutiveErrors = tally.consecutiveErrors
            consecutiveSuccesses = tally.consecutiveSuccesses
            recent = tally.recent.map { measurement in
                var shown = measurement
                shown.error = measurement.error.map(CredentialRedaction.text)
                shown.input = measurement.input.map(CredentialRedaction.text)
                return shown
            }
        }
    }

    /// A recorded change of verdict.
    struct VerdictEntry: Encodable, Sendable {
        var stage: String
        var at: Date
        var verdict: String
        var summary: String
        var results: [GateResult]
    }

    init(_ detail: RolloutDetail) {
        let rollout = detail.rollout
        summary = RolloutSummary(rollout)
        fleetKind = rollout.fleetKind
        let shownPlan = CredentialRedaction.plan(rollout.plan)
        plan = shownPlan
        state = rollout.state
        let specs = shownPlan.stages
        gates = rollout.state.stages.enumerated().map { index, stage in
            let criteria = specs.indices.contains(index) ? shownPlan.gates(for: specs[index]) : shownPlan.gates
            let measured = criteria.metrics.compactMap { gate in
                stage.measurements?[gate.name].map { MetricMeasurements(gate: gate, tally: $0) }
            }
            return StageGates(stage: stage.name, status: stage.status.rawValue, criteria: criteria,
                              verdict: stage.lastEvaluation?.verdict.rawValue, summary: stage.lastEvaluation?.summary,
                              results: stage.lastEvaluation?.results ?? [], measurements: measured)
        }
        verdicts = detail.verdicts.map { record in
            VerdictEntry(stage: record.stage, at: record.at, verdict: record.evaluation.verdict.rawValue,
                         summary: record.evaluation.summary, results: record.evaluation.results)
        }
        nextWakeAt = detail.nextWakeAt
        pendingEffects = detail.pendingEffects
        let state = rollout.state
        pause = state.pause.map { Explained($0, reason: RolloutText.pause($0, phase: state.phase)) }
        rollback = state.rollback.map { Explained($0, reason: RolloutText.rollbackCause($0.cause)) }
        retrying = detail.retryingEffects.map {
            RetryEntry(key: $0.key, attempts: $0.attempts, nextAttemptAt: $0.nextAttemptAt,
                       lastError: CredentialRedaction.text($0.lastError), waitingFor: $0.waitingFor)
        }
        pollFailure = detail.pollFailure.map {
            PollFailure(since: $0.since, attempts: $0.attempts, lastError: CredentialRedaction.text($0.lastError))
        }
        // The state knows nothing of fleet capacity: an effect waiting for a job slot is what the rollout waits for
        // (the state's own reason, e.g. the job creation of a stage, said beside it).
        if let capacity = retrying.first(where: { $0.waitingFor != nil }), let resource = capacity.waitingFor {
            summary.waitingFor = resource + (summary.waitingFor.map { " (\($0))" } ?? "")
            summary.message = capacity.lastError
        }
    }

    enum CodingKeys: String, CodingKey {
        case fleetKind, plan, state, gates, verdicts, nextWakeAt, pendingEffects, pause, rollback, retrying, pollFailure
    }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(fleetKind, forKey: .fleetKind)
        try container.encode(plan, forKey: .plan)
        try container.encode(state, forKey: .state)
        try container.encode(gates, forKey: .gates)
        try container.encode(verdicts, forKey: .verdicts)
        try container.encode(nextWakeAt, forKey: .nextWakeAt)
        try container.encode(pendingEffects, forKey: .pendingEffects)
        try container.encode(pause, forKey: .pause)
        try container.encode(rollback, forKey: .rollback)
        try container.encode(retrying, forKey: .retrying)
        try container.encode(pollFailure, forKey: .pollFailure)
    }
}

/// A fact as the core keeps it, with the sentence people read beside it (`reason`), made here at the edge.
struct Explained<Fact: Encodable & Sendable>: Encodable, Sendable {
    var fact: Fact
    var reason: String

    init(_ fact: Fact, reason: String) {
        self.fact = fact
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
    }

    func encode(to encoder: any Encoder) throws {
        try fact.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reason, forKey: .reason)
    }
}
