import Foundation

/// What a step produces besides the state: effects, notifications, timers.
extension Step {

    /// Queues an effect under its deterministic key (`Effect.key`).
    mutating func effect(_ effect: Effect) {
        effects.append(EffectRecord(key: effect.key(stageNames: state.stages.map(\.name)), effect: effect))
    }

    mutating func notify(_ fact: NotificationFact, stage: String?) {
        guard !plan.notifications.isEmpty else { return }
        let notification = RolloutNotification(rolloutId: state.rolloutId, stage: stage, phase: state.displayPhase,
                                               fact: fact)
        // Keyed by the event that caused it and its place among that event's effects: repeated kinds stay distinct.
        effects.append(EffectRecord(key: Effect.notificationKey(event: state.eventCount + 1, index: effects.count),
                                    effect: .notify(notification)))
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
            let bakeEnd = Step.bakeEnd(of: state.stages[index], created: created,
                                       bakeSeconds: plan.stages[index].bakeDurationSeconds,
                                       schedule: plan.schedule)
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
