import Foundation
import RolloutCore

/// The control verbs of `POST /v1/rollouts/{id}/{verb}`; each records a person's intent as a command event.
enum ControlVerb: String, CaseIterable, Sendable {
    case pause, resume, abort, approve, rollback

    /// The optional JSON body: who asks and why.
    struct Body: Decodable, Sendable {
        var by: String?
        var reason: String?
    }

    static let byDefault = "api"
    /// Bounds on what a caller may write into the event log.
    static let byLengthMax = 200
    static let reasonLengthMax = 2000

    /// The command event for this verb, from a body (nil or empty: defaults).
    func command(body: Body?) throws(APIError) -> RolloutEvent {
        let by = body?.by.flatMap { $0.isEmpty ? nil : $0 } ?? Self.byDefault
        let reason = body?.reason.flatMap { $0.isEmpty ? nil : $0 } ?? "\(rawValue) requested via the API"
        guard by.count <= Self.byLengthMax else {
            throw .badRequest("`by` is longer than \(Self.byLengthMax) characters")
        }
        guard reason.count <= Self.reasonLengthMax else {
            throw .badRequest("`reason` is longer than \(Self.reasonLengthMax) characters")
        }
        switch self {
        case .pause: return .pauseRequested(by: by, reason: reason)
        case .resume: return .resumeRequested(by: by)
        case .abort: return .abortRequested(by: by, reason: reason)
        case .approve: return .approved(by: by)
        case .rollback: return .rollbackRequested(by: by, reason: reason)
        }
    }

    /// Parses the optional body: empty means defaults; anything else must be a JSON object.
    static func parseBody(_ data: Data) throws(APIError) -> Body? {
        let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(trimmed.utf8))
        } catch {
            throw .badRequest("the body must be a JSON object like {\"by\": \"alice\", \"reason\": \"...\"} or empty")
        }
    }
}
