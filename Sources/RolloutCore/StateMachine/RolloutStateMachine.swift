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
/// any live         --pauseRequested-->                         same phase + pause (a queued createJob is held)
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
        case .promoteRequested(_, _, let stage):
            return promoteRejection(state: state, plan: plan, stage: stage)
        case .abortRequested:
            break
        case .deviceExcluded(let thing, _, let cancel, _, _, _):
            let exclusions = state.exclusions ?? []
            if let earlier = exclusions.first(where: { $0.thing == thing }), earlier.cancelled || !cancel {
                return "\(thing) was already \(earlier.cancelled ? "cancelled" : "excluded") by \(earlier.by) at "
                    + TimeText.format(earlier.at)
            }
            if exclusions.count >= DeviceExclusion.perRolloutMax, !exclusions.contains(where: { $0.thing == thing }) {
                return "a rollout takes at most \(DeviceExclusion.perRolloutMax) devices out by hand; leave more out "
                    + "with the plan's fleet.exclude"
            }
        default:
            break
        }
        return nil
    }

    /// Why a promote makes no sense now, or nil: a stage still baking can have its bake ended, a wait for the start
    /// time or a maintenance window can be skipped; never while paused, never in place of an approval.
    static func promoteRejection(state: RolloutState, plan: RolloutPlan, stage wanted: String? = nil) -> String? {
        if state.pause != nil { return "rollout is paused: resume it first" }
        let current = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage] : nil
        if let wanted, state.phase != .scheduled, current?.name != wanted {
            return "the current stage is \(current?.name ?? "none"), not \(wanted)"
        }
        switch state.phase {
        case .scheduled where plan.schedule.notBefore != nil:
            if let wanted, wanted != plan.stages.first?.name {
                return "the rollout has not started; its first stage is \(plan.stages.first?.name ?? "none"), not \(wanted)"
            }
            return nil
        case .waitingForWindow:
            return nil
        case .awaitingApproval:
            return "\(current?.name ?? "the stage") awaits approval: approve it (rollout approve \(state.rolloutId)); "
                + "promote ends a bake or skips a wait for a start time or window"
        case .baking:
            guard let current else { return "nothing bakes" }
            if current.bakeEndedEarlyAt != nil { return "the bake of \(current.name) was already ended early" }
            return nil
        default:
            return "nothing bakes or waits: rollout is \(state.displayPhase.rawValue)"
        }
    }

    /// Applies one event at instant `at`.
    package static func apply(_ event: RolloutEvent, to state: RolloutState, plan: RolloutPlan, at: Date) -> Transition {
        var step = Step(state: state, plan: plan, at: at)
        if !state.phase.isTerminal {
            step.handle(event)
        }
        if !state.phase.isTerminal {
            step.refreshTimers()
            // The rollout ends now: its jobs are kept for the plan's retention, then deleted.
            if step.state.phase.isTerminal, let retention = plan.aws?.retentionSeconds {
                step.state.purgeDueAt = (step.state.endedAt ?? at).addingTimeInterval(TimeInterval(retention))
            }
        } else if case .purged(let jobs) = event, state.purgedAt == nil {
            // The one fact an ended rollout still takes.
            step.state.purgeDueAt = nil
            step.state.purgedAt = at
            step.state.note = .purged(jobs: jobs)
        }
        let changed = step.state != state || !step.effects.isEmpty || !step.verdicts.isEmpty
        if changed {
            step.state.eventCount = state.eventCount + 1
            step.state.updatedAt = at
        }
        return Transition(state: step.state, effects: step.effects, verdicts: step.verdicts, changed: changed)
    }

    /// An effect the outbox keeps but the engine must not perform yet: a stage's job queued before a pause came into
    /// force waits for `resume` (a pause holds everything; it stays obsolete-checked as usual, so an abort drops it).
    package static func isHeld(_ effect: Effect, in state: RolloutState) -> Bool {
        if case .createJob = effect { return state.pause != nil }
        return false
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
        case .cancelJob, .cleanUp, .notify, .cancelExecution:
            return false
        }
    }
}
