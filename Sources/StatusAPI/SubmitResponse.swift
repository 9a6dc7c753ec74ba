import Engine
import Foundation
import RolloutCore
import RolloutText

/// The answer to `POST /v1/rollouts`: 201 for a new rollout, 200 when the same plan was submitted before.
struct SubmitResponse: Encodable, Sendable {
    var id: String
    var created: Bool
    var phase: String
    var message: String?
    /// Where to follow it: `/v1/rollouts/{id}`.
    var location: String

    init(_ result: SubmitResult) {
        id = result.rolloutId
        created = result.created
        phase = result.state.displayPhase.rawValue
        message = RolloutText.note(result.state)
        location = "/v1/rollouts/\(result.rolloutId)"
    }

    enum CodingKeys: String, CodingKey {
        case id, created, phase, message, location
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(created, forKey: .created)
        try container.encode(phase, forKey: .phase)
        try container.encode(message, forKey: .message)
        try container.encode(location, forKey: .location)
    }
}
