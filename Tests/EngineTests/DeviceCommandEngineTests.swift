import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// `rollout device` on the simulated fleet: a device taken out of a later stage is not in its job; a cancelled one's
/// execution is cancelled in the fleet; both are reported per device.
@Suite struct DeviceCommandEngineTests {
    static let plan = """
        name: device-test
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 20, bake: 2h}
        waves:
          - {percent: 100, bake: 1h}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 10}
        job: {inProgressTimeout: 30m}
        """

    /// Steps the rollout, moving the virtual clock to each due instant, until `done` holds (at most 200 steps).
    func run(_ engine: RolloutEngine, _ world: SimulatedWorld, _ id: String,
             until done: (RolloutState) -> Bool) async throws -> RolloutState {
        for _ in 0..<200 {
            let outcome = try await engine.step(rolloutId: id)
            let state = try #require(try await engine.state(of: id))
            if done(state) { return state }
            guard let due = outcome.nextDueAt else { break }
            if due > world.clock.now() { world.clock.advance(to: due) }
        }
        Issue.record("the condition never held (seed 4)")
        return try #require(try await engine.state(of: id))
    }

    @Test("exclude leaves a device out of its later stage's job; cancel cancels its execution; both are shown")
    func excludeAndCancel() async throws {
        let world = try SimulatedWorld(devices: 200, seed: 4, scenario: SimulationScenario(), planText: Self.plan)
        defer { world.remove() }
        let engine = try world.makeEngine()
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        // The canary's devices start installing an hour in: a device of it is still queued or installing.
        _ = try await run(engine, world, id) { $0.phase == .baking }
        let cohorts = try #require(try await engine.store.cohorts(rolloutId: id))
        let canaryDevice = cohorts.devices(ofStage: 0)[0]
        let waveDevice = cohorts.devices(ofStage: 1)[0]

        await #expect(throws: DeviceLookupError.notInRollout("sim-9999999", rolloutId: id)) {
            try await engine.excludeDevice(rolloutId: id, thing: "sim-9999999", cancel: false, force: false, by: "a",
                                           reason: nil)
        }
        try await engine.excludeDevice(rolloutId: id, thing: waveDevice, cancel: false, force: false, by: "alice",
                                       reason: "field trial unit")
        try await engine.excludeDevice(rolloutId: id, thing: canaryDevice, cancel: true, force: true, by: "alice",
                                       reason: "bricked in the lab")
        _ = try await engine.step(rolloutId: id)  // performs the cancel
        let canaryJob = try #require(try await engine.state(of: id)).stages[0].jobId
        #expect(try await world.fleet.execution(jobId: canaryJob, thing: canaryDevice)?.status == .canceled)
        let report = try await engine.deviceReport(rolloutId: id, thing: canaryDevice)
        #expect(report.stage == "canary" && report.exclusion?.cancelled == true && report.exclusion?.reason == "bricked in the lab")
        #expect(report.executions.map(\.status) == [.canceled])

        let state = try await run(engine, world, id) { $0.phase.isTerminal }
        #expect(state.phase == .completed, "\(state.stages.map { "\($0.name) \($0.status) \($0.lastEvaluation?.summary ?? "")" })")
        #expect(state.stages.map(\.devices) == [19, 179], "each stage counts the devices it can still hear from")
        let waveJob = state.stages[1].jobId
        #expect(try await world.fleet.execution(jobId: waveJob, thing: waveDevice) == nil, "not in wave-1's job")
        #expect(try await world.fleet.execution(jobId: waveJob, thing: cohorts.devices(ofStage: 1)[1])?.status == .succeeded)
        let waveReport = try await engine.deviceReport(rolloutId: id, thing: waveDevice)
        #expect(waveReport.stage == "wave-1" && waveReport.executions.isEmpty && waveReport.exclusion?.cancelled == false)
        #expect(waveReport.history.map(\.fact) == [.takenOut(by: "alice", cancelled: false), .stageJobCreated(stage: "wave-1"),
                                                  .stageEnded(stage: "wave-1", status: .passed)])
        #expect(try await engine.deviceReport(rolloutId: id, thing: canaryDevice).history.first?.fact
                == .stageJobCreated(stage: "canary"))
        let kinds = try await engine.store.events(rolloutId: id, afterSequence: 0, limit: 1000).map(\.event.kind)
        #expect(kinds.filter { $0 == "deviceExcluded" }.count == 2)
    }
}
