import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// The one driver: rollouts are stepped on their own (a slow step holds up nobody), and the outcome of each step
/// decides what happens next.
@Suite struct RolloutDriverTests {
    /// A fleet whose `createJob` for one rollout blocks until the test opens the gate: a fleet call that takes
    /// minutes (filling a thing group, a slow endpoint, a long retry backoff).
    final class GatedFleet: ForwardingFleet, @unchecked Sendable {
        let blockedRollout: String
        private let lock = NSLock()
        private var opened = false
        private var waiting: [CheckedContinuation<Void, Never>] = []
        private(set) var blockedCalls = 0

        init(_ inner: SimulatedFleet, blocking rolloutId: String) {
            self.blockedRollout = rolloutId
            super.init(inner)
        }

        func open() {
            let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                opened = true
                defer { waiting = [] }
                return waiting
            }
            for continuation in resumed { continuation.resume() }
        }

        override func createJob(_ request: JobRequest) async throws {
            if request.rolloutId == blockedRollout {
                await withCheckedContinuation { continuation in
                    let pass = lock.withLock { () -> Bool in
                        blockedCalls += 1
                        if opened { return true }
                        waiting.append(continuation)
                        return false
                    }
                    if pass { continuation.resume() }
                }
            }
            try await inner.createJob(request)
        }
    }

    static func plan(name: String, version: String) -> String {
        """
        name: \(name)
        release: {firmware: fw, version: \(version), artifact: s3://fw-bucket/fw/\(version).bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 20, bake: 30m}
        waves:
          - {percent: 100, bake: 30m}
        gates: {jobOutcomes: {failedMaxPercent: 5, executedMin: 10}}
        schedule: {evidenceTimeout: 300d}
        """
    }

    /// Issue "never strand a device", §7: one rollout's `createJob` blocks for a long time while a second rollout's
    /// canary fails; the second is rolled back within one poll interval of the failure. Runs on the real clock
    /// (sped up 20×, so that a machine busy with other tests keeps its timing): real concurrency is the point.
    @Test func aSlowStepNeverHoldsUpAnotherRollout() async throws {
        let slowText = Self.plan(name: "slow", version: "2.1.0")
        let badText = Self.plan(name: "bad", version: "6.6.6")
        let slowId = RolloutIdentity.rolloutId(planName: "slow", planSource: slowText)
        let clock = SystemClock(scale: 20)
        // 6.6.6 fails on every device within two minutes of its job; devices check in at once.
        let scenario = SimulationScenario(offlinePercent: 0, checkInDelayMaxSeconds: 1, installSecondsMin: 60,
                                          installSecondsMax: 120,
                                          outcomes: [OutcomeRule(firmware: "6.6.6", failPercent: 100)])
        let fleet = GatedFleet(SimulatedFleet(devices: 400, seed: 5, scenario: scenario, clock: clock), blocking: slowId)
        let store = MemoryRolloutStore()
        let pollSeconds = 60.0
        let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet.inner, clock: clock),
                                   notifier: RecordingNotifier(), clock: clock,
                                   configuration: EngineConfiguration(pollIntervalSeconds: pollSeconds), logger: silentLogger)
        let worker = RolloutWorker(engine: engine, clock: clock, logger: silentLogger)
        try await worker.resumeAll()
        let running = Task { await worker.run() }
        defer { fleet.open() }

        _ = try await worker.submit(planSource: slowText, fileName: "slow.yaml")
        let badId = try await worker.submit(planSource: badText, fileName: "bad.yaml").rolloutId
        let rolledBack = await engine.readModel.wait(for: badId, timeoutSeconds: 60) {
            $0.rollout.state.phase.isTerminal
        }
        let slow = try #require(engine.readModel.rollout(slowId))
        #expect(fleet.blockedCalls == 1, "the slow rollout's createJob is still blocked")
        #expect(slow.state.phase == .deploying)

        let bad = try #require(rolledBack?.rollout.state, "the failing rollout ended while the other one was blocked")
        #expect(bad.phase == .rolledBack)
        let canary = bad.stages[0]
        let created = try #require(canary.jobCreatedAt)
        let requested = try #require(bad.rollback?.requestedAt)
        // Every canary device has failed 120 s after the job; the next poll (≤ 60 s later) sees it. Slack of 300 s
        // of clock time (15 s of wall time) for a machine busy with other tests: the batch barrier this guards
        // against would hold the rollback back for as long as the other call blocks (here: until the end).
        #expect(requested.timeIntervalSince(created) <= 120 + pollSeconds + 300,
                "rolled back \(requested.timeIntervalSince(created)) s after its canary job, poll every \(pollSeconds) s")

        fleet.open()
        let moved = await engine.readModel.wait(for: slowId, timeoutSeconds: 60) { $0.rollout.state.phase != .deploying }
        #expect(moved != nil, "the slow rollout goes on once its call returns")
        await worker.stop()
        await running.value
    }

    /// The outcome decides: a rollout awaiting approval is released to `run`-like callers with what it waits for,
    /// and a command wakes it.
    @Test func needsPersonIsReportedAndACommandWakesTheRollout() async throws {
        let world = try SimulatedWorld(devices: 300, seed: 2, scenario: SimulationScenario(offlinePercent: 0),
                                       planText: rollbackPlanText.replacingOccurrences(
                                           of: "- {percent: 30, bake: 1h}", with: "- {percent: 30, bake: 1h, approval: required}"))
        defer { world.remove() }
        let engine = try world.makeEngine()
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        let driver = RolloutDriver(engine: engine, clock: world.clock,
                                   configuration: RolloutDriver.Configuration(stepErrorEndsDrive: true),
                                   policy: RolloutDriver.untilFinishedOrPerson)
        let first = try await driver.drive(id)
        #expect(first == .needsPerson(.approval(stage: "wave-1"), nextDueAt: nil))
        try await engine.command(.pauseRequested(by: "ops", reason: "freeze"), rolloutId: id)
        try await engine.command(.approved(by: "rm"), rolloutId: id)
        let held = try await driver.drive(id)
        #expect(held == .needsPerson(.resume(.requested), nextDueAt: nil), "approved while paused: still held")
        #expect(world.fleet.jobsCreated.count == 1, "no job while paused")
        try await engine.command(.resumeRequested(by: "ops"), rolloutId: id)
        let end = try await driver.drive(id)
        #expect(end == .finished)
        #expect(world.fleet.jobsCreated.count == 3)
    }
}
