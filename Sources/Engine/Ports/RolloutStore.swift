import Foundation
import RolloutCore

/// Persistence of rollouts: their plans, event logs, states, outbox of effects, verdicts and cohorts.
///
/// `commit` is the one way state changes: ONE transaction appends the event, saves the state, queues the effects,
/// records verdicts and marks the effect that caused the event as done. Implementations: `SQLiteRolloutStore`
/// (StoreSQLite) and `MemoryRolloutStore` (tests).
package protocol RolloutStore: AnyObject, Sendable {
    /// Stores a new rollout with its first event. Returns false, changing nothing, when `rollout.id` exists.
    func create(_ rollout: NewRollout, commit: StoreCommit) throws -> Bool
    func rollout(id: String) throws -> StoredRollout?
    /// Every rollout, newest first, optionally only those whose display phase is in `phases`.
    func rollouts(phases: Set<RolloutPhase>?, limit: Int) throws -> [StoredRollout]
    /// Ids of rollouts not in a terminal phase, or with effects still to perform.
    func activeRolloutIds() throws -> [String]
    /// Appends, saves and queues atomically. Throws `StoreError.conflict` when the stored state is not at
    /// `commit.expectedEventCount` (someone else committed first).
    func commit(_ commit: StoreCommit) throws
    /// Effects not yet done, in the order they were queued.
    func pendingEffects(rolloutId: String) throws -> [PendingEffect]
    /// The keys of every rollout's pending effects, in one read (a worker's start).
    func pendingEffectKeys() throws -> [String: Set<String>]
    /// The rollouts among `ids` that exist, in any order: a batch read (one query where the store can; the default
    /// reads them one by one).
    func rollouts(ids: [String]) throws -> [StoredRollout]
    /// The keys of pending effects of the rollouts among `ids` that have some (a batch read, as `rollouts(ids:)`).
    func pendingEffectKeys(rolloutIds: [String]) throws -> [String: Set<String>]
    /// Records a failed attempt; the effect stays pending until `nextAttemptAt`. With a `fence` (a worker sharing
    /// the database), only while that lease holds: else `StoreError.fenced`, nothing written.
    func deferEffect(rolloutId: String, key: String, attempts: Int, nextAttemptAt: Date, lastError: String,
                     fence: LeaseFence?) throws
    /// Marks an effect done (or skipped) when its completion produces no event; fenced as `deferEffect`.
    func finishEffect(rolloutId: String, key: String, status: EffectStatus, fence: LeaseFence?) throws
    func events(rolloutId: String, afterSequence: Int, limit: Int) throws -> [RolloutEventRecord]
    func verdicts(rolloutId: String) throws -> [VerdictRecord]
    func cohorts(rolloutId: String) throws -> CohortAssignment?
    /// Ended rollouts of `fleetKind` whose jobs are due for deletion at `now` (`RolloutState.purgeDueAt`), the
    /// longest due first.
    func rolloutsDueForPurge(at now: Date, fleetKind: String, limit: Int) throws -> [StoredRollout]
    /// The devices the rollback job targets, fixed by the first attempt that read them (nil before): a retry after a
    /// lost answer asks for exactly the same job, however the fleet's job executions moved meanwhile.
    func rollbackSet(rolloutId: String) throws -> [String]?
    /// Keeps `devices` (sorted) as the rollout's rollback set unless one is kept already; returns the kept set.
    func keepRollbackSet(rolloutId: String, devices: [String]) throws -> [String]
    /// The newest instant any rollout was changed at (nil for an empty store): the clock of a database whose
    /// rollouts run on a virtual or sped-up clock.
    func latestInstant() throws -> Date?
}

extension RolloutStore {
    package func rollouts(ids: [String]) throws -> [StoredRollout] {
        try ids.compactMap { try rollout(id: $0) }
    }

    package func pendingEffectKeys(rolloutIds ids: [String]) throws -> [String: Set<String>] {
        var keys: [String: Set<String>] = [:]
        for id in ids {
            let pending = try pendingEffects(rolloutId: id)
            if !pending.isEmpty { keys[id] = Set(pending.map(\.record.key)) }
        }
        return keys
    }

    /// `deferEffect` of the only worker on its database (no lease to check).
    package func deferEffect(rolloutId: String, key: String, attempts: Int, nextAttemptAt: Date, lastError: String) throws {
        try deferEffect(rolloutId: rolloutId, key: key, attempts: attempts, nextAttemptAt: nextAttemptAt,
                        lastError: lastError, fence: nil)
    }

    /// `finishEffect` of the only worker on its database (no lease to check).
    package func finishEffect(rolloutId: String, key: String, status: EffectStatus) throws {
        try finishEffect(rolloutId: rolloutId, key: key, status: status, fence: nil)
    }
}

/// A rollout about to be stored.
package struct NewRollout: Sendable {
    package var id: String
    package var plan: RolloutPlan
    /// The plan as submitted (its hash is part of the id).
    package var planSource: String
    package var fleetKind: String

    package init(id: String, plan: RolloutPlan, planSource: String, fleetKind: String) {
        self.id = id
        self.plan = plan
        self.planSource = planSource
        self.fleetKind = fleetKind
    }
}

/// A stored rollout.
package struct StoredRollout: Sendable {
    package var id: String
    package var plan: RolloutPlan
    package var planSource: String
    package var fleetKind: String
    package var state: RolloutState

    package init(id: String, plan: RolloutPlan, planSource: String, fleetKind: String, state: RolloutState) {
        self.id = id
        self.plan = plan
        self.planSource = planSource
        self.fleetKind = fleetKind
        self.state = state
    }
}

/// Everything one state change writes, in one transaction.
package struct StoreCommit: Sendable {
    package var rolloutId: String
    /// `state.eventCount` before this change.
    package var expectedEventCount: Int
    package var event: RolloutEventRecord
    package var state: RolloutState
    /// Queued as pending; an effect whose key exists is queued again (pending, attempts reset).
    package var effects: [EffectRecord]
    package var verdicts: [VerdictRecord]
    /// The effect whose completion this event records, marked with `completedEffectStatus`.
    package var completedEffectKey: String?
    package var completedEffectStatus: EffectStatus
    /// The cohort assignment decided by this event (`prepared`), saved with it.
    package var cohorts: CohortAssignment?
    /// The lease the step that made this commit held (several workers on PostgreSQL): the store writes only while
    /// it is still the rollout's lease, else throws `StoreError.fenced`. Nil for a person's command or a
    /// submission, which any worker records (the event count alone guards them). Single-worker stores ignore it.
    package var fence: LeaseFence?

    package init(rolloutId: String, expectedEventCount: Int, event: RolloutEventRecord, state: RolloutState,
                effects: [EffectRecord], verdicts: [VerdictRecord], completedEffectKey: String? = nil,
                completedEffectStatus: EffectStatus = .done, cohorts: CohortAssignment? = nil) {
        self.rolloutId = rolloutId
        self.expectedEventCount = expectedEventCount
        self.event = event
        self.state = state
        self.effects = effects
        self.verdicts = verdicts
        self.completedEffectKey = completedEffectKey
        self.completedEffectStatus = completedEffectStatus
        self.cohorts = cohorts
    }
}

extension StoreCommit {
    /// The commit of a state machine transition caused by `event` at `at`.
    package init(_ transition: Transition, of rolloutId: String, event: RolloutEvent, before: RolloutState, at: Date,
                completedEffectKey: String? = nil, completedEffectStatus: EffectStatus = .done,
                cohorts: CohortAssignment? = nil) {
        self.init(rolloutId: rolloutId, expectedEventCount: before.eventCount,
                  event: RolloutEventRecord(sequence: transition.state.eventCount, at: at, event: event),
                  state: transition.state, effects: transition.effects, verdicts: transition.verdicts,
                  completedEffectKey: completedEffectKey, completedEffectStatus: completedEffectStatus, cohorts: cohorts)
    }

    /// Checks what every store relies on before writing (programmer errors, so preconditions): the event follows
    /// the expected count, the state counts it and belongs to the rollout, a completed effect has an end status.
    package func validate() {
        precondition(expectedEventCount >= 0, "event counts are never negative")
        precondition(event.sequence == expectedEventCount + 1,
                     "event \(event.sequence) must follow event \(expectedEventCount)")
        precondition(state.eventCount == event.sequence,
                     "state.eventCount (\(state.eventCount)) must equal the event's sequence (\(event.sequence))")
        precondition(state.rolloutId == rolloutId, "the state belongs to the committed rollout")
        precondition(completedEffectKey == nil || completedEffectStatus != .pending,
                     "a completed effect is done, skipped or failed")
    }
}

package enum EffectStatus: String, Codable, Sendable {
    case pending, done, skipped, failed
}

/// An effect waiting in the outbox.
package struct PendingEffect: Sendable, Equatable {
    package var record: EffectRecord
    package var attempts: Int
    package var nextAttemptAt: Date?
    package var lastError: String?

    package init(record: EffectRecord, attempts: Int, nextAttemptAt: Date?, lastError: String?) {
        self.record = record
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

package enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rollout changed under us (its event count is not the one expected).
    case conflict(rolloutId: String, expected: Int, found: Int)
    case notFound(rolloutId: String)
    /// Another worker holds the database.
    case locked(String)
    /// The commit's lease is no longer the rollout's: another worker took the rollout over.
    case fenced(LeaseFence)
    /// The database failed or holds something this version cannot read.
    case database(String)

    package var description: String {
        switch self {
        case .conflict(let id, let expected, let found):
            return "rollout \(id) changed concurrently (expected event \(expected), found \(found))"
        case .notFound(let id): return "no rollout \(id)"
        case .locked(let message): return message
        case .fenced(let fence):
            return "rollout \(fence.rolloutId) was taken over by another worker (this worker's \(fence) is gone)"
        case .database(let message): return message
        }
    }
}
