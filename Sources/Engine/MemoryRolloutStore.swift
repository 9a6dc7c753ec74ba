import Foundation
import RolloutCore
import Synchronization

/// The in-memory twin of `SQLiteRolloutStore`, for core and engine tests: the same semantics (conflict check,
/// all-or-nothing commits, effect upsert and re-queue, orderings), none of the I/O.
///
/// Orderings, as in SQLite: `rollouts` newest first (creation instant, then insertion); `activeRolloutIds` oldest
/// first; pending effects in queue order (an effect queued again moves to the end); events by sequence; verdicts
/// in insertion order.
package final class MemoryRolloutStore: RolloutStore {
    /// Rows one query may return, as in the SQLite store.
    package static let rowsPerQueryMax = 1 << 20

    private struct EffectEntry: Sendable {
        var record: EffectRecord
        var status: EffectStatus
        var attempts: Int
        var nextAttemptAt: Date?
        var lastError: String?
        /// Position in the rollout's queue; a re-queued effect gets a new, higher one.
        var queuedSeq: Int
    }

    private struct Entry: Sendable {
        var rollout: StoredRollout
        /// Order of insertion among all rollouts (SQLite's rowid).
        var insertion: Int
        var events: [RolloutEventRecord] = []
        var effects: [String: EffectEntry] = [:]
        var verdicts: [VerdictRecord] = []
        var cohorts: CohortAssignment?
        var rollbackSet: [String]?
    }

    private struct Contents: Sendable {
        var entries: [String: Entry] = [:]
        var insertions = 0
    }

    private let contents = Mutex(Contents())

    package init() {}

    // MARK: RolloutStore

    package func create(_ rollout: NewRollout, commit: StoreCommit) throws -> Bool {
        precondition(commit.rolloutId == rollout.id, "the first commit belongs to the new rollout")
        precondition(commit.expectedEventCount == 0, "a new rollout has no event yet")
        commit.validate()
        return try contents.withLock { contents in
            guard contents.entries[rollout.id] == nil else { return false }
            var entry = Entry(rollout: StoredRollout(id: rollout.id, plan: rollout.plan, planSource: rollout.planSource,
                                                     fleetKind: rollout.fleetKind, state: commit.state),
                              insertion: contents.insertions + 1)
            entry.rollout.state.eventCount = 0
            try Self.apply(commit, to: &entry)
            contents.insertions += 1
            contents.entries[rollout.id] = entry
            return true
        }
    }

    package func rollout(id: String) throws -> StoredRollout? {
        contents.withLock { $0.entries[id]?.rollout }
    }

    package func rollouts(phases: Set<RolloutPhase>?, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        return contents.withLock { contents in
            contents.entries.values
                .filter { phases?.contains($0.rollout.state.displayPhase) ?? true }
                .sorted { ($0.rollout.state.createdAt, $0.insertion) > ($1.rollout.state.createdAt, $1.insertion) }
                .prefix(min(limit, Self.rowsPerQueryMax))
                .map(\.rollout)
        }
    }

    package func rolloutsDueForPurge(at now: Date, fleetKind: String, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        return contents.withLock { contents in
            contents.entries.values.filter { $0.rollout.fleetKind == fleetKind }
                .compactMap { entry in entry.rollout.state.purgeDueAt.map { (entry, $0) } }
                .filter { $0.1 <= now }
                .sorted { ($0.1, $0.0.insertion) < ($1.1, $1.0.insertion) }
                .prefix(min(limit, Self.rowsPerQueryMax))
                .map(\.0.rollout)
        }
    }

    package func activeRolloutIds() throws -> [String] {
        contents.withLock { contents in
            contents.entries.values
                .filter { entry in
                    !entry.rollout.state.displayPhase.isTerminal
                        || entry.effects.values.contains { $0.status == .pending }
                }
                .sorted { ($0.rollout.state.createdAt, $0.insertion) < ($1.rollout.state.createdAt, $1.insertion) }
                .map(\.rollout.id)
        }
    }

    package func commit(_ commit: StoreCommit) throws {
        commit.validate()
        try contents.withLock { contents in
            guard var entry = contents.entries[commit.rolloutId] else {
                throw StoreError.notFound(rolloutId: commit.rolloutId)
            }
            try Self.apply(commit, to: &entry)  // works on a copy: nothing changes unless it all succeeds
            contents.entries[commit.rolloutId] = entry
        }
    }

    package func pendingEffects(rolloutId: String) throws -> [PendingEffect] {
        contents.withLock { contents in
            guard let entry = contents.entries[rolloutId] else { return [] }
            return entry.effects.values
                .filter { $0.status == .pending }
                .sorted { $0.queuedSeq < $1.queuedSeq }
                .map { PendingEffect(record: $0.record, attempts: $0.attempts, nextAttemptAt: $0.nextAttemptAt,
                                     lastError: $0.lastError) }
        }
    }

    package func pendingEffectKeys() throws -> [String: Set<String>] {
        contents.withLock { contents in
            contents.entries.mapValues { Set($0.effects.values.filter { $0.status == .pending }.map(\.record.key)) }
                .filter { !$0.value.isEmpty }
        }
    }

    /// One worker per database: there is no lease, so `fence` is never checked.
    package func deferEffect(rolloutId: String, key: String, attempts: Int, nextAttemptAt: Date, lastError: String,
                             fence: LeaseFence?) throws {
        precondition(attempts >= 0, "attempts are never negative")
        try contents.withLock { contents in
            guard contents.entries[rolloutId]?.effects[key] != nil else {
                throw StoreError.database("rollout \(rolloutId) has no effect \(key) to defer")
            }
            contents.entries[rolloutId]!.effects[key]!.attempts = attempts
            contents.entries[rolloutId]!.effects[key]!.nextAttemptAt = nextAttemptAt
            contents.entries[rolloutId]!.effects[key]!.lastError = lastError
        }
    }

    package func finishEffect(rolloutId: String, key: String, status: EffectStatus, fence: LeaseFence?) throws {
        precondition(status != .pending, "an effect finishes as done, skipped or failed")
        try contents.withLock { contents in
            guard contents.entries[rolloutId]?.effects[key] != nil else {
                throw StoreError.database("rollout \(rolloutId) has no effect \(key) to finish")
            }
            contents.entries[rolloutId]!.effects[key]!.status = status
        }
    }

    package func events(rolloutId: String, afterSequence: Int, limit: Int) throws -> [RolloutEventRecord] {
        precondition(afterSequence >= 0, "sequences start at 1")
        precondition(limit > 0, "limit must be positive")
        return contents.withLock { contents in
            guard let events = contents.entries[rolloutId]?.events else { return [] }
            // Sequences are 1, 2, 3, …: event n is at index n - 1.
            let start = min(afterSequence, events.count)
            return Array(events[start...].prefix(min(limit, Self.rowsPerQueryMax)))
        }
    }

    package func verdicts(rolloutId: String) throws -> [VerdictRecord] {
        contents.withLock { $0.entries[rolloutId]?.verdicts ?? [] }
    }

    package func latestInstant() throws -> Date? {
        contents.withLock { $0.entries.values.map(\.rollout.state.updatedAt).max() }
    }

    package func cohorts(rolloutId: String) throws -> CohortAssignment? {
        contents.withLock { $0.entries[rolloutId]?.cohorts }
    }

    package func rollbackSet(rolloutId: String) throws -> [String]? {
        contents.withLock { $0.entries[rolloutId]?.rollbackSet }
    }

    package func keepRollbackSet(rolloutId: String, devices: [String]) throws -> [String] {
        try contents.withLock { contents in
            guard contents.entries[rolloutId] != nil else { throw StoreError.notFound(rolloutId: rolloutId) }
            if let kept = contents.entries[rolloutId]!.rollbackSet { return kept }
            contents.entries[rolloutId]!.rollbackSet = devices
            return devices
        }
    }

    // MARK: the commit

    /// Applies `commit` to `entry` in the order the SQLite store writes it. Throws, changing nothing, on conflict.
    private static func apply(_ commit: StoreCommit, to entry: inout Entry) throws {
        let found = entry.rollout.state.eventCount
        guard found == commit.expectedEventCount else {
            throw StoreError.conflict(rolloutId: commit.rolloutId, expected: commit.expectedEventCount, found: found)
        }
        precondition(entry.events.count == found, "one event per count")
        entry.events.append(commit.event)
        entry.rollout.state = commit.state
        // The completed effect first: an effect this very event queues again must end up pending.
        if let key = commit.completedEffectKey {
            entry.effects[key]?.status = commit.completedEffectStatus
        }
        let lastQueued = entry.effects.values.map(\.queuedSeq).max() ?? 0
        for (offset, record) in commit.effects.enumerated() {
            entry.effects[record.key] = EffectEntry(record: record, status: .pending, attempts: 0, nextAttemptAt: nil,
                                                    lastError: nil, queuedSeq: lastQueued + 1 + offset)
        }
        entry.verdicts.append(contentsOf: commit.verdicts)
        if let cohorts = commit.cohorts {
            entry.cohorts = cohorts
        }
    }
}
