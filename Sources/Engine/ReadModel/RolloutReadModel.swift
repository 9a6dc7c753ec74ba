import Foundation
import RolloutCore

/// The one in-memory view of the rollouts: the engine publishes every committed transition to it, the driver
/// publishes when each rollout is next looked at, and every reader (the HTTP API, `/metrics`, the status page, the
/// reports of `run` and `simulate`, tests waiting for something to happen) reads it. The engine's steps also start
/// from it, so no second copy of a rollout's state is kept anywhere.
///
/// Thread-safe (reads are frequent and short: a lock, not an actor hop). Verdict histories are read from the store
/// on first use and then kept up to date from commits. Bounded by the number of rollouts the store holds.
package final class RolloutReadModel: @unchecked Sendable {
    /// One rollout as readers see it.
    package struct Entry: Sendable {
        package var rollout: StoredRollout
        /// Every change of verdict, oldest first (nil until first read).
        package var verdicts: [VerdictRecord]?
        /// Keys of the effects waiting in the outbox.
        package var pendingEffectKeys: Set<String> {
            didSet { retries = retries.filter { pendingEffectKeys.contains($0.key) } }
        }
        /// Pending effects whose last attempt failed, by key (published as attempts fail; an effect that leaves the
        /// outbox leaves this too).
        package var retries: [String: EffectRetry] = [:]
        /// When the driver will next look at it (nil: waiting for a person, finished, or not driven here).
        package var nextWakeAt: Date?
        /// Polls failing since, nil while they work.
        package var pollFailure: PollFailure?
        /// Changes on every update: readers may cache what they derive from an entry under (id, revision).
        package var revision: UInt64
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var revisionCounter: UInt64 = 0
    /// `tally()` as of `revisionCounter`: `/metrics` asks on every scrape, the rollouts change far less often.
    private var tallied: (revision: UInt64, tally: Tally)?
    private var waiters: [String: [(id: UInt64, predicate: @Sendable (Entry) -> Bool,
                                    continuation: CheckedContinuation<Entry?, Never>)]] = [:]
    private var waiterCounter: UInt64 = 0
    /// Waiters on the whole model (`waitUntil`), checked after every change.
    private var modelWaiters: [(id: UInt64, condition: @Sendable ([String: Entry]) -> Bool,
                                continuation: CheckedContinuation<Bool, Never>)] = []
    private let store: (any RolloutStore)?

    /// - Parameter store: where verdict histories are read on first use (nil: only what is published).
    package init(store: (any RolloutStore)? = nil) {
        self.store = store
    }

    // MARK: publishing

    /// Adds (or replaces) a rollout read from the store; `pendingEffectKeys` as the outbox holds them.
    package func load(_ rollout: StoredRollout, pendingEffectKeys: Set<String>) {
        update(rollout.id) { entry in
            if var entry {
                entry.rollout = rollout
                entry.pendingEffectKeys = pendingEffectKeys
                entry.verdicts = nil  // re-read on next use: the store is the truth after a reload
                return entry
            }
            return Entry(rollout: rollout, verdicts: nil, pendingEffectKeys: pendingEffectKeys, nextWakeAt: nil,
                         revision: 0)
        }
    }

    /// Adds a rollout read from the store unless it is held already (a step may have loaded a newer state first).
    package func loadIfAbsent(_ rollout: StoredRollout, pendingEffectKeys: Set<String>) {
        update(rollout.id) { entry in
            guard entry == nil else { return nil }
            return Entry(rollout: rollout, verdicts: nil, pendingEffectKeys: pendingEffectKeys, nextWakeAt: nil, revision: 0)
        }
    }

    /// A rollout just created by `commit` (its first event).
    package func created(_ rollout: StoredRollout, commit: StoreCommit) {
        update(rollout.id) { _ in
            Entry(rollout: rollout, verdicts: commit.verdicts, pendingEffectKeys: Set(commit.effects.map(\.key)),
                  nextWakeAt: nil, revision: 0)
        }
    }

    /// A transition committed to the store.
    package func committed(_ commit: StoreCommit) {
        update(commit.rolloutId) { entry in
            guard var entry else { return nil }  // not loaded here: readers will load it from the store
            entry.rollout.state = commit.state
            if let key = commit.completedEffectKey { entry.pendingEffectKeys.remove(key) }
            for effect in commit.effects {
                entry.pendingEffectKeys.insert(effect.key)
                entry.retries[effect.key] = nil  // queued again: its attempts start over
            }
            if entry.verdicts != nil { entry.verdicts! += commit.verdicts }
            return entry
        }
    }

    /// An effect finished without an event (a notification sent, a clean-up done, an obsolete effect skipped).
    package func effectFinished(rolloutId: String, key: String) {
        update(rolloutId) { entry in
            guard var entry else { return nil }
            entry.pendingEffectKeys.remove(key)
            return entry
        }
    }

    /// An effect's attempt failed and it will be tried again at `retry.nextAttemptAt`.
    package func effectDeferred(rolloutId: String, retry: EffectRetry) {
        update(rolloutId) { entry in
            guard var entry, entry.pendingEffectKeys.contains(retry.key) else { return nil }
            entry.retries[retry.key] = retry
            return entry
        }
    }

    /// When the driver will next look at the rollout.
    package func scheduled(rolloutId: String, at: Date?) {
        update(rolloutId) { entry in
            guard var entry, entry.nextWakeAt != at else { return nil }  // unchanged: no new revision
            entry.nextWakeAt = at
            return entry
        }
    }

    /// A poll of the rollout's job (or its metrics) failed at `at`.
    package func pollFailed(rolloutId: String, error: String, at: Date) {
        update(rolloutId) { entry in
            guard var entry else { return nil }
            let attempts = (entry.pollFailure?.attempts ?? 0) + 1
            entry.pollFailure = PollFailure(since: entry.pollFailure?.since ?? at, attempts: attempts, lastError: error)
            return entry
        }
    }

    /// A poll worked: a run of failures, if any, is over.
    package func pollSucceeded(rolloutId: String) {
        update(rolloutId) { entry in
            guard var entry, entry.pollFailure != nil else { return nil }
            entry.pollFailure = nil
            return entry
        }
    }

    /// Applies `change` under the lock; a changed entry gets a new revision and wakes the waiters it satisfies.
    private func update(_ id: String, _ change: (Entry?) -> Entry?) {
        var satisfied: [(CheckedContinuation<Entry?, Never>, Entry)] = []
        var satisfiedModel: [CheckedContinuation<Bool, Never>] = []
        lock.withLock {
            guard var entry = change(entries[id]) else { return }
            revisionCounter += 1
            entry.revision = revisionCounter
            entries[id] = entry
            if !modelWaiters.isEmpty {
                let all = entries
                modelWaiters.removeAll { waiter in
                    guard waiter.condition(all) else { return false }
                    satisfiedModel.append(waiter.continuation)
                    return true
                }
            }
            guard var waiting = waiters[id] else { return }
            waiting.removeAll { waiter in
                guard waiter.predicate(entry) else { return false }
                satisfied.append((waiter.continuation, entry))
                return true
            }
            waiters[id] = waiting.isEmpty ? nil : waiting
        }
        for (continuation, entry) in satisfied { continuation.resume(returning: entry) }
        for continuation in satisfiedModel { continuation.resume(returning: true) }
    }

    // MARK: reading

    package func entry(_ id: String) -> Entry? {
        lock.withLock { entries[id] }
    }

    package func rollout(_ id: String) -> StoredRollout? {
        lock.withLock { entries[id]?.rollout }
    }

    /// The latest revision given to any entry: it changes whenever anything a reader sees changes, so what a reader
    /// derives from the whole model (a list, a page) stays valid while it does not.
    package var revision: UInt64 {
        lock.withLock { revisionCounter }
    }

    /// The revision of one rollout's entry (nil: not held).
    package func revision(of id: String) -> UInt64? {
        lock.withLock { entries[id]?.revision }
    }

    /// Rollouts newest first, optionally only those whose display phase is `phase`.
    package func rollouts(phase: RolloutPhase?, limit: Int) -> [StoredRollout] {
        listing(phase: phase, limit: limit).map(\.rollout)
    }

    /// Entries newest first, optionally only those whose display phase is `phase`.
    package func listing(phase: RolloutPhase?, limit: Int) -> [Entry] {
        var matching = lock.withLock { Array(entries.values) }
        if let phase { matching = matching.filter { $0.rollout.state.displayPhase == phase } }
        matching.sort {
            let left = $0.rollout.state.createdAt, right = $1.rollout.state.createdAt
            return left != right ? left > right : $0.rollout.id > $1.rollout.id
        }
        return Array(matching.prefix(max(0, limit)))
    }

    /// Everything a status view shows of one rollout; reads the verdict history from the store on first use.
    package func detail(_ id: String) throws -> RolloutDetail? {
        guard var entry = entry(id) else { return nil }
        if entry.verdicts == nil, let store {
            let verdicts = try store.verdicts(rolloutId: id)
            update(id) { current in
                // A commit may have landed meanwhile: keep the newer state, and its verdicts are in the store too.
                guard var current, current.verdicts == nil else { return nil }
                current.verdicts = verdicts
                return current
            }
            entry = self.entry(id) ?? entry
            if entry.verdicts == nil { entry.verdicts = verdicts }
        }
        return RolloutDetail(rollout: entry.rollout, verdicts: entry.verdicts ?? [],
                             pendingEffects: entry.pendingEffectKeys.count, nextWakeAt: entry.nextWakeAt,
                             revision: entry.revision, retryingEffects: entry.retries.values.sorted { $0.key < $1.key },
                             pollFailure: entry.pollFailure)
    }

    /// Counts for `/metrics`, over every rollout held.
    package struct Tally: Sendable, Equatable {
        package var phases: [RolloutPhase: Int] = [:]
        package var stages: [StageStatus: Int] = [:]
        package var pendingEffects = 0
    }

    /// Counts for `/metrics`, over every rollout held; counted again only after a change.
    package func tally() -> Tally {
        lock.withLock {
            if let tallied, tallied.revision == revisionCounter { return tallied.tally }
            var tally = Tally()
            for entry in entries.values {
                tally.phases[entry.rollout.state.displayPhase, default: 0] += 1
                for stage in entry.rollout.state.stages { tally.stages[stage.status, default: 0] += 1 }
                tally.pendingEffects += entry.pendingEffectKeys.count
            }
            tallied = (revisionCounter, tally)
            return tally
        }
    }

    package var count: Int { lock.withLock { entries.count } }

    // MARK: waiting

    /// Returns the rollout's entry once `predicate` holds for it (checked now and after every change), or nil after
    /// `timeoutSeconds` of wall time. For tests and for `rollout status --watch`-like waits: no polling.
    package func wait(for id: String, timeoutSeconds: Double,
                     until predicate: @escaping @Sendable (Entry) -> Bool) async -> Entry? {
        let waiterId: UInt64 = lock.withLock {
            waiterCounter += 1
            return waiterCounter
        }
        return await withCheckedContinuation { continuation in
            let immediate: Entry? = lock.withLock {
                if let entry = entries[id], predicate(entry) { return entry }
                waiters[id, default: []].append((waiterId, predicate, continuation))
                return nil
            }
            if let immediate {
                continuation.resume(returning: immediate)
                return
            }
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(max(0, min(timeoutSeconds, 3600)) * 1_000_000_000))
                self?.expire(id: id, waiterId: waiterId)
            }
        }
    }

    /// Returns true once `condition` holds for the whole model (checked now and after every change), false after
    /// `timeoutSeconds` of wall time: "ten rollouts have finished", "every rollout completed".
    package func waitUntil(timeoutSeconds: Double, _ condition: @escaping @Sendable ([String: Entry]) -> Bool) async -> Bool {
        let waiterId: UInt64 = lock.withLock {
            waiterCounter += 1
            return waiterCounter
        }
        return await withCheckedContinuation { continuation in
            let holds: Bool = lock.withLock {
                if condition(entries) { return true }
                modelWaiters.append((waiterId, condition, continuation))
                return false
            }
            if holds {
                continuation.resume(returning: true)
                return
            }
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(max(0, min(timeoutSeconds, 3600)) * 1_000_000_000))
                self?.expireModelWaiter(waiterId)
            }
        }
    }

    private func expireModelWaiter(_ waiterId: UInt64) {
        let continuation: CheckedContinuation<Bool, Never>? = lock.withLock {
            guard let index = modelWaiters.firstIndex(where: { $0.id == waiterId }) else { return nil }
            return modelWaiters.remove(at: index).continuation
        }
        continuation?.resume(returning: false)
    }

    private func expire(id: String, waiterId: UInt64) {
        let continuation: CheckedContinuation<Entry?, Never>? = lock.withLock {
            guard let index = waiters[id]?.firstIndex(where: { $0.id == waiterId }) else { return nil }
            let waiter = waiters[id]!.remove(at: index)
            if waiters[id]!.isEmpty { waiters[id] = nil }
            return waiter.continuation
        }
        continuation?.resume(returning: nil)
    }
}
