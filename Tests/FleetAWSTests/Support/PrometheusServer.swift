import Foundation
@testable import HTTPTransport

/// A real Prometheus (Debian's `prometheus`) on loopback, scraping the tests' exporter, behind their authenticating
/// front door (`prometheus_harness.py`). One per test process; it exits when the tests do.
final class PrometheusServer: Sendable {
    static let bearerToken = "prom-bearer-\(UUID().uuidString.prefix(8))"
    static let password = "prom-pass-\(UUID().uuidString.prefix(8))"
    let endpoint: String
    private let process: Process
    private let stdin: Pipe

    static let shared = Task<PrometheusServer, Error> {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            throw TestFailure("prometheus is not installed: run .ci/install-deps (apt-get install prometheus)")
        }
        let launched = try await LoopbackPythonServer.start(script: "prometheus_harness.py",
                                                            arguments: [bearerToken, password], name: "prometheus")
        return PrometheusServer(port: launched.port, process: launched.process, stdin: launched.stdin)
    }

    private init(port: Int, process: Process, stdin: Pipe) {
        endpoint = "http://127.0.0.1:\(port)"
        self.process = process
        self.stdin = stdin
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
    }

    static let transport = CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: 15, threadCount: 2))

    /// Sets (or with nil removes) one sample of the exporter.
    func set(_ name: String, _ labels: [String: String], _ value: Double?) async throws {
        var body: [String: Any] = ["name": name, "labels": labels]
        body["value"] = value ?? NSNull()
        let request = HTTPRequest(method: "POST", endpoint: HTTPEndpoint(url: endpoint)!, path: "/_exporter/set",
                                  body: .data(try JSONSerialization.data(withJSONObject: body)))
        let response = try await Self.transport.send(request)
        guard response.isSuccess else { throw TestFailure("exporter set: HTTP \(response.status)") }
    }

    /// The last SigV4 Authorization header the front door accepted.
    func lastSigV4() async throws -> String {
        let response = try await Self.transport.send(HTTPRequest(method: "GET", endpoint: HTTPEndpoint(url: endpoint)!,
                                                                      path: "/_last/sigv4"))
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: String]
        return object?["authorization"] ?? ""
    }
}
