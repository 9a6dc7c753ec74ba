import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite

let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
let simulationStart = PlanParser.parseTimestamp("2026-03-02T00:00:00Z")!

/// A plan whose first wave breaks on rev-B devices (with `brokenScenario`), so a full run includes a rollback.
let rollbackPlanText = """
    name: engine-test
    release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
    rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
    fleet: {thingGroup: fleet}
    canary:
      devices: 5
      bake: 30m
      gates: {jobOutcomes: {failedMaxPercent: 100}}
    waves:
      - {percent: 30, bake: 1h}
      - {percent: 100, bake: 1h}
    gates:
      jobOutcomes: {failedMaxPercent: 5, executedMin: 10}
      metrics:
        - {name: crash-rate, url: "sim://health", pointer: /release/crashRate, max: 0.5}
    job: {inProgressTimeout: 30m}
    """

let brokenScenario = SimulationScenario(hardware: [("A", 50), ("B", 50)], offlinePercent: 2,
                                        outcomes: [OutcomeRule(firmware: "2.1.0", hardware: "B", failPercent: 40)])

/// One simulated world: fleet and clock survive engine "crashes"; the engine and store are rebuilt on restart.
final class SimulatedWorld: @unchecked Sendable {
    let clock = VirtualClock(start: simulationStart)
    let fleet: SimulatedFleet
    let databasePath: String
    let plan: RolloutPlan
    let planSource: String

    init(devices: Int, seed: UInt64, scenario: SimulationScenario, planText: String = rollbackPlanText) throws {
        fleet = SimulatedFleet(devices: devices, seed: seed, scenario: scenario, clock: clock)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-engine-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databasePath = directory.appendingPathComponent("rollout.db").path
        plan = try PlanParser.parse(planText, file: "engine-test.yaml")
        planSource = planText
    }

    func makeEngine(crashHook: (@Sendable (CrashPoint) throws -> Void)? = nil,
                    metricSource: (any MetricSource)? = nil) throws -> RolloutEngine {
        let store = try Self.openStore(databasePath)
        return RolloutEngine(store: store, fleet: fleet,
                             metricSource: metricSource ?? SimulatedMetricSource(fleet: fleet, clock: clock),
                             notifier: RecordingNotifier(), clock: clock,
                             configuration: EngineConfiguration(pollIntervalSeconds: 60), logger: silentLogger,
                             crashHook: crashHook)
    }

    /// Opens the database as the worker. Other tests spawn processes concurrently, and a child forked before it
    /// execs briefly shares the previous store's lock file descriptor (flock belongs to the open file description),
    /// so a lock just released can look held for a moment: retry a bounded number of times.
    static func openStore(_ path: String) throws -> SQLiteRolloutStore {
        for _ in 0..<100 {
            do {
                return try SQLiteRolloutStore(path: path, role: .worker, durability: .processCrash)
            } catch StoreError.locked {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        return try SQLiteRolloutStore(path: path, role: .worker, durability: .processCrash)
    }

    func readBack() throws -> (state: RolloutState, events: [RolloutEventRecord]) {
        let store = try SQLiteRolloutStore(path: databasePath, role: .reader)
        let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: planSource)
        guard let rollout = try store.rollout(id: id) else { throw StoreError.notFound(rolloutId: id) }
        return (rollout.state, try store.events(rolloutId: id, afterSequence: 0, limit: 100_000))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: (databasePath as NSString).deletingLastPathComponent)
    }
}

/// Counts crash points and throws at the chosen one.
final class CrashSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var seen = 0
    let crashAt: Int?
    private(set) var point: CrashPoint?

    init(crashAt: Int?) {
        self.crashAt = crashAt
    }

    func hit(_ point: CrashPoint) throws {
        // The same as a crash at `.beforeEffect` (the lease check between them has no side effect): not counted, so
        // the crash tests do not run every effect's crash twice.
        if case .beforeLeaseCheck = point { return }
        let index = lock.withLock { () -> Int in
            seen += 1
            return seen - 1
        }
        if index == crashAt {
            self.point = point
            throw SimulatedCrash(point: point)
        }
    }
}

/// A fleet that forwards every call to a simulated fleet: test fleets subclass it and override the one call whose
/// behaviour they script (a blocking CreateJob, a refused one, …).
class ForwardingFleet: Fleet, @unchecked Sendable {
    let inner: SimulatedFleet

    init(_ inner: SimulatedFleet) {
        self.inner = inner
    }

    var kind: String { inner.kind }

    func inventory(_ selection: FleetSelection) async throws -> DeviceInventory { try await inner.inventory(selection) }
    func groupMembers(_ group: String) async throws -> [String] { try await inner.groupMembers(group) }
    func ringMembership(fleetGroup: String) async throws -> RingMembership? {
        try await inner.ringMembership(fleetGroup: fleetGroup)
    }
    func stageArtifact(_ artifact: ArtifactRequest) async throws -> StagedArtifact { try await inner.stageArtifact(artifact) }
    func createJob(_ request: JobRequest) async throws { try await inner.createJob(request) }
    func jobProgress(jobId: String) async throws -> JobProgress { try await inner.jobProgress(jobId: jobId) }
    func devices(jobId: String, statuses: Set<ExecutionStatus>) async throws -> [String] {
        try await inner.devices(jobId: jobId, statuses: statuses)
    }
    func devicesThatMayHoldFirmware(jobId: String) async throws -> [String] {
        try await inner.devicesThatMayHoldFirmware(jobId: jobId)
    }
    func cancelJob(jobId: String, reason: String, force: Bool) async throws {
        try await inner.cancelJob(jobId: jobId, reason: reason, force: force)
    }
    func cleanUp(rolloutId: String, jobId: String) async throws { try await inner.cleanUp(rolloutId: rolloutId, jobId: jobId) }
    func purgeJobs(rolloutId: String, jobIds: [String], aws: AWSPlanSettings?) async throws -> Bool {
        try await inner.purgeJobs(rolloutId: rolloutId, jobIds: jobIds, aws: aws)
    }
    func execution(jobId: String, thing: String) async throws -> DeviceExecution? {
        try await inner.execution(jobId: jobId, thing: thing)
    }
    func cancelExecution(jobId: String, thing: String, force: Bool) async throws {
        try await inner.cancelExecution(jobId: jobId, thing: thing, force: force)
    }
    func temporaryResources(rolloutId: String, jobId: String) async throws -> [String] {
        try await inner.temporaryResources(rolloutId: rolloutId, jobId: jobId)
    }
}
