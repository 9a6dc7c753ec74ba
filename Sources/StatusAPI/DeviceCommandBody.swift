import Foundation

/// The optional JSON body of `POST /v1/rollouts/{id}/devices/{thing}/exclude|cancel`: who asks, why, and (cancel)
/// whether an execution already installing is stopped too.
struct DeviceCommandBody: Decodable, Sendable {
    var by: String?
    var reason: String?
    var force: Bool?

    /// Empty means defaults; anything else must be a JSON object.
    static func parse(_ data: Data) throws(APIError) -> DeviceCommandBody? {
        let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        do {
            return try JSONDecoder().decode(DeviceCommandBody.self, from: Data(trimmed.utf8))
        } catch {
            throw .badRequest("the body must be a JSON object like {\"by\": \"alice\", \"reason\": \"...\", \"force\": true} "
                              + "or empty")
        }
    }
}
