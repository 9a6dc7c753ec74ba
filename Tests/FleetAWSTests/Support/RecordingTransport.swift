import Foundation
@testable import HTTPTransport

@testable import FleetAWS

/// Wraps a transport and records every request's method and path (to count calls, e.g. "no PUT happened").
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let inner: any HTTPTransport
    private let lock = NSLock()
    private var recorded: [(method: String, path: String, status: Int, query: String)] = []

    init(_ inner: any HTTPTransport) {
        self.inner = inner
    }

    var calls: [(method: String, path: String, status: Int, query: String)] { lock.withLock { recorded } }

    /// Requests answered (any status), or with `succeeded` only those answered 2xx (a retried attempt counts once).
    func count(_ method: String, pathContains: String, succeeded: Bool = false) -> Int {
        calls.filter { $0.method == method && $0.path.contains(pathContains) && (!succeeded || (200..<300).contains($0.status)) }
            .count
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await inner.send(request)
        let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        lock.withLock { recorded.append((request.method, request.path, response.status, query)) }
        return response
    }
}

/// Answers from a script, one response (or transport error) per call, and records the requests.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    enum Step {
        case respond(HTTPResponse)
        case fail(TransportError)
    }

    private let lock = NSLock()
    private var steps: [Step]
    private var received: [HTTPRequest] = []

    init(_ steps: [Step]) {
        self.steps = steps
    }

    var requests: [HTTPRequest] { lock.withLock { received } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step: Step = lock.withLock {
            received.append(request)
            return steps.isEmpty ? .respond(HTTPResponse(status: 599)) : steps.removeFirst()
        }
        switch step {
        case .respond(let response): return response
        case .fail(let error): throw error
        }
    }

    static func json(_ status: Int, _ object: [String: Any], headers: [String: String] = [:]) -> Step {
        .respond(HTTPResponse(status: status, headers: headers,
                              body: try! JSONSerialization.data(withJSONObject: object)))
    }
}

/// Records the waits the retry policy asked for instead of sleeping.
final class SleepRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Double] = []

    var recorded: [Double] { lock.withLock { waits } }

    var sleep: @Sendable (Double) async throws -> Void {
        { [self] seconds in lock.withLock { waits.append(seconds) } }
    }
}
