import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StorePostgres
import StoreSQLite

/// `rollout bench --postgres URL`: 1, 2 and 3 `rollout worker` processes sharing one PostgreSQL database drive
/// `--rollouts` (default 10,000) concurrent simulated rollouts; measured: transitions committed per second (the
/// workers' own `rollout_commits_total`, summed), how it scales with workers, and how long survivors take to lease a
/// SIGKILLed worker's rollouts. Beside it, in the same run, the same workload on SQLite with one worker.
///
/// The server of URL must let its user create databases: the bench fills one scratch database, copies it for each
/// run (`CREATE DATABASE … TEMPLATE`) and drops them all. The workers share one simulated fleet per run (its journal
/// under a file lock, as on one machine) whose API quotas are raised out of the way: the store is what is measured.
extension BenchCommand {
    struct PostgresRun {
        var rate: Double
        var commits: Int
        var work: WorkDone
        var leasedAfter: Double
        var leases: [Int]
        var takeover: (seconds: Double, rollouts: Int)?
    }

    static let postgresBenchScenario = """
        devices: 20
        checkInDelayMax: 1s
        install: {min: 1s, max: 2s}
        api:
          quotas: {CreateJob: 100000, DescribeJob: 100000, ListJobExecutionsForJob: 100000, CancelJob: 100000,
                   GetJobDocument: 100000, ListJobs: 100000, DescribeJobExecution: 100000, S3: 100000,
                   DescribeThingGroup: 100000, ListThingsInThingGroup: 100000, ConcurrentJobs: 10000000,
                   ActiveJobs: 10000000}
        """

    /// A short rollout of four stages on a 20-device simulated fleet: each one commits about 25 transitions over a
    /// minute or so, so every rollout stays active through the measurement.
    static func postgresBenchPlan(_ index: Int) -> String {
        """
        name: pgbench-\(index)
        release: {firmware: bench-fw, version: 3.0.\(index), artifact: s3://bench-bucket/fw/3.0.bin}
        rollback: {version: 2.9.0, artifact: s3://bench-bucket/fw/2.9.bin}
        fleet: {thingGroup: bench}
        canary: {devices: 1, bake: 3s}
        waves:
          - {percent: 25, bake: 3s}
          - {percent: 50, bake: 3s}
          - {percent: 100, bake: 3s}
        """
    }

    func benchPostgres(url: String, executable: String, directory: String, rollouts: Int, seconds: Int,
                       leaseSeconds: Double) async throws {
        let server = try PostgresLocation(url: url)
        let scenario = directory + "/pg-scenario.yaml"
        try Self.postgresBenchScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        let prefix = "rollout_bench_\(getpid())"
        let template = prefix + "_filled"
        try PostgresDatabases.create(template, on: server)
        defer { try? PostgresDatabases.drop(template, on: server) }
        let fillStart = Date()
        // Four connections fill it at once (each submission is a few round trips to the server).
        let filling = PostgresDatabases.location(server, database: template)
        try PostgresRolloutStore(location: filling).close()  // migrated once, before four sessions use it
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<4 {
                group.addTask {
                    let store = try PostgresRolloutStore(location: filling, migrate: false)
                    defer { store.close() }
                    try await Self.fillBench(store: store, indices: Array(stride(from: part, to: rollouts, by: 4)),
                                             directory: directory)
                }
            }
            try await group.waitForAll()
        }
        print("PostgreSQL (\(server)): \(rollouts) concurrent simulated rollouts (database filled in "
              + "\(String(format: "%.1f", Date().timeIntervalSince(fillStart))) s), \(seconds) s measured per run, "
              + "lease \(BenchText.seconds(leaseSeconds)):")
        var single: Double?
        for count in 1...3 {
            let name = "\(prefix)_\(count)"
            try PostgresDatabases.create(name, on: server, template: template)
            defer { try? PostgresDatabases.drop(name, on: server) }
            let location = PostgresDatabases.location(server, database: name)
            let run = try await measurePostgres(workers: count, location: location, url: Self.url(url, database: name),
                                                executable: executable, directory: directory, scenario: scenario,
                                                rollouts: rollouts, seconds: seconds, leaseSeconds: leaseSeconds)
            if count == 1 { single = run.rate }
            var line = "  \(count) worker\(count == 1 ? " " : "s"): \(BenchText.rate(run.rate)) transitions/s "
                + "(\(run.commits) commits; \(run.work.rates); \(run.leases.reduce(0, +)) of \(rollouts) leased \(BenchText.seconds(run.leasedAfter)) after start, "
                + "leases \(run.leases.map(String.init).joined(separator: "/")))"
            if count > 1, let single, single > 0 { line += " → \(BenchText.ratio(run.rate / single)) one worker" }
            if let takeover = run.takeover {
                line += "\n    take-over: the \(takeover.rollouts) active rollouts of a SIGKILLed worker leased by the "
                    + "survivors \(BenchText.seconds(takeover.seconds)) after the kill"
            }
            print(line)
        }

        // The same workload, one worker on SQLite (the embedded default, synchronous=FULL).
        let database = directory + "/pg-beside.db"
        do {
            let store = try SQLiteRolloutStore(path: database, role: .worker, durability: .processCrash)
            defer { store.close() }
            try await Self.fillBench(store: store, indices: Array(0..<rollouts), directory: directory)
        }
        let worker = try BenchWorker(executable: executable, database: database,
                                     extra: Self.benchWorkerArguments(scenario: scenario, journal: nil))
        defer { worker.stop() }
        _ = try await worker.waitUntilReady(since: Date())
        let work = try await Self.workDuring(seconds: seconds, workers: [worker])
        let rate = Double(work.commits) / work.seconds
        var line = "  beside it, SQLite, 1 worker: \(BenchText.rate(rate)) transitions/s (\(work.commits) commits; "
            + "\(work.rates))"
        if let single, single > 0 { line += " → PostgreSQL with 1 worker is \(BenchText.ratio(single / rate)) of it" }
        print(line)
        worker.stop()
        SimulationSession.removeDatabase(at: database)
    }

    /// One run: `workers` processes on `location`, measured once every rollout is leased; then (with two or more)
    /// the first is SIGKILLed and the survivors' take-over timed on the database.
    func measurePostgres(workers count: Int, location: PostgresLocation, url: String, executable: String,
                         directory: String, scenario: String, rollouts: Int, seconds: Int,
                         leaseSeconds: Double) async throws -> PostgresRun {
        let journal = directory + "/pg-fleet-\(count).simfleet"
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let started = Date()
        let workers = try (0..<count).map { _ in
            try BenchWorker(executable: executable, database: url,
                            extra: ["--lease-seconds", "\(leaseSeconds)"]
                                + Self.benchWorkerArguments(scenario: scenario, journal: journal))
        }
        defer { workers.forEach { $0.stop() } }
        for worker in workers { _ = try await worker.waitUntilReady(since: started) }
        // Claims are bounded per round: wait until the rollouts are all leased (bounded by rounds, not a guess).
        var leases: [Int] = []
        var leasedAfter = 0.0
        for _ in 0..<600 {
            leases = []
            for worker in workers {
                leases.append(Int(Self.metric(try await Self.metricsText(worker), "rollout_worker_leases_held") ?? 0))
            }
            leasedAfter = Date().timeIntervalSince(started)
            if leases.reduce(0, +) >= rollouts { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let work = try await Self.workDuring(seconds: seconds, workers: workers)
        var run = PostgresRun(rate: Double(work.commits) / work.seconds, commits: work.commits, work: work,
                              leasedAfter: leasedAfter, leases: leases)
        guard count > 1 else { return run }

        let text = try await Self.metricsText(workers[0])
        guard let id = Self.label(text, "rollout_worker_leases_held", "worker") else {
            throw ValidationError("the worker's /metrics does not name it (rollout_worker_leases_held{worker=…})")
        }
        let store = try PostgresRolloutStore(location: location, migrate: false)
        defer { store.close() }
        let stranded = try store.activeRollouts(leasedTo: id)
        kill(workers[0].process.processIdentifier, SIGKILL)
        workers[0].process.waitUntilExit()
        let killedAt = Date()
        var remaining = stranded
        for _ in 0..<1200 where remaining > 0 {  // two minutes at most
            try await Task.sleep(nanoseconds: 100_000_000)
            remaining = try store.activeRollouts(leasedTo: id)
        }
        guard remaining == 0 else {
            throw ValidationError("\(remaining) rollouts of the killed worker were still not taken over after 2 minutes")
        }
        run.takeover = (Date().timeIntervalSince(killedAt), stranded)
        return run
    }

    static func benchWorkerArguments(scenario: String, journal: String?) -> [String] {
        ["--scenario", scenario, "--devices", "20", "--seed", "1", "--poll-interval", "1s"]
            + (journal.map { ["--sim-journal", $0] } ?? [])
    }

    /// Submits the bench's rollouts through an engine (as `submit` does), none stepped yet.
    static func fillBench(store: any RolloutStore, indices: [Int], directory: String) async throws {
        let clock = SystemClock()
        let fleet = SimulatedFleet(devices: 20, seed: 1, scenario: SimulationScenario(), clock: clock)
        let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                   notifier: RecordingNotifier(), clock: clock,
                                   logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        for index in indices {
            let text = postgresBenchPlan(index)
            _ = try await engine.submit(plan: try PlanParser.parse(text, file: "pgbench-\(index).yaml", baseDirectory: directory),
                                        planSource: text)
        }
    }

    /// What the workers did in a measured interval (their own counters, summed): transitions committed, steps run
    /// and fleet calls made. A step that changes nothing (a poll finding no news) commits nothing.
    struct WorkDone {
        var commits: Int
        var steps: Int
        var fleetCalls: Int
        var seconds: Double

        /// Steps and fleet calls per second, for a report line.
        var rates: String {
            "\(BenchText.rate(Double(steps) / seconds)) steps/s, \(BenchText.rate(Double(fleetCalls) / seconds)) fleet calls/s"
        }
    }

    /// The workers' work during `seconds` (`rollout_commits_total`, `rollout_steps_total`, `rollout_fleet_calls_total`).
    static func workDuring(seconds: Int, workers: [BenchWorker]) async throws -> WorkDone {
        func totals() async throws -> [Double] {
            var sums = [0.0, 0.0, 0.0]
            for worker in workers {
                let text = try await metricsText(worker)
                for (index, family) in ["rollout_commits_total", "rollout_steps_total", "rollout_fleet_calls_total"].enumerated() {
                    sums[index] += metric(text, family) ?? 0
                }
            }
            return sums
        }
        let before = try await totals()
        let start = Date()
        try await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000)
        let after = try await totals()
        return WorkDone(commits: Int(after[0] - before[0]), steps: Int(after[1] - before[1]),
                        fleetCalls: Int(after[2] - before[2]), seconds: Date().timeIntervalSince(start))
    }

    static func metricsText(_ worker: BenchWorker) async throws -> String {
        String(decoding: try await fetch(worker.url + "/metrics").body, as: UTF8.self)
    }

    /// The value of `family`'s first sample in a Prometheus text.
    static func metric(_ text: String, _ family: String) -> Double? {
        sampleLine(text, family).flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// The value of `label` in `family`'s first sample.
    static func label(_ text: String, _ family: String, _ label: String) -> String? {
        guard let line = sampleLine(text, family), let start = line.range(of: label + "=\"") else { return nil }
        let rest = line[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    private static func sampleLine(_ text: String, _ family: String) -> Substring? {
        text.split(separator: "\n").first { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }
    }

    /// `url` (the one given, with its query: sslmode, password_file) naming `database` instead.
    static func url(_ url: String, database: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw ValidationError("--postgres: not a URL: \(url)") }
        components.path = "/" + database
        guard let text = components.string else { throw ValidationError("--postgres: cannot name database \(database)") }
        return text
    }
}
