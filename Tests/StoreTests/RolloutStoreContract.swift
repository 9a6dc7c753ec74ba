import Engine
import Foundation
import RolloutCore
import Testing

/// What every `RolloutStore` must do, written against the protocol so the SQLite store and its in-memory twin
/// are held to the same rules (`RolloutStoreContractTests` runs each check on every `StoreKind`).
enum RolloutStoreContract {
    static func createsOnceAndRefusesADuplicate(_ store: any RolloutStore) throws {
        let effects = [EffectRecord(key: "prepare", effect: .prepare), Fixtures.notify("notify:1:1")]
        let first = try Fixtures.create(store, id: "r1", effects: effects)

        let stored = try #require(try store.rollout(id: "r1"))
        #expect(stored.id == "r1")
        #expect(stored.plan == Fixtures.plan())
        #expect(stored.planSource == "name: sensor\n")
        #expect(stored.fleetKind == "simulated")
        #expect(stored.state == first.state)
        #expect(try store.events(rolloutId: "r1", afterSequence: 0, limit: 10) == [first.event])
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record) == effects)

        // The same id again: refused, and nothing about the first one changes.
        let other = Fixtures.commit(id: "r1", after: 0, event: .submitted, phase: .scheduled,
                                    effects: [Fixtures.notify("other")])
        let again = try store.create(NewRollout(id: "r1", plan: Fixtures.plan(name: "other"), planSource: "other",
                                                fleetKind: "aws"), commit: other)
        #expect(!again)
        #expect(try store.rollout(id: "r1")?.state == first.state)
        #expect(try store.rollout(id: "r1")?.planSource == "name: sensor\n")
        #expect(try store.events(rolloutId: "r1", afterSequence: 0, limit: 10) == [first.event])
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record) == effects)
        #expect(try store.rollout(id: "missing") == nil)
    }

    /// A real rollout, start to finish: every commit lands, and replaying the stored log gives the stored state.
    static func commitsAppendEventsAndSaveState(_ store: any RolloutStore) throws {
        let (script, commits) = RolloutScript.completedRollout(id: "sensor-0a1b2c3d")
        #expect(try store.create(script.newRollout, commit: commits[0]))
        for commit in commits.dropFirst() {
            try store.commit(commit)
            #expect(try store.rollout(id: script.id)?.state == commit.state)
        }
        let stored = try #require(try store.rollout(id: script.id))
        #expect(stored.state == script.state)
        #expect(stored.state.phase == .completed)

        let events = try store.events(rolloutId: script.id, afterSequence: 0, limit: 1000)
        #expect(events == script.records)
        #expect(events.map(\.sequence) == Array(1...commits.count))
        let replayed = RolloutStateMachine.replay(rolloutId: script.id, plan: stored.plan, events: events)
        #expect(replayed == stored.state)

        #expect(try store.verdicts(rolloutId: script.id) == script.verdicts)
        #expect(try store.verdicts(rolloutId: script.id).map(\.evaluation.verdict) == [.wait, .pass, .wait, .pass, .wait, .pass])
        #expect(try store.cohorts(rolloutId: script.id) == Fixtures.cohorts(sizes: [2, 3, 5]))
        // Completed effects left the queue; what the last transitions queued (cleanups, notifications) is pending.
        let pending = try store.pendingEffects(rolloutId: script.id).map(\.record.key)
        #expect(!pending.contains("prepare"))
        #expect(!pending.contains { $0.hasPrefix("create-job:") })
        #expect(pending.contains("cleanup:\(script.id)-canary"))
    }

    static func staleCommitConflictsAndWritesNothing(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "r1", effects: [EffectRecord(key: "prepare", effect: .prepare)])
        let second = Fixtures.commit(id: "r1", after: 1, phase: .deploying, effects: [Fixtures.notify("n2")],
                                     verdicts: [VerdictRecord(stage: "canary", at: Fixtures.start, evaluation: Fixtures.evaluation(.wait))])
        try store.commit(second)
        let before = try snapshot(store, "r1")

        // Someone else committed event 2 first: a commit still expecting 1 event must not land, not even partly.
        let stale = Fixtures.commit(id: "r1", after: 1, event: .pauseRequested(by: "bob", reason: "stale"),
                                    phase: .baking, paused: true,
                                    effects: [Fixtures.notify("n-stale"), EffectRecord(key: "prepare", effect: .prepare)],
                                    verdicts: [VerdictRecord(stage: "canary", at: Fixtures.start, evaluation: Fixtures.evaluation(.fail))],
                                    completing: "n2", cohorts: Fixtures.cohorts(sizes: [1, 1]))
        #expect(throws: StoreError.conflict(rolloutId: "r1", expected: 1, found: 2)) { try store.commit(stale) }
        let ahead = Fixtures.commit(id: "r1", after: 5)
        #expect(throws: StoreError.conflict(rolloutId: "r1", expected: 5, found: 2)) { try store.commit(ahead) }
        #expect(try snapshot(store, "r1") == before)

        // The commit that expects the right count goes through.
        try store.commit(Fixtures.commit(id: "r1", after: 2, phase: .baking))
        #expect(try store.rollout(id: "r1")?.state.eventCount == 3)
    }

    static func commitToAnUnknownRolloutIsNotFound(_ store: any RolloutStore) throws {
        #expect(throws: StoreError.notFound(rolloutId: "ghost")) {
            try store.commit(Fixtures.commit(id: "ghost", after: 0, effects: [Fixtures.notify("n")]))
        }
        #expect(try store.activeRolloutIds().isEmpty)
        #expect(try store.pendingEffects(rolloutId: "ghost").isEmpty)
        #expect(try store.events(rolloutId: "ghost", afterSequence: 0, limit: 5).isEmpty)
        #expect(try store.verdicts(rolloutId: "ghost").isEmpty)
        #expect(try store.cohorts(rolloutId: "ghost") == nil)
    }

    static func effectsQueueInOrderDeferFinishAndRequeue(_ store: any RolloutStore) throws {
        let a = EffectRecord(key: "a", effect: .prepare)
        let b = EffectRecord(key: "b", effect: .createJob(stage: 0))
        let c = EffectRecord(key: "c", effect: .cancelJob(stage: nil, jobId: "job-1", reason: "because"))
        try Fixtures.create(store, id: "r1", effects: [a, b, c])
        try Fixtures.create(store, id: "r2", effects: [EffectRecord(key: "a", effect: .cleanUp(jobId: "other"))])
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record) == [a, b, c])
        #expect(try store.pendingEffects(rolloutId: "r1").allSatisfy { $0.attempts == 0 && $0.nextAttemptAt == nil && $0.lastError == nil })

        // A failed attempt: still pending, in place, with its retry time.
        let retryAt = Fixtures.start.addingTimeInterval(3.141_592_653)
        try store.deferEffect(rolloutId: "r1", key: "b", attempts: 1, nextAttemptAt: retryAt, lastError: "throttled")
        let deferred = try store.pendingEffects(rolloutId: "r1")
        #expect(deferred.map(\.record.key) == ["a", "b", "c"])
        #expect(deferred[1] == PendingEffect(record: b, attempts: 1, nextAttemptAt: retryAt, lastError: "throttled"))

        // Done without an event.
        try store.finishEffect(rolloutId: "r1", key: "a", status: .done)
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record.key) == ["b", "c"])
        #expect(try store.pendingEffects(rolloutId: "r2").map(\.record.key) == ["a"])  // same key, other rollout

        // Queued again by a later event: pending again, at the end of the queue, attempts reset, new payload.
        let a2 = EffectRecord(key: "a", effect: .createJob(stage: 1))
        let d = Fixtures.notify("d")
        let b2 = EffectRecord(key: "b", effect: .createJob(stage: 0))
        try store.commit(Fixtures.commit(id: "r1", after: 1, effects: [a2, d, b2]))
        let requeued = try store.pendingEffects(rolloutId: "r1")
        #expect(requeued.map(\.record) == [c, a2, d, b2])
        #expect(requeued.allSatisfy { $0.attempts == 0 && $0.nextAttemptAt == nil && $0.lastError == nil })

        // An event recording an effect's completion marks it; one that also queues the same key leaves it pending.
        try store.commit(Fixtures.commit(id: "r1", after: 2, completing: "c", status: .skipped))
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record.key) == ["a", "d", "b"])
        let d2 = Fixtures.notify("d")
        try store.commit(Fixtures.commit(id: "r1", after: 3, effects: [d2], completing: "d", status: .failed))
        #expect(try store.pendingEffects(rolloutId: "r1").map(\.record.key) == ["a", "b", "d"])

        // Unknown keys are errors, not silent no-ops.
        #expect(throws: StoreError.self) {
            try store.deferEffect(rolloutId: "r1", key: "nope", attempts: 1, nextAttemptAt: retryAt, lastError: "x")
        }
        #expect(throws: StoreError.self) { try store.finishEffect(rolloutId: "r1", key: "nope", status: .done) }
        #expect(throws: StoreError.self) { try store.finishEffect(rolloutId: "nobody", key: "a", status: .done) }
    }

    static func readsRolloutsAndPendingKeysInBatches(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "r1", effects: [EffectRecord(key: "prepare", effect: .prepare), Fixtures.notify("n1")])
        try Fixtures.create(store, id: "r2")
        try Fixtures.create(store, id: "r3", effects: [Fixtures.notify("n3")])
        try store.finishEffect(rolloutId: "r3", key: "n3", status: .done)

        let read = try store.rollouts(ids: ["r2", "nobody", "r1"])
        #expect(Set(read.map(\.id)) == ["r1", "r2"], "unknown ids are left out")
        for rollout in read {
            let alone = try store.rollout(id: rollout.id)
            #expect(rollout.state == alone?.state && rollout.planSource == alone?.planSource
                    && rollout.plan == alone?.plan && rollout.fleetKind == alone?.fleetKind, "\(rollout.id) as read alone")
        }
        #expect(try store.rollouts(ids: []).isEmpty)

        let keys = try store.pendingEffectKeys(rolloutIds: ["r1", "r2", "r3", "nobody"])
        #expect(keys == ["r1": ["prepare", "n1"]], "only pending keys, only of rollouts that have some")
        #expect(try store.pendingEffectKeys(rolloutIds: []).isEmpty)
    }

    static func listsRolloutsNewestFirstAndActiveOnes(_ store: any RolloutStore) throws {
        let t = Fixtures.start
        try Fixtures.create(store, id: "old", createdAt: t)
        try Fixtures.create(store, id: "mid-a", createdAt: t.addingTimeInterval(10))
        try Fixtures.create(store, id: "mid-b", createdAt: t.addingTimeInterval(10))  // same instant: insertion order
        try Fixtures.create(store, id: "new", createdAt: t.addingTimeInterval(20.000_1))
        try Fixtures.create(store, id: "paused", createdAt: t.addingTimeInterval(5))

        // old: completed with nothing left to do. mid-a: aborted with a cleanup still pending. paused: paused.
        try store.commit(Fixtures.commit(id: "old", after: 1, phase: .completed, createdAt: t))
        try store.commit(Fixtures.commit(id: "mid-a", after: 1, phase: .aborted, createdAt: t.addingTimeInterval(10),
                                         effects: [EffectRecord(key: "cleanup:j", effect: .cleanUp(jobId: "j"))]))
        try store.commit(Fixtures.commit(id: "paused", after: 1, phase: .baking, createdAt: t.addingTimeInterval(5),
                                         paused: true))

        #expect(try store.rollouts(phases: nil, limit: 100).map(\.id) == ["new", "mid-b", "mid-a", "paused", "old"])
        #expect(try store.rollouts(phases: nil, limit: 2).map(\.id) == ["new", "mid-b"])
        #expect(try store.rollouts(phases: nil, limit: Int.max).count == 5)
        #expect(try store.rollouts(phases: [.completed, .aborted], limit: 100).map(\.id) == ["mid-a", "old"])
        #expect(try store.rollouts(phases: [.paused], limit: 100).map(\.id) == ["paused"])
        #expect(try store.rollouts(phases: [.baking], limit: 100).isEmpty)  // the display phase counts
        #expect(try store.rollouts(phases: [], limit: 100).isEmpty)

        #expect(try store.activeRolloutIds() == ["paused", "mid-a", "mid-b", "new"])
        try store.finishEffect(rolloutId: "mid-a", key: "cleanup:j", status: .done)
        #expect(try store.activeRolloutIds() == ["paused", "mid-b", "new"])
    }

    static func pagesThroughEvents(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "r1")
        for count in 1..<25 {
            try store.commit(Fixtures.commit(id: "r1", after: count))
        }
        let all = try store.events(rolloutId: "r1", afterSequence: 0, limit: 1000)
        #expect(all.map(\.sequence) == Array(1...25))
        #expect(try store.events(rolloutId: "r1", afterSequence: 10, limit: 5).map(\.sequence) == [11, 12, 13, 14, 15])
        #expect(try store.events(rolloutId: "r1", afterSequence: 23, limit: 5).map(\.sequence) == [24, 25])
        #expect(try store.events(rolloutId: "r1", afterSequence: 25, limit: 5).isEmpty)
        #expect(try store.events(rolloutId: "r1", afterSequence: 99, limit: 5).isEmpty)
        var paged: [RolloutEventRecord] = []
        for _ in 0..<10 {
            let page = try store.events(rolloutId: "r1", afterSequence: paged.last?.sequence ?? 0, limit: 7)
            if page.isEmpty { break }
            paged += page
        }
        #expect(paged == all)
    }

    static func savesAndReplacesCohorts(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "r1")
        #expect(try store.cohorts(rolloutId: "r1") == nil)
        let first = CohortAssignment(deviceIds: ["a", "é-ü-😀", "", "b c"], stageSizes: [1, 0, 3], eligibleCount: 9)
        try store.commit(Fixtures.commit(id: "r1", after: 1, cohorts: first))
        #expect(try store.cohorts(rolloutId: "r1") == first)
        let empty = CohortAssignment(deviceIds: [], stageSizes: [0, 0], eligibleCount: 0)
        try store.commit(Fixtures.commit(id: "r1", after: 2, cohorts: empty))
        #expect(try store.cohorts(rolloutId: "r1") == empty)
        try store.commit(Fixtures.commit(id: "r1", after: 3))  // no cohorts in the commit: the saved ones stay
        #expect(try store.cohorts(rolloutId: "r1") == empty)
    }

    /// The rollback set is kept by the first writer: a retry reads the same devices whatever it would find now.
    static func keepsTheFirstRollbackSet(_ store: any RolloutStore) throws {
        _ = try Fixtures.create(store, id: "r1")
        #expect(try store.rollbackSet(rolloutId: "r1") == nil)
        #expect(try store.keepRollbackSet(rolloutId: "r1", devices: ["d-1", "d-2"]) == ["d-1", "d-2"])
        #expect(try store.keepRollbackSet(rolloutId: "r1", devices: ["d-1", "d-2", "d-3"]) == ["d-1", "d-2"])
        #expect(try store.rollbackSet(rolloutId: "r1") == ["d-1", "d-2"])
        _ = try Fixtures.create(store, id: "r2")
        #expect(try store.keepRollbackSet(rolloutId: "r2", devices: []) == [])
        #expect(try store.rollbackSet(rolloutId: "r2") == [])
        #expect(throws: (any Error).self) { try store.keepRollbackSet(rolloutId: "missing", devices: ["d-1"]) }
    }

    static func roundTripsAMillionDeviceCohort(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "big")
        let cohorts = Fixtures.cohorts(sizes: [100, 99_900, 400_000, 500_000])
        try store.commit(Fixtures.commit(id: "big", after: 1, cohorts: cohorts))
        let loaded = try #require(try store.cohorts(rolloutId: "big"))
        #expect(loaded.deviceIds.count == 1_000_000)
        #expect(loaded == cohorts)
        #expect(loaded.devices(ofStage: 1).first == "dev-00000064")
    }

    /// Commits from many threads: the store serializes them, losers see `conflict`, and the log has no gap.
    static func serializesConcurrentCommits(_ store: any RolloutStore) throws {
        try Fixtures.create(store, id: "r1")
        let writers = 8
        let commitsPerWriter = 10
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            var done = 0
            for _ in 0..<(writers * commitsPerWriter * 4) where done < commitsPerWriter {
                guard let count = try? store.rollout(id: "r1")?.state.eventCount else { continue }
                do {
                    try store.commit(Fixtures.commit(id: "r1", after: count, effects: [Fixtures.notify("w\(writer)-\(done)")]))
                    done += 1
                } catch StoreError.conflict {
                    continue
                } catch {
                    Issue.record("unexpected error \(error)")
                    return
                }
            }
        }
        let total = 1 + writers * commitsPerWriter
        #expect(try store.rollout(id: "r1")?.state.eventCount == total)
        #expect(try store.events(rolloutId: "r1", afterSequence: 0, limit: 1000).map(\.sequence) == Array(1...total))
        #expect(try store.pendingEffects(rolloutId: "r1").count == writers * commitsPerWriter)
    }

    /// Everything the store says about one rollout, to prove that a failed commit changed nothing.
    struct Snapshot: Equatable {
        var state: RolloutState?
        var events: [RolloutEventRecord]
        var pending: [PendingEffect]
        var verdicts: [VerdictRecord]
        var cohorts: CohortAssignment?
        var active: [String]
    }

    /// Ended rollouts past their retention come back longest due first; purged ones and those not due yet do not.
    static func listsRolloutsDueForPurge(_ store: any RolloutStore) throws {
        let start = Fixtures.start
        for (id, due) in [("late", 3600.0), ("early", 60.0), ("later", 7200.0), ("kept", nil)] as [(String, Double?)] {
            try Fixtures.create(store, id: id)
            var ended = Fixtures.commit(id: id, after: 1, event: .abortRequested(by: "a", reason: ""), phase: .aborted)
            ended.state.purgeDueAt = due.map { start.addingTimeInterval($0) }
            try store.commit(ended)
        }
        #expect(try store.rolloutsDueForPurge(at: start.addingTimeInterval(3600), fleetKind: "simulated", limit: 10).map(\.id) == ["early", "late"])
        #expect(try store.rolloutsDueForPurge(at: start.addingTimeInterval(9000), fleetKind: "simulated", limit: 2).map(\.id) == ["early", "late"])
        var purged = Fixtures.commit(id: "early", after: 2, event: .purged(jobs: 3), phase: .aborted)
        purged.state.purgedAt = start.addingTimeInterval(100)
        try store.commit(purged)
        #expect(try store.rolloutsDueForPurge(at: start.addingTimeInterval(9000), fleetKind: "simulated", limit: 10).map(\.id) == ["late", "later"])
        #expect(try store.rolloutsDueForPurge(at: start, fleetKind: "simulated", limit: 10).isEmpty)
        #expect(try store.rolloutsDueForPurge(at: start.addingTimeInterval(9000), fleetKind: "aws", limit: 10).isEmpty)
    }

    static func snapshot(_ store: any RolloutStore, _ id: String) throws -> Snapshot {
        Snapshot(state: try store.rollout(id: id)?.state,
                 events: try store.events(rolloutId: id, afterSequence: 0, limit: 10_000),
                 pending: try store.pendingEffects(rolloutId: id), verdicts: try store.verdicts(rolloutId: id),
                 cohorts: try store.cohorts(rolloutId: id), active: try store.activeRolloutIds())
    }
}

@Suite struct RolloutStoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func createsOnceAndRefusesADuplicate(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.createsOnceAndRefusesADuplicate)
    }

    @Test(arguments: StoreKind.allCases)
    func listsRolloutsDueForPurge(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.listsRolloutsDueForPurge)
    }

    @Test(arguments: StoreKind.allCases)
    func commitsAppendEventsAndSaveState(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.commitsAppendEventsAndSaveState)
    }

    @Test(arguments: StoreKind.allCases)
    func staleCommitConflictsAndWritesNothing(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.staleCommitConflictsAndWritesNothing)
    }

    @Test(arguments: StoreKind.allCases)
    func commitToAnUnknownRolloutIsNotFound(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.commitToAnUnknownRolloutIsNotFound)
    }

    @Test(arguments: StoreKind.allCases)
    func effectsQueueInOrderDeferFinishAndRequeue(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.effectsQueueInOrderDeferFinishAndRequeue)
    }

    @Test(arguments: StoreKind.allCases)
    func readsRolloutsAndPendingKeysInBatches(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.readsRolloutsAndPendingKeysInBatches)
    }

    @Test(arguments: StoreKind.allCases)
    func listsRolloutsNewestFirstAndActiveOnes(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.listsRolloutsNewestFirstAndActiveOnes)
    }

    @Test(arguments: StoreKind.allCases)
    func pagesThroughEvents(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.pagesThroughEvents)
    }

    @Test(arguments: StoreKind.allCases)
    func savesAndReplacesCohorts(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.savesAndReplacesCohorts)
    }

    @Test(arguments: StoreKind.allCases)
    func keepsTheFirstRollbackSet(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.keepsTheFirstRollbackSet)
    }

    @Test(arguments: [StoreKind.memory, .sqliteFile, .postgres])
    func roundTripsAMillionDeviceCohort(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.roundTripsAMillionDeviceCohort)
    }

    @Test(arguments: StoreKind.allCases)
    func serializesConcurrentCommits(kind: StoreKind) throws {
        try kind.withStore(RolloutStoreContract.serializesConcurrentCommits)
    }
}
