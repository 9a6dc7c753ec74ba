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
    let logger: Logger
    /// Test hook: called at every crash point; throwing `SimulatedCrash` stops the engine there.
    let crashHook: (@Sendable (CrashPoint) throws -> Void)?

    /// What the engine keeps of a rollout besides its state (which lives in the read model): the cohorts read once
    /// and its own polling schedule.
    var working: [String: Working] = [:]
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
    }

    package init(store: any RolloutStore, fleet: any Fleet, metricSource: any MetricSource, notifier: any Notifier,
                clock: any RolloutClock, configuration: EngineConfiguration = EngineConfiguration(),
                readModel: RolloutReadModel? = nil, logger: Logger = Logger(label: "rollout.engine"),
                crashHook: (@Sendable (CrashPoint) throws -> Void)? = nil) {
        self.store = store
        self.readModel = readModel ?? RolloutReadModel(store: store)
        self.fleet = fleet
        self.metricSource = metricSource
        self.notifier = notifier
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.crashHook = crashHook
    }

    // MARK: intake

    /// Stores a new rollout (or finds the existing one: the id derives from the plan text, so submitting the same
    /// plan twice is the same rollout) and applies its `submitted` event.
    package func submit(plan: RolloutPlan, planSource: String) throws -> SubmitResult {
        let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: planSource)
        if let existing = try store.rollout(id: id) {
            return SubmitResult(rolloutId: id, created: false, state: existing.state)
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
        return SubmitResult(rolloutId: id, created: true, state: transition.state)
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
    package func step(rolloutId: String) async throws -> StepOutcome {
        var runtime = try loadRuntime(rolloutId)
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
        let effectDue = try store.pendingEffects(rolloutId: state.rolloutId)
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
        guard let pending = try store.pendingEffects(rolloutId: rolloutId).first(where: {
            RolloutStateMachine.isObsolete($0.record.effect, in: state)
                || (($0.nextAttemptAt ?? .distantPast) <= now && !RolloutStateMachine.isHeld($0.record.effect, in: state))
        }) else { return false }
        let record = pending.record
        if RolloutStateMachine.isObsolete(record.effect, in: state) {
            try finishEffect(rolloutId: rolloutId, key: record.key, status: .skipped)
            return true
        }
        counters.withLock { $0.effectsAttempted += 1 }
        do {
            let outcome = try await perform(record.effect, runtime: &runtime)
            try crash(.afterEffect(rolloutId: rolloutId, key: record.key))
            if let event = outcome.event {
                try commitCompletion(event, key: record.key, status: .done, cohorts: outcome.cohorts, runtime: &runtime)
            } else {
                try finishEffect(rolloutId: rolloutId, key: record.key, status: .done)
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

    struct EffectOutcome {
        var event: RolloutEvent?
        var cohorts: CohortAssignment?
    }

    func perform(_ effect: Effect, runtime: inout Runtime) async throws -> EffectOutcome {
        let plan = runtime.rollout.plan
        let state = runtime.rollout.state
        switch effect {
        case .prepare:
            let (prepared, cohorts) = try await prepare(runtime.rollout)
            return EffectOutcome(event: .prepared(prepared), cohorts: cohorts)
        case .createJob(let index):
            let request = try jobRequest(forStage: index, runtime: &runtime)
            try await fleet.createJob(request)
            counters.withLock { $0.jobsCreated += 1 }
            return EffectOutcome(event: .jobCreated(stage: index))
        case .cancelJob(let stage, let jobId, let reason):
            try await fleet.cancelJob(jobId: jobId, reason: reason, force: plan.job.cancelForce)
            return EffectOutcome(event: stage.map { .jobCancelled(stage: $0) })
        case .createRollbackJob:
            let devices = try await rollbackSet(state: state)
            guard !devices.isEmpty else { return EffectOutcome(event: .rollbackJobCreated(devices: 0)) }
            guard let target = state.rollbackArtifact, let rollback = state.rollback else {
                throw FleetError.permanent("the rollback artifact was not staged")
            }
            let document = JobDocument.forRollback(rolloutId: state.rolloutId, rollback: target,
                                                   releaseVersion: plan.release.version)
            // No abort criteria: a rollback must reach every device it can, however many fail.
            try await fleet.createJob(JobRequest(rolloutId: state.rolloutId, jobId: rollback.jobId, stage: "rollback",
                                                 targets: .devices(DeviceIdList(devices)), document: document,
                                                 settings: plan.job, aws: plan.aws))
            counters.withLock { $0.jobsCreated += 1 }
            return EffectOutcome(event: .rollbackJobCreated(devices: devices.count))
        case .listRollbackStragglers(let jobId):
            let others = Set(ExecutionStatus.allCases).subtracting([.succeeded])
            let devices = try await fleet.devices(jobId: jobId, statuses: others)
            return EffectOutcome(event: .rollbackStragglersListed(
                devices: Array(devices.prefix(RollbackState.notRolledBackListedMax)), count: devices.count))
        case .cleanUp(let jobId):
            try await fleet.cleanUp(rolloutId: state.rolloutId, jobId: jobId)
            return EffectOutcome()
        case .notify(let notification):
            try await notifier.send(notification, to: plan.notifications)
            return EffectOutcome()
        }
    }

    /// Stages artifacts, reads the inventory and splits it into stages.
    func prepare(_ rollout: StoredRollout) async throws -> (PreparedRollout, CohortAssignment) {
        let plan = rollout.plan
        let release = try await fleet.stageArtifact(ArtifactRequest(
            rolloutId: rollout.id, firmware: plan.release.firmware, version: plan.release.version,
            location: plan.release.artifact, signingKeyPath: plan.release.signingKeyPath, aws: plan.aws))
        var rollbackArtifact: StagedArtifact?
        if let rollback = plan.rollback {
            rollbackArtifact = try await fleet.stageArtifact(ArtifactRequest(
                rolloutId: rollout.id, firmware: plan.release.firmware, version: rollback.version,
                location: rollback.artifact, signingKeyPath: plan.release.signingKeyPath, aws: plan.aws))
        }
        let inventory = try await fleet.inventory(plan.fleet)
        var groups: [String: [String]] = [:]
        for stage in plan.stages {
            if case .group(let name) = stage.target, groups[name] == nil {
                groups[name] = try await fleet.groupMembers(name)
            }
        }
        let rings = try await usableRings(plan.fleet, eligible: inventory.deviceIds)
        let cohorts: CohortAssignment
        var stageRingGroups: [[String]]?
        do {
            if let rings {
                let split = try CohortPlanner.assignRings(rolloutId: rollout.id, eligible: inventory.deviceIds,
                                                          stages: plan.stages, groupMembers: groups, rings: rings)
                cohorts = split.assignment
                stageRingGroups = split.stageRings.map { $0.map { rings.groupNames[$0] } }
            } else {
                cohorts = try CohortPlanner.assign(rolloutId: rollout.id, eligible: inventory.deviceIds,
                                                   stages: plan.stages, groupMembers: groups)
            }
        } catch {
            throw FleetError.permanent(error.message)
        }
        let prepared = PreparedRollout(eligibleDevices: cohorts.eligibleCount, stageSizes: cohorts.stageSizes,
                                       release: release, rollback: rollbackArtifact, stageRingGroups: stageRingGroups)
        return (prepared, cohorts)
    }

    /// The fleet's ring set when the plan may use it (`FleetSelection.mayUseRings`) and the fleet has one; a ring
    /// set out of step with the fleet makes the rollout wait, naming what to run: one that misses eligible devices
    /// (grown since the last sync: a ring stage would never reach them), or one that still holds devices that left
    /// the fleet (a ring stage would reach them).
    func usableRings(_ selection: FleetSelection, eligible: DeviceIdList) async throws -> RingMembership? {
        guard selection.mayUseRings, let group = selection.thingGroup,
              let rings = try await fleet.ringMembership(fleetGroup: group) else { return nil }
        let outside = rings.devicesOutsideRings(eligible)
        let departed = rings.membersOutsideFleet(eligible)
        guard outside.isEmpty && departed.isEmpty else {
            let detail = outside.isEmpty
                ? "\(departed.count) devices in the rings of \(group) are no longer in \(group) and would be reached by "
                    + "a ring's job (e.g. \(departed.prefix(3).joined(separator: ", ")))"
                : "\(outside.count) of \(eligible.count) devices of \(group) are in no ring "
                    + "(e.g. \(outside.sorted().prefix(3).joined(separator: ", ")))"
            throw FleetError.capacity(FleetCapacityWait(
                resource: .rings(fleetGroup: group), detail: detail,
                remedy: "run `rollout rings sync --group \(group)` (or set fleet.targeting: groups)"))
        }
        return rings
    }

    func jobRequest(forStage index: Int, runtime: inout Runtime) throws -> JobRequest {
        let rollout = runtime.rollout
        let plan = rollout.plan
        let state = rollout.state
        if runtime.cohorts == nil {
            runtime.cohorts = try store.cohorts(rolloutId: rollout.id)
        }
        guard let cohorts = runtime.cohorts, let release = state.release else {
            throw FleetError.permanent("cohorts or release artifact missing for \(state.stages[index].name)")
        }
        let spec = plan.stages[index]
        let devices = cohorts.devices(ofStage: index)
        // A ring stage targets its ring groups (O(1) calls however large); any other stage its assigned devices,
        // also a group stage: the group may hold devices outside the fleet or excluded by the plan.
        let targets = state.stages[index].ringGroups.map { JobTargets.groups($0) } ?? JobTargets.devices(devices)
        let document = JobDocument.forStage(rolloutId: rollout.id, stage: spec.name, release: release,
                                            previousVersion: plan.rollback?.version)
        return JobRequest(rolloutId: rollout.id, jobId: state.stages[index].jobId, stage: spec.name, targets: targets,
                          document: document, settings: plan.job, aws: plan.aws,
                          abortCriteria: JobAbortCriterion.derived(from: plan.gates(for: spec).jobOutcomes))
    }

    /// The rollback job's devices: read from the fleet by the first attempt and kept in the store, so a retry after
    /// a lost CreateJob answer asks for the very job the first attempt made (the adoption then matches).
    func rollbackSet(state: RolloutState) async throws -> [String] {
        if let kept = try store.rollbackSet(rolloutId: state.rolloutId) { return kept }
        return try store.keepRollbackSet(rolloutId: state.rolloutId, devices: try await rollbackDevices(state: state))
    }

    /// Every device that may hold the new firmware, in any stage, sorted: see `Fleet.devicesThatMayHoldFirmware`.
    func rollbackDevices(state: RolloutState) async throws -> [String] {
        var devices = Set<String>()
        // Every stage that started may have a job (its creation may have happened just before a crash).
        for stage in state.stages where stage.startedAt != nil {
            do {
                let found = try await fleet.devicesThatMayHoldFirmware(jobId: stage.jobId)
                devices.formUnion(found)
            } catch FleetError.notFound {
                continue  // the job was never created (crash before creation, then cancelled)
            }
        }
        return devices.sorted()
    }

    func handleEffectFailure(_ pending: PendingEffect, error: Error, runtime: inout Runtime) throws {
        let rolloutId = runtime.rollout.id
        let record = pending.record
        let attempts = pending.attempts + 1
        let message = "\(error)"
        let isNotification: Bool = { if case .notify = record.effect { return true }; return false }()
        var retryable = true
        var retryAfter: Double?
        if case .capacity(let wait) = error as? FleetError {
            try deferCapacityWait(pending, wait: wait, runtime: &runtime)
            return
        }
        if let fleetError = error as? FleetError {
            retryable = fleetError.isRetryable
            if case .retryable(_, let after) = fleetError { retryAfter = after }
            if case .notFound = fleetError, case .cancelJob(let stage, _, _) = record.effect {
                // Cancelling a job that was never created: nothing to cancel.
                if let stage {
                    try commitCompletion(.jobCancelled(stage: stage), key: record.key, status: .done, cohorts: nil,
                                         runtime: &runtime)
                } else {
                    try finishEffect(rolloutId: rolloutId, key: record.key, status: .done)
                }
                return
            }
        }
        let attemptsMax = isNotification ? configuration.notificationAttemptsMax : configuration.effectAttemptsMax
        if retryable && attempts < attemptsMax {
            let delay = configuration.backoffSeconds(attempt: attempts, key: record.key, retryAfterSeconds: retryAfter)
            let next = clock.now().addingTimeInterval(delay)
            try store.deferEffect(rolloutId: rolloutId, key: record.key, attempts: attempts, nextAttemptAt: next,
                                  lastError: message)
            readModel.effectDeferred(rolloutId: rolloutId, retry: EffectRetry(
                key: record.key, attempts: attempts, nextAttemptAt: next, lastError: message, waitingFor: nil))
            logger.warning("effect failed, will retry", metadata: [
                "rollout": "\(rolloutId)", "effect": "\(record.key)", "attempt": "\(attempts)",
                "error": "\(CredentialRedaction.text(message))",
            ])
            return
        }
        if isNotification {
            logger.error("notification dropped", metadata: [
                "rollout": "\(rolloutId)", "error": "\(CredentialRedaction.text(message))",
            ])
            try finishEffect(rolloutId: rolloutId, key: record.key, status: .failed)
            return
        }
        logger.error("effect failed for good", metadata: [
            "rollout": "\(rolloutId)", "effect": "\(record.key)", "error": "\(CredentialRedaction.text(message))",
        ])
        try commitCompletion(.effectFailed(effect: record, message: message), key: record.key, status: .failed,
                             cohorts: nil, runtime: &runtime)
    }

    /// An effect that waits for fleet capacity (a job slot): tried again after a capped backoff for as long as it
    /// takes, so the rollout waits (visibly: the retry is published with what it waits for) instead of pausing. A
    /// wait is no failed attempt: the stored attempts stay as they were, so the effect keeps its whole allowance for
    /// real failures once it has its slot; the tries of the wait are counted in the published retry (they restart
    /// after a worker restart, which only shortens the next backoff). A pause or abort makes it obsolete as usual.
    func deferCapacityWait(_ pending: PendingEffect, wait: FleetCapacityWait, runtime: inout Runtime) throws {
        let rolloutId = runtime.rollout.id
        let key = pending.record.key
        let previous = readModel.entry(rolloutId)?.retries[key]
        let tries = (previous?.waitingFor == nil ? 0 : previous?.attempts ?? 0) + 1
        let delay = configuration.capacityWaitSeconds(attempt: tries, key: key, retryAfterSeconds: wait.retryAfterSeconds)
        let next = clock.now().addingTimeInterval(delay)
        let message = wait.description
        try store.deferEffect(rolloutId: rolloutId, key: key, attempts: pending.attempts, nextAttemptAt: next,
                              lastError: message)
        readModel.effectDeferred(rolloutId: rolloutId, retry: EffectRetry(
            key: key, attempts: tries, nextAttemptAt: next, lastError: message, waitingFor: wait.waitingFor))
        counters.withLock { $0.capacityWaits += 1 }
        // Said once when the wait starts; later tries only at debug level (a wait may last hours).
        logger.log(level: tries == 1 ? .notice : .debug, "effect waits for fleet capacity", metadata: [
            "rollout": "\(rolloutId)", "effect": "\(key)", "try": "\(tries)", "waitingFor": "\(wait.waitingFor)",
            "error": "\(CredentialRedaction.text(message))",
        ])
    }

    // MARK: timers and polls

    func fireTimerIfDue(runtime: inout Runtime) throws -> Bool {
        guard let due = runtime.rollout.state.dueAt, due <= clock.now(), !runtime.rollout.state.phase.isTerminal else {
            return false
        }
        let before = runtime.rollout.state
        try commit(.timerFired, runtime: &runtime, force: false)
        if runtime.rollout.state == before {
            // Nothing changed at the due time (e.g. held by a pause): stop asking until something else happens.
            runtime.rollout.state.dueAt = nil
            return false
        }
        return true
    }

    /// Adaptive, bounded, and derived from persisted state only (so a restarted engine polls exactly as before):
    /// the base interval while devices are still installing; four times slower once every execution has an
    /// outcome and only the bake and metric gates remain.
    static func calculatePollInterval(_ state: RolloutState, configuration: EngineConfiguration) -> Double {
        let base = configuration.pollIntervalSeconds
        let progress: JobProgress
        if state.phase == .rollingBack {
            progress = state.rollback?.progress ?? .zero
        } else if state.stages.indices.contains(state.currentStage) {
            progress = state.stages[state.currentStage].progress
        } else {
            return base
        }
        let settled = progress.total > 0 && progress.pending == 0
        return settled ? base * configuration.settledPollFactor : base
    }

    func needsPolling(_ state: RolloutState) -> Bool {
        switch state.phase {
        case .baking: return state.stages[state.currentStage].status == .baking
        case .rollingBack: return state.rollback?.devices ?? 0 > 0 && state.rollback?.incompleteSince == nil
        default: return false
        }
    }

    func pollIfDue(runtime: inout Runtime) async throws -> Bool {
        let now = clock.now()
        let state = runtime.rollout.state
        guard needsPolling(state) else {
            runtime.nextPollAt = nil
            return false
        }
        if let next = runtime.nextPollAt, next > now { return false }
        runtime.nextPollAt = now.addingTimeInterval(Self.calculatePollInterval(state, configuration: configuration))
        counters.withLock { $0.polls += 1 }
        let event: RolloutEvent
        do {
            if state.phase == .rollingBack, let rollback = state.rollback {
                event = .rollbackProgressObserved(progress: try await fleet.jobProgress(jobId: rollback.jobId))
            } else {
                let index = state.currentStage
                let stage = state.stages[index]
                let progress = try await fleet.jobProgress(jobId: stage.jobId)
                var metrics: [String: MetricReading] = [:]
                for gate in runtime.rollout.plan.gates(for: runtime.rollout.plan.stages[index]).metrics {
                    metrics[gate.name] = await metricSource.read(gate, rolloutId: state.rolloutId, stage: stage.name)
                }
                event = .progressObserved(stage: index, progress: progress, metrics: metrics)
            }
        } catch {
            counters.withLock { $0.pollErrors += 1 }
            logger.warning("poll failed", metadata: [
                "rollout": "\(state.rolloutId)", "error": "\(CredentialRedaction.text("\(error)"))",
            ])
            return false
        }
        let before = runtime.rollout.state
        try commit(event, runtime: &runtime, force: false)
        return runtime.rollout.state != before
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

    /// An observation that only moved counters: same phase, pause, stage and statuses, no effect, no verdict.
    static func isRoutineObservation(_ event: RolloutEvent, before: RolloutState, transition: Transition) -> Bool {
        switch event {
        case .progressObserved, .rollbackProgressObserved: break
        default: return false
        }
        let after = transition.state
        return transition.effects.isEmpty && transition.verdicts.isEmpty && after.phase == before.phase
            && after.pause == before.pause && after.currentStage == before.currentStage
            && after.stages.map(\.status) == before.stages.map(\.status) && after.rollback?.devices == before.rollback?.devices
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
            runtime = try loadRuntime(runtime.rollout.id)
            try commit(event, runtime: &runtime, force: true, completedEffectKey: key, completedEffectStatus: status,
                       cohorts: cohorts)
        }
    }

    /// The rollout as the read model holds it (loaded from the store on first use) with what the engine keeps.
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

    func finishEffect(rolloutId: String, key: String, status: EffectStatus) throws {
        try store.finishEffect(rolloutId: rolloutId, key: key, status: status)
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
}

/// A command that makes no sense in the rollout's current state (HTTP 409).
package struct CommandRejected: Error, Sendable, CustomStringConvertible {
    package var reason: String

    package var description: String { reason }
}
