import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// Everything one simulated run needs, wired together: virtual clock, simulated fleet, SQLite store, engine.
struct SimulationSession {
    let clock: VirtualClock
    let fleet: SimulatedFleet
    let store: SQLiteRolloutStore
    let engine: RolloutEngine
    let databasePath: String
    let temporaryDatabase: Bool

    init(devices: Int, seed: UInt64, scenario: SimulationScenario, start: Date, databasePath: String?,
         pollIntervalSeconds: Double, logger: Logger) throws {
        clock = VirtualClock(start: start)
        fleet = SimulatedFleet(devices: devices, seed: seed, scenario: scenario, clock: clock)
        if let databasePath {
            self.databasePath = databasePath
            temporaryDatabase = false
        } else {
            self.databasePath = NSTemporaryDirectory() + "rollout-simulate-\(getpid())-\(seed).db"
            temporaryDatabase = true
            SimulationSession.removeDatabase(at: self.databasePath)
        }
        store = try SQLiteRolloutStore(path: self.databasePath, role: .worker, durability: .processCrash)
        // The simulated fleet keeps its jobs beside the database, so a run killed midway resumes (`--db`).
        try fleet.attachJournal(path: self.databasePath + ".simfleet")
        engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                               notifier: RecordingNotifier(), clock: clock,
                               configuration: EngineConfiguration(pollIntervalSeconds: pollIntervalSeconds), logger: logger)
    }

    func close() {
        guard temporaryDatabase else { return }
        store.closeForDeletion()
        SimulationSession.removeDatabase(at: databasePath)
    }

    static func removeDatabase(at path: String) {
        for suffix in ["", "-wal", "-shm", ".lock", ".simfleet"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    /// Midnight UTC today: the default virtual start, printed so a run can be repeated exactly with `--start`.
    static func defaultStart(plan: RolloutPlan) -> Date {
        if let notBefore = plan.schedule.notBefore { return notBefore }
        let now = Date().timeIntervalSince1970
        return Date(timeIntervalSince1970: (now / 86400).rounded(.down) * 86400)
    }
}

/// Reads a `--scenario` file; on failure prints every problem and exits with 65. No file: the default fleet.
enum ScenarioLoading {
    static func load(_ path: String?) throws -> SimulationScenario {
        guard let path else { return SimulationScenario() }
        do {
            return try SimulationScenario.parseFile(atPath: path)
        } catch {
            Console.error(error.description)
            throw ExitCode(ExitStatus.invalidInput)
        }
    }
}
