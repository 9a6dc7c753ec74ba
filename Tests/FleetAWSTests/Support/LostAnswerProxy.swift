import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// The tests' own proxy in front of moto (`lost_answer_proxy.py`): it forwards every request with HTTP/1.1 keep-alive
/// on the client side and, by rule, drops the answer of a request (after moto acted on it) or refuses it outright.
/// One per test; it exits when this object goes away (its stdin closes).
final class LostAnswerProxy: Sendable {
    /// One rule: fires once, on the first request of `operation` whose path matches `pathPattern`.
    struct Rule: Sendable {
        enum Action: Sendable {
            /// Forward, then close the connection without answering; only on a connection kept alive.
            case dropAnswer
            /// Answer this error without forwarding.
            case refuse(status: Int, code: String)
        }

        var operation: String
        var pathPattern: String?
        var action: Action

        static func dropAnswer(_ operation: String, path: String? = nil) -> Rule {
            Rule(operation: operation, pathPattern: path, action: .dropAnswer)
        }

        var json: [String: Any] {
            var object: [String: Any] = ["operation": operation]
            if let pathPattern { object["path"] = pathPattern }
            switch action {
            case .dropAnswer:
                object["action"] = "dropAnswer"
            case .refuse(let status, let code):
                object["action"] = "refuse"
                object["status"] = status
                object["code"] = code
            }
            return object
        }
    }

    /// What the proxy saw, for assertions.
    struct Counts {
        /// Requests forwarded to moto, per operation (a dropped answer counts: its request was forwarded).
        var forwarded: [String: Int]
        /// CreateJob requests forwarded, per job id.
        var createJob: [String: Int]
        /// `operation path` of every rule that fired, in order.
        var fired: [String]
        /// Indices of rules that never fired.
        var armed: [Int]
    }

    let port: Int
    let endpoint: String
    private let process: Process
    private let stdin: Pipe

    private init(port: Int, process: Process, stdin: Pipe) {
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.process = process
        self.stdin = stdin
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    static func start(upstream: MotoServer, rules: [Rule]) async throws -> LostAnswerProxy {
        let rulesJSON = String(decoding: try JSONSerialization.data(withJSONObject: rules.map(\.json)), as: UTF8.self)
        let launched = try await LoopbackPythonServer.start(script: "lost_answer_proxy.py",
                                                            arguments: ["--upstream", upstream.endpoint,
                                                                        "--rules", rulesJSON],
                                                            name: "lost-answer proxy")
        return LostAnswerProxy(port: launched.port, process: launched.process, stdin: launched.stdin)
    }

    private static let controlTransport = CurlTransport(options: .init(connectTimeoutSeconds: 5,
                                                                       totalTimeoutSeconds: 30, threadCount: 1))

    func counts() async throws -> Counts {
        let request = HTTPRequest(method: "GET", scheme: "http", host: "127.0.0.1", port: port, path: "/_proxy/counts")
        let response = try await LostAnswerProxy.controlTransport.send(request)
        guard response.isSuccess, let object = try jsonObject(response.body) as? [String: Any] else {
            throw TestFailure("proxy counts: HTTP \(response.status)")
        }
        let fired = (object["fired"] as? [[String: Any]] ?? []).map {
            "\($0["operation"] as? String ?? "?") \($0["path"] as? String ?? "?")"
        }
        return Counts(forwarded: object["forwarded"] as? [String: Int] ?? [:],
                      createJob: object["createJob"] as? [String: Int] ?? [:], fired: fired,
                      armed: object["armed"] as? [Int] ?? [])
    }
}
