import Foundation
import RolloutCore

/// A page of a rollout's event log (`GET /v1/rollouts/{id}/events`).
struct EventPage: Encodable, Sendable {
    struct Entry: Encodable, Sendable {
        var sequence: Int
        var at: Date
        /// The event's kind (`submitted`, `jobCreated`, …).
        var type: String
        /// The event with its data, as stored (`{"<type>": {…}}`).
        var event: RolloutEvent
    }

    var events: [Entry]
    /// Pass as `after` to read the next page; null when this page is the end of the log so far.
    var next: Int?

    static let limitDefault = 100
    static let limitMax = 1000

    init(records: [RolloutEventRecord], limit: Int) {
        events = records.map { Entry(sequence: $0.sequence, at: $0.at, type: $0.event.kind, event: $0.event) }
        next = records.count >= limit ? records.last?.sequence : nil
    }

    enum CodingKeys: String, CodingKey {
        case events, next
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode(next, forKey: .next)
    }
}
