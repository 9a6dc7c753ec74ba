import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// How the engine treats a failed fleet call (`RolloutEngine.handleEffectFailure`): a retryable failure is
/// deferred with backoff and retried, a permanent one (or retries used up) pauses the rollout naming the call,
/// a cancel of a job that never existed counts as done, and a notification that cannot be delivered is dropped.
@Suite struct EffectFailureTests {
    /// A simulated fleet whose `createJob` answers with scripted errors first.
    final class ScriptedFleet: ForwardingFleet, @unchecked Sendable {
        private let lock = NSLock()
        private var createErrors: [FleetError]
        private(set) var createCalls = 0

        init(_ inner: SimulatedFleet, createErrors: [FleetError]) {
            self.createErrors = createErrors
            super.init(inner)
        }

        override func createJob(_ request: JobRequest) async throws {
            let error = lock.withLock { () -> FleetError? in
                createCalls += 1
                return createErrors.isEmpty ? nil : createErrors.removeFirst()
            }
            if let error { throw error }
            try await inner.createJob(request)
        }
    }

    /// A notifier that always fails (a webhook that answers 500).
    struct FailingNotifier: Notifier {
        func send(_ notification: RolloutNotification, to targets: [WebhookTarget]) async throws {
            throw FleetError.retryable("webhook answered 500", retryAfterSeconds: nil)
        }
    }

    static let plan = """
        name: effect-failures
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {devices: 5, bake: 10m}
        waves:
          - {percent: 100, bake: 10m}
        gates: {jobOutcomes: {executedMin: 5}}
        notifications: {webhooks: ["https://hooks.example.com/x"]}
        """

    struct Run {
        let engine: RolloutEngine
        let fleet: ScriptedFleet
        let clock: VirtualClock
        let id: String
        let store: MemoryRolloutStore
    }

    static func start(createErrors: [FleetError], notifier: any Notifier = RecordingNotifier(),
                      configuration: EngineConfiguration = EngineConfiguration(pollIntervalSeconds: 60)) async throws -> Run {
        let clock = VirtualClock(start: simulationStart)
        let inner = SimulatedFleet(devices: 100, seed: 3, scenario: SimulationScenario(offlinePercent: 0), clock: clock)
        let fleet = ScriptedFleet(inner, createErrors: createErrors)
        let store = MemoryRolloutStore()
        let engine = RolloutEngine(store: store, fleet: fleet, metricSource: SimulatedMetricSource(fleet: inner, clock: clock),
                                   notifier: notifier, clock: clock, configuration: configuration, logger: silentLogger)
        let plan = try PlanParser.parse(plan, file: "plan.yaml")
        let id = try await engine.submit(plan: plan, planSource: Self.plan).rolloutId
        return Run(engine: engine, fleet: fleet, clock: clock, id: id, store: store)
    }

    static func drive(_ run: Run) async throws -> StepOutcome? {
        let driver = RolloutDriver(engine: run.engine, clock: run.clock,
                                   configuration: RolloutDriver.Configuration(stepErrorEndsDrive: true),
                                   policy: RolloutDriver.untilFinishedOrPerson)
        return try await driver.drive(run.id)
    }

    @Test func aRetryableFailureIsDeferredWithBackoffAndRetried() async throws {
        let throttled = FleetError.retryable("ThrottlingException: Rate exceeded", retryAfterSeconds: nil)
        let run = try await Self.start(createErrors: [throttled, throttled, throttled])
        // Step until the first failure is recorded: the effect stays pending with its attempt count and error.
        _ = try await run.engine.step(rolloutId: run.id)
        let pending = try #require(try run.store.pendingEffects(rolloutId: run.id).first { $0.record.key == "create-job:canary" })
        #expect(pending.attempts >= 1)
        #expect(pending.lastError?.contains("ThrottlingException") == true)
        #expect(pending.nextAttemptAt ?? .distantPast > run.clock.now(), "retried later, not at once")
        let outcome = try await Self.drive(run)
        #expect(outcome == .finished)
        #expect(try await run.engine.state(of: run.id)?.phase == .completed)
        #expect(run.fleet.createCalls == 3 + 2, "three failures, then one call per stage")
        #expect(run.fleet.inner.jobsCreated.count == 2)
    }

    @Test func aPermanentFailurePausesNamingTheCallAndResumeRetriesIt() async throws {
        let denied = FleetError.permanent("AccessDeniedException: not authorized to perform iot:CreateJob")
        let run = try await Self.start(createErrors: [denied])
        let outcome = try await Self.drive(run)
        #expect(outcome == .needsPerson(.resume(.effectFailed), nextDueAt: nil))
        let state = try #require(try await run.engine.state(of: run.id))
        #expect(state.pause?.failedEffect?.key == "create-job:canary")
        #expect(state.pause?.failedEffectError?.contains("AccessDeniedException") == true)
        #expect(run.fleet.createCalls == 1, "a refusal is not retried by itself")
        try await run.engine.command(.resumeRequested(by: "ops"), rolloutId: run.id)
        #expect(try await Self.drive(run) == .finished)
        #expect(run.fleet.inner.jobsCreated.count == 2)
    }

    @Test func retriesUsedUpPause() async throws {
        let failing = FleetError.retryable("InternalFailureException: 500", retryAfterSeconds: nil)
        let configuration = EngineConfiguration(pollIntervalSeconds: 60, effectAttemptsMax: 3, effectBackoffBaseSeconds: 1,
                                                effectBackoffMaxSeconds: 10)
        let run = try await Self.start(createErrors: Array(repeating: failing, count: 3), configuration: configuration)
        #expect(try await Self.drive(run) == .needsPerson(.resume(.effectFailed), nextDueAt: nil))
        #expect(run.fleet.createCalls == 3)
    }

    @Test func aNotificationThatCannotBeDeliveredIsDroppedAndNeverBlocks() async throws {
        let run = try await Self.start(createErrors: [], notifier: FailingNotifier())
        #expect(try await Self.drive(run) == .finished)
        #expect(try await run.engine.state(of: run.id)?.phase == .completed)
        #expect(try run.store.pendingEffects(rolloutId: run.id).isEmpty, "every notification was dropped in the end")
    }

    /// Progress that only moves counters is committed at most once per `observationCommitIntervalSeconds`: the
    /// log keeps what matters (verdicts, phases), not every tick.
    @Test func routineObservationsAreThrottled() async throws {
        let configuration = EngineConfiguration(pollIntervalSeconds: 10, observationCommitIntervalSeconds: 300)
        let run = try await Self.start(createErrors: [], configuration: configuration)
        #expect(try await Self.drive(run) == .finished)
        let events = try run.store.events(rolloutId: run.id, afterSequence: 0, limit: 10_000)
        let verdictTimes = Set(try run.store.verdicts(rolloutId: run.id).map(\.at))
        let plan = try PlanParser.parse(Self.plan, file: "plan.yaml")
        var state = RolloutStateMachine.initialState(rolloutId: run.id, plan: plan, at: events[0].at)
        var routine = 0
        for (previous, record) in zip([events[0]] + events, events) {
            let before = state
            state = RolloutStateMachine.applyLogged(record.event, to: state, plan: plan, at: record.at).state
            guard record.event.kind == "progressObserved", !verdictTimes.contains(record.at),
                  state.phase == before.phase, state.stages.map(\.status) == before.stages.map(\.status) else { continue }
            routine += 1
            #expect(record.at.timeIntervalSince(previous.at) >= 300,
                    "a routine observation \(record.at.timeIntervalSince(previous.at)) s after the last change")
        }
        #expect(routine > 0, "the throttle lets a routine observation through every 300 s: the check above ran")
        let polls = run.engine.statistics.polls
        #expect(polls > routine + 5, "most polls (\(polls)) changed only counters and were not committed")
    }
}
