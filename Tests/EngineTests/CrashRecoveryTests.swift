import Engine
import FleetSim
import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// The engine is stopped at every crash point of a full plan that includes a rollback (after each transaction,
/// after each effect before its completion is recorded), restarted on the same database, and must end exactly as
/// an uninterrupted run: same final state, same event log, no job created twice.
@Suite(.serialized) struct CrashRecoveryTests {
    /// One world to crash: a seed and a scenario (a broken wave with a rollback, or a healthy fleet with an approval).
    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var scenario: String
        var testDescription: String { "seed \(seed), \(scenario)" }

        var world: (scenario: SimulationScenario, planText: String, expectedPhase: RolloutPhase) {
            switch scenario {
            case "approval":
                let text = rollbackPlanText.replacingOccurrences(of: "- {percent: 30, bake: 1h}",
                                                                 with: "- {percent: 30, bake: 1h, approval: required}")
                return (SimulationScenario(offlinePercent: 1), text, .completed)
            default:
                return (brokenScenario, rollbackPlanText, .rolledBack)
            }
        }
    }

    static let devices = 300
    static let cases = [Case(seed: 20261124, scenario: "rollback"), Case(seed: 9, scenario: "rollback"),
                        Case(seed: 99, scenario: "approval")]

    /// `ROLLOUT_CRASH_SEED`, `ROLLOUT_CRASH_SCENARIO` and `ROLLOUT_CRASH_AT` narrow the run to one case and one
    /// crash point (what a failure prints to reproduce it).
    static var selected: (cases: [Case], crashAt: Int?) {
        let environment = ProcessInfo.processInfo.environment
        guard let seed = environment["ROLLOUT_CRASH_SEED"].flatMap(UInt64.init),
              let scenario = environment["ROLLOUT_CRASH_SCENARIO"] else { return (cases, nil) }
        return ([Case(seed: seed, scenario: scenario)], environment["ROLLOUT_CRASH_AT"].flatMap(Int.init))
    }

    func makeWorld(_ testCase: Case) throws -> SimulatedWorld {
        let world = testCase.world
        return try SimulatedWorld(devices: Self.devices, seed: testCase.seed, scenario: world.scenario,
                                  planText: world.planText)
    }

    func runToEnd(_ world: SimulatedWorld, crashSwitch: CrashSwitch?) async throws -> Bool {
        var hook: (@Sendable (CrashPoint) throws -> Void)?
        if let crashSwitch {
            hook = { point in try crashSwitch.hit(point) }
        }
        let engine = try world.makeEngine(crashHook: hook)
        // A dead process releases its database lock at once; here the old engine may outlive the "crash" for a
        // moment, so release the store explicitly before the restart opens it.
        defer { (engine.store as? SQLiteRolloutStore)?.close() }
        do {
            let submitted = try await engine.submit(plan: world.plan, planSource: world.planSource)
            let runner = SimulationRunner(engine: engine, clock: world.clock)
            _ = try await runner.run(rolloutId: submitted.rolloutId)
            return true
        } catch is SimulatedCrash {
            return false
        }
    }

    @Test(arguments: CrashRecoveryTests.selected.cases)
    func everyCrashPointRecoversToTheSameEnd(_ testCase: Case) async throws {
        let reference = try makeWorld(testCase)
        defer { reference.remove() }
        let counter = CrashSwitch(crashAt: nil)
        #expect(try await runToEnd(reference, crashSwitch: counter))
        let expected = try reference.readBack()
        #expect(expected.state.phase == testCase.world.expectedPhase, "\(testCase.testDescription): reference run")
        let crashPoints = counter.seen
        #expect(crashPoints > 20)

        let points = Self.selected.crashAt.map { [$0] } ?? Array(0..<crashPoints)
        for crashAt in points {
            let world = try makeWorld(testCase)
            defer { world.remove() }
            let crash = CrashSwitch(crashAt: crashAt)
            let finished = try await runToEnd(world, crashSwitch: crash)
            let context = "crash \(crashAt) \(crash.point.map { "\($0)" } ?? "?") of \(testCase.testDescription); reproduce: "
                + "ROLLOUT_CRASH_SEED=\(testCase.seed) ROLLOUT_CRASH_SCENARIO=\(testCase.scenario) ROLLOUT_CRASH_AT=\(crashAt) "
                + "swift test --disable-xctest --filter CrashRecoveryTests"
            #expect(!finished, "\(context): crash point not reached")
            // Restart: a new engine and store on the same database, the same fleet (the outside world).
            #expect(try await runToEnd(world, crashSwitch: nil))
            let actual = try world.readBack()
            #expect(actual.state == expected.state, "\(context): final state differs")
            #expect(actual.events.map(\.event.kind) == expected.events.map(\.event.kind), "\(context): event log differs")
            #expect(actual.events.map(\.at) == expected.events.map(\.at), "\(context): event times differ")
            #expect(world.fleet.jobsCreated == reference.fleet.jobsCreated, "\(context): jobs created differ")
            #expect(Set(world.fleet.jobsCreated).count == world.fleet.jobsCreated.count, "\(context): a job was created twice")
        }
    }
}
