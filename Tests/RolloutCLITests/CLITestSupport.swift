import Foundation
import Testing

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

struct CommandOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The built `rollout` executable (next to the test bundle; `ROLLOUT_EXECUTABLE` overrides).
func rolloutExecutable() throws -> String {
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["ROLLOUT_EXECUTABLE"] { candidates.append(explicit) }
    if let main = Bundle.main.executableURL { candidates.append(main.deletingLastPathComponent().path + "/rollout") }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/rollout")
    candidates.append(repositoryRoot + "/.build/debug/rollout")
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CLITestError("no rollout executable among \(candidates): run `swift build` first")
    }
    return found
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `rollout ARGS` to completion on its own thread; output goes to files, so nothing can block.
/// `environment` entries are set on top of this process's environment (an empty value is kept as empty).
func rollout(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) async throws
    -> CommandOutput {
    let executable = try rolloutExecutable()
    return try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
                if !environment.isEmpty {
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                }
                let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString).out")
                let err = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString).err")
                _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                _ = FileManager.default.createFile(atPath: err.path, contents: nil)
                defer {
                    try? FileManager.default.removeItem(at: out)
                    try? FileManager.default.removeItem(at: err)
                }
                process.standardOutput = try FileHandle(forWritingTo: out)
                process.standardError = try FileHandle(forWritingTo: err)
                process.standardInput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                return CommandOutput(status: process.terminationStatus,
                                     stdout: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
                                     stderr: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
            })
        }.start()
    }
}

/// The lines a child process writes to a pipe, read as they come (a thread blocked on the pipe: no polling), each
/// JSON line parsed once, with waits for the line (or set of lines) a test expects. The reader never falls behind
/// the child (a full pipe would block the child's logging): conditions must be cheap.
final class ProcessLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var parsed: [[String: Any]] = []
    private var waiters: [(id: Int, condition: ([[String: Any]]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextId = 0
    private var ended = false

    /// Starts reading `pipe` until its end.
    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            finish()
        }.start()
    }

    var all: [String] { lock.withLock { lines } }
    /// The lines that are JSON objects (the worker's log off a terminal), parsed.
    var objects: [[String: Any]] { lock.withLock { parsed } }

    private func append(_ line: String) {
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let resumed = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            lines.append(line)
            if let object { parsed.append(object) }
            var satisfied: [CheckedContinuation<Bool, Never>] = []
            waiters.removeAll { waiter in
                guard waiter.condition(parsed) else { return false }
                satisfied.append(waiter.continuation)
                return true
            }
            return satisfied
        }
        for continuation in resumed { continuation.resume(returning: true) }
    }

    private func finish() {
        let resumed = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            ended = true
            defer { waiters = [] }
            return waiters.map(\.continuation)
        }
        for continuation in resumed { continuation.resume(returning: false) }
    }

    /// True once `condition` holds for the JSON lines read so far (checked at every new line, under this object's
    /// lock: it must look at what it is given only, and be cheap); false when the stream ends first or after `seconds`.
    func wait(seconds: Double, until condition: @escaping ([[String: Any]]) -> Bool) async -> Bool {
        let id = lock.withLock { () -> Int in
            nextId += 1
            return nextId
        }
        return await withCheckedContinuation { continuation in
            let immediate: Bool? = lock.withLock {
                if condition(parsed) { return true }
                if ended { return false }
                waiters.append((id, condition, continuation))
                return nil
            }
            if let immediate {
                continuation.resume(returning: immediate)
                return
            }
            Thread {
                Thread.sleep(forTimeInterval: seconds)
                let expired = self.lock.withLock { () -> CheckedContinuation<Bool, Never>? in
                    guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return self.waiters.remove(at: index).continuation
                }
                expired?.resume(returning: false)
            }.start()
        }
    }

}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
