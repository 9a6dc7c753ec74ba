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
                FileManager.default.createFile(atPath: out.path, contents: nil)
                FileManager.default.createFile(atPath: err.path, contents: nil)
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

/// A free loopback port (bound and released; the tiny race is acceptable for tests).
func freeLoopbackPort() throws -> Int {
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketDescriptor >= 0 else { throw CLITestError("socket() failed") }
    defer { close(socketDescriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, length) }
    }
    guard bound == 0 else { throw CLITestError("bind() failed") }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
    }
    guard named == 0 else { throw CLITestError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
