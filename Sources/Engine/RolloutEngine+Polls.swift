import Foundation
import Logging
import RolloutCore
import RolloutText

/// Timers and polls: the rollout's own due time, and fresh evidence from the fleet and the metric sources.
extension RolloutEngine {
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
                let plan = runtime.rollout.plan
                let values = MetricQueryTemplate.Values(stage: stage.name, rolloutId: state.rolloutId,
                                                        version: plan.release.version)
                let due = plan.gates(for: plan.stages[index]).metrics.filter {
                    $0.policy.isDue(tally: stage.measurements?[$0.name], bakeStartedAt: stage.jobCreatedAt ?? now, now: now,
                                    defaultIntervalSeconds: configuration.pollIntervalSeconds)
                }
                let requests = due.map { gate in
                    var own = values
                    own.windowStart = stage.measurements?[gate.name]?.lastAt ?? stage.jobCreatedAt
                    return MetricRequest(gate, values: own)
                }
                let metrics = due.isEmpty ? [:] : await metricSource.readAll(requests)
                event = .progressObserved(stage: index, progress: progress, metrics: metrics)
            }
        } catch FleetError.capacity(let wait) {
            // Over the account's request quota: the fleet said when to ask again; not a failing poll.
            if let after = wait.retryAfterSeconds { runtime.nextPollAt = now.addingTimeInterval(max(after, 0.001)) }
            logger.debug("poll waits for fleet capacity", metadata: ["rollout": "\(state.rolloutId)", "wait": "\(wait)"])
            return false
        } catch {
            counters.withLock { $0.pollErrors += 1 }
            readModel.pollFailed(rolloutId: state.rolloutId, error: "\(error)", at: now)
            logger.warning("poll failed", metadata: [
                "rollout": "\(state.rolloutId)", "error": "\(CredentialRedaction.text("\(error)"))",
            ])
            return false
        }
        readModel.pollSucceeded(rolloutId: state.rolloutId)
        let before = runtime.rollout.state
        try commit(event, runtime: &runtime, force: false)
        return runtime.rollout.state != before
    }
}
