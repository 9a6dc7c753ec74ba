import Foundation

/// A side effect the state machine wants; the engine performs it. Written to the outbox in the same transaction
/// as the event that caused it, and idempotent, so performing it again after a crash is harmless.
public enum Effect: Codable, Equatable, Sendable {
    /// Stage the artifacts, read the fleet's inventory and split it into stages → `prepared`.
    case prepare
    /// Create the stage's job (deterministic id) → `jobCreated`.
    case createJob(stage: Int)
    /// Cancel a job → `jobCancelled` (for a stage's job; the rollback job's cancel has no `stage` and no event).
    case cancelJob(stage: Int?, jobId: String, reason: String)
    /// Create the rollback job for every device that took (or was taking) the new firmware → `rollbackJobCreated`.
    case createRollbackJob
    /// List the devices that did not take the rollback job → `rollbackStragglersListed`.
    case listRollbackStragglers(jobId: String)
    /// Remove temporary fleet resources of a job (temporary thing groups). No completion event.
    case cleanUp(jobId: String)
    /// Tell the plan's webhooks. No completion event; failures never block the rollout.
    case notify(RolloutNotification)

    public var kind: String {
        switch self {
        case .prepare: return "prepare"
        case .createJob: return "createJob"
        case .cancelJob: return "cancelJob"
        case .createRollbackJob: return "createRollbackJob"
        case .listRollbackStragglers: return "listRollbackStragglers"
        case .cleanUp: return "cleanUp"
        case .notify: return "notify"
        }
    }
}

/// An effect with its deterministic key (unique per rollout).
public struct EffectRecord: Codable, Equatable, Sendable {
    public var key: String
    public var effect: Effect

    public init(key: String, effect: Effect) {
        self.key = key
        self.effect = effect
    }
}

/// A webhook message: JSON with a Slack-compatible `text`.
public struct RolloutNotification: Codable, Equatable, Sendable {
    /// `started`, `stageStarted`, `verdict`, `paused`, `rollingBack`, `completed`, `rolledBack`, `aborted`, `failed`.
    public var kind: String
    public var rolloutId: String
    public var stage: String?
    public var phase: RolloutPhase
    public var text: String

    public init(kind: String, rolloutId: String, stage: String?, phase: RolloutPhase, text: String) {
        self.kind = kind
        self.rolloutId = rolloutId
        self.stage = stage
        self.phase = phase
        self.text = text
    }
}

/// A gate evaluation worth keeping: the first of a stage, and every change of verdict.
public struct VerdictRecord: Codable, Equatable, Sendable {
    public var stage: String
    public var at: Date
    public var evaluation: GateEvaluation

    public init(stage: String, at: Date, evaluation: GateEvaluation) {
        self.stage = stage
        self.at = at
        self.evaluation = evaluation
    }
}
