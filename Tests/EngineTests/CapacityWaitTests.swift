import Engine
import FleetSim
import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// The simulated fleet behind a job-slot quota: CreateJob of one stage is refused `refusals` times (as AWS answers
/// LimitExceededException while the account's concurrent jobs are at their quota), then fails `transientFailures`
/// times as a throttled call would, then goes through.
final class JobSlotLimitedFleet: ForwardingFleet, @unchecked Sendable {
    let stage: String
    private let lock = NSLock()
    private var refusalsLeft: Int
    private var transientFailuresLeft: Int

    init(_ inner: SimulatedFleet, stage: String, refusals: Int, transientFailures: Int = 0) {
        self.stage = stage
        self.refusalsLeft = refusals
        self.transientFailuresLeft = transientFailures
        super.init(inner)
    }

    var refusalsRemaining: Int { lock.withLock { refusalsLeft } }

    override func createJob(_ request: JobRequest) async throws {
        enum Answer { case refuse, fail, create }
        let answer = lock.withLock { () -> Answer in
            guard request.stage == stage else { return .create }
            if refusalsLeft > 0 {
                refusalsLeft -= 1
                return .refuse
            }
            if transientFailuresLeft > 0 {
                transientFailuresLeft -= 1
                return .fail
            }
            return .create
        }
        switch answer {
        case .refuse:
            throw FleetError.capacity(FleetCapacityWait(
                resource: .jobSlot, detail: "job \(request.jobId): LimitExceededException: too many concurrent jobs",
                remedy: "wait for other jobs to finish"))
        case .fail:
            throw FleetError.retryable("job \(request.jobId): ThrottlingException: Rate exceeded", retryAfterSeconds: nil)
        case .create:
            try await inner.createJob(request)
        }
    }

}

/// A stage whose job finds no free job slot waits for one, visibly, for as long as it takes: it never fails (or
/// pauses the rollout) for running out of attempts.
@Suite struct CapacityWaitTests {
    /// What the driver saw after each step: the retry of the waiting effect and the clock.
    final class Observations: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [(retry: EffectRetry, at: Date)] = []
        private var paused = false

        func record(_ retries: [EffectRetry], at now: Date, state: RolloutState) {
            lock.withLock {
                seen += retries.map { ($0, now) }
                if state.pause != nil { paused = true }
            }
        }

        var retries: [(retry: EffectRetry, at: Date)] { lock.withLock { seen } }
        var sawPause: Bool { lock.withLock { paused } }
    }

    @Test func aStageWaitsForAJobSlotLongerThanEveryAttemptLimit() async throws {
        // Temporary groups filled at once: the only waits here are the refusals below.
        var scenario = SimulationScenario()
        scenario.quotas.ratesPerSecond["AddThingToThingGroup"] = 100_000
        let world = try SimulatedWorld(devices: 1000, seed: 3, scenario: scenario)
        defer { world.remove() }
        let configuration = EngineConfiguration(pollIntervalSeconds: 60)
        let refusals = configuration.effectAttemptsMax * 2
        // Then throttled as often as an effect may fail short of failing for good: the wait used up no attempt.
        let fleet = JobSlotLimitedFleet(world.fleet, stage: "wave-1", refusals: refusals,
                                        transientFailures: configuration.effectAttemptsMax - 1)
        let engine = RolloutEngine(store: try SimulatedWorld.openStore(world.databasePath), fleet: fleet,
                                   metricSource: SimulatedMetricSource(fleet: world.fleet, clock: world.clock),
                                   notifier: RecordingNotifier(), clock: world.clock, configuration: configuration,
                                   logger: silentLogger)
        let submitted = try await engine.submit(plan: world.plan, planSource: world.planSource)
        let observations = Observations()
        let readModel = engine.readModel
        let clock = world.clock
        let id = submitted.rolloutId
        let runner = SimulationRunner(engine: engine, clock: world.clock)
        let ending = try await runner.run(rolloutId: id) { state in
            observations.record(readModel.entry(id).map { Array($0.retries.values) } ?? [], at: clock.now(), state: state)
        }

        #expect(ending == .finished)
        #expect(fleet.refusalsRemaining == 0, "every refusal was met")
        let result = try world.readBack()
        #expect(result.state.phase == .completed)
        #expect(!observations.sawPause, "waiting for a job slot never pauses the rollout")
        #expect(!result.events.contains { $0.event.kind == "effectFailed" })
        #expect(world.fleet.targets(ofJob: RolloutState.jobId(rolloutId: id, stage: "wave-1")) != nil)

        let throttled = observations.retries.filter { $0.retry.waitingFor == nil }.map(\.retry.attempts)
        #expect(throttled.max() == configuration.effectAttemptsMax - 1, "the failed attempts after the wait count from 1")
        let waits = observations.retries.filter { $0.retry.waitingFor == "a job slot" }
        let longest = try #require(waits.max { $0.retry.attempts < $1.retry.attempts })
        #expect(longest.retry.attempts == refusals, "seen after each of the \(refusals) refusals")
        #expect(longest.retry.key == "create-job:wave-1")
        #expect(longest.retry.lastError.hasPrefix("waiting for a job slot: job \(id)-wave-1: LimitExceededException"))
        for wait in waits {
            #expect(wait.retry.nextAttemptAt.timeIntervalSince(wait.at) <= configuration.capacityWaitRetryMaxSeconds,
                    "the wait between tries is capped: \(wait.retry)")
        }
        #expect(readModel.entry(id)?.retries.isEmpty == true, "a created job leaves no retry behind")
        #expect(await engine.statistics.capacityWaits == refusals)
    }

    @Test("a stage of hundreds of devices without rings gets its job once the group would be filled; with rings at once")
    func aLargeStageWaitsForItsTemporaryGroupUnlessRingsExist() async throws {
        for rings in [0, 20] {
            // 10 AddThingToThingGroup a second: wave-1's 595 devices take 58.5 s after the first second's 10.
            var scenario = SimulationScenario()
            scenario.quotas.ratesPerSecond["AddThingToThingGroup"] = 10
            scenario.rings = rings
            let world = try SimulatedWorld(devices: 2000, seed: 5, scenario: scenario)
            defer { world.remove() }
            let engine = try world.makeEngine()
            let submitted = try await engine.submit(plan: world.plan, planSource: world.planSource)
            let readModel = engine.readModel
            let id = submitted.rolloutId
            let waits = Locked<Set<String>>([])
            let ending = try await SimulationRunner(engine: engine, clock: world.clock).run(rolloutId: id) { _ in
                for retry in readModel.entry(id)?.retries.values ?? [:].values {
                    if let waitingFor = retry.waitingFor { waits.withLock { _ = $0.insert(waitingFor) } }
                }
            }
            #expect(ending == .finished)
            let result = try world.readBack()
            #expect(result.state.phase == .completed)
            let wave = result.state.stages[1]
            let started = try #require(wave.startedAt)
            let created = try #require(wave.jobCreatedAt)
            let seen = waits.withLock { $0 }
            if rings == 0 {
                #expect(wave.devices == 595)
                #expect(created.timeIntervalSince(started) >= 58.5, "created \(created), stage started \(started)")
                #expect(created.timeIntervalSince(started) <= 120)
                #expect(seen.contains { $0.hasPrefix("thing group rollout-\(id)-wave-1 to be filled (10 of 595") }, "\(seen)")
            } else {
                #expect(created == started, "ring groups: no fill")
                #expect(seen.isEmpty, "\(seen)")
            }
        }
    }

    @Test func capacityWaitsAreCappedAndRetryAfterStillWins() {
        #expect(FleetError.capacity(FleetCapacityWait(resource: .jobSlot, detail: "d", remedy: "r")).isRetryable)
        #expect(FleetError.retryable("throttled", retryAfterSeconds: nil).isRetryable)
        #expect(!FleetError.permanent("denied").isRetryable)
        let configuration = EngineConfiguration(effectBackoffBaseSeconds: 2, effectBackoffMaxSeconds: 300,
                                                capacityWaitRetryMaxSeconds: 60)
        #expect(configuration.capacityWaitSeconds(attempt: 30, key: "create-job:wave-1", retryAfterSeconds: nil) <= 60)
        #expect(configuration.capacityWaitSeconds(attempt: 30, key: "create-job:wave-1", retryAfterSeconds: 90) == 90,
                "the service's Retry-After still wins")
        #expect(configuration.backoffSeconds(attempt: 30, key: "create-job:wave-1", retryAfterSeconds: nil) > 60)
    }
}
