import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// moto 5.2.1 with the device layer (`moto_device_layer.py`), started once per test process on 127.0.0.1.
/// The Python side exits when its stdin (held by this process) closes, so it never outlives the tests.
final class MotoServer: Sendable {
    let port: Int
    let endpoint: String
    let region = "us-east-1"
    private let process: Process
    private let stdin: Pipe

    /// The shared server: started on first use, installed with pip first if moto is missing.
    static let shared = Task<MotoServer, Error> { try await MotoServer.start() }

    private init(port: Int, process: Process, stdin: Pipe) {
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.process = process
        self.stdin = stdin
    }

    deinit {
        stop()
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    static func start() async throws -> MotoServer {
        try await ensureMotoInstalled()
        let launched = try await LoopbackPythonServer.start(script: "moto_device_layer.py", name: "moto device layer")
        return MotoServer(port: launched.port, process: launched.process, stdin: launched.stdin)
    }

    static func ensureMotoInstalled() async throws {
        let check = try await TestProcess.run("/usr/bin/env", ["python3", "-c", "import moto, flask, flask_cors, boto3"])
        guard check.status != 0 else { return }
        let install = try await TestProcess.run("/usr/bin/env", ["python3", "-m", "pip", "install", "--quiet",
                                                                 "moto==5.2.1", "flask", "flask-cors", "boto3"])
        guard install.status == 0 else { throw TestFailure("pip install moto failed: \(install.stderrText)") }
    }

    // MARK: - Control and inspection

    private static let controlTransport = CurlTransport(options: .init(connectTimeoutSeconds: 5,
                                                                       totalTimeoutSeconds: 30, threadCount: 2))

    /// Polls the health endpoint, at most `attempts` times (each bounded by the transport's time-outs).
    func waitUntilHealthy(attempts: Int = 50) async throws {
        for _ in 0..<attempts {
            if let response = try? await control("health", [:]), response["ok"] as? Bool == true { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestFailure("moto did not answer on port \(port)")
    }

    @discardableResult
    func control(_ action: String, _ payload: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: payload)
        let request = HTTPRequest(method: action == "health" || action == "stats" ? "GET" : "POST", scheme: "http",
                                  host: "127.0.0.1", port: port, path: "/_device-layer/\(action)",
                                  headers: ["Content-Type": "application/json"],
                                  body: action == "health" || action == "stats" ? .empty : .data(body))
        let response = try await MotoServer.controlTransport.send(request)
        guard response.isSuccess else { throw TestFailure("control \(action): HTTP \(response.status)") }
        return try jsonObject(response.body) as? [String: Any] ?? [:]
    }

    /// A boto3 call (independent client) against this server.
    func boto3(_ service: String, _ method: String, _ params: [String: Any] = [:], readBody: Bool = false)
        async throws -> [String: Any]
    {
        let call: [String: Any] = ["endpoint": endpoint, "region": region, "service": service, "method": method,
                                   "params": params, "readBody": readBody]
        let output = try await TestProcess.python("boto3_call.py", input: try JSONSerialization.data(withJSONObject: call))
        return try jsonObject(output) as? [String: Any] ?? [:]
    }

    /// Several boto3 calls `(service, method, params)` in one Python process, answers in order.
    func boto3Batch(_ calls: [(service: String, method: String, params: [String: Any])]) async throws -> [[String: Any]] {
        let batch: [String: Any] = ["endpoint": endpoint, "region": region,
                                    "calls": calls.map { ["service": $0.service, "method": $0.method, "params": $0.params] }]
        let output = try await TestProcess.python("boto3_call.py", input: try JSONSerialization.data(withJSONObject: batch))
        let results = (try jsonObject(output) as? [String: Any])?["results"] as? [[String: Any]] ?? []
        guard results.count == calls.count else { throw TestFailure("boto3 batch: \(results.count) of \(calls.count) answers") }
        return results
    }

    /// An AWS configuration pointing both services at this server (or at `endpoint`, e.g. a proxy in front of it).
    func configuration(endpoint: String? = nil,
                       retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.001,
                                                        maxDelaySeconds: 0.01, random: SeededRandom(seed: 1)),
                       transport: any HTTPTransport = MotoServer.sharedTransport) throws -> AWSConfiguration {
        var configuration = try AWSConfiguration.resolve(
            endpointURL: endpoint ?? self.endpoint,
            environment: ["AWS_REGION": region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                          "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"],
            transport: transport, retry: retry)
        configuration.groupAddRatePerSecond = nil
        return configuration
    }

    static let sharedTransport = CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: 60))

    /// The shared server, healthy.
    static func ready() async throws -> MotoServer {
        let server = try await shared.value
        try await server.waitUntilHealthy()
        return server
    }
}

/// Unique, valid resource names per test run.
enum UniqueName {
    static func make(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
