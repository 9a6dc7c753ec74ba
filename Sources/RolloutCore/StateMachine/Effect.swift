import Foundation

/// A side effect the state machine wants; the engine performs it. Written to the outbox in the same transaction
/// as the event that caused it, and idempotent, so performing it again after a crash is harmless.
package enum Effect: Codable, Equatable, Sendable {
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
    /// Cancel one device's execution of a job (`rollout device cancel`). No completion event: the execution's
    /// status says it; an execution that is already over or absent counts as done.
    case cancelExecution(jobId: String, thing: String, force: Bool)

    package var kind: String {
        switch self {
        case .prepare: return "prepare"
        case .createJob: return "createJob"
        case .cancelJob: return "cancelJob"
        case .createRollbackJob: return "createRollbackJob"
        case .listRollbackStragglers: return "listRollbackStragglers"
        case .cleanUp: return "cleanUp"
        case .notify: return "notify"
        case .cancelExecution: return "cancelExecution"
        }
    }
}

extension Effect {
    /// The effect's deterministic key within its rollout: its identity in the outbox (queuing an effect whose key is
    /// there queues it again), so a crash and a replay never make a second one. `stageNames` names stage indexes.
    /// Notifications are keyed by the event that caused them (`notificationKey`), not by their content.
    package func key(stageNames: [String]) -> String {
        func stage(_ index: Int) -> String { stageNames.indices.contains(index) ? stageNames[index] : "\(index)" }
        switch self {
        case .prepare: return "prepare"
        case .createJob(let index): return "create-job:\(stage(index))"
        case .cancelJob(let index, _, _): return "cancel-job:" + (index.map(stage) ?? "rollback")
        case .createRollbackJob: return "rollback-job"
        case .listRollbackStragglers: return "list-rollback-stragglers"
        case .cleanUp(let jobId): return "cleanup:\(jobId)"
        case .cancelExecution(let jobId, let thing, _): return "cancel-execution:\(jobId):\(thing)"
        case .notify: preconditionFailure("a notification's key comes from its event: use Effect.notificationKey")
        }
    }

    /// `notify:<event sequence>:<index among that event's effects>`.
    package static func notificationKey(event: Int, index: Int) -> String {
        "notify:\(event):\(index)"
    }
}

/// An effect with its deterministic key (unique per rollout).
package struct EffectRecord: Codable, Equatable, Sendable {
    package var key: String
    package var effect: Effect

    package init(key: String, effect: Effect) {
        self.key = key
        self.effect = effect
    }
}

/// What the plan's webhooks are told: facts (`RolloutText.notification` writes the Slack-compatible `text`).
package struct RolloutNotification: Codable, Equatable, Sendable {
    package var rolloutId: String
    package var stage: String?
    package var phase: RolloutPhase
    package var fact: NotificationFact

    package init(rolloutId: String, stage: String?, phase: RolloutPhase, fact: NotificationFact) {
        self.rolloutId = rolloutId
        self.stage = stage
        self.phase = phase
        self.fact = fact
    }

    package var kind: NotificationKind { fact.kind }

    enum CodingKeys: String, CodingKey {
        case rolloutId, stage, phase, fact
        /// Written by older versions instead of `fact`.
        case kind, text
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rolloutId = try container.decode(String.self, forKey: .rolloutId)
        stage = try container.decodeIfPresent(String.self, forKey: .stage)
        phase = try container.decode(RolloutPhase.self, forKey: .phase)
        if let fact = try container.decodeIfPresent(NotificationFact.self, forKey: .fact) {
            self.fact = fact
        } else {
            // A notification queued by an older version: its kind and sentence as they were.
            fact = .recorded(kind: try container.decode(String.self, forKey: .kind),
                             text: try container.decode(String.self, forKey: .text))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rolloutId, forKey: .rolloutId)
        try container.encodeIfPresent(stage, forKey: .stage)
        try container.encode(phase, forKey: .phase)
        try container.encode(fact, forKey: .fact)
    }
}

/// The kinds of notification, as webhooks receive them in `kind`.
package enum NotificationKind: String, Codable, Sendable, CaseIterable {
    case started, stageStarted, awaitingApproval, verdict, paused, rollingBack, completed, rolledBack
    case rollbackIncomplete, aborted
    /// Sent by older versions when a rollback could not complete.
    case failed
}

/// What a notification tells, as facts.
package indirect enum NotificationFact: Codable, Equatable, Sendable {
    case started(firmware: String, version: String)
    case stageStarted(devices: Int)
    case awaitingApproval
    case verdict(GateEvaluation)
    case paused(PauseInfo)
    case rollingBack(RollbackCause)
    case completed(version: String, devices: Int)
    case rolledBack(version: String, devices: Int)
    case rollbackIncomplete(version: String, notRolledBack: Int, devices: Int)
    case aborted(by: String, reason: String)
    /// Queued by an older version: its kind and text.
    case recorded(kind: String, text: String)

    package var kind: NotificationKind {
        switch self {
        case .started: return .started
        case .stageStarted: return .stageStarted
        case .awaitingApproval: return .awaitingApproval
        case .verdict: return .verdict
        case .paused: return .paused
        case .rollingBack: return .rollingBack
        case .completed: return .completed
        case .rolledBack: return .rolledBack
        case .rollbackIncomplete: return .rollbackIncomplete
        case .aborted: return .aborted
        case .recorded(let kind, _): return NotificationKind(rawValue: kind) ?? .paused
        }
    }
}

/// A gate evaluation worth keeping: the first of a stage, and every change of verdict.
package struct VerdictRecord: Codable, Equatable, Sendable {
    package var stage: String
    package var at: Date
    package var evaluation: GateEvaluation

    package init(stage: String, at: Date, evaluation: GateEvaluation) {
        self.stage = stage
        self.at = at
        self.evaluation = evaluation
    }
}
