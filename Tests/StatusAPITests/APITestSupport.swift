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

/// Waits (no polling) until the worker's read model shows the rollout in `phase`, then reads its detail once over
/// HTTP, checked against the OpenAPI document.
@discardableResult
func waitForPhase(_ phase: String, id: String, in harness: WorkerHarness, client: HTTPTestClient,
                  checker: OpenAPIChecker, seconds: Double = 60) async throws -> JSONValue {
    let reached = await harness.worker.engine.readModel.wait(for: id, timeoutSeconds: seconds) {
        $0.rollout.state.displayPhase.rawValue == phase
    }
    guard reached != nil else { throw HTTPTestClient.Failure("rollout \(id) did not reach \(phase) in \(seconds) s") }
    let response = try await client.checked("GET", "/v1/rollouts/\(id)", documentedAs: "/v1/rollouts/{id}", checker: checker)
    return try response.jsonValue()
}
