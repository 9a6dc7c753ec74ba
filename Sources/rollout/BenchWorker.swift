import ArgumentParser
import Foundation

/// A `rollout worker` started by the bench on a free loopback port, stopped when released.
final class BenchWorker {
    let port: Int
    let process: Process
    let client: WorkerClient

    /// Starts `rollout worker` on `database`; returns at once (see `waitUntilReady`).
    init(executable: String, database: String, extra: [String]) throws {
        port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker", "--db", database, "--listen", "127.0.0.1:\(port)", "--log-level", "warning"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        client = WorkerClient(base: URL(string: "http://127.0.0.1:\(port)")!, token: nil)
        try process.run()
    }

    deinit {
        stop()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Polls `/readyz` (bounded, every millisecond); returns the seconds since `since`.
    func waitUntilReady(since: Date) async throws -> Double {
        for _ in 0..<60_000 {
            if (try? await client.send("GET", "/readyz")) != nil { return Date().timeIntervalSince(since) }
            guard process.isRunning else {
                throw ValidationError("the worker exited (status \(process.terminationStatus)) before it was ready: "
                                      + "rollout \(process.arguments?.joined(separator: " ") ?? "")")
            }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        throw ValidationError("the worker did not become ready within 60 s")
    }

    /// Resident memory of the worker, from /proc (current and peak), in bytes.
    func memory() -> (current: Int, peak: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else {
            return (0, 0)
        }
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first(where: { Int($0) != nil }) ?? "0") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
