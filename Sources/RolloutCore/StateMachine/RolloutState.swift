import Foundation

/// Where a rollout is. `paused` is shown when a pause is in force (see `RolloutState.pause`); the phase underneath
/// keeps moving with effect completions while decisions to advance are held.
///
/// `waitingForWindow` is "the stage is ready to start and waits for its maintenance window, or for a pause to be
/// lifted". `rollbackIncomplete` ends a rollback that left devices on the new firmware (their list is in
/// `RollbackState.notRolledBack`). `failed` is no longer entered: a rollout whose fleet call fails for good waits
/// for a person instead; it stays for rollouts recorded by older versions.
package enum RolloutPhase: String, Codable, Sendable, CaseIterable {
    case scheduled, waitingForWindow, preparing, deploying, baking, awaitingApproval, paused, rollingBack
    case completed, rolledBack, rollbackIncomplete, aborted, failed

    package var isTerminal: Bool {
        switch self {
        case .completed, .rolledBack, .rollbackIncomplete, .aborted, .failed: return true
        default: return false
        }
    }
}

package enum StageStatus: String, Codable, Sendable {
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
package struct StageState: Codable, Equatable, Sendable {
    package var name: String
    package var status: StageStatus
    /// Devices assigned by cohort planning (nil before preparing).
    package var devices: Int?
    /// The ring groups the stage's job targets (rings); nil when it targets devices or a named group.
    package var ringGroups: [String]?
    /// A person started the stage outside its maintenance windows (`rollout promote` while it waited for one).
    package var windowWaivedBy: String?
    package var jobId: String
    package var approvedBy: String?
    package var startedAt: Date?
    package var jobCreatedAt: Date?
    package var endedAt: Date?
    /// Gates may not turn `wait` into `inconclusive` before this + evidence timeout (bake end; reset by resume).
    package var judgingSince: Date?
    package var progress: JobProgress
    /// Each metric gate's latest reading.
    package var metrics: [String: MetricReading]
    /// Each metric gate's measurements in this stage (nil in states stored before measurements were counted).
    package var measurements: [String: MetricTally]?
    package var lastEvaluation: GateEvaluation?
    /// True once a human resumed past a failed gate.
    package var overridden: Bool
    /// Set when a person ended the bake early (`promote`): the bake counts as over from then on.
    package var bakeEndedEarlyAt: Date?

    package init(name: String, jobId: String) {
        self.name = name
        self.status = .pending
        self.jobId = jobId
        self.progress = .zero
        self.metrics = [:]
        self.overridden = false
    }
}

/// One measurement's result, typed: a value, "no data" (the source answered with nothing to judge), or an error
/// with its reason; with what was asked (`input`: the expanded query, or the URL with its secrets masked). Several
/// values (series) are reduced by the source with the gate's `reduce`, or are an error saying how many there were.
package struct MetricReading: Codable, Equatable, Sendable {
    package var value: Double?
    package var error: String?
    package var input: String?
    /// Set (true) when the source answered with no series or datapoint; `error` then says so in words.
    package var noData: Bool?

    package init(value: Double, input: String? = nil) {
        self.value = value
        self.error = nil
        self.input = input
    }

    package init(error: String, input: String? = nil, noData: Bool = false) {
        self.value = nil
        self.error = error
        self.input = input
        self.noData = noData ? true : nil
    }
}

/// Why the rollout is held and what `resume` will do: facts only (`RolloutText.pause` says them in words).
package struct PauseInfo: Codable, Equatable, Sendable {
    package enum Kind: String, Codable, Sendable {
        /// A human asked; resume simply lets it go on.
        case requested
        /// A gate failed with `onFailure: pause`; resume overrides the gate and starts the next stage.
        case gateFailed
        /// Evidence did not arrive in time; resume judges again with a fresh deadline.
        case inconclusive
        /// A fleet call kept failing; resume tries it again.
        case effectFailed
    }

    package var kind: Kind
    package var since: Date
    /// A person's name, `gate` or `engine`.
    package var by: String
    /// What the person wrote (`requested`), if anything.
    package var note: String?
    /// The stage whose gates paused it (`gateFailed`, `inconclusive`) …
    package var stage: String?
    /// … and the deciding gate results as judged then.
    package var deciding: [GateResult]?
    /// A fleet call that failed for good while (or by) pausing: resume queues it again, whatever the kind.
    package var failedEffect: EffectRecord?
    /// The failed call's error, as the fleet reported it.
    package var failedEffectError: String?

    package init(kind: Kind, since: Date, by: String, note: String? = nil, stage: String? = nil,
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
package struct RollbackState: Codable, Equatable, Sendable {
    /// Why it began (nil in states recorded before causes were kept as facts).
    package var cause: RollbackCause?
    package var requestedAt: Date
    package var jobId: String
    /// Stages whose job cancellation must be confirmed before the rollback job is created: every stage whose job
    /// may exist, passed ones too (a passed stage's job still holds queued executions that would install the new
    /// firmware after the rollback). Nil in states recorded before it was kept (only the current stage was awaited).
    package var cancelsPending: [Int]?
    /// Devices targeted by the rollback job (nil before it is created).
    package var devices: Int?
    package var jobCreatedAt: Date?
    package var progress: JobProgress
    package var endedAt: Date?
    /// Set when the rollback job ended (or stopped reporting) with devices that did not take the previous firmware;
    /// their names are then listed before the rollout ends `rollbackIncomplete`.
    package var incompleteSince: Date?
    /// Devices that did not take the rollback (at most `RollbackState.notRolledBackListedMax` names) …
    package var notRolledBack: [String]?
    /// … and how many there were in all.
    package var notRolledBackCount: Int?

    /// Names kept in the state of devices that did not take the rollback (the count is always exact).
    package static let notRolledBackListedMax = 1000

    package init(cause: RollbackCause, requestedAt: Date, jobId: String) {
        self.cause = cause
        self.requestedAt = requestedAt
        self.jobId = jobId
        self.progress = .zero
    }
}

/// Everything known about one rollout: a fold of its events (`RolloutStateMachine.replay`).
package struct RolloutState: Codable, Equatable, Sendable {
    package var rolloutId: String
    /// The underlying phase; never `.paused` (see `displayPhase`).
    package var phase: RolloutPhase
    package var pause: PauseInfo?
    package var stages: [StageState]
    /// The stage being worked on, or the next one to start.
    package var currentStage: Int
    package var rollback: RollbackState?
    package var createdAt: Date
    package var updatedAt: Date
    package var endedAt: Date?
    /// When the engine must look at this rollout again even if nothing happens (timer); nil when it only waits
    /// for fleet progress or a human.
    package var dueAt: Date?
    /// What the rollout waits for (nil when terminal, or for states recorded before it was kept as a fact).
    package var waiting: Waiting?
    /// The last notable thing that happened, or why the rollout ended.
    package var note: RolloutNote?
    package var eligibleDevices: Int?
    package var release: StagedArtifact?
    package var rollbackArtifact: StagedArtifact?
    /// The previous firmware's outcomes on this fleet, when a gate compares with them (`baseline: previous`).
    package var baseline: OutcomeBaseline?
    /// Devices people took out of the rollout, in the order they did (`DeviceExclusion.perRolloutMax` at most).
    package var exclusions: [DeviceExclusion]?
    /// When the ended rollout's jobs are to be deleted (`aws.retention` after its end); nil once purged, or kept.
    package var purgeDueAt: Date?
    /// When they were deleted.
    package var purgedAt: Date?
    /// A person started the rollout before its start time (`rollout promote` while scheduled).
    package var startWaivedBy: String?
    /// Number of events applied; also makes effect keys of repeated notifications unique.
    package var eventCount: Int

    package init(rolloutId: String, stageNames: [String], createdAt: Date) {
        self.rolloutId = rolloutId
        self.phase = .scheduled
        self.stages = stageNames.map { StageState(name: $0, jobId: RolloutState.jobId(rolloutId: rolloutId, stage: $0)) }
        self.currentStage = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.eventCount = 0
    }

    /// The phase people see: `paused` while a pause is in force on a live rollout.
    package var displayPhase: RolloutPhase {
        pause != nil && !phase.isTerminal ? .paused : phase
    }

    /// `<rollout id>-<stage>`: deterministic, so a restart never creates a second job.
    package static func jobId(rolloutId: String, stage: String) -> String {
        "\(rolloutId)-\(stage)"
    }
}

extension RolloutState {
    /// Every job the rollout may have made: each stage that started, and the rollback job when it had devices.
    package var createdJobIds: [String] {
        stages.filter { $0.startedAt != nil || $0.jobCreatedAt != nil }.map(\.jobId)
            + (rollback.map { $0.devices ?? 0 > 0 ? [$0.jobId] : [] } ?? [])
    }
}
