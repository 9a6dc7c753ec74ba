import Foundation
import Logging
import RolloutCore
import RolloutText

/// The imperative shell around the pure state machine: reads state, collects observations, feeds events to
/// `RolloutStateMachine`, commits each transition in one store transaction, and performs the queued effects.
///
/// A crash anywhere is harmless: state lives in the store, effects are idempotent, and `step` picks up whatever
/// is still pending. One engine per store (the store's lock enforces it).
///
/// The engine runs on a thread of its own (`DedicatedThreadExecutor`), not on Swift's cooperative pool: its store
/// calls block (an fsync per commit on the worker's store), and the pool's threads serve the HTTP API.
package actor RolloutEngine {
    package nonisolated let store: any RolloutStore
    /// Every committed transition is published here; steps start from it (no other copy of a rollout is kept).
    package nonisolated let readModel: RolloutReadModel
    package let fleet: any Fleet
    let metricSource: any MetricSource
    let notifier: any Notifier
    let clock: any RolloutClock
    let configuration: EngineConfiguration
    /// Which rollouts this engine may act on (`SoleWorker` unless several workers share a PostgreSQL database).
    package nonisolated let leases: any RolloutLeases
    let logger: Logger
    /// Test hook: called at every crash point; throwing `SimulatedCrash` stops the engine there.
    let crashHook: (@Sendable (CrashPoint) throws -> Void)?

    /// What the engine keeps of a rollout besides its state (which lives in the read model): the cohorts read once
    /// and its own polling schedule.
    var working: [String: Working] = [:]
    /// The lease epoch each rollout was last read from the store under. A step under another epoch (a claim, a
    /// take-over: some other worker may have written it meanwhile) reads the rollout again first; so a round that
    /// claims thousands stays short, and no step acts on a copy older than its lease.
    var readUnderEpoch: [String: Int64] = [:]
    /// Read from any thread (`statistics`): `/metrics` never waits for the engine, which may be in a database call.
    nonisolated let counters = Locked(EngineCounters())
    nonisolated let executor = DedicatedThreadExecutor(name: "rollout-engine")

    package nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    struct Working {
        var cohorts: CohortAssignment?
        var nextPollAt: Date?
    }

    /// A rollout during one step: a working copy of its stored form plus `Working`.
    struct Runtime {
        var rollout: StoredRollout
        var cohorts: CohortAssignment?
        var nextPollAt: Date?
        /// The lease a step acts under (nil outside a step: a person's command is not fenced).
        var fence: LeaseFence?
    }

    package init(store: any RolloutStore, fleet: any Fleet, metricSource: any MetricSource, notifier: any Notifier,
                clock: any RolloutClock, configuration: EngineConfiguration = EngineConfiguration(),
                readModel: RolloutReadModel? = nil, leases: any RolloutLeases = SoleWorker(),
                logger: Logger = Logger(label: "rollout.engine"),
                crashHook: (@Sendable (CrashPoint) throws -> Void)? = nil) {
        self.store = store
        self.readModel = readModel ?? RolloutReadModel(store: store)
        self.fleet = fleet
        self.metricSource = metricSource
        self.notifier = notifier
        self.clock = clock
        self.configuration = configuration
        self.leases = leases
        self.logger = logger
        self.crashHook = crashHook
    }

    // MARK: intake

    /// Stores a new rollout (or finds the existing one: the id derives from the plan text, so submitting the same
    /// plan twice is the same rollout) and applies its `submitted` event.
    package func submit(plan: RolloutPlan, planSource: String) throws -> SubmitResult {
        try submit(plan: plan, planSource: planSource, releaseRule: nil)
    }

    /// What a submission does about another live rollout of the same release on the same fleet (`SupersedeRule`).
    package enum ReleaseRule: Sendable {
        /// Refuse it (`SupersedeConflict`).
        case refuse
        /// Record the other's abort ("superseded by <id>") first; refused (`SupersedeConflict`) while the other is
        /// rolling back, which an abort would not stop.
        case supersede(by: String)
    }

    /// Submits `plan`; with a `releaseRule`, applies `SupersedeRule` first. One call on the engine's executor, so two
    /// submissions of the same release never both pass the check. Submitting an existing rollout's plan again
    /// answers it, whatever else runs. `superseded` names the rollouts whose abort was recorded.
    package func submit(plan: RolloutPlan, planSource: String, releaseRule: ReleaseRule?) throws -> SubmitResult {
        let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: planSource)
        if let existing = try store.rollout(id: id) {
            return SubmitResult(rolloutId: id, created: false, state: existing.state)
        }
        var superseded: [String] = []
        if let releaseRule {
            let conflicts = SupersedeRule.conflicts(of: plan, rolloutId: id, live: try liveRollouts())
            if !conflicts.isEmpty {
                guard case .supersede(let by) = releaseRule else {
                    throw SupersedeConflict(rolloutId: id, live: conflicts)
                }
                let rollingBack = try conflicts.filter {
                    try (readModel.entry($0)?.rollout.state ?? store.rollout(id: $0)?.state)?.phase == .rollingBack
                }
                guard rollingBack.isEmpty else {
                    throw SupersedeConflict(rolloutId: id, live: rollingBack, rollingBack: true)
                }
                for other in conflicts {
                    try command(.abortRequested(by: by, reason: SupersedeRule.abortReason(supersededBy: id)), rolloutId: other)
                    superseded.append(other)
                }
            }
        }
        let now = clock.now()
        let initial = RolloutStateMachine.initialState(rolloutId: id, plan: plan, at: now)
        let transition = RolloutStateMachine.applyLogged(.submitted, to: initial, plan: plan, at: now)
        let commit = StoreCommit(rolloutId: id, expectedEventCount: 0,
                                 event: RolloutEventRecord(sequence: 1, at: now, event: .submitted),
                                 state: transition.state, effects: transition.effects, verdicts: transition.verdicts)
        let rollout = NewRollout(id: id, plan: plan, planSource: planSource, fleetKind: fleet.kind)
        guard try store.create(rollout, commit: commit) else {
            let existing = try store.rollout(id: id)
            return SubmitResult(rolloutId: id, created: false, state: existing?.state ?? transition.state)
        }
        readModel.created(StoredRollout(id: id, plan: plan, planSource: planSource, fleetKind: fleet.kind,
                                        state: transition.state), commit: commit)
        logTransition(id: id, event: .submitted, state: transition.state)
        try crash(.afterCommit(rolloutId: id, eventKind: "submitted"))
        return SubmitResult(rolloutId: id, created: true, state: transition.state, superseded: superseded)
    }

    /// Records a person's intent (pause, resume, abort, approve, rollback); the next `step` acts on it.
    /// Throws `CommandRejected` with the reason when the command makes no sense in the rollout's state.
    @discardableResult
    package func command(_ command: RolloutEvent, rolloutId: String) throws -> RolloutState {
        precondition(command.isCommand, "command(_:) takes control verbs only")
        for _ in 0..<3 {
            var runtime = try loadRuntime(rolloutId)
            do {
                let storeCommit = try CommandRecorder.commit(for: command, rollout: runtime.rollout, at: clock.now())
                try persist(storeCommit, runtime: &runtime)
                return runtime.rollout.state
            } catch StoreError.conflict {
                try reload(rolloutId)  // someone else moved it: reload and judge again
            }
        }
        throw StoreError.database("rollout \(rolloutId) kept changing while recording the command")
    }

    /// True when the read model holds `rolloutId` and knows its outbox empty: most steps (a poll that finds nothing
    /// new) then skip reading the outbox from the store, one query each on PostgreSQL. Every effect enters the outbox
    /// through a commit the read model sees (or a read of the store, which loads the outbox too); an effect another
    /// process recorded meanwhile (a command through another worker) comes with its announcement, which reads the
    /// rollout again and wakes it.
    func outboxKnownEmpty(_ rolloutId: String) -> Bool {
        readModel.entry(rolloutId)?.pendingEffectKeys.isEmpty ?? false
    }

    /// Re-reads a rollout from the store into the read model and drops what the engine derived from it (after a
    /// step failed, or a commit found the rollout changed by someone else).
    package func reload(_ rolloutId: String) throws {
        working[rolloutId] = nil
        guard let rollout = try store.rollout(id: rolloutId) else { throw StoreError.notFound(rolloutId: rolloutId) }
        let pending = Set(try store.pendingEffects(rolloutId: rolloutId).map(\.record.key))
        readModel.load(rollout, pendingEffectKeys: pending)
    }

    /// The rollout's state as last committed (the engine is the only writer: the read model is current).
    package func state(of rolloutId: String) throws -> RolloutState? {
        if let rollout = readModel.rollout(rolloutId) { return rollout.state }
        return try store.rollout(id: rolloutId)?.state
    }

    /// The work counters, readable without waiting for the engine.
    package nonisolated var statistics: EngineCounters { counters.current }

    // MARK: the step

    /// Does everything due for one rollout now: pending effects, timers, polls; then says what it needs next.
    /// Only under a lease of this worker's (`leases`): without one it does nothing and says `.notLeased`; a lease
    /// lost during the step (a fenced commit, a lease expiring before a fleet call) ends it the same way.
    package func step(rolloutId: String) async throws -> StepOutcome {
        guard let fence = leases.fence(for: rolloutId) else { return .notLeased }
        do {
            if fence.epoch != 0 && readUnderEpoch[rolloutId] != fence.epoch {
                try reload(rolloutId)
                readUnderEpoch[rolloutId] = fence.epoch
            }
            return try await step(rolloutId: rolloutId, fence: fence)
        } catch let lapsed as LeaseLapsed {
            working[rolloutId] = nil
            logger.notice("lease not renewed in time: no fleet call until the next round", metadata: [
                "rollout": "\(rolloutId)", "epoch": "\(lapsed.fence.epoch)",
            ])
            return .notLeased
        } catch StoreError.fenced(let lost) {
            leases.fenced(lost)  // counted there, per worker
            working[rolloutId] = nil
            logger.warning("lease lost: another worker drives this rollout now", metadata: [
                "rollout": "\(rolloutId)", "epoch": "\(lost.epoch)",
            ])
            try? reload(rolloutId)  // the read model shows what the new owner wrote
            return .notLeased
        }
    }

    private func step(rolloutId: String, fence: LeaseFence) async throws -> StepOutcome {
        var runtime = try loadRuntime(rolloutId)
        runtime.fence = fence
        for _ in 0..<configuration.iterationsPerStepMax {
            var progressed = false
            do {
                if try await performDueEffect(runtime: &runtime) { progressed = true }
                if try fireTimerIfDue(runtime: &runtime) { progressed = true }
                if try await pollIfDue(runtime: &runtime) { progressed = true }
            } catch StoreError.conflict {
                // A command was committed while this step awaited the fleet: start again from what is stored (the
                // observation that lost the race is taken again at once).
                keep(runtime)
                runtime = try loadRuntime(rolloutId)
                runtime.fence = fence
                runtime.nextPollAt = nil
                progressed = true
            }
            keep(runtime)
            if !progressed { break }
        }
        keep(runtime)
        return try assessOutcome(runtime: runtime)
    }

    /// Finished, due again, or waiting for a person. Effects still in the outbox (a cancel being retried, a
    /// notification) keep a rollout `due` even while it is paused: a pause holds decisions, not the clean-up.
    func assessOutcome(runtime: Runtime) throws -> StepOutcome {
        let state = runtime.rollout.state
        let effectDue = outboxKnownEmpty(state.rolloutId) ? nil : try store.pendingEffects(rolloutId: state.rolloutId)
            .filter { !RolloutStateMachine.isHeld($0.record.effect, in: state) }
            .map { $0.nextAttemptAt ?? clock.now() }.min()
        if state.phase.isTerminal {
            return effectDue.map { .due($0) } ?? .finished
        }
        var candidates = [effectDue, state.dueAt].compactMap { $0 }
        if needsPolling(state) { candidates.append(runtime.nextPollAt ?? clock.now()) }
        let next = candidates.min()
        if effectDue == nil {
            if let pause = state.pause { return .needsPerson(.resume(pause.kind), nextDueAt: next) }
            if state.phase == .awaitingApproval {
                return .needsPerson(.approval(stage: state.stages[state.currentStage].name), nextDueAt: next)
            }
        }
        guard let next else { return .needsPerson(.nothingScheduled, nextDueAt: nil) }
        return .due(next)
    }

    // MARK: effects

    func performDueEffect(runtime: inout Runtime) async throws -> Bool {
        let now = clock.now()
        let rolloutId = runtime.rollout.id
        let state = runtime.rollout.state
        guard !outboxKnownEmpty(rolloutId), let pending = try store.pendingEffects(rolloutId: rolloutId).first(where: {
            RolloutStateMachine.isObsolete($0.record.effect, in: state)
                || (($0.nextAttemptAt ?? .distantPast) <= now && !RolloutStateMachine.isHeld($0.record.effect, in: state))
        }) else { return false }
        let record = pending.record
        if RolloutStateMachine.isObsolete(record.effect, in: state) {
            try finishEffect(record.key, status: .skipped, runtime: runtime)
            return true
        }
        // The last moment to find the lease gone before the fleet is touched (a worker paused past its lease's
        // expiry and continued acts no further; the new owner's effects are the same idempotent calls).
        try crash(.beforeLeaseCheck(rolloutId: rolloutId, key: record.key))
        try checkLease(runtime)
        try crash(.beforeEffect(rolloutId: rolloutId, key: record.key))
        counters.withLock { $0.effectsAttempted += 1 }
        do {
            let outcome = try await perform(record.effect, runtime: &runtime)
            try crash(.afterEffect(rolloutId: rolloutId, key: record.key))
            if let event = outcome.event {
                try commitCompletion(event, key: record.key, status: .done, cohorts: outcome.cohorts, runtime: &runtime)
            } else {
                try finishEffect(record.key, status: .done, runtime: runtime)
            }
        } catch let crash as SimulatedCrash {
            throw crash
        } catch let error as StoreError {
            throw error
        } catch {
            counters.withLock { $0.effectErrors += 1 }
            try handleEffectFailure(pending, error: error, runtime: &runtime)
        }
        return true
    }

    // MARK: commits

    /// Applies `event` now and commits it with its effects; with `force: false` an event that changes nothing is
    /// not persisted (observations that saw nothing new).
    func commit(_ event: RolloutEvent, runtime: inout Runtime, force: Bool, completedEffectKey: String? = nil,
                completedEffectStatus: EffectStatus = .done, cohorts: CohortAssignment? = nil) throws {
        let now = clock.now()
        let state = runtime.rollout.state
        let transition = force
            ? RolloutStateMachine.applyLogged(event, to: state, plan: runtime.rollout.plan, at: now)
            : RolloutStateMachine.apply(event, to: state, plan: runtime.rollout.plan, at: now)
        guard transition.changed else { return }
        if !force && Self.isRoutineObservation(event, before: state, transition: transition)
            && now.timeIntervalSince(state.updatedAt) < configuration.observationCommitIntervalSeconds {
            return
        }
        try persist(StoreCommit(transition, of: runtime.rollout.id, event: event, before: state, at: now,
                                completedEffectKey: completedEffectKey, completedEffectStatus: completedEffectStatus,
                                cohorts: cohorts), runtime: &runtime)
    }

    /// Writes one transition (ONE store transaction), publishes it to the read model, and logs what people care about.
    func persist(_ storeCommit: StoreCommit, runtime: inout Runtime) throws {
        let before = runtime.rollout.state
        let after = storeCommit.state
        let event = storeCommit.event.event
        var storeCommit = storeCommit
        storeCommit.fence = runtime.fence
        try store.commit(storeCommit)
        readModel.committed(storeCommit)
        counters.withLock { counters in
            counters.commits += 1
            for verdict in storeCommit.verdicts { counters.verdicts[verdict.evaluation.verdict, default: 0] += 1 }
        }
        runtime.rollout.state = after
        if let cohorts = storeCommit.cohorts { runtime.cohorts = cohorts }
        if after.phase != before.phase || after.pause != before.pause || event.isCommand
            || after.currentStage != before.currentStage {
            logTransition(id: runtime.rollout.id, event: event, state: after)
        }
        try crash(.afterCommit(rolloutId: runtime.rollout.id, eventKind: event.kind))
    }

    /// An observation that only moved counters: same phase, pause, stage and statuses, no effect, no verdict, and
    /// no metric measurement (each one is counted by the gates, so each is stored).
    static func isRoutineObservation(_ event: RolloutEvent, before: RolloutState, transition: Transition) -> Bool {
        switch event {
        case .progressObserved, .rollbackProgressObserved: break
        default: return false
        }
        let after = transition.state
        return transition.effects.isEmpty && transition.verdicts.isEmpty && after.phase == before.phase
            && after.pause == before.pause && after.currentStage == before.currentStage
            && after.stages.map(\.status) == before.stages.map(\.status) && after.rollback?.devices == before.rollback?.devices
            && after.stages.map(\.measurements) == before.stages.map(\.measurements)
    }

    /// Commits the event that records an effect's completion, reloading once if a command got in first.
    func commitCompletion(_ event: RolloutEvent, key: String, status: EffectStatus, cohorts: CohortAssignment?,
                          runtime: inout Runtime) throws {
        do {
            try commit(event, runtime: &runtime, force: true, completedEffectKey: key, completedEffectStatus: status,
                       cohorts: cohorts)
        } catch StoreError.conflict {
            let kept = working[runtime.rollout.id]
            try reload(runtime.rollout.id)
            working[runtime.rollout.id] = kept
            let fence = runtime.fence
            runtime = try loadRuntime(runtime.rollout.id)
            runtime.fence = fence
            try commit(event, runtime: &runtime, force: true, completedEffectKey: key, completedEffectStatus: status,
                       cohorts: cohorts)
        }
    }

    /// The rollout as the read model holds it (loaded from the store on first use) with what the engine keeps.
    /// Throws `LeaseLapsed` unless the step's lease is still trusted: called before every fleet call that changes
    /// something (a worker paused past its lease acts no further; the new owner's calls are the same idempotent ones).
    func checkLease(_ runtime: Runtime) throws {
        if let fence = runtime.fence, !leases.isValid(fence) { throw LeaseLapsed(fence: fence) }
    }

    func loadRuntime(_ rolloutId: String) throws -> Runtime {
        if readModel.rollout(rolloutId) == nil { try reload(rolloutId) }
        guard let rollout = readModel.rollout(rolloutId) else { throw StoreError.notFound(rolloutId: rolloutId) }
        let kept = working[rolloutId]
        return Runtime(rollout: rollout, cohorts: kept?.cohorts, nextPollAt: kept?.nextPollAt)
    }

    /// Keeps what a step learnt beyond the committed state (which the read model already has).
    func keep(_ runtime: Runtime) {
        working[runtime.rollout.id] = Working(cohorts: runtime.cohorts, nextPollAt: runtime.nextPollAt)
    }

    /// Marks an effect finished, under the step's lease (a lost one throws `StoreError.fenced`, nothing written).
    func finishEffect(_ key: String, status: EffectStatus, runtime: Runtime) throws {
        let rolloutId = runtime.rollout.id
        try store.finishEffect(rolloutId: rolloutId, key: key, status: status, fence: runtime.fence)
        readModel.effectFinished(rolloutId: rolloutId, key: key)
    }

    func crash(_ point: CrashPoint) throws {
        try crashHook?(point)
    }

    func logTransition(id: String, event: RolloutEvent, state: RolloutState) {
        let stage = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage].name : "-"
        // A note may quote a reason someone typed or an error from outside: it is logged with credentials masked.
        logger.info("\(CredentialRedaction.text(RolloutText.note(state) ?? event.kind))", metadata: [
            "rollout": "\(id)", "stage": "\(stage)", "phase": "\(state.displayPhase.rawValue)", "event": "\(event.kind)",
        ])
    }
}

/// What `submit` did.
package struct SubmitResult: Sendable {
    package var rolloutId: String
    /// False when the same plan had been submitted before.
    package var created: Bool
    package var state: RolloutState
    /// Rollouts whose abort this submission recorded (`ReleaseRule.supersede`).
    package var superseded: [String] = []

    package init(rolloutId: String, created: Bool, state: RolloutState, superseded: [String] = []) {
        self.rolloutId = rolloutId
        self.created = created
        self.state = state
        self.superseded = superseded
    }
}

/// A command that makes no sense in the rollout's current state (HTTP 409).
package struct CommandRejected: Error, Sendable, CustomStringConvertible {
    package var reason: String

    package var description: String { reason }
}
