import Foundation
import RolloutCore
import RolloutText

/// The answer to a control verb (202): the command is recorded; the worker acts on it.
struct CommandResult: Encodable, Sendable {
    var id: String
    var command: String
    var accepted: Bool
    var phase: String
    var currentStage: String?
    var waitingFor: String?
    var message: String?
    var eventSequence: Int

    init(verb: ControlVerb, state: RolloutState) {
        self.init(command: verb.rawValue, state: state)
    }

    init(command: String, state: RolloutState) {
        id = state.rolloutId
        self.command = command
        accepted = true
        phase = state.displayPhase.rawValue
        currentStage = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage].name : nil
        waitingFor = RolloutText.waiting(state)
        message = RolloutText.note(state)
        eventSequence = state.eventCount
    }

    enum CodingKeys: String, CodingKey {
        case id, command, accepted, phase, currentStage, waitingFor, message, eventSequence
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(command, forKey: .command)
        try container.encode(accepted, forKey: .accepted)
        try container.encode(phase, forKey: .phase)
        try container.encode(currentStage, forKey: .currentStage)
        try container.encode(waitingFor, forKey: .waitingFor)
        try container.encode(message, forKey: .message)
        try container.encode(eventSequence, forKey: .eventSequence)
    }
}
