import Foundation

/// Where a rollout is. `paused` is shown when a pause is in force (see `RolloutState.pause`); the phase underneath
/// keeps moving with effect completions while decisions to advance are held.
///
/// `waitingForWindow` is "the stage is ready to start and waits for its maintenance window, or for a pause to be
/// lifted". `rollbackIncomplete` ends a rollback that left devices on the new firmware (their list is in
/// `RollbackState.notRolledBack`). `failed` is no longer entered: a rollout whose fleet call fails for good waits
/// for a person instead; it stays for rollouts recorded by older versions.
public enum RolloutPhase: String, Codable, Sendable, CaseIterable {
    case scheduled, waitingForWindow, preparing, deploying, baking, awaitingApproval, paused, rollingBack
    case completed, rolledBack, rollbackIncomplete, aborted, failed

    public var isTerminal: Bool {
        switch self {
        case .completed, .rolledBack, .rollbackIncomplete, .aborted, .failed: return true
        default: return false
        }
    }
}

public enum StageStatus: String, Codable, Sendable {
    /// Not started.
    case pending
    /// The job is being created.
    case deploying
    /// The job exists; gates are judged.
    case baking
    case passed
    case failed
    /// Had no device after cohort assignment.
    case skipped
    /// Stopped by an abort or a rollback.
    case cancelled
}

/// The persisted state of one stage.
public struct StageState: Codable, Equatable, Sendable {
    public var name: String
    public var status: StageStatus
    /// Devices assigned by cohort planning (nil before preparing).
    public var devices: Int?
    public var jobId: String
    public var approvedBy: String?
    public var startedAt: Date?
    public var jobCreatedAt: Date?
    public var endedAt: Date?
    /// Gates may not turn `wait` into `inconclusive` before this + evidence timeout (bake end; reset by resume).
    public var judgingSince: Date?
    public var progress: JobProgress
    public var metrics: [String: MetricReading]
    public var lastEvaluation: GateEvaluation?
    /// True once a human resumed past a failed gate.
    public var overridden: Bool

    public init(name: String, jobId: String) {
        self.name = name
        self.status = .pending
        self.jobId = jobId
        self.progress = .zero
        self.metrics = [:]
        self.overridden = false
    }
}

/// A metric value or the reason it could not be read (Codable form of `Result<Double, MetricReadError>`).
public struct MetricReading: Codable, Equatable, Sendable {
    public var value: Double?
    public var error: String?

    public init(value: Double) {
        self.value = value
        self.error = nil
    }

    public init(error: String) {
        self.value = nil
        self.error = error
    }

    public var result: Result<Double, MetricReadError> {
        if let value { return .success(value) }
        return .failure(MetricReadError(message: error ?? "unknown error"))
    }
}

/// Why the rollout is held and what `resume` will do: facts only (`RolloutText.pause` says them in words).
public struct PauseInfo: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A human asked; resume simply lets it go on.
        case requested
        /// A gate failed with `onFailure: pause`; resume overrides the gate and starts the next stage.
        case gateFailed
        /// Evidence did not arrive in time; resume judges again with a fresh deadline.
        case inconclusive
        /// A fleet call kept failing; resume tries it again.
        case effectFailed
    }

    public var kind: Kind
    public var since: Date
    /// A person's name, `gate` or `engine`.
    public var by: String
    /// What the person wrote (`requested`), if anything.
    public var note: String?
    /// The stage whose gates paused it (`gateFailed`, `inconclusive`) …
    public var stage: String?
    /// … and the deciding gate results as judged then.
    public var deciding: [GateResult]?
    /// A fleet call that failed for good while (or by) pausing: resume queues it again, whatever the kind.
    public var failedEffect: EffectRecord?
    /// The failed call's error, as the fleet reported it.
    public var failedEffectError: String?

    public init(kind: Kind, since: Date, by: String, note: String? = nil, stage: String? = nil,
                deciding: [GateResult]? = nil, failedEffect: EffectRecord? = nil, failedEffectError: String? = nil) {
        self.kind = kind
        self.since = since
        self.by = by
        self.note = note
        self.stage = stage
        self.deciding = deciding
        self.failedEffect = failedEffect
        self.failedEffectError = failedEffectError
    }
}

/// The rollback job's state.
public struct RollbackState: Codable, Equatable, Sendable {
    /// Why it began (nil in states recorded before causes were kept as facts).
    public var cause: RollbackCause?
    public var requestedAt: Date
    public var jobId: String
    /// Devices targeted by the rollback job (nil before it is created).
    public var devices: Int?
    public var jobCreatedAt: Date?
    public var progress: JobProgress
    public var endedAt: Date?
    /// Set when the rollback job ended (or stopped reporting) with devices that did not take the previous firmware;
    /// their names are then listed before the rollout ends `rollbackIncomplete`.
    public var incompleteSince: Date?
    /// Devices that did not take the rollback (at most `RollbackState.notRolledBackListedMax` names) …
    public var notRolledBack: [String]?
    /// … and how many there were in all.
    public var notRolledBackCount: Int?

    /// Names kept in the state of devices that did not take the rollback (the count is always exact).
    public static let notRolledBackListedMax = 1000

    public init(cause: RollbackCause, requestedAt: Date, jobId: String) {
        self.cause = cause
        self.requestedAt = requestedAt
        self.jobId = jobId
        self.progress = .zero
    }
}

/// Everything known about one rollout: a fold of its events (`RolloutStateMachine.replay`).
public struct RolloutState: Codable, Equatable, Sendable {
    public var rolloutId: String
    /// The underlying phase; never `.paused` (see `displayPhase`).
    public var phase: RolloutPhase
    public var pause: PauseInfo?
    public var stages: [StageState]
    /// The stage being worked on, or the next one to start.
    public var currentStage: Int
    public var rollback: RollbackState?
    public var createdAt: Date
    public var updatedAt: Date
    public var endedAt: Date?
    /// When the engine must look at this rollout again even if nothing happens (timer); nil when it only waits
    /// for fleet progress or a human.
    public var dueAt: Date?
    /// What the rollout waits for (nil when terminal, or for states recorded before it was kept as a fact).
    public var waiting: Waiting?
    /// The last notable thing that happened, or why the rollout ended.
    public var note: RolloutNote?
    public var eligibleDevices: Int?
    public var release: StagedArtifact?
    public var rollbackArtifact: StagedArtifact?
    /// Number of events applied; also makes effect keys of repeated notifications unique.
    public var eventCount: Int

    public init(rolloutId: String, stageNames: [String], createdAt: Date) {
        self.rolloutId = rolloutId
        self.phase = .scheduled
        self.stages = stageNames.map { StageState(name: $0, jobId: RolloutState.jobId(rolloutId: rolloutId, stage: $0)) }
        self.currentStage = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.eventCount = 0
    }

    /// The phase people see: `paused` while a pause is in force on a live rollout.
    public var displayPhase: RolloutPhase {
        pause != nil && !phase.isTerminal ? .paused : phase
    }

    /// `<rollout id>-<stage>`: deterministic, so a restart never creates a second job.
    public static func jobId(rolloutId: String, stage: String) -> String {
        "\(rolloutId)-\(stage)"
    }
}
