import Engine
import FleetSim
import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// The worker runs many rollouts at once on a sped-up real clock, stops gracefully in the middle of them,
/// and a new worker on the same database resumes and finishes every one.
@Suite struct RolloutWorkerTests {
    static func planText(_ index: Int) -> String {
        """
        name: fleet-\(index)
        release: {firmware: fw, version: 2.1.\(index), artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 5, bake: 20m}
        waves:
          - {percent: 50, bake: 30m}
          - {percent: 100, bake: 30m}
        gates: {jobOutcomes: {executedMin: 5}}
        # The clock runs 20,000 times faster than real time: a busy test machine must not turn a slow step
        # into missing evidence.
        schedule: {evidenceTimeout: 300d}
        """
    }

    final class Running: @unchecked Sendable {
        let store: SQLiteRolloutStore
        let worker: RolloutWorker
        private(set) var task: Task<Void, Never>?
        let notifier = RecordingNotifier()

        init(path: String, fleet: SimulatedFleet, clock: SystemClock, webhooks: [WebhookTarget] = [],
             start: Bool = true) throws {
            store = try SimulatedWorld.openStore(path)
            let engine = RolloutEngine(store: store, fleet: fleet,
                                       metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                       notifier: notifier, clock: clock,
                                       configuration: EngineConfiguration(pollIntervalSeconds: 120), logger: silentLogger)
            worker = RolloutWorker(engine: engine, clock: clock,
                                   configuration: RolloutWorker.Configuration(webhooks: webhooks),
                                   logger: silentLogger)
            if start { self.start() }
        }

        func start() {
            let worker = worker
            task = Task { await worker.run() }
        }

        /// Graceful stop; `closeStore` then releases the database for the next worker.
        func stop(closeStore: Bool = true) async {
            await worker.stop()
            await task?.value
            if closeStore { store.close() }
        }
    }

    /// Waits (bounded, no polling) until the worker's read model satisfies `condition`.
    func until(_ what: String, in worker: RolloutWorker, seconds: Double = 60,
               _ condition: @escaping @Sendable ([String: RolloutReadModel.Entry]) -> Bool) async {
        let held = await worker.engine.readModel.waitUntil(timeoutSeconds: seconds, condition)
        #expect(held, "timed out waiting for \(what)")
    }

    static func finishedCount(_ entries: [String: RolloutReadModel.Entry]) -> Int {
        entries.values.filter { $0.rollout.state.phase.isTerminal }.count
    }

    @Test func hundredRolloutsSurviveARestartInTheMiddle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rollout.db").path
        let clock = SystemClock(scale: 20_000)
        let fleet = SimulatedFleet(devices: 2000, seed: 11, scenario: SimulationScenario(), clock: clock)

        var running = try Running(path: path, fleet: fleet, clock: clock, start: false)
        #expect(try await running.worker.resumeAll() == 0)
        running.start()
        var ids: Set<String> = []
        for index in 0..<100 {
            let result = try await running.worker.submit(planSource: Self.planText(index), fileName: "plan-\(index).yaml")
            #expect(result.created)
            ids.insert(result.rolloutId)
        }
        let again = try await running.worker.submit(planSource: Self.planText(0), fileName: "plan-0.yaml")
        #expect(!again.created, "the same plan text is the same rollout")
        await until("some rollouts to finish", in: running.worker) { Self.finishedCount($0) >= 10 }
        await running.stop(closeStore: false)
        // From the database itself: what a restarted worker will find.
        let finishedBefore = try running.store.rollouts(phases: nil, limit: 1000).filter { $0.state.phase.isTerminal }.count
        running.store.close()
        #expect(finishedBefore < 100, "the restart must happen in the middle")

        running = try Running(path: path, fleet: fleet, clock: clock, start: false)
        let resumed = try await running.worker.resumeAll()
        running.start()
        // Unfinished ones, plus finished ones whose clean-up effects are still queued.
        #expect(resumed >= 100 - finishedBefore)
        await until("all rollouts to finish", in: running.worker, seconds: 120) { Self.finishedCount($0) == 100 }
        let all = try await running.worker.rollouts(phase: nil, limit: 1000)
        #expect(Set(all.map(\.id)) == ids)
        #expect(all.allSatisfy { $0.state.phase == .completed })
        #expect(await running.worker.metrics().rolloutsByPhase[.completed] == 100, "metrics count every completion")
        await running.stop()
        // Each rollout made exactly its three jobs, once.
        #expect(fleet.jobSummaries().count == 300)
        #expect(Set(fleet.jobsCreated).count == fleet.jobsCreated.count)
    }

    @Test func commandsWakeTheWorker() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = SystemClock(scale: 1000)
        let fleet = SimulatedFleet(devices: 200, seed: 3, scenario: SimulationScenario(), clock: clock)
        let running = try Running(path: directory.appendingPathComponent("rollout.db").path, fleet: fleet, clock: clock)
        let text = Self.planText(1).replacingOccurrences(of: "- {percent: 50, bake: 30m}",
                                                         with: "- {percent: 50, bake: 30m, approval: required}")
        let id = try await running.worker.submit(planSource: text, fileName: "plan.yaml").rolloutId
        await until("approval", in: running.worker) { $0[id]?.rollout.state.phase == .awaitingApproval }
        #expect(try await running.worker.rollout(id: id)?.nextWakeAt == nil, "waiting for a person needs no timer")
        _ = try await running.worker.command(.approved(by: "test"), rolloutId: id)
        await until("the wave to start", in: running.worker) {
            let state = $0[id]?.rollout.state
            return state?.currentStage == 1 && state?.phase != .awaitingApproval
        }
        _ = try await running.worker.command(.abortRequested(by: "test", reason: "enough"), rolloutId: id)
        await until("abort", in: running.worker) { $0[id]?.rollout.state.phase == .aborted }
        await #expect(throws: CommandRejected.self) {
            _ = try await running.worker.command(.pauseRequested(by: "test", reason: ""), rolloutId: id)
        }
        await running.stop()
    }

    @Test func workerWebhooksHearEveryRollout() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = SystemClock(scale: 20_000)
        let fleet = SimulatedFleet(devices: 200, seed: 8, scenario: SimulationScenario(), clock: clock)
        let running = try Running(path: directory.appendingPathComponent("rollout.db").path, fleet: fleet, clock: clock,
                                  webhooks: [WebhookTarget(url: "https://hooks.example.com/rollouts")])
        let id = try await running.worker.submit(planSource: Self.planText(3), fileName: "plan.yaml").rolloutId
        await until("completion", in: running.worker) { $0[id]?.rollout.state.phase == .completed }
        await running.stop()
        let kinds = running.notifier.sent.map(\.kind)
        #expect(kinds.first == .started)
        #expect(kinds.filter { $0 == .stageStarted }.count == 3)
        #expect(kinds.contains(.verdict))
        #expect(kinds.last == .completed)
        #expect(running.notifier.sent.allSatisfy { $0.rolloutId == id })
    }
}
