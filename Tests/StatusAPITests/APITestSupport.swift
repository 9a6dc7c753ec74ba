import Foundation
import Testing

/// The repository's `Sources/StatusAPI/Resources/openapi.json`, located from this file.
enum RepositoryFiles {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var openAPIDocument: URL { root.appendingPathComponent("Sources/StatusAPI/Resources/openapi.json") }

    static func openAPIChecker() throws -> OpenAPIChecker {
        try OpenAPIChecker(document: JSONValue.parse(Data(contentsOf: openAPIDocument)))
    }
}

extension HTTPTestClient {
    /// Sends the request and checks the answer against the OpenAPI document (`path` as templated there).
    func checked(_ method: String, _ path: String, documentedAs template: String? = nil, body: String? = nil,
                 authorization: String? = nil, checker: OpenAPIChecker,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws -> HTTPTestResponse {
        let response = method == "GET"
            ? try await get(path, authorization: authorization ?? "")
            : try await post(path, body: body ?? "", authorization: authorization)
        let template = template ?? String(path.split(separator: "?", maxSplits: 1)[0])
        let problems = try checker.problems(response, method: method, path: template)
        let explanation = "\(method) \(path) → \(response.status) does not match the OpenAPI document:\n"
            + problems.joined(separator: "\n") + "\nbody: \(response.text.prefix(500))"
        #expect(problems.isEmpty, Comment(rawValue: explanation), sourceLocation: sourceLocation)
        return response
    }
}

/// Waits until the rollout's phase is `phase` (checking each detail document against the OpenAPI document).
@discardableResult
func waitForPhase(_ phase: String, id: String, client: HTTPTestClient, checker: OpenAPIChecker,
                  attempts: Int = 300) async throws -> JSONValue {
    try await poll(attempts: attempts, "rollout \(id) to reach \(phase)") {
        let response = try await client.checked("GET", "/v1/rollouts/\(id)", documentedAs: "/v1/rollouts/{id}",
                                                checker: checker)
        let detail = try response.jsonValue()
        return detail["phase"]?.string == phase ? detail : nil
    }
}
