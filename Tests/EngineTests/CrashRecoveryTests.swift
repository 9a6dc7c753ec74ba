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
    static let seed: UInt64 = 20261124
    static let devices = 300

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

    @Test func everyCrashPointRecoversToTheSameEnd() async throws {
        let reference = try SimulatedWorld(devices: Self.devices, seed: Self.seed, scenario: brokenScenario)
        defer { reference.remove() }
        let counter = CrashSwitch(crashAt: nil)
        #expect(try await runToEnd(reference, crashSwitch: counter))
        let expected = try reference.readBack()
        #expect(expected.state.phase == .rolledBack, "the reference run must include a rollback")
        let crashPoints = counter.seen
        #expect(crashPoints > 20)

        for crashAt in 0..<crashPoints {
            let world = try SimulatedWorld(devices: Self.devices, seed: Self.seed, scenario: brokenScenario)
            defer { world.remove() }
            let crash = CrashSwitch(crashAt: crashAt)
            let finished = try await runToEnd(world, crashSwitch: crash)
            #expect(!finished, "crash point \(crashAt) was not reached")
            // Restart: a new engine and store on the same database, the same fleet (the outside world).
            #expect(try await runToEnd(world, crashSwitch: nil))
            let actual = try world.readBack()
            let context = "crash \(crashAt) \(crash.point.map { "\($0)" } ?? "?"); reproduce: swift test --filter "
                + "CrashRecoveryTests (seed \(Self.seed), \(Self.devices) devices)"
            #expect(actual.state == expected.state, "\(context): final state differs")
            #expect(actual.events.map(\.event.kind) == expected.events.map(\.event.kind), "\(context): event log differs")
            #expect(actual.events.map(\.at) == expected.events.map(\.at), "\(context): event times differ")
            #expect(world.fleet.jobsCreated == reference.fleet.jobsCreated, "\(context): jobs created differ")
            #expect(Set(world.fleet.jobsCreated).count == world.fleet.jobsCreated.count, "\(context): a job was created twice")
        }
    }
}
