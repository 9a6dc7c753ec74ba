import Foundation

/// Something that happened to a rollout. Immutable, appended to its log; the state is a fold over them.
package enum RolloutEvent: Codable, Equatable, Sendable {
    /// The plan was accepted. Always the first event.
    case submitted
    /// Time passed: a due timer (start time, window, bake end, evidence deadline).
    case timerFired
    /// Artifacts are staged and the fleet is split into stages.
    case prepared(PreparedRollout)
    /// The job of `stage` exists in the fleet.
    case jobCreated(stage: Int)
    /// Fresh evidence for the stage's gates.
    case progressObserved(stage: Int, progress: JobProgress, metrics: [String: MetricReading])
    /// `reason`: the approver's note (nil in logs written before it was kept: decoded as absent, encoded as absent).
    case approved(by: String, reason: String? = nil)
    case pauseRequested(by: String, reason: String)
    /// `reason`: why it goes on (nil as for `approved`).
    case resumeRequested(by: String, reason: String? = nil)
    /// End the current stage's bake now (its gates judge at once and must still pass), or skip the wait for the
    /// start time or a maintenance window. `stage`: only if that is the current stage (nil: whichever it is).
    case promoteRequested(by: String, reason: String? = nil, stage: String? = nil)
    case abortRequested(by: String, reason: String)
    case rollbackRequested(by: String, reason: String)
    /// The job of `stage` was cancelled.
    case jobCancelled(stage: Int)
    /// The rollback job exists and targets `devices` devices.
    case rollbackJobCreated(devices: Int)
    case rollbackProgressObserved(progress: JobProgress)
    /// The devices that did not take the rollback: the first `RollbackState.notRolledBackListedMax` names, and the count.
    case rollbackStragglersListed(devices: [String], count: Int)
    /// An effect failed for good (a permanent error, or retries exhausted); `resume` queues it again.
    case effectFailed(effect: EffectRecord, message: String)
    /// A person took `thing` out of the rollout: later stages leave it out; with `cancel` its execution in the
    /// stage that holds it is cancelled. `stage`: the stage the rollout assigned it to (looked up by the engine when
    /// recording; nil before devices are assigned).
    case deviceExcluded(thing: String, stage: Int?, cancel: Bool, force: Bool, by: String, reason: String?)
    /// The ended rollout's `jobs` jobs and their job-document copies are gone from the fleet (`aws.retention`).
    case purged(jobs: Int)

    /// Short name used in the event log's `type` column and in logs.
    package var kind: String {
        switch self {
        case .submitted: return "submitted"
        case .timerFired: return "timerFired"
        case .prepared: return "prepared"
        case .jobCreated: return "jobCreated"
        case .progressObserved: return "progressObserved"
        case .approved: return "approved"
        case .pauseRequested: return "pauseRequested"
        case .resumeRequested: return "resumeRequested"
        case .promoteRequested: return "promoteRequested"
        case .abortRequested: return "abortRequested"
        case .rollbackRequested: return "rollbackRequested"
        case .jobCancelled: return "jobCancelled"
        case .rollbackJobCreated: return "rollbackJobCreated"
        case .rollbackProgressObserved: return "rollbackProgressObserved"
        case .rollbackStragglersListed: return "rollbackStragglersListed"
        case .effectFailed: return "effectFailed"
        case .deviceExcluded: return "deviceExcluded"
        case .purged: return "purged"
        }
    }

    /// True for events that record a person's intent (the control verbs).
    package var isCommand: Bool {
        switch self {
        case .approved, .pauseRequested, .resumeRequested, .promoteRequested, .abortRequested, .rollbackRequested,
             .deviceExcluded: return true
        default: return false
        }
    }
}

/// What `prepare` found: the staged artifacts and the size of every stage.
package struct PreparedRollout: Codable, Equatable, Sendable {
    package var eligibleDevices: Int
    package var stageSizes: [Int]
    package var release: StagedArtifact
    package var rollback: StagedArtifact?
    /// With rings: the ring groups each stage's job targets (empty for a stage that targets devices); nil without.
    package var stageRingGroups: [[String]]?
    /// The previous firmware's outcomes on this fleet, when a gate compares with them.
    package var baseline: OutcomeBaseline?

    package init(eligibleDevices: Int, stageSizes: [Int], release: StagedArtifact, rollback: StagedArtifact?,
                 stageRingGroups: [[String]]? = nil, baseline: OutcomeBaseline? = nil) {
        self.baseline = baseline
        self.eligibleDevices = eligibleDevices
        self.stageSizes = stageSizes
        self.release = release
        self.rollback = rollback
        self.stageRingGroups = stageRingGroups
    }
}

/// An event with its place in the log.
package struct RolloutEventRecord: Codable, Equatable, Sendable {
    /// 1-based position in the rollout's log.
    package var sequence: Int
    package var at: Date
    package var event: RolloutEvent

    package init(sequence: Int, at: Date, event: RolloutEvent) {
        self.sequence = sequence
        self.at = at
        self.event = event
    }
}
