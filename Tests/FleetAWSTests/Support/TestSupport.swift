import Foundation
import Testing

/// Where the test support files (Python helpers) live, found from this source file's path.
enum SupportFiles {
    static let directory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    static func path(_ name: String) -> String {
        directory + "/" + name
    }
}

/// The result of a finished child process.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

enum TestProcess {
    /// Runs a program to completion on a dedicated thread (not the cooperative pool), feeding `input` on stdin.
    static func run(_ executable: String, _ arguments: [String], input: Data = Data(),
                    environment: [String: String]? = nil) async throws -> ProcessOutput {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutput, Error>) in
            let thread = Thread {
                continuation.resume(with: Result {
                    try runBlocking(executable, arguments, input: input, environment: environment)
                })
            }
            thread.start()
        }
    }

    static func runBlocking(_ executable: String, _ arguments: [String], input: Data,
                            environment: [String: String]?) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdinPipe = Pipe()
        let stdoutFile = try TemporaryFile.make(suffix: ".out")
        let stderrFile = try TemporaryFile.make(suffix: ".err")
        defer {
            try? FileManager.default.removeItem(atPath: stdoutFile)
            try? FileManager.default.removeItem(atPath: stderrFile)
        }
        // Files, not pipes, for the output: no deadlock however much the child prints.
        process.standardInput = stdinPipe
        process.standardOutput = FileHandle(forWritingAtPath: stdoutFile)
        process.standardError = FileHandle(forWritingAtPath: stderrFile)
        try process.run()
        try stdinPipe.fileHandleForWriting.write(contentsOf: input)
        try stdinPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus,
                             stdout: FileManager.default.contents(atPath: stdoutFile) ?? Data(),
                             stderr: FileManager.default.contents(atPath: stderrFile) ?? Data())
    }

    static let python = "/usr/bin/env"

    /// Runs `python3 <script> args…` from the support folder; fails the test with stderr when it exits non-zero.
    static func python(_ script: String, _ arguments: [String] = [], input: Data = Data()) async throws -> Data {
        let output = try await run("/usr/bin/env", ["python3", SupportFiles.path(script)] + arguments, input: input)
        guard output.status == 0 else {
            throw TestFailure("python3 \(script) exited \(output.status): \(output.stderrText)")
        }
        return output.stdout
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

enum TemporaryFile {
    /// Creates an empty file under the temp directory and returns its path.
    static func make(suffix: String = "", contents: Data = Data()) throws -> String {
        let path = NSTemporaryDirectory() + "rollout-aws-test-" + UUID().uuidString + suffix
        guard FileManager.default.createFile(atPath: path, contents: contents) else {
            throw TestFailure("cannot create \(path)")
        }
        return path
    }

    static func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rollout-aws-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

extension Data {
    /// Deterministic pseudo-random bytes (SplitMix64), for upload payloads.
    static func pseudoRandom(count: Int, seed: UInt64) -> Data {
        var state = seed
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            Swift.withUnsafeBytes(of: z.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes.prefix(count))
    }
}

func jsonObject(_ data: Data) throws -> Any {
    try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
}

extension TestProcess {
    /// Waits until `process` exits, polling every 50 ms for at most `secondsMax`; true when it exited.
    static func waitForExit(_ process: Process, secondsMax: Double) async throws -> Bool {
        for _ in 0..<Int(secondsMax * 20) where process.isRunning {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return !process.isRunning
    }
}
