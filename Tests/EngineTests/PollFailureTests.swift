import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// A fleet whose job-progress reads fail while `failing` is set (the rest is the simulated fleet).
final class FailingPollsFleet: ForwardingFleet, @unchecked Sendable {
    private let lock = NSLock()
    private var isFailing = false

    var failing: Bool {
        get { lock.withLock { isFailing } }
        set { lock.withLock { isFailing = newValue } }
    }

    override func jobProgress(jobId: String) async throws -> JobProgress {
        if failing {
            throw FleetError.retryable("ThrottlingException: https://user:hunter2@iot.example/jobs/\(jobId)",
                                       retryAfterSeconds: nil)
        }
        return try await super.jobProgress(jobId: jobId)
    }
}

/// Polls that keep failing are visible beside the rollout (since when, how many, the last error), so "waiting for
/// gates" never hides that no evidence arrives; the next poll that works clears it.
@Suite struct PollFailureTests {
    @Test func failingPollsAreShownUntilOneWorks() async throws {
        let world = try SimulatedWorld(devices: 200, seed: 6, scenario: SimulationScenario())
        defer { world.remove() }
        let fleet = FailingPollsFleet(world.fleet)
        let engine = RolloutEngine(store: try SimulatedWorld.openStore(world.databasePath), fleet: fleet,
                                   metricSource: SimulatedMetricSource(fleet: world.fleet, clock: world.clock),
                                   notifier: RecordingNotifier(), clock: world.clock,
                                   configuration: EngineConfiguration(pollIntervalSeconds: 60), logger: silentLogger)
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        for _ in 0..<20 {
            _ = try await engine.step(rolloutId: id)
            if try await engine.state(of: id)?.phase == .baking { break }
        }
        #expect(try await engine.state(of: id)?.phase == .baking)

        fleet.failing = true
        let firstFailure = world.clock.now().addingTimeInterval(61)
        for round in 1...3 {
            world.clock.advance(to: world.clock.now().addingTimeInterval(61))
            _ = try await engine.step(rolloutId: id)
            let failure = try #require(try engine.readModel.detail(id)?.pollFailure, "round \(round)")
            #expect(failure.attempts == round)
            #expect(failure.since == firstFailure, "the first failure of the run is kept")
            #expect(failure.lastError.contains("ThrottlingException"))
        }

        fleet.failing = false
        world.clock.advance(to: world.clock.now().addingTimeInterval(61))
        _ = try await engine.step(rolloutId: id)
        #expect(try engine.readModel.detail(id)?.pollFailure == nil, "a poll that works ends the run of failures")
    }
}
