import Foundation

/// The last notable thing that happened to a rollout, or why it ended: a fact. `RolloutText` (at the edges: CLI,
/// API, webhooks, logs) says it in words, so rewording never changes persisted state.
package enum RolloutNote: Codable, Equatable, Sendable {
    case preparing
    case awaitingApproval(stage: String)
    /// The stage is ready to start but a pause holds it.
    case stageHeld(stage: String)
    case waitingForWindow(stage: String)
    case stageStarted(stage: String, devices: Int, approvedBy: String?)
    /// `held`: given while paused, acted on at resume.
    case approved(stage: String, by: String, held: Bool)
    case jobCreated(stage: String, bakeSeconds: Int)
    /// A pause began (its facts are in `RolloutState.pause`).
    case paused
    case resumed(by: String)
    case resumedPastGate(by: String, stage: String)
    /// A person ended the stage's bake early; its gates judge now.
    case promoted(stage: String, by: String)
    /// A person skipped a wait: the start time (`stage` nil) or `stage`'s maintenance window.
    case promotedPastWait(stage: String?, by: String)
    /// A person took a device out (`stage`: where it was assigned; `cancelled`: its execution too).
    case deviceExcluded(thing: String, stage: String?, cancelled: Bool, by: String)
    /// The ended rollout's jobs and job documents were deleted (`aws.retention`).
    case purged(jobs: Int)
    case retrying(effectKey: String, by: String)
    /// A fleet call failed for good (the rollout waits for a person).
    case effectFailed(effectKey: String, error: String)
    case aborted(by: String, reason: String)
    /// A rollback began (its cause is in `RolloutState.rollback`).
    case rollingBack
    case rollbackJobCreated(devices: Int)
    case rollbackJobOver(succeeded: Int, devices: Int)
    case completed(version: String, devices: Int)
    /// `devices == 0`: no device had taken the new firmware.
    case rolledBack(version: String, devices: Int)
    case rollbackIncomplete(version: String, release: String, notRolledBack: Int, devices: Int)
}

/// What a live rollout waits for: a fact (see `RolloutNote`).
package enum Waiting: Codable, Equatable, Sendable {
    case startTime(Date)
    /// `opensAt` nil: no window ever opens.
    case window(stage: String, opensAt: Date?)
    case preparation
    case jobCreation(stage: String)
    case approval(stage: String)
    case bake(stage: String, until: Date)
    /// The bake is over; the gates need evidence until the deadline.
    case gates(stage: String, until: Date)
    /// A pause is in force (`RolloutState.pause` says which and why).
    case resume
    case rollbackStart
    case rollbackJob(until: Date)
    case rollbackStragglers
}

/// Why a rollback began.
package enum RollbackCause: Codable, Equatable, Sendable {
    /// The stage's gates failed; `deciding` are the failing results as judged then.
    case gateFailed(stage: String, deciding: [GateResult])
    case requested(by: String, reason: String)
}
