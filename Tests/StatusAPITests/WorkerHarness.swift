import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore

/// A `RolloutWorker` on an in-memory store and a simulated fleet, on a clock sped up so that a plan with bakes of
/// minutes to hours completes in about a second of wall time.
final class WorkerHarness: Sendable {
    let worker: RolloutWorker
    let fleet: SimulatedFleet
    let clock: SystemClock
    let runTask: Task<Void, Never>

    static let timeScale: Double = 7200

    /// - Parameters:
    ///   - metricSource: nil for the simulated fleet's health document.
    ///   - notifier: nil for a `RecordingNotifier`.
    init(devices: Int = 200, seed: UInt64 = 7, scenario: SimulationScenario = SimulationScenario(offlinePercent: 0),
         metricSource: (any MetricSource)? = nil, notifier: (any Notifier)? = nil,
         logger: Logger = TestServer.quietLogger) async throws {
        let clock = SystemClock(scale: Self.timeScale)
        let fleet = SimulatedFleet(devices: devices, seed: seed, scenario: scenario, clock: clock)
        let store = MemoryRolloutStore()
        let engine = RolloutEngine(store: store, fleet: fleet,
                                   metricSource: metricSource ?? SimulatedMetricSource(fleet: fleet, clock: clock),
                                   notifier: notifier ?? RecordingNotifier(), clock: clock,
                                   configuration: EngineConfiguration(pollIntervalSeconds: 300),
                                   logger: logger)
        let worker = RolloutWorker(engine: engine, clock: clock,
                                   configuration: RolloutWorker.Configuration(),
                                   logger: logger)
        try await worker.resumeAll()
        self.worker = worker
        self.fleet = fleet
        self.clock = clock
        self.runTask = Task { await worker.run() }
    }

    func stop() async {
        await worker.stop()
        await runTask.value
    }
}

/// Plans used by the end-to-end tests. Artifacts are `s3://` locations: the simulated fleet stages them without
/// reading a local file.
enum TestPlans {
    /// Canary + two waves; completes in a few virtual hours.
    static func quick(name: String = "api-quick", approval: Bool = false, bakeMinutes: Int = 30) -> String {
        """
        name: \(name)
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 10, bake: \(bakeMinutes)m}
        waves:
          - {percent: 50, bake: \(bakeMinutes)m\(approval ? ", approval: required" : "")}
          - {percent: 100, bake: \(bakeMinutes)m}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 5}
        job: {inProgressTimeout: 30m}
        """
    }

    /// A plan that takes days of virtual time (long bakes), so it is surely still running when a test acts on it.
    static func slow(name: String) -> String {
        quick(name: name, bakeMinutes: 60 * 24 * 30)
    }
}
