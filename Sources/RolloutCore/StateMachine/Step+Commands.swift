import Foundation

/// What people ask (resume, abort, rollback) and how a rollback ends; failed fleet calls.
extension Step {
    mutating func onResume(by: String) {
        guard let pause = state.pause else { return }
        if pause.kind == .gateFailed, let failed = pause.failedEffect {
            // The failed stage's job could not be cancelled: retry that first and stay held. Overriding the gate
            // now would start the next wave while the bad one may still be installing.
            effects.append(failed)
            state.pause!.failedEffect = nil
            state.pause!.failedEffectError = nil
            state.note = .retrying(effectKey: failed.key, by: by)
            return
        }
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
            // Measuring starts afresh (a count, errors in a row); the measurements seen stay for people.
            state.stages[state.currentStage].measurements = state.stages[state.currentStage].measurements?
                .mapValues { $0.restarted() }
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

    /// Ends the current stage's bake now (the gates judge at once and must still pass; the evidence deadline counts
    /// from now), or skips the wait for the start time or the current stage's maintenance window.
    mutating func onPromote(by: String) {
        let index = state.currentStage
        switch state.phase {
        case .scheduled:
            state.startWaivedBy = by
            onTime()
            state.note = .promotedPastWait(stage: nil, by: by)
            return
        case .waitingForWindow where state.pause == nil && state.stages.indices.contains(index):
            state.stages[index].windowWaivedBy = by
            startStage(index)
            state.note = .promotedPastWait(stage: state.stages[index].name, by: by)
            return
        default:
            break
        }
        guard state.phase == .baking, state.pause == nil, state.stages.indices.contains(index),
              state.stages[index].status == .baking, state.stages[index].bakeEndedEarlyAt == nil else { return }
        state.stages[index].bakeEndedEarlyAt = at
        state.stages[index].judgingSince = at
        state.note = .promoted(stage: state.stages[index].name, by: by)
        judge(index)
    }

    /// When a stage's bake ends: its planned length after the job's creation, or earlier if a person promoted it.
    static func bakeEnd(of stage: StageState, created: Date, bakeSeconds: Int, schedule: Schedule) -> Date {
        let planned = schedule.bakeEnd(start: created, seconds: bakeSeconds)
        return stage.bakeEndedEarlyAt.map { min($0, planned) } ?? planned
    }

    mutating func onAbort(by: String, reason: String) {
        cancelStartedJobs(reason: "aborted by \(by)")
        if let rollback = state.rollback {
            // Its creation may be under way (a cancel of a job never created is answered as done).
            effect(.cancelJob(stage: nil, jobId: rollback.jobId, reason: "aborted by \(by)"))
        }
        state.phase = .aborted
        state.endedAt = at
        state.pause = nil
        state.note = .aborted(by: by, reason: reason)
        cleanUpJobs()
        notify(.aborted(by: by, reason: reason), stage: nil)
    }

    /// Cancels the job of every stage that started (its job may exist), passed stages included: a passed stage's
    /// job may still hold queued executions (devices that were offline) that would install the new firmware later.
    /// A stage still running is marked cancelled. Returns the stages whose cancel was queued.
    @discardableResult
    mutating func cancelStartedJobs(reason: String) -> [Int] {
        var cancelled: [Int] = []
        for index in state.stages.indices where state.stages[index].startedAt != nil {
            switch state.stages[index].status {
            case .deploying, .baking:
                state.stages[index].status = .cancelled
                state.stages[index].endedAt = at
            case .pending, .passed, .failed, .skipped, .cancelled:
                break
            }
            effect(.cancelJob(stage: index, jobId: state.stages[index].jobId, reason: reason))
            cancelled.append(index)
        }
        return cancelled
    }
    /// The comment a cancelled job carries in the fleet (an argument of the call, shown in the AWS console).
    static func cancelReason(gateFailedIn stage: String, _ evaluation: GateEvaluation) -> String {
        "\(stage) gate failed: \(evaluation.deciding.map(\.reason).joined(separator: "; "))"
    }

    mutating func beginRollback(cause: RollbackCause) {
        let index = state.currentStage
        let cancelReason: String
        switch cause {
        case .gateFailed(let stage, let deciding):
            cancelReason = Self.cancelReason(gateFailedIn: stage, GateEvaluation(verdict: .fail, results: deciding))
        case .requested(let by, let reason):
            cancelReason = reason.isEmpty ? "rollback requested by \(by)" : "rollback requested by \(by): \(reason)"
        }
        let cancelling = cancelStartedJobs(reason: cancelReason)
        state.phase = .rollingBack
        state.pause = nil
        state.rollback = RollbackState(cause: cause, requestedAt: at,
                                       jobId: RolloutState.jobId(rolloutId: state.rolloutId, stage: "rollback"))
        state.rollback!.cancelsPending = cancelling
        state.note = .rollingBack
        if cancelling.isEmpty {
            effect(.createRollbackJob)
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
        effect(.listRollbackStragglers(jobId: rollback.jobId))
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

    /// Removes the temporary fleet resources of every job that may exist: stage jobs, and the rollback job unless it
    /// was known to target nobody (its creation may be under way when an abort ends the rollout).
    mutating func cleanUpJobs() {
        for stage in state.stages where stage.jobCreatedAt != nil || stage.status == .cancelled {
            effect(.cleanUp(jobId: stage.jobId))
        }
        if let rollback = state.rollback, rollback.devices != 0 {
            effect(.cleanUp(jobId: rollback.jobId))
        }
    }
}

/// A device taken out by a person (`rollout device exclude|cancel`).
extension Step {
    /// Records the exclusion. A device of a stage not started yet is left out of its job (its count leaves the
    /// stage); one already in a started stage's job keeps running unless `cancel`, which cancels its execution (and
    /// the stage stops waiting for its outcome). Asking to cancel a device excluded earlier cancels it then.
    mutating func onDeviceExcluded(thing: String, stage: Int?, cancel: Bool, force: Bool, by: String, reason: String?) {
        let index = stage.flatMap { state.stages.indices.contains($0) ? $0 : nil }
        var exclusions = state.exclusions ?? []
        let position: Int
        let queueCancel: Bool
        if let earlier = exclusions.firstIndex(where: { $0.thing == thing }) {
            // `rejection` lets through only a cancel of a device excluded without one.
            position = earlier
            queueCancel = exclusions[earlier].inJob
            exclusions[earlier].cancelled = true
            exclusions[earlier].force = force
        } else {
            let inJob = index.map { state.stages[$0].startedAt != nil } ?? false
            exclusions.append(DeviceExclusion(thing: thing, stage: index.map { state.stages[$0].name }, by: by,
                                              reason: reason, at: at, cancelled: cancel, force: force, inJob: inJob))
            position = exclusions.count - 1
            queueCancel = inJob && cancel
            if let index, !inJob, let devices = state.stages[index].devices {
                state.stages[index].devices = max(0, devices - 1)
            }
        }
        if queueCancel, let index {
            effect(.cancelExecution(jobId: state.stages[index].jobId, thing: thing, force: force))
            if let devices = state.stages[index].devices { state.stages[index].devices = max(0, devices - 1) }
        }
        state.exclusions = exclusions
        state.note = .deviceExcluded(thing: thing, stage: exclusions[position].stage, cancelled: cancel, by: by)
    }
}
