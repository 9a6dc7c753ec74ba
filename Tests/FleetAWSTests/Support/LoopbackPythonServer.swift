import Foundation

/// Starts a Python server from the support folder that binds 127.0.0.1 on a free port, prints `PORT <n>` and exits
/// when its stdin (held by this process) closes, so it never outlives the tests.
enum LoopbackPythonServer {
    struct Launched {
        var port: Int
        var process: Process
        var stdin: Pipe
    }

    /// Runs `python3 <script> arguments…` and reads its `PORT n` line (bounded: 64 KB of output at most). Blocking:
    /// call it from a dedicated thread. The server's stderr goes to a log file quoted if it does not start.
    static func launch(script: String, arguments: [String] = [], name: String) throws -> Launched {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SupportFiles.path(script)] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let logPath = NSTemporaryDirectory() + "rollout-\(script)-\(UUID().uuidString).log"
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
            throw TestFailure("\(name) did not start: \(line) \(log.suffix(2000))")
        }
        return Launched(port: port, process: process, stdin: stdin)
    }

    /// `launch` on a dedicated thread (it blocks reading the child's output).
    static func start(script: String, arguments: [String] = [], name: String) async throws -> Launched {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try launch(script: script, arguments: arguments, name: name) })
            }.start()
        }
    }
}
