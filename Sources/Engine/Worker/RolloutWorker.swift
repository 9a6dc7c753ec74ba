import Foundation
import Logging
import RolloutCore

/// The long-running worker: resumes every unfinished rollout at start, then drives them all with a
/// `RolloutDriver` (each rollout stepped on its own, at most `stepsInFlightMax` at once), and answers the API from
/// the engine's read model.
///
/// `run()` returns after `stop()` once the steps in flight are finished and persisted (graceful shutdown);
/// a SIGKILL at any instant loses nothing, because every step is persisted before the next one starts.
package actor RolloutWorker: RolloutService {
    package struct Configuration: Sendable {
        /// Rollouts stepped at the same time (their fleet calls overlap); no batch barrier between them.
        package var stepsInFlightMax: Int
        /// Retry delay after a step failed (database or programming error), in clock seconds.
        package var stepErrorBackoffSeconds: Double
        /// Rollouts resumed at start (the database holds at most this many live ones).
        package var rolloutsMax: Int
        /// Webhooks told about every rollout submitted to this worker, besides the plan's own.
        package var webhooks: [WebhookTarget]

        package init(stepsInFlightMax: Int = 8, stepErrorBackoffSeconds: Double = 5, rolloutsMax: Int = 100_000,
                    webhooks: [WebhookTarget] = []) {
            precondition(rolloutsMax >= 1, "at least one rollout")
            self.stepsInFlightMax = stepsInFlightMax
            self.stepErrorBackoffSeconds = stepErrorBackoffSeconds
            self.rolloutsMax = rolloutsMax
            self.webhooks = webhooks
        }
    }

    package let engine: RolloutEngine
    package let driver: RolloutDriver
    let store: any RolloutStore
    let clock: any RolloutClock
    let configuration: Configuration
    let logger: Logger
    private var ready = false
    private let startedAt: Date

    package init(engine: RolloutEngine, store: any RolloutStore, clock: any RolloutClock,
                configuration: Configuration = Configuration(), logger: Logger = Logger(label: "rollout.worker")) {
        self.engine = engine
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.startedAt = clock.now()
        self.driver = RolloutDriver(engine: engine, clock: clock,
                                    configuration: RolloutDriver.Configuration(
                                        stepsInFlightMax: configuration.stepsInFlightMax,
                                        stepErrorBackoffSeconds: configuration.stepErrorBackoffSeconds),
                                    policy: RolloutDriver.keepGoing, logger: logger)
    }

    /// Loads every rollout into the read model and schedules the unfinished ones for an immediate step.
    /// Returns how many were resumed.
    @discardableResult
    package func resumeAll() async throws -> Int {
        let pending = try store.pendingEffectKeys()
        for rollout in try store.rollouts(phases: nil, limit: configuration.rolloutsMax) {
            engine.readModel.load(rollout, pendingEffectKeys: pending[rollout.id] ?? [])
        }
        let active = try store.activeRolloutIds()
        for id in active { await driver.wake(id) }
        ready = true
        logger.info("worker ready", metadata: ["resumed": "\(active.count)", "known": "\(engine.readModel.count)"])
        return active.count
    }

    /// Runs until `stop()`.
    package func run() async {
        if !ready {
            do { try await resumeAll() } catch {
                logger.critical("cannot resume rollouts", metadata: ["error": "\(error)"])
                return
            }
        }
        await driver.run()
        logger.info("worker stopped")
    }

    /// Asks `run()` to return after the steps in flight.
    package func stop() async {
        await driver.stop()
    }

    // MARK: RolloutService

    package func submit(planSource: String, fileName: String) async throws -> SubmitResult {
        try await submit(planSource: planSource, fileName: fileName, baseDirectory: nil)
    }

    package func submit(planSource: String, fileName: String, baseDirectory: String?) async throws -> SubmitResult {
        var plan = try PlanParser.parse(planSource, file: fileName, baseDirectory: baseDirectory,
                                        fileExists: { FileManager.default.fileExists(atPath: $0) })
        // The worker's webhooks join the plan's (the plan text, and so the rollout id, stay as submitted).
        for webhook in configuration.webhooks where !plan.notifications.contains(webhook) {
            plan.notifications.append(webhook)
        }
        let result = try await engine.submit(plan: plan, planSource: planSource)
        if result.created || !result.state.phase.isTerminal { await driver.wake(result.rolloutId) }
        return result
    }

    package func command(_ command: RolloutEvent, rolloutId: String) async throws -> RolloutState {
        let state = try await engine.command(command, rolloutId: rolloutId)
        await driver.wake(rolloutId)
        return state
    }

    package func rollouts(phase: RolloutPhase?, limit: Int) async throws -> [StoredRollout] {
        let limit = max(1, min(limit, 10_000))
        guard ready else { return try store.rollouts(phases: phase.map { [$0] }, limit: limit) }
        return engine.readModel.rollouts(phase: phase, limit: limit)
    }

    package func rollout(id: String) async throws -> RolloutDetail? {
        if engine.readModel.entry(id) == nil {
            guard try store.rollout(id: id) != nil else { return nil }
            try await engine.reload(id)
        }
        return try engine.readModel.detail(id)
    }

    package func events(rolloutId: String, afterSequence: Int, limit: Int) async throws -> [RolloutEventRecord] {
        try store.events(rolloutId: rolloutId, afterSequence: afterSequence, limit: max(1, min(limit, 1000)))
    }

    package func metrics() async -> WorkerMetrics {
        let tally = engine.readModel.tally()
        let statistics = await engine.statistics
        return WorkerMetrics(rolloutsByPhase: tally.phases, stagesByStatus: tally.stages,
                             verdictsByKind: statistics.verdicts, engine: statistics,
                             effectQueueDepth: tally.pendingEffects, stepErrors: await driver.stepErrorCount,
                             startedAt: startedAt, fleetAPIs: engine.fleet.apiUsage())
    }

    package func isReady() async -> Bool { ready }
}
