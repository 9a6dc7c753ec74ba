import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// `rollout bench --resume`: a worker's start with many unfinished rollouts in its database, beside sqlite3 reading
/// the same rows.
extension BenchCommand {
    func benchResume(executable: String, directory: String, rollouts: Int) async throws {
        let pristine = directory + "/resume.db"
        let fillStart = Date()
        try await Self.fill(database: pristine, rollouts: rollouts, directory: directory)
        let filled = Date().timeIntervalSince(fillStart)
        print("worker start with \(rollouts) unfinished rollouts (database filled in \(String(format: "%.1f", filled)) s):")
        for scale in ["1", "10"] {
            var readies: [Double] = []
            var listed: [Double] = []
            var memory: (current: Int, peak: Int) = (0, 0)
            for run in 0..<repeats {
                let database = directory + "/resume-\(scale)-\(run).db"
                try FileManager.default.copyItem(atPath: pristine, toPath: database)
                let start = Date()
                let worker = try BenchWorker(executable: executable, database: database,
                                             extra: ["--time-scale", scale, "--devices", "1000", "--seed", "1"])
                readies.append(try await worker.waitUntilReady(since: start))
                // The list needs every rollout in the read model, which fills after readiness.
                _ = try await worker.client.send("GET", "/v1/rollouts?limit=1")
                listed.append(Date().timeIntervalSince(start))
                if run == 0 {
                    let atReady = worker.memory()
                    try await Task.sleep(nanoseconds: 3_000_000_000)
                    memory = (atReady.current, worker.memory().peak)
                }
                worker.stop()
                SimulationSession.removeDatabase(at: database)
            }
            readies.sort()
            listed.sort()
            print("  time-scale \(scale.padding(toLength: 2, withPad: " ", startingAt: 0)): ready after "
                  + "\(BenchText.seconds(readies[0])) (median \(BenchText.seconds(readies[readies.count / 2]))), "
                  + "every rollout listed after \(BenchText.seconds(listed[0])) (median "
                  + "\(BenchText.seconds(listed[listed.count / 2]))); resident \(BenchText.mebibytes(memory.current)) "
                  + "at ready, peak \(BenchText.mebibytes(memory.peak)) after 3 s")
        }
        print("    floor " + Self.readFloor(database: pristine, directory: directory, repeats: repeats))
    }

    /// Submits `rollouts` bench plans to a new worker database (through the engine, as `submit` would) and closes it.
    static func fill(database: String, rollouts: Int, directory: String) async throws {
        let store = try SQLiteRolloutStore(path: database, role: .worker, durability: .processCrash)
        defer { store.close() }
        let clock = SystemClock()
        let fleet = SimulatedFleet(devices: 1000, seed: 1, scenario: SimulationScenario(), clock: clock)
        let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                   notifier: RecordingNotifier(), clock: clock,
                                   logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        for index in 0..<rollouts {
            let text = planText(index)
            _ = try await engine.submit(plan: try PlanParser.parse(text, file: "bench-\(index).yaml", baseDirectory: directory),
                                        planSource: text)
        }
    }

    /// sqlite3 reading every rollout row the worker reads at start (best of `repeats`), as a sentence.
    static func readFloor(database: String, directory: String, repeats: Int) -> String {
        guard let sqlite = MeasuredProcess.which("sqlite3") else {
            return "sqlite3 reading the same rows: not available (sqlite3 is not installed)"
        }
        let query = "SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts"
        let times = (0..<repeats).compactMap { _ in
            try? MeasuredProcess.run(sqlite, [database, query], scratchDirectory: directory, discardingOutput: true).wallSeconds
        }.sorted()
        guard let best = times.first else { return "sqlite3 reading the same rows: not available (sqlite3 failed)" }
        return "sqlite3 reading the same rows: \(BenchText.seconds(best)) (median \(BenchText.seconds(times[times.count / 2])))"
    }
}
