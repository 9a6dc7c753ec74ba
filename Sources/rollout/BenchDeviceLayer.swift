import Engine
import Foundation
import HTTPTransport

/// moto with the tests' device layer (`Tests/FleetAWSTests/Support/moto_device_layer.py`), started by `bench --aws`
/// on a free loopback port: AWS IoT and S3 for the AWS fleet, plus control calls that seed a fleet, play its
/// devices' outcomes and count group additions. It exits when its stdin (held here) closes.
/// Sendable: its state is fixed at start; the transport is thread-safe.
final class BenchDeviceLayer: @unchecked Sendable {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let process: Process
    private let stdin: Pipe
    private let transport = CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: 600,
                                                         threadCount: 1))

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts `script` with python3 and waits (at most a minute) for the port it prints.
    init(script: String) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw Unavailable(description: "\(script) not found: run from the repository's root or pass --device-layer")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let printed = Locked(Data())
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            printed.withLock { $0.append(data) }
        }
        let complaints = Locked(Data())
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            complaints.withLock { if $0.count < 65_536 { $0.append(data) } }
        }
        try process.run()
        var port: Int?
        // Bounded: 1,200 looks 50 ms apart; moto imports in a few seconds.
        for _ in 0..<1200 where port == nil && process.isRunning {
            let text = String(decoding: printed.current, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                port = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let port else {
            process.terminate()
            let reason = String(decoding: complaints.current.suffix(2000), as: UTF8.self)
            throw Unavailable(description: "the device layer did not start (is moto installed? `python3 -m pip install "
                              + "'moto==5.2.1' flask flask-cors`): \(reason)")
        }
        self.port = port
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

    /// POST /_device-layer/<action> with a JSON payload; the JSON answer.
    @discardableResult
    func control(_ action: String, _ payload: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: payload)
        let request = HTTPRequest(method: "POST", scheme: "http", host: "127.0.0.1", port: port,
                                  path: "/_device-layer/\(action)", headers: ["Content-Type": "application/json"],
                                  body: .data(body))
        let response = try await transport.send(request)
        guard response.isSuccess else {
            throw Unavailable(description: "device layer \(action): HTTP \(response.status)")
        }
        return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
    }
}
