import Foundation

/// One application of an event: mutable working copy plus what it produced.
struct Step {
    var state: RolloutState
    let plan: RolloutPlan
    let at: Date
    var effects: [EffectRecord] = []
    var verdicts: [VerdictRecord] = []

    init(state: RolloutState, plan: RolloutPlan, at: Date) {
        self.state = state
        self.plan = plan
        self.at = at
    }

    mutating func handle(_ event: RolloutEvent) {
        // Command legality lives in `rejection(of:)` alone: a command it refuses changes nothing here either.
        if event.isCommand, RolloutStateMachine.rejection(of: event, in: state, plan: plan) != nil { return }
        switch event {
        case .submitted, .timerFired:
            onTime()
        case .prepared(let prepared):
            onPrepared(prepared)
        case .jobCreated(let stage):
            onJobCreated(stage)
        case .progressObserved(let stage, let progress, let metrics):
            guard stage == state.currentStage, state.stages.indices.contains(stage),
                  state.stages[stage].status == .baking, state.phase == .baking else { return }
            state.stages[stage].progress = progress
            recordMeasurements(metrics, stage: stage)
            judge(stage)
        case .approved(let by, _):
            state.stages[state.currentStage].approvedBy = by
            let name = state.stages[state.currentStage].name
            guard state.pause == nil else {
                // A pause holds everything: the approval is recorded and acted on at resume.
                state.note = .approved(stage: name, by: by, held: true)
                return
            }
            state.note = .approved(stage: name, by: by, held: false)
            startStage(state.currentStage)
        case .pauseRequested(let by, let reason):
            let pause = PauseInfo(kind: .requested, since: at, by: by, note: reason.isEmpty ? nil : reason)
            state.pause = pause
            state.note = .paused
            notify(.paused(pause), stage: nil)
        case .promoteRequested(let by, _, _):
            onPromote(by: by)
        case .resumeRequested(let by, _):
            onResume(by: by)
        case .abortRequested(let by, let reason):
            onAbort(by: by, reason: reason)
        case .rollbackRequested(let by, let reason):
            if state.phase == .rollingBack {
                onResume(by: by)  // accepted only while a failed fleet call holds the rollback: retry it
            } else {
                beginRollback(cause: .requested(by: by, reason: reason))
            }
        case .purged:
            return  // an ended rollout's fact (`RolloutStateMachine.apply`); a live one has nothing to purge
        case .deviceExcluded(let thing, let stage, let cancel, let force, let by, let reason):
            onDeviceExcluded(thing: thing, stage: stage, cancel: cancel, force: force, by: by, reason: reason)
        case .jobCancelled(let stage):
            guard state.phase == .rollingBack, let rollback = state.rollback, rollback.devices == nil else { return }
            guard var pending = rollback.cancelsPending else {
                if stage == state.currentStage { effect(.createRollbackJob) }  // recorded before every job was awaited
                return
            }
            guard let position = pending.firstIndex(of: stage) else { return }
            pending.remove(at: position)
            state.rollback!.cancelsPending = pending
            // The rollback set is read once no stage job can start another device on the new firmware.
            if pending.isEmpty { effect(.createRollbackJob) }
        case .rollbackJobCreated(let devices):
            guard state.phase == .rollingBack, state.rollback != nil, state.rollback?.devices == nil else { return }
            state.rollback!.devices = devices
            state.rollback!.jobCreatedAt = at
            state.rollback!.cancelsPending = nil  // served its purpose (and states of older versions never had it)
            if devices == 0 {
                finishRollback()
            } else {
                state.note = .rollbackJobCreated(devices: devices)
            }
        case .rollbackProgressObserved(let progress):
            guard state.phase == .rollingBack, let rollback = state.rollback, let devices = rollback.devices,
                  rollback.incompleteSince == nil else { return }
            state.rollback!.progress = progress
            let settled = progress.executed + progress.canceled + progress.removed
            if progress.jobDone || (progress.pending == 0 && settled >= devices) {
                settleRollback()
            }
        case .rollbackStragglersListed(let devices, let count):
            guard state.phase == .rollingBack, let rollback = state.rollback, rollback.incompleteSince != nil else { return }
            state.rollback!.notRolledBack = Array(devices.prefix(RollbackState.notRolledBackListedMax))
            state.rollback!.notRolledBackCount = count
            // Zero: late reports arrived between the last poll and the listing, every device took the rollback.
            finishRollback(notRolledBack: count)
        case .effectFailed(let effect, let message):
            onEffectFailed(effect, message: message)
        }
    }

    // MARK: time

    mutating func onTime() {
        switch state.phase {
        case .scheduled:
            if let notBefore = plan.schedule.notBefore, at < notBefore, state.startWaivedBy == nil { return }
            state.phase = .preparing
            state.note = .preparing
            effect(.prepare)
            notify(.started(firmware: plan.release.firmware, version: plan.release.version), stage: nil)
        case .waitingForWindow:
            guard state.pause == nil else { return }
            if WindowSchedule.isOpen(at: at, windows: plan.schedule.windows) {
                startStage(state.currentStage)
            }
        case .baking:
            judge(state.currentStage)
        case .rollingBack:
            // A rollback job whose devices never report: stop waiting after the evidence timeout.
            guard let rollback = state.rollback, let created = rollback.jobCreatedAt, rollback.devices != nil,
                  rollback.incompleteSince == nil,
                  at >= created.addingTimeInterval(TimeInterval(plan.schedule.evidenceTimeoutSeconds)) else { return }
            settleRollback()
        default:
            return
        }
    }

    // MARK: stages

    mutating func onPrepared(_ prepared: PreparedRollout) {
        guard state.phase == .preparing else { return }
        precondition(prepared.stageSizes.count == state.stages.count, "one size per stage")
        state.eligibleDevices = prepared.eligibleDevices
        state.release = prepared.release
        state.rollbackArtifact = prepared.rollback
        state.baseline = prepared.baseline
        for index in state.stages.indices {
            state.stages[index].devices = prepared.stageSizes[index]
            if let groups = prepared.stageRingGroups?[index], !groups.isEmpty {
                state.stages[index].ringGroups = groups
            }
        }
        startStage(0)
    }

    /// Starts stage `index`, or what stands before it (approval, window); skips empty stages; completes at the end.
    mutating func startStage(_ index: Int) {
        var index = index
        while index < state.stages.count, state.stages[index].devices == 0 {
            state.stages[index].status = .skipped
            state.stages[index].endedAt = at
            index += 1
        }
        state.currentStage = min(index, state.stages.count - 1)
        guard index < state.stages.count else {
            complete()
            return
        }
        let spec = plan.stages[index]
        if spec.approvalRequired && state.stages[index].approvedBy == nil {
            state.phase = .awaitingApproval
            state.note = .awaitingApproval(stage: spec.name)
            notify(.awaitingApproval, stage: spec.name)
            return
        }
        if state.pause != nil {
            // A pause holds everything: no stage starts and no job is created until resume.
            state.phase = .waitingForWindow
            state.note = .stageHeld(stage: spec.name)
            return
        }
        if !WindowSchedule.isOpen(at: at, windows: plan.schedule.windows), state.stages[index].windowWaivedBy == nil {
            state.phase = .waitingForWindow
            state.note = .waitingForWindow(stage: spec.name)
            return
        }
        state.phase = .deploying
        state.stages[index].status = .deploying
        state.stages[index].startedAt = at
        let devices = state.stages[index].devices ?? 0
        state.note = .stageStarted(stage: spec.name, devices: devices, approvedBy: state.stages[index].approvedBy)
        effect(.createJob(stage: index))
        notify(.stageStarted(devices: devices), stage: spec.name)
    }

    mutating func onJobCreated(_ index: Int) {
        guard state.phase == .deploying, index == state.currentStage, state.stages[index].status == .deploying else { return }
        state.phase = .baking
        state.stages[index].status = .baking
        state.stages[index].jobCreatedAt = at
        state.stages[index].judgingSince = plan.schedule.bakeEnd(start: at, seconds: plan.stages[index].bakeDurationSeconds)
        state.note = .jobCreated(stage: state.stages[index].name, bakeSeconds: plan.stages[index].bakeDurationSeconds)
        // A ring stage targets whole ring groups, excluded devices included: their executions are cancelled at once.
        if state.stages[index].ringGroups != nil {
            for exclusion in state.exclusions ?? [] where exclusion.stage == state.stages[index].name && !exclusion.inJob {
                effect(.cancelExecution(jobId: state.stages[index].jobId, thing: exclusion.thing, force: false))
            }
        }
    }

    static func dryRunVerdicts(_ evaluation: GateEvaluation?) -> [String: Verdict] {
        Dictionary((evaluation?.results ?? []).filter { $0.dryRun == true }.map { ($0.gate, $0.verdict) },
                   uniquingKeysWith: { _, last in last })
    }

    /// Keeps each reading as its gate's latest and counts it as a measurement (judged against the gate's bounds).
    mutating func recordMeasurements(_ readings: [String: MetricReading], stage index: Int) {
        guard !readings.isEmpty else { return }
        state.stages[index].metrics.merge(readings) { _, new in new }
        var tallies = state.stages[index].measurements ?? [:]
        for gate in plan.gates(for: plan.stages[index]).metrics {
            guard let reading = readings[gate.name] else { continue }
            tallies[gate.name, default: MetricTally()].record(reading, gate: gate, at: at)
        }
        state.stages[index].measurements = tallies
    }

    /// Evaluates the current stage's gates on the evidence held in the state, and acts on the verdict.
    mutating func judge(_ index: Int) {
        guard state.phase == .baking, state.stages[index].status == .baking,
              let created = state.stages[index].jobCreatedAt else { return }
        let spec = plan.stages[index]
        let stage = state.stages[index]
        let bakeEnd = Self.bakeEnd(of: stage, created: created, bakeSeconds: spec.bakeDurationSeconds,
                                    schedule: plan.schedule)
        let judgingSince = stage.judgingSince ?? bakeEnd
        let evidence = GateEvidence(
            progress: stage.progress, stageDevices: stage.devices ?? 0,
            measurements: stage.measurements ?? [:], reportingMin: plan.schedule.minimumDevicesReporting,
            baseline: state.baseline,
            bakeOver: at >= bakeEnd,
            evidenceExpired: at >= judgingSince.addingTimeInterval(TimeInterval(plan.schedule.evidenceTimeoutSeconds)))
        let evaluation = GateEvaluator.assess(plan.gates(for: spec), evidence: evidence)
        if stage.lastEvaluation?.verdict != evaluation.verdict {
            verdicts.append(VerdictRecord(stage: spec.name, at: at, evaluation: evaluation))
            notify(.verdict(evaluation), stage: spec.name)
        } else if Self.dryRunVerdicts(stage.lastEvaluation) != Self.dryRunVerdicts(evaluation) {
            // A dry-run gate changed its mind: recorded in the verdict history (that is how a team learns to trust
            // it), but no notification: it decides nothing.
            verdicts.append(VerdictRecord(stage: spec.name, at: at, evaluation: evaluation))
        }
        state.stages[index].lastEvaluation = evaluation
        switch evaluation.verdict {
        case .wait:
            return
        case .pass:
            // A pause holds the rollout where it is; the next observation after resume passes again.
            guard state.pause == nil else { return }
            state.stages[index].status = .passed
            state.stages[index].endedAt = at
            startStage(index + 1)
        case .fail:
            state.stages[index].status = .failed
            state.stages[index].endedAt = at
            if plan.onFailure == .rollback && plan.rollback != nil {
                beginRollback(cause: .gateFailed(stage: spec.name, deciding: evaluation.deciding))
            } else {
                effect(.cancelJob(stage: index, jobId: state.stages[index].jobId,
                                                            reason: Self.cancelReason(gateFailedIn: spec.name, evaluation)))
                let pause = PauseInfo(kind: .gateFailed, since: at, by: "gate", stage: spec.name,
                                      deciding: evaluation.deciding)
                state.pause = pause
                state.note = .paused
                notify(.paused(pause), stage: spec.name)
            }
        case .inconclusive:
            guard state.pause == nil else { return }
            let pause = PauseInfo(kind: .inconclusive, since: at, by: "gate", stage: spec.name,
                                  deciding: evaluation.deciding)
            state.pause = pause
            state.note = .paused
            notify(.paused(pause), stage: spec.name)
        }
    }

    mutating func complete() {
        state.phase = .completed
        state.endedAt = at
        state.pause = nil
        let updated = state.stages.reduce(0) { $0 + $1.progress.succeeded }
        state.note = .completed(version: plan.release.version, devices: updated)
        cleanUpJobs()
        notify(.completed(version: plan.release.version, devices: updated), stage: nil)
    }
}
