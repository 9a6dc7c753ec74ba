import Foundation
import RolloutCore

/// What the HTTP API (and the CLI talking to it) can ask of a running worker.
/// `RolloutWorker` is the implementation; every call is safe from any task.
package protocol RolloutService: Sendable {
    /// Validates and submits a plan. The same plan text returns the same rollout (`created == false`).
    /// Throws `PlanError` for an invalid plan.
    func submit(planSource: String, fileName: String) async throws -> SubmitResult
    /// As above, resolving relative artifact and key paths against `baseDirectory` (the submitting client's
    /// plan directory, when client and worker share a file system); nil resolves against the worker's directory.
    func submit(planSource: String, fileName: String, baseDirectory: String?) async throws -> SubmitResult
    /// As above; a plan whose release already rolls out on the same fleet is refused (`SupersedeConflict`) unless
    /// `supersede`, which aborts that rollout first.
    func submit(planSource: String, fileName: String, baseDirectory: String?, supersede: Bool) async throws -> SubmitResult
    /// Records a command. Throws `CommandRejected` (409) or `StoreError.notFound` (404).
    func command(_ command: RolloutEvent, rolloutId: String) async throws -> RolloutState
    /// One device of a rollout: its stage, whether it was taken out, its executions. Throws `DeviceLookupError`.
    func device(rolloutId: String, thing: String) async throws -> DeviceReport
    /// Takes a device out of a rollout (`cancel`: and cancels its execution). Throws `DeviceLookupError`,
    /// `CommandRejected`, `StoreError.notFound`.
    func excludeDevice(rolloutId: String, thing: String, cancel: Bool, force: Bool, by: String,
                       reason: String?) async throws -> RolloutState
    /// Rollouts, newest first, optionally only those whose display phase is `phase`.
    func rollouts(phase: RolloutPhase?, limit: Int) async throws -> [StoredRollout]
    func rollout(id: String) async throws -> RolloutDetail?
    func events(rolloutId: String, afterSequence: Int, limit: Int) async throws -> [RolloutEventRecord]
    func metrics() async -> WorkerMetrics
    /// True once the database is open, migrated, and unfinished rollouts are scheduled.
    func isReady() async -> Bool

    /// The read model's revision: it changes whenever anything a reader may see changes. Nil when the service keeps
    /// no revisions: then readers must not reuse what they derived from an earlier answer.
    func readRevision() -> UInt64?
    /// The read model's revision of one rollout (`RolloutDetail.revision`); nil when unknown or not kept.
    func revision(ofRollout id: String) -> UInt64?
    /// `rollouts(phase:limit:)` with each rollout's revision (0: not kept).
    func listing(phase: RolloutPhase?, limit: Int) async throws -> [RolloutListItem]
}

/// A rollout as a list shows it, with the read model's revision of it (0: not versioned, never cached).
package struct RolloutListItem: Sendable {
    package var rollout: StoredRollout
    package var revision: UInt64

    package init(rollout: StoredRollout, revision: UInt64) {
        self.rollout = rollout
        self.revision = revision
    }
}

/// A rollout with everything a status view shows.
package struct RolloutDetail: Sendable {
    package var rollout: StoredRollout
    package var verdicts: [VerdictRecord]
    package var pendingEffects: Int
    /// When the worker will next look at it (nil: waiting for a person, or finished).
    package var nextWakeAt: Date?
    /// The read model's revision of this rollout: anything derived from the detail may be cached under it
    /// (0: not versioned, never cached).
    package var revision: UInt64
    /// Pending effects whose last attempt failed and that will be tried again (one waiting for a job slot among
    /// them), by key.
    package var retryingEffects: [EffectRetry]
    /// Polls failing since, nil while they work.
    package var pollFailure: PollFailure?

    package init(rollout: StoredRollout, verdicts: [VerdictRecord], pendingEffects: Int, nextWakeAt: Date?,
                revision: UInt64 = 0, retryingEffects: [EffectRetry] = [], pollFailure: PollFailure? = nil) {
        self.retryingEffects = retryingEffects
        self.pollFailure = pollFailure
        self.rollout = rollout
        self.verdicts = verdicts
        self.pendingEffects = pendingEffects
        self.nextWakeAt = nextWakeAt
        self.revision = revision
    }
}

/// Counters for `/metrics`. Equatable: a scrape whose numbers did not change is answered with the same body.
package struct WorkerMetrics: Sendable, Equatable {
    package var rolloutsByPhase: [RolloutPhase: Int]
    /// Stages by status, over all known rollouts.
    package var stagesByStatus: [StageStatus: Int]
    /// Gate verdicts recorded since start, by verdict.
    package var verdictsByKind: [Verdict: Int]
    package var engine: EngineCounters
    /// Effects waiting in the outbox, over all rollouts.
    package var effectQueueDepth: Int
    package var stepErrors: Int
    /// Steps the driver ran (a rollout stepped when due), failed ones included.
    package var steps: Int
    package var startedAt: Date
    /// The fleet's API budget use (calls, throttles, waits) per API, from `Fleet.apiUsage`.
    package var fleetAPIs: [FleetAPIUsage]
    /// This worker's leases, when it shares its database with other workers (nil: the only worker).
    package var coordination: CoordinationStatistics?

    package init(rolloutsByPhase: [RolloutPhase: Int], stagesByStatus: [StageStatus: Int], verdictsByKind: [Verdict: Int],
                engine: EngineCounters, effectQueueDepth: Int, stepErrors: Int, steps: Int = 0, startedAt: Date,
                fleetAPIs: [FleetAPIUsage] = [], coordination: CoordinationStatistics? = nil) {
        self.steps = steps
        self.fleetAPIs = fleetAPIs
        self.coordination = coordination
        self.rolloutsByPhase = rolloutsByPhase
        self.stagesByStatus = stagesByStatus
        self.verdictsByKind = verdictsByKind
        self.engine = engine
        self.effectQueueDepth = effectQueueDepth
        self.stepErrors = stepErrors
        self.startedAt = startedAt
    }
}

extension RolloutService {
    /// Services that cannot resolve paths against a client directory ignore it.
    package func submit(planSource: String, fileName: String, baseDirectory: String?) async throws -> SubmitResult {
        try await submit(planSource: planSource, fileName: fileName)
    }

    /// Services that keep one rollout at a time (tests) have nothing to supersede.
    package func submit(planSource: String, fileName: String, baseDirectory: String?,
                        supersede: Bool) async throws -> SubmitResult {
        try await submit(planSource: planSource, fileName: fileName, baseDirectory: baseDirectory)
    }

    /// Services without a read model keep no revisions.
    package func readRevision() -> UInt64? { nil }

    package func revision(ofRollout id: String) -> UInt64? { nil }

    package func listing(phase: RolloutPhase?, limit: Int) async throws -> [RolloutListItem] {
        try await rollouts(phase: phase, limit: limit).map { RolloutListItem(rollout: $0, revision: 0) }
    }
}
