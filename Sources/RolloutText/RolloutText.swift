import Foundation
import RolloutCore

/// Sentences for people, made at the edges (CLI, HTTP API, status page, webhooks, logs) from the facts the core
/// keeps. The core never stores these: rewording one here changes no persisted state, and an old event log still
/// replays to its stored facts.
package enum RolloutText {
    /// What a live rollout waits for (the API's `waitingFor`); nil when it waits for nothing (or has ended).
    package static func waiting(_ state: RolloutState) -> String? {
        guard let waiting = state.waiting else { return nil }
        switch waiting {
        case .startTime(let at):
            return "start time \(TimeText.format(at))"
        case .window(let stage, let opensAt):
            return opensAt.map { "maintenance window opening at \(TimeText.format($0)) for \(stage)" }
                ?? "a maintenance window (none ever opens: check schedule.windows)"
        case .preparation:
            return "artifacts and cohorts"
        case .jobCreation(let stage):
            return "job creation for \(stage)"
        case .approval(let stage):
            return "approval of \(stage)"
        case .bake(let stage, let until):
            return "\(stage) bake until \(TimeText.format(until))"
        case .gates(let stage, _):
            let evaluation = state.stages.first { $0.name == stage }?.lastEvaluation
            return "\(stage) gates: " + (evaluation?.summary ?? "first evidence")
        case .resume:
            return state.pause.map { "resume (\(pause($0, phase: state.phase)))" } ?? "resume"
        case .rollbackStart:
            return "cancellation and rollback job creation"
        case .rollbackJob:
            return "rollback job to finish"
        case .rollbackStragglers:
            return "the list of devices that did not take the rollback"
        }
    }

    /// The last notable thing that happened, or why the rollout ended (the API's `message`).
    package static func note(_ state: RolloutState) -> String? {
        guard let note = state.note else { return nil }
        switch note {
        case .preparing:
            return "preparing: staging artifacts and assigning cohorts"
        case .awaitingApproval(let stage):
            return "\(stage) awaits approval"
        case .stageHeld(let stage):
            return "\(stage) is ready to start; held by the pause"
        case .waitingForWindow(let stage):
            return "\(stage) waits for a maintenance window"
        case .stageStarted(let stage, let devices, let approvedBy):
            return "\(stage) starting on \(devices) devices" + (approvedBy.map { " (approved by \($0))" } ?? "")
        case .approved(let stage, let by, let held):
            return "\(stage) approved by \(by)" + (held ? "; starts when resumed" : "")
        case .jobCreated(let stage, let bakeSeconds):
            return "\(stage) job created; baking \(DurationText.format(bakeSeconds))"
        case .paused:
            return state.pause.map { pause($0, phase: state.phase) } ?? "paused"
        case .resumed(let by):
            return "resumed by \(by)"
        case .resumedPastGate(let by, let stage):
            return "resumed by \(by) past the failed gate of \(stage)"
        case .promoted(let stage, let by):
            return "\(stage) bake ended early by \(by); its gates judge now and must still pass"
        case .promotedPastWait(let stage, let by):
            return stage.map { "\($0) started outside its maintenance windows by \(by)" }
                ?? "started before its start time by \(by)"
        case .purged(let jobs):
            return "its \(jobs) job\(jobs == 1 ? "" : "s") and their job documents deleted after the plan's retention"
        case .deviceExcluded(let thing, let stage, let cancelled, let by):
            let place = stage.map { " (\($0))" } ?? ""
            return cancelled ? "\(thing)\(place) taken out of the rollout by \(by), its execution's cancel requested"
                : "\(thing)\(place) taken out of later stages by \(by)"
        case .retrying(let key, let by):
            return "resumed by \(by): retrying \(key)"
        case .effectFailed(let key, let error):
            let held = state.phase == .rollingBack && state.pause?.kind == .effectFailed
            return (held ? "rollback held: " : "") + "\(key) failed: \(error)"
        case .aborted(let by, let reason):
            return reason.isEmpty ? "aborted by \(by)" : "aborted by \(by): \(reason)"
        case .rollingBack:
            return "rolling back: " + rollbackCause(state.rollback?.cause)
        case .rollbackJobCreated(let devices):
            return "rollback job created for \(devices) devices"
        case .rollbackJobOver(let succeeded, let devices):
            return "rollback job over: \(succeeded) of \(devices) devices rolled back; listing the others"
        case .completed(let version, let devices):
            return "completed: \(version) on \(devices) devices"
        case .rolledBack(let version, let devices):
            return devices == 0 ? "rolled back: no device had taken the new firmware"
                : "rolled back \(devices) devices to \(version)"
        case .rollbackIncomplete(let version, let release, let notRolledBack, let devices):
            return "rollback incomplete: \(notRolledBack) of \(devices) devices did not take \(version) "
                + "and may still run \(release)"
        }
    }

    /// Why a rollout is paused.
    package static func pause(_ pause: PauseInfo, phase: RolloutPhase) -> String {
        let reasons = (pause.deciding ?? []).map(\.reason).joined(separator: "; ")
        var text: String
        switch pause.kind {
        case .requested:
            text = pause.note.map { "paused by \(pause.by): \($0)" } ?? "paused by \(pause.by)"
        case .gateFailed:
            text = "\(pause.stage ?? "a stage") gate failed: \(reasons)"
        case .inconclusive:
            text = "\(pause.stage ?? "a stage") gates inconclusive: \(reasons)"
        case .effectFailed:
            text = (phase == .rollingBack ? "rollback held: " : "")
                + "\(pause.failedEffect?.key ?? "a fleet call") failed: \(pause.failedEffectError ?? "unknown error")"
        }
        if pause.kind != .effectFailed, let failed = pause.failedEffect {
            text += "; then \(failed.key) failed: \(pause.failedEffectError ?? "unknown error")"
        }
        return text
    }

    /// Why a rollback began.
    package static func rollbackCause(_ cause: RollbackCause?) -> String {
        switch cause {
        case .gateFailed(let stage, let deciding):
            return "\(stage) gate failed: \(deciding.map(\.reason).joined(separator: "; "))"
        case .requested(let by, let reason):
            return reason.isEmpty ? "rollback requested by \(by)" : "rollback requested by \(by): \(reason)"
        case nil:
            return "recorded by an older version"
        }
    }

    /// A webhook's Slack-compatible `text`.
    package static func notification(_ notification: RolloutNotification) -> String {
        let id = notification.rolloutId
        let stage = notification.stage ?? "the rollout"
        switch notification.fact {
        case .started(let firmware, let version):
            return "rollout \(id) started: \(firmware) \(version)"
        case .stageStarted(let devices):
            return "\(id): \(stage) started on \(devices) devices"
        case .awaitingApproval:
            return "\(id): \(stage) awaits approval"
        case .verdict(let evaluation):
            return "\(id): \(stage) gates \(evaluation.summary)"
        case .paused(let pause):
            let phase: RolloutPhase = pause.failedEffect.map { $0.key.hasPrefix("rollback") ? .rollingBack : .baking }
                ?? notification.phase
            return "\(id) paused: \(self.pause(pause, phase: phase))"
                + (pause.failedEffect != nil ? "; `rollout resume` retries it" : "")
        case .rollingBack(let cause):
            return "\(id) rolling back: \(rollbackCause(cause))"
        case .completed(let version, let devices):
            return "\(id) completed: \(version) on \(devices) devices"
        case .rolledBack(let version, let devices):
            return devices == 0 ? "\(id) rolled back: no device had taken the new firmware"
                : "\(id) rolled back \(devices) devices to \(version)"
        case .rollbackIncomplete(let version, let notRolledBack, let devices):
            return "\(id) rollback incomplete: \(notRolledBack) of \(devices) devices did not take \(version) "
                + "and may still run the new firmware"
        case .aborted(let by, let reason):
            return "\(id) aborted by \(by)" + (reason.isEmpty ? "" : ": \(reason)")
        case .recorded(_, let text):
            return text
        }
    }
}
