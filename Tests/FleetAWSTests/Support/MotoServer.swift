import Foundation
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
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try launchBlocking() })
            }.start()
        }
    }

    static func ensureMotoInstalled() async throws {
        let check = try await TestProcess.run("/usr/bin/env", ["python3", "-c", "import moto, flask, flask_cors, boto3"])
        guard check.status != 0 else { return }
        let install = try await TestProcess.run("/usr/bin/env", ["python3", "-m", "pip", "install", "--quiet",
                                                                 "moto==5.2.1", "flask", "flask-cors", "boto3"])
        guard install.status == 0 else { throw TestFailure("pip install moto failed: \(install.stderrText)") }
    }

    /// Launches the layer and reads its `PORT n` line (bounded: 64 KB of output at most), then checks it answers.
    static func launchBlocking() throws -> MotoServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SupportFiles.path("moto_device_layer.py")]
        let stdin = Pipe()
        let stdout = Pipe()
        let logPath = NSTemporaryDirectory() + "rollout-moto-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        var buffer = Data()
        while buffer.count < 65_536, !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self)
        guard let portText = line.split(separator: "\n").first?.split(separator: " ").last, line.hasPrefix("PORT "),
              let port = Int(portText)
        else {
            process.terminate()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw TestFailure("moto device layer did not start: \(line) \(log.suffix(2000))")
        }
        return MotoServer(port: port, process: process, stdin: stdin)
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

    /// An AWS configuration pointing both services at this server.
    func configuration(retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.001,
                                                        maxDelaySeconds: 0.01, random: SeededRandom(seed: 1)),
                       transport: any HTTPTransport = MotoServer.sharedTransport) throws -> AWSConfiguration {
        var configuration = try AWSConfiguration.resolve(
            endpointURL: endpoint,
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
