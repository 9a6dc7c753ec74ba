import Foundation

/// The result of applying one event.
package struct Transition: Equatable, Sendable {
    package var state: RolloutState
    package var effects: [EffectRecord]
    package var verdicts: [VerdictRecord]
    /// False when the event changed nothing (the engine then does not persist it).
    package var changed: Bool
}

/// The rollout state machine: `apply(event, to: state, plan, at) -> Transition`. Pure: no I/O, no clock.
///
/// Transitions (phase → phase on event):
/// ```
/// scheduled        --submitted/timerFired, now ≥ notBefore-->  preparing            [prepare]
/// preparing        --prepared-->                               (start stage 0)
/// (start stage i)  : no devices → skipped, start i+1; i = count → completed; approval missing → awaitingApproval;
///                    paused or window closed → waitingForWindow; else deploying [createJob(i)]
/// waitingForWindow --timerFired, not paused, window open-->    deploying            [createJob(i)]
/// awaitingApproval --approved-->                               (start stage i); while paused: recorded only
///
/// deploying        --jobCreated-->                             baking
/// baking           --progressObserved/timerFired: pass-->      (start stage i+1)    (held while paused)
/// baking           --… fail, onFailure rollback-->             rollingBack          [cancelJob(i)]
/// baking           --… fail, onFailure pause-->                baking + pause       [cancelJob(i)]
/// baking           --… inconclusive-->                         baking + pause
/// any live         --pauseRequested-->                         same phase + pause
/// any live + pause --resumeRequested-->                        pause cleared, a failed effect queued again; per
///                                                              pause kind: take the decisions held (start an
///                                                              approved or held stage, judge), start the next
///                                                              stage (gate override), or judge again
/// any live         --rollbackRequested-->                      rollingBack          [cancelJob(i) if its job may exist]
/// rollingBack+pause--rollbackRequested-->                      as resumeRequested (retries the failed effect)
/// rollingBack      --jobCancelled-->                           rollingBack          [createRollbackJob]
/// rollingBack      --rollbackJobCreated(0 devices)-->          rolledBack           [cleanUp…]
/// rollingBack      --rollbackProgressObserved, all done, all rolled back-->  rolledBack          [cleanUp…]
/// rollingBack      --… all done (or evidence timeout), some not-->  rollingBack   [listRollbackStragglers]
/// rollingBack      --rollbackStragglersListed-->               rollbackIncomplete   [cleanUp…]
/// any live         --abortRequested-->                         aborted              [cancelJob(i) if its job may exist, cleanUp…]
/// any live         --effectFailed-->                           same phase + pause naming the effect (also rollingBack)
/// completed, rolledBack, rollbackIncomplete, aborted, failed: terminal; every event leaves them unchanged.
/// ```
package enum RolloutStateMachine {
    /// The state before the first event.
    package static func initialState(rolloutId: String, plan: RolloutPlan, at: Date) -> RolloutState {
        RolloutState(rolloutId: rolloutId, stageNames: plan.stages.map(\.name), createdAt: at)
    }

    /// Folds a whole event log; replaying a recorded log reproduces the persisted state.
    package static func replay(rolloutId: String, plan: RolloutPlan, events: [RolloutEventRecord]) -> RolloutState {
        guard let first = events.first else { preconditionFailure("an event log starts with `submitted`") }
        var state = initialState(rolloutId: rolloutId, plan: plan, at: first.at)
        for record in events {
            state = applyLogged(record.event, to: state, plan: plan, at: record.at).state
        }
        return state
    }

    /// Applies an event that is logged whatever it changes (a command, an effect's completion): such a fact
    /// counts in the log even when it changes nothing (a job created after an abort), as it does in `replay`.
    package static func applyLogged(_ event: RolloutEvent, to state: RolloutState, plan: RolloutPlan,
                                   at: Date) -> Transition {
        var transition = apply(event, to: state, plan: plan, at: at)
        if !transition.changed {
            transition.state.eventCount = state.eventCount + 1
            transition.state.updatedAt = at
            transition.changed = true
        }
        return transition
    }

    /// Why a command cannot be taken in `state` (the API answers 409 with it), or nil when it can.
    package static func rejection(of command: RolloutEvent, in state: RolloutState, plan: RolloutPlan) -> String? {
        precondition(command.isCommand, "only commands can be rejected")
        if state.phase.isTerminal {
            return "rollout \(state.rolloutId) is \(state.phase.rawValue); nothing more can happen to it"
        }
        switch command {
        case .pauseRequested:
            if let pause = state.pause { return "rollout is already paused (\(pause.kind.rawValue) since \(TimeText.format(pause.since)))" }
            if state.phase == .rollingBack { return "a rollback cannot be paused" }
        case .resumeRequested:
            if state.pause == nil { return "rollout is not paused (it is \(state.phase.rawValue))" }
        case .approved:
            if state.phase != .awaitingApproval {
                return "nothing awaits approval: rollout is \(state.displayPhase.rawValue)"
            }
        case .rollbackRequested:
            if state.phase == .rollingBack {
                // A rollback held by a failed fleet call: asking again retries it.
                if state.pause?.failedEffect != nil { return nil }
                return "rollout is already rolling back"
            }
            if plan.rollback == nil { return "the plan has no rollback target" }
        case .abortRequested:
            break
        default:
            break
        }
        return nil
    }

    /// Applies one event at instant `at`.
    package static func apply(_ event: RolloutEvent, to state: RolloutState, plan: RolloutPlan, at: Date) -> Transition {
        var step = Step(state: state, plan: plan, at: at)
        if !state.phase.isTerminal {
            step.handle(event)
        }
        if !state.phase.isTerminal {
            step.refreshTimers()
        }
        let changed = step.state != state || !step.effects.isEmpty || !step.verdicts.isEmpty
        if changed {
            step.state.eventCount = state.eventCount + 1
            step.state.updatedAt = at
        }
        return Transition(state: step.state, effects: step.effects, verdicts: step.verdicts, changed: changed)
    }

    /// An effect found in the outbox that no longer serves its purpose (the engine skips it), e.g. creating the
    /// job of a stage after an abort. Cancels and cleanups are never obsolete.
    package static func isObsolete(_ effect: Effect, in state: RolloutState) -> Bool {
        switch effect {
        case .prepare:
            return state.phase != .preparing
        case .createJob(let stage):
            return state.phase.isTerminal || state.phase == .rollingBack
                || !state.stages.indices.contains(stage) || state.stages[stage].status != .deploying
        case .createRollbackJob:
            return state.phase != .rollingBack || state.rollback?.devices != nil
        case .listRollbackStragglers:
            return state.phase != .rollingBack || state.rollback?.incompleteSince == nil
        case .cancelJob, .cleanUp, .notify:
            return false
        }
    }
}

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
            state.stages[stage].metrics.merge(metrics) { _, new in new }
            judge(stage)
        case .approved(let by):
            guard state.phase == .awaitingApproval else { return }
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
            guard state.pause == nil, state.phase != .rollingBack else { return }
            let pause = PauseInfo(kind: .requested, since: at, by: by, note: reason.isEmpty ? nil : reason)
            state.pause = pause
            state.note = .paused
            notify(.paused(pause), stage: nil)
        case .resumeRequested(let by):
            onResume(by: by)
        case .abortRequested(let by, let reason):
            onAbort(by: by, reason: reason)
        case .rollbackRequested(let by, let reason):
            if state.phase == .rollingBack {
                if state.pause?.failedEffect != nil { onResume(by: by) }
                return
            }
            guard plan.rollback != nil else { return }
            beginRollback(cause: .requested(by: by, reason: reason))
        case .jobCancelled(let stage):
            guard state.phase == .rollingBack, let rollback = state.rollback, rollback.devices == nil,
                  stage == state.currentStage else { return }
            effect("rollback-job", .createRollbackJob)
        case .rollbackJobCreated(let devices):
            guard state.phase == .rollingBack, state.rollback != nil, state.rollback?.devices == nil else { return }
            state.rollback!.devices = devices
            state.rollback!.jobCreatedAt = at
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
            let total = rollback.devices ?? 0
            state.rollback!.notRolledBack = Array(devices.prefix(RollbackState.notRolledBackListedMax))
            state.rollback!.notRolledBackCount = count
            // Zero: late reports arrived between the last poll and the listing, every device took the rollback.
            finishRollback(notRolledBack: count)
            _ = total
        case .effectFailed(let effect, let message):
            onEffectFailed(effect, message: message)
        }
    }

    // MARK: time

    mutating func onTime() {
        switch state.phase {
        case .scheduled:
            if let notBefore = plan.schedule.notBefore, at < notBefore { return }
            state.phase = .preparing
            state.note = .preparing
            effect("prepare", .prepare)
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
        for index in state.stages.indices {
            state.stages[index].devices = prepared.stageSizes[index]
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
        if !WindowSchedule.isOpen(at: at, windows: plan.schedule.windows) {
            state.phase = .waitingForWindow
            state.note = .waitingForWindow(stage: spec.name)
            return
        }
        state.phase = .deploying
        state.stages[index].status = .deploying
        state.stages[index].startedAt = at
        let devices = state.stages[index].devices ?? 0
        state.note = .stageStarted(stage: spec.name, devices: devices, approvedBy: state.stages[index].approvedBy)
        effect("create-job:\(spec.name)", .createJob(stage: index))
        notify(.stageStarted(devices: devices), stage: spec.name)
    }

    mutating func onJobCreated(_ index: Int) {
        guard state.phase == .deploying, index == state.currentStage, state.stages[index].status == .deploying else { return }
        state.phase = .baking
        state.stages[index].status = .baking
        state.stages[index].jobCreatedAt = at
        state.stages[index].judgingSince = at.addingTimeInterval(TimeInterval(plan.stages[index].bakeDurationSeconds))
        state.note = .jobCreated(stage: state.stages[index].name, bakeSeconds: plan.stages[index].bakeDurationSeconds)
    }

    /// Evaluates the current stage's gates on the evidence held in the state, and acts on the verdict.
    mutating func judge(_ index: Int) {
        guard state.phase == .baking, state.stages[index].status == .baking,
              let created = state.stages[index].jobCreatedAt else { return }
        let spec = plan.stages[index]
        let stage = state.stages[index]
        let bakeEnd = created.addingTimeInterval(TimeInterval(spec.bakeDurationSeconds))
        let judgingSince = stage.judgingSince ?? bakeEnd
        let evidence = GateEvidence(
            progress: stage.progress, stageDevices: stage.devices ?? 0,
            metrics: stage.metrics.mapValues(\.result), bakeOver: at >= bakeEnd,
            evidenceExpired: at >= judgingSince.addingTimeInterval(TimeInterval(plan.schedule.evidenceTimeoutSeconds)))
        let evaluation = GateEvaluator.assess(plan.gates(for: spec), evidence: evidence)
        if stage.lastEvaluation?.verdict != evaluation.verdict {
            verdicts.append(VerdictRecord(stage: spec.name, at: at, evaluation: evaluation))
            notify(.verdict(evaluation), stage: spec.name)
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
                effect("cancel-job:\(spec.name)", .cancelJob(stage: index, jobId: state.stages[index].jobId,
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

    // MARK: commands

    mutating func onResume(by: String) {
        guard let pause = state.pause else { return }
        state.pause = nil
        state.note = .resumed(by: by)
        if let failed = pause.failedEffect {
            effects.append(failed)
            state.note = .retrying(effectKey: failed.key, by: by)
        }
        switch pause.kind {
        case .requested, .effectFailed:
            takeHeldDecisions()
        case .gateFailed:
            state.stages[state.currentStage].overridden = true
            state.note = .resumedPastGate(by: by, stage: state.stages[state.currentStage].name)
            startStage(state.currentStage + 1)
        case .inconclusive:
            state.stages[state.currentStage].judgingSince = at
            judge(state.currentStage)
        }
    }

    /// What a pause held back, decided now: the start time or window, a stage approved while paused, a gate's pass.
    mutating func takeHeldDecisions() {
        switch state.phase {
        case .scheduled, .waitingForWindow:
            onTime()
        case .baking:
            judge(state.currentStage)
        case .awaitingApproval where state.stages[state.currentStage].approvedBy != nil:
            startStage(state.currentStage)
        default:
            break
        }
    }

    mutating func onAbort(by: String, reason: String) {
        cancelCurrentJob(reason: "aborted by \(by)")
        if let rollback = state.rollback, rollback.devices != nil {
            effect("cancel-job:rollback", .cancelJob(stage: nil, jobId: rollback.jobId, reason: "aborted by \(by)"))
        }
        state.phase = .aborted
        state.endedAt = at
        state.pause = nil
        state.note = .aborted(by: by, reason: reason)
        cleanUpJobs()
        notify(.aborted(by: by, reason: reason), stage: nil)
    }

    /// Cancels the current stage's job if it may exist (being created or running).
    mutating func cancelCurrentJob(reason: String) {
        let index = state.currentStage
        guard state.stages.indices.contains(index) else { return }
        switch state.stages[index].status {
        case .deploying, .baking:
            state.stages[index].status = .cancelled
            state.stages[index].endedAt = at
            effect("cancel-job:\(state.stages[index].name)", .cancelJob(stage: index, jobId: state.stages[index].jobId, reason: reason))
        case .failed:
            effect("cancel-job:\(state.stages[index].name)", .cancelJob(stage: index, jobId: state.stages[index].jobId, reason: reason))
        default:
            break
        }
    }

    /// The comment a cancelled job carries in the fleet (an argument of the call, shown in the AWS console).
    static func cancelReason(gateFailedIn stage: String, _ evaluation: GateEvaluation) -> String {
        "\(stage) gate failed: \(evaluation.deciding.map(\.reason).joined(separator: "; "))"
    }

    mutating func beginRollback(cause: RollbackCause) {
        let index = state.currentStage
        let jobMayExist = [.deploying, .baking, .failed].contains(state.stages[index].status)
        let cancelReason: String
        switch cause {
        case .gateFailed(let stage, let deciding):
            cancelReason = Self.cancelReason(gateFailedIn: stage, GateEvaluation(verdict: .fail, results: deciding))
        case .requested(let by, let reason):
            cancelReason = reason.isEmpty ? "rollback requested by \(by)" : "rollback requested by \(by): \(reason)"
        }
        cancelCurrentJob(reason: cancelReason)
        state.phase = .rollingBack
        state.pause = nil
        state.rollback = RollbackState(cause: cause, requestedAt: at,
                                       jobId: RolloutState.jobId(rolloutId: state.rolloutId, stage: "rollback"))
        state.note = .rollingBack
        if !jobMayExist {
            effect("rollback-job", .createRollbackJob)
        }
        notify(.rollingBack(cause), stage: state.stages[index].name)
    }

    /// The rollback job is over (or stopped reporting): done if every device took it, else list those that did not.
    mutating func settleRollback() {
        guard let rollback = state.rollback, let devices = rollback.devices else { return }
        if rollback.progress.succeeded >= devices {
            finishRollback()
            return
        }
        state.rollback!.incompleteSince = at
        state.note = .rollbackJobOver(succeeded: rollback.progress.succeeded, devices: devices)
        effect("list-rollback-stragglers", .listRollbackStragglers(jobId: rollback.jobId))
    }

    /// Ends the rollback: `rolledBack`, or `rollbackIncomplete` when `notRolledBack` devices did not take it.
    mutating func finishRollback(notRolledBack: Int = 0) {
        let devices = state.rollback?.devices ?? 0
        let version = plan.rollback?.version ?? ""
        state.phase = notRolledBack > 0 ? .rollbackIncomplete : .rolledBack
        state.endedAt = at
        state.pause = nil
        state.rollback?.endedAt = at
        cleanUpJobs()
        if let jobId = state.rollback?.jobId, devices > 0 {
            effect("cleanup:\(jobId)", .cleanUp(jobId: jobId))
        }
        if notRolledBack > 0 {
            state.note = .rollbackIncomplete(version: version, release: plan.release.version, notRolledBack: notRolledBack,
                                             devices: devices)
            notify(.rollbackIncomplete(version: version, notRolledBack: notRolledBack, devices: devices), stage: nil)
        } else {
            state.note = .rolledBack(version: version, devices: devices)
            notify(.rolledBack(version: version, devices: devices), stage: nil)
        }
    }

    /// A fleet call failed for good. The rollout waits for a person, whatever its phase (a rollback too: while a
    /// device may hold the new firmware nothing ends by itself); resume (or, rolling back, rollback) retries the call.
    mutating func onEffectFailed(_ failed: EffectRecord, message: String) {
        state.note = .effectFailed(effectKey: failed.key, error: message)
        if state.pause != nil {
            // Already held (a person's pause, a failed gate): keep its kind; resume also retries this call.
            state.pause!.failedEffect = failed
            state.pause!.failedEffectError = message
        } else {
            state.pause = PauseInfo(kind: .effectFailed, since: at, by: "engine", failedEffect: failed,
                                    failedEffectError: message)
        }
        notify(.paused(state.pause!), stage: nil)
    }

    mutating func cleanUpJobs() {
        for stage in state.stages where stage.jobCreatedAt != nil || stage.status == .cancelled {
            effect("cleanup:\(stage.jobId)", .cleanUp(jobId: stage.jobId))
        }
    }

    // MARK: outputs

    mutating func effect(_ key: String, _ effect: Effect) {
        effects.append(EffectRecord(key: key, effect: effect))
    }

    mutating func notify(_ fact: NotificationFact, stage: String?) {
        guard !plan.notifications.isEmpty else { return }
        let notification = RolloutNotification(rolloutId: state.rolloutId, stage: stage, phase: state.displayPhase,
                                               fact: fact)
        effect("notify:\(state.eventCount + 1):\(effects.count)", .notify(notification))
    }

    /// Sets `dueAt` and `waiting` from the phase.
    mutating func refreshTimers() {
        state.dueAt = nil
        state.waiting = nil
        if state.pause != nil, !state.phase.isTerminal {
            state.waiting = .resume
            return
        }
        let stageName = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage].name : ""
        switch state.phase {
        case .scheduled:
            state.dueAt = plan.schedule.notBefore
            state.waiting = plan.schedule.notBefore.map { .startTime($0) }
        case .waitingForWindow:
            let opening = WindowSchedule.nextOpening(atOrAfter: at, windows: plan.schedule.windows)
            state.dueAt = opening
            state.waiting = .window(stage: stageName, opensAt: opening)
        case .preparing:
            state.waiting = .preparation
        case .deploying:
            state.waiting = .jobCreation(stage: stageName)
        case .awaitingApproval:
            state.waiting = .approval(stage: stageName)
        case .baking:
            let index = state.currentStage
            guard let created = state.stages[index].jobCreatedAt else { return }
            let bakeEnd = created.addingTimeInterval(TimeInterval(plan.stages[index].bakeDurationSeconds))
            let deadline = (state.stages[index].judgingSince ?? bakeEnd)
                .addingTimeInterval(TimeInterval(plan.schedule.evidenceTimeoutSeconds))
            if at < bakeEnd {
                state.dueAt = bakeEnd
                state.waiting = .bake(stage: stageName, until: bakeEnd)
            } else {
                state.dueAt = deadline
                state.waiting = .gates(stage: stageName, until: deadline)
            }
        case .rollingBack:
            if state.rollback?.incompleteSince != nil {
                state.waiting = .rollbackStragglers
            } else if let created = state.rollback?.jobCreatedAt {
                let deadline = created.addingTimeInterval(TimeInterval(plan.schedule.evidenceTimeoutSeconds))
                state.dueAt = deadline
                state.waiting = .rollbackJob(until: deadline)
            } else {
                state.waiting = .rollbackStart
            }
        case .paused, .completed, .rolledBack, .rollbackIncomplete, .aborted, .failed:
            break
        }
    }
}

/// Instants as people read them in logs and status: RFC 3339 in UTC.
package enum TimeText {
    package static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
