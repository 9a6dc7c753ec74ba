import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// `aws.retention` on the simulated fleet: once an ended rollout's retention has passed, a sweep deletes its jobs and
/// records `purged`; before, and after, it does nothing.
@Suite struct RetentionEngineTests {
    @Test("a sweep purges an ended rollout once its retention has passed, once")
    func sweep() async throws {
        let text = DeviceCommandEngineTests.plan + "\naws: {bucket: fw-bucket, retention: 2h}\n"
        let world = try SimulatedWorld(devices: 100, seed: 6, scenario: SimulationScenario(), planText: text)
        defer { world.remove() }
        let engine = try world.makeEngine()
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        _ = try await SimulationRunner(engine: engine, clock: world.clock).run(rolloutId: id)
        let ended = try #require(try await engine.state(of: id))
        #expect(ended.phase == .completed)
        let jobs = ended.createdJobIds
        #expect(jobs.count == 2)
        #expect(try await engine.purgeDue().isEmpty, "not yet: two hours after the end")

        world.clock.advance(to: try #require(ended.endedAt).addingTimeInterval(2 * 3600))
        #expect(try await engine.purgeDue() == [id])
        for job in jobs {
            await #expect(throws: FleetError.self) { _ = try await world.fleet.jobProgress(jobId: job) }
        }
        let purged = try #require(try await engine.state(of: id))
        #expect(purged.purgedAt == world.clock.now() && purged.purgeDueAt == nil)
        #expect(purged.phase == .completed, "the outcome stays as it was")
        #expect(try await engine.purgeDue().isEmpty)
        let last = try await engine.store.events(rolloutId: id, afterSequence: 0, limit: 1000).last?.event
        #expect(last == .purged(jobs: 2))
    }
}
