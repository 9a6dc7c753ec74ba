import Engine
import Foundation
import RolloutCore
import RolloutText

/// One rollout as the list shows it (`GET /v1/rollouts`), also the head of the detail document.
struct RolloutSummary: Encodable, Sendable {
    var id: String
    var name: String
    /// The display phase: `paused` while a pause is in force.
    var phase: String
    /// Name of the stage being worked on or next to start (nil once every stage is done).
    var currentStage: String?
    var stages: [StageSummary]
    var createdAt: Date
    var updatedAt: Date
    var endedAt: Date?
    var waitingFor: String?
    var dueAt: Date?
    var message: String?
    var eligibleDevices: Int?

    init(_ rollout: StoredRollout) {
        let state = rollout.state
        id = rollout.id
        name = rollout.plan.name
        phase = state.displayPhase.rawValue
        currentStage = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage].name : nil
        stages = state.stages.map(StageSummary.init)
        createdAt = state.createdAt
        updatedAt = state.updatedAt
        endedAt = state.endedAt
        waitingFor = RolloutText.waiting(state)
        dueAt = state.dueAt
        message = RolloutText.note(state)
        eligibleDevices = state.eligibleDevices
    }

    enum CodingKeys: String, CodingKey {
        case id, name, phase, currentStage, stages, createdAt, updatedAt, endedAt, waitingFor, dueAt, message
        case eligibleDevices
    }

    /// Absent values are written as `null` (not left out), so every documented property is always there.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(phase, forKey: .phase)
        try container.encode(currentStage, forKey: .currentStage)
        try container.encode(stages, forKey: .stages)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(waitingFor, forKey: .waitingFor)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(message, forKey: .message)
        try container.encode(eligibleDevices, forKey: .eligibleDevices)
    }
}
