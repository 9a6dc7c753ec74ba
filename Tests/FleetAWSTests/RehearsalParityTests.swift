import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite
import Testing

@testable import FleetAWS

/// The rehearsal decides as AWS does: one script of device outcomes (by position in the plan: "the first 2 devices of
/// wave-2 fail, the others never pick the job up; every other stage succeeds") is played by the simulated fleet
/// (`scripted:` in its scenario) and by moto's device layer, and the same plan, run by the same engine on each,
/// makes the same decisions: stages started and their verdicts, jobs cancelled, the rollback set, the ending.
@Suite("rehearsal parity with AWS", .serialized)
struct RehearsalParityTests {
    /// What a run decided, free of device names and timing.
    struct Decisions: Equatable, CustomStringConvertible {
        var phase: RolloutPhase
        var stageStatuses: [StageStatus]
        var stageDevices: [Int?]
        /// The verdict each stage ended on.
        var finalVerdicts: [String: Verdict]
        /// Stages whose job cancellation was confirmed.
        var cancelled: Set<String>
        var rollbackSet: [DevicePosition]

        var description: String {
            "\(phase.rawValue) \(stageStatuses.map(\.rawValue)) devices \(stageDevices.map { $0 ?? -1 }) verdicts "
                + "\(finalVerdicts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }) cancelled "
                + "\(cancelled.sorted()) rollback \(rollbackSet)"
        }

        init(state: RolloutState, events: [RolloutEventRecord], verdicts: [VerdictRecord], rollbackSet: [DevicePosition]) {
            phase = state.phase
            stageStatuses = state.stages.map(\.status)
            stageDevices = state.stages.map(\.devices)
            finalVerdicts = [:]
            for record in verdicts { finalVerdicts[record.stage] = record.evaluation.verdict }
            cancelled = Set(events.compactMap { record -> String? in
                if case .jobCancelled(let stage) = record.event { return state.stages[stage].name }
                return nil
            })
            self.rollbackSet = rollbackSet
        }
    }

    static let things = 20

    /// Where each device sits in the plan (its rank in its stage's sorted cohort).
    static func positions(_ devices: [String], cohorts: CohortAssignment, state: RolloutState) throws -> [DevicePosition] {
        var rankOf: [String: DevicePosition] = [:]
        for (index, stage) in state.stages.enumerated() {
            for (rank, device) in cohorts.devices(ofStage: index).sorted().enumerated() {
                rankOf[device] = DevicePosition(stage: stage.name, rank: rank)
            }
        }
        return try devices.map { try #require(rankOf[$0], "\($0) is in no stage") }.sorted()
    }

    /// The same plan on the simulated fleet with the same script, on a virtual clock. Its devices install well within
    /// the plan's `inProgressTimeout` (5m), as the device layer's do.
    static func rehearse(_ planText: String, in world: RunEndToEndTests.World) async throws -> Decisions {
        let plan = try PlanFile.load(atPath: try world.writePlan(planText)).plan
        let scenario = try SimulationScenario.parse("""
            offlinePercent: 0
            checkInDelayMax: 30s
            install: {min: 30s, max: 2m}
            scripted:
              - {stage: wave-2, first: 2, outcome: failed}
              - {stage: wave-2, first: \(Self.things), outcome: neverStarts}
            """, file: "parity-scenario.yaml")
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        let fleet = SimulatedFleet(devices: Self.things, seed: 7, scenario: scenario, clock: clock)
        let store = MemoryRolloutStore()
        let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                   notifier: RecordingNotifier(), clock: clock, configuration: EngineConfiguration(),
                                   logger: Logger(label: "parity", factory: { _ in SwiftLogNoOpLogHandler() }))
        let submitted = try await engine.submit(plan: plan, planSource: planText)
        let ending = try await SimulationRunner(engine: engine, clock: clock).run(rolloutId: submitted.rolloutId)
        #expect(ending == .finished)
        let state = try #require(try await engine.state(of: submitted.rolloutId))
        let cohorts = try #require(try store.cohorts(rolloutId: submitted.rolloutId))
        return Decisions(
            state: state, events: try store.events(rolloutId: submitted.rolloutId, afterSequence: 0, limit: 10_000),
            verdicts: try store.verdicts(rolloutId: submitted.rolloutId),
            rollbackSet: try Self.positions(fleet.targets(ofJob: state.rollback?.jobId ?? "") ?? [], cohorts: cohorts,
                                            state: state))
    }

    @Test("a scripted broken wave decides the same on the simulated fleet and on moto")
    func aBrokenWaveDecidesTheSame() async throws {
        // On AWS: moto's device layer plays the script.
        let play: [[String: Any]] = [
            ["job": "-wave-2$", "first": 2, "status": "FAILED", "startMs": [0, 0]],
            ["job": "-wave-2$", "status": "QUEUED"],
        ]
        let run = try await ScenarioRun.start("parity", things: Self.things,
                                              plan: { ScenarioRun.brokenGatePlan($0, cancelForce: false) }, play: play)
        let planText = ScenarioRun.brokenGatePlan(run.world, cancelForce: false)
        let onAWS: Decisions
        do {
            let state = try await run.rollout.settle(secondsMax: 90)
            let snapshot = try await run.snapshot(state)
            let rollbackJob = try #require(snapshot.jobs[state.rollback?.jobId ?? ""], "a rollback job on AWS")
            let cohorts = try #require(try run.rollout.store.cohorts(rolloutId: run.rollout.rolloutId))
            onAWS = Decisions(state: state,
                              events: try run.rollout.store.events(rolloutId: run.rollout.rolloutId, afterSequence: 0,
                                                                   limit: 10_000),
                              verdicts: try run.rollout.store.verdicts(rolloutId: run.rollout.rolloutId),
                              rollbackSet: try Self.positions(RunEndToEndTests.targetThings(rollbackJob), cohorts: cohorts,
                                                              state: state))
            run.rollout.store.close()
        } catch {
            await run.finish()
            throw error
        }

        // The plan's artifacts live in the world: it is removed once the rehearsal ran too.
        let rehearsed: Decisions
        do {
            rehearsed = try await Self.rehearse(planText, in: run.world)
        } catch {
            await run.finish()
            throw error
        }
        await run.finish()

        #expect(onAWS.phase == .rolledBack, "the script breaks wave-2: \(onAWS)")
        #expect(rehearsed == onAWS, "rehearsed: \(rehearsed)\non AWS:    \(onAWS)")
    }
}
