import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// `rollout bench --api` and `--resume`: the worker's HTTP read path under load, and resuming many rollouts.
extension BenchCommand {
    /// Starts `rollout worker` on a free loopback port, waits until it answers, and returns it.
    static func startWorker(executable: String, database: String, port: Int, extra: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker", "--db", database, "--listen", "127.0.0.1:\(port)", "--log-level", "warning"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls `/readyz` (bounded); returns the seconds it took.
    static func waitUntilReady(port: Int, since: Date) async throws -> Double {
        let client = WorkerClient(base: URL(string: "http://127.0.0.1:\(port)")!, token: nil)
        for _ in 0..<6000 {
            if (try? await client.send("GET", "/readyz")) != nil { return Date().timeIntervalSince(since) }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw ValidationError("the worker did not become ready within 60 s")
    }

    /// Resident memory of a process, from /proc (current and peak), in bytes.
    static func memory(of pid: Int32) -> (current: Int, peak: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
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

    static func planText(_ index: Int) -> String {
        benchPlan.replacingOccurrences(of: "name: bench-canary-3-waves", with: "name: bench-\(index)")
    }

    /// GET /v1/rollouts/{id} under wrk while the worker runs `rollouts` simulated rollouts.
    func benchAPI(executable: String, directory: String, rollouts: Int, seconds: Int) async throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("--api needs wrk (Debian: apt-get install wrk)")
        }
        let port = try Self.freePort()
        // The bench plan names `firmware.bin` in `directory`: the worker may read it only from an --artifacts-dir.
        let worker = try Self.startWorker(executable: executable, database: directory + "/api.db", port: port,
                                          extra: ["--time-scale", "10", "--devices", "10000", "--seed", "1",
                                                  "--artifacts-dir", directory])
        defer { worker.terminate(); worker.waitUntilExit() }
        _ = try await Self.waitUntilReady(port: port, since: Date())
        let client = WorkerClient(base: URL(string: "http://127.0.0.1:\(port)")!, token: nil)
        var firstId = ""
        for index in 0..<rollouts {
            let answer = try await client.send("POST", "/v1/rollouts?file=bench-\(index).yaml&baseDirectory=\(directory)",
                                               body: Data(Self.planText(index).utf8), contentType: "application/yaml")
            if index == 0 { firstId = (answer as? [String: Any])?["id"] as? String ?? "" }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t2", "-c16", "-d\(seconds)s", "--latency", "http://127.0.0.1:\(port)/v1/rollouts/\(firstId)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let metrics = try await client.send("GET", "/v1/rollouts?limit=1000")
        let running = ((metrics as? [String: Any])?["rollouts"] as? [[String: Any]] ?? [])
            .filter { !["completed", "rolledBack", "aborted", "failed"].contains($0["phase"] as? String ?? "") }.count
        func value(after label: String) -> String {
            output.split(separator: "\n").first { $0.contains(label) }.map { String($0).replacingOccurrences(of: label, with: "")
                .trimmingCharacters(in: .whitespaces) } ?? "?"
        }
        print("GET /v1/rollouts/{id}: \(value(after: "Requests/sec:")) requests/s, p50 \(value(after: "50%")), "
              + "p99 \(value(after: "99%")) (wrk -t2 -c16 -d\(seconds)s; \(running) of \(rollouts) rollouts still running)")
    }

    /// Fills a database with `rollouts` unfinished rollouts, then times a worker's start until it is ready.
    func benchResume(executable: String, directory: String, rollouts: Int) async throws {
        let database = directory + "/resume.db"
        let fillStart = Date()
        do {
            let store = try SQLiteRolloutStore(path: database, role: .worker, durability: .processCrash)
            let clock = SystemClock()
            let fleet = SimulatedFleet(devices: 1000, seed: 1, scenario: SimulationScenario(), clock: clock)
            let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                       notifier: RecordingNotifier(), clock: clock,
                                       logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
            for index in 0..<rollouts {
                let text = Self.planText(index)
                _ = try await engine.submit(plan: try PlanParser.parse(text, file: "bench-\(index).yaml",
                                                                       baseDirectory: directory), planSource: text)
            }
            store.close()
        }
        let filled = Date().timeIntervalSince(fillStart)
        let port = try Self.freePort()
        let start = Date()
        let worker = try Self.startWorker(executable: executable, database: database, port: port,
                                          extra: ["--time-scale", "10", "--devices", "1000", "--seed", "1"])
        defer { worker.terminate(); worker.waitUntilExit() }
        let ready = try await Self.waitUntilReady(port: port, since: start)
        let atReady = Self.memory(of: worker.processIdentifier)
        try await Task.sleep(nanoseconds: 5_000_000_000)
        let later = Self.memory(of: worker.processIdentifier)
        print("resume \(rollouts) unfinished rollouts: ready after \(String(format: "%.2f", ready)) s "
              + "(database filled in \(String(format: "%.1f", filled)) s); resident \(atReady.current / 1_048_576) MiB at ready, "
              + "peak \(later.peak / 1_048_576) MiB after 5 s of running them")
    }
}
