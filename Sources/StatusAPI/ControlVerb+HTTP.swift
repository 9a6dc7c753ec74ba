import Foundation
import RolloutCore

/// The HTTP side of the control verbs (`POST /v1/rollouts/{id}/{verb}`): the optional JSON body and its defaults;
/// the verb → command mapping is the core's `ControlVerb`.
extension ControlVerb {
    /// The optional JSON body: who asks and why.
    struct Body: Decodable, Sendable {
        var by: String?
        var reason: String?
        /// promote only: act only if this is the current stage.
        var stage: String?
    }

    static let byDefault = "api"

    /// The command event for this verb, from a body (nil or empty: defaults).
    func command(body: Body?) throws(APIError) -> RolloutEvent {
        let by = body?.by.flatMap { $0.isEmpty ? nil : $0 } ?? Self.byDefault
        let reason = body?.reason.flatMap { $0.isEmpty ? nil : $0 } ?? "\(rawValue) requested via the API"
        if let problem = Self.problem(by: by, reason: reason) { throw .badRequest(problem) }
        if body?.stage != nil, self != .promote { throw .badRequest("`stage` applies to promote only") }
        return event(by: by, reason: reason, stage: body?.stage)
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
