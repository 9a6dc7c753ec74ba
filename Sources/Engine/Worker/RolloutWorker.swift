import Foundation
import Logging
import RolloutCore

/// The long-running worker: resumes every unfinished rollout at start, then drives them all with a
/// `RolloutDriver` (each rollout stepped on its own, at most `stepsInFlightMax` at once), and answers the API from
/// the engine's read model.
///
/// It is ready as soon as the unfinished rollouts are scheduled; the read model fills right after (decoding every
/// plan and state of 10,000 rollouts takes far longer than finding which to resume). Reads that need every rollout
/// (the list, the page, `/metrics`) wait for it; a rollout's detail is loaded on demand meanwhile.
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
        /// How often ended rollouts past their `aws.retention` are looked for (clock seconds).
        package var retentionSweepSeconds: Double

        package init(stepsInFlightMax: Int = 8, stepErrorBackoffSeconds: Double = 5, rolloutsMax: Int = 100_000,
                    webhooks: [WebhookTarget] = [], retentionSweepSeconds: Double = 600) {
            precondition(rolloutsMax >= 1, "at least one rollout")
            precondition(retentionSweepSeconds > 0, "a positive sweep interval")
            self.retentionSweepSeconds = retentionSweepSeconds
            self.stepsInFlightMax = stepsInFlightMax
            self.stepErrorBackoffSeconds = stepErrorBackoffSeconds
            self.rolloutsMax = rolloutsMax
            self.webhooks = webhooks
        }
    }

    package let engine: RolloutEngine
    package let driver: RolloutDriver
    /// Set when several workers share the database: which rollouts are this worker's (the engine's `leases`).
    package nonisolated let coordination: (any WorkerCoordination)?
    /// The rounds and notifications that keep `coordination`'s leases (nil for a sole worker).
    private nonisolated let leaseKeeping: LeaseKeeping?
    let clock: any RolloutClock
    let configuration: Configuration
    let logger: Logger
    /// Read from any thread: the API's reads never wait for the worker's actor.
    private nonisolated let ready = Locked(false)
    /// Open once the read model holds every stored rollout (or failed to: then reads come from the store).
    private nonisolated let filled = Latch()
    private nonisolated let fillFailed = Locked(false)
    private let startedAt: Date

    /// Coordinated with other workers when the engine's `leases` are a `WorkerCoordination` (PostgreSQL).
    package init(engine: RolloutEngine, clock: any RolloutClock, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "rollout.worker")) {
        let coordination = engine.leases as? any WorkerCoordination
        self.engine = engine
        self.coordination = coordination
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.startedAt = clock.now()
        let driver = RolloutDriver(engine: engine, clock: clock,
                                   configuration: RolloutDriver.Configuration(
                                       stepsInFlightMax: configuration.stepsInFlightMax,
                                       stepErrorBackoffSeconds: configuration.stepErrorBackoffSeconds),
                                   policy: RolloutDriver.keepGoing, logger: logger)
        self.driver = driver
        self.leaseKeeping = coordination.map { LeaseKeeping(coordination: $0, engine: engine, driver: driver, logger: logger) }
    }

    /// Schedules the unfinished rollouts for an immediate step (the worker is then ready), and starts filling the read
    /// model with every stored rollout. Returns how many were resumed.
    @discardableResult
    package func resumeAll() async throws -> Int {
        let active: [String]
        if let leaseKeeping {
            // Only what this worker leases: the others are other workers' (or claimed in later rounds).
            active = try await leaseKeeping.round().claimed
        } else {
            active = try await engine.activeRolloutIds()
        }
        await driver.wake(active)
        ready.withLock { $0 = true }
        logger.info("worker ready", metadata: ["resumed": "\(active.count)"])
        let (engine, filled, fillFailed, logger) = (self.engine, self.filled, self.fillFailed, self.logger)
        let rolloutsMax = configuration.rolloutsMax
        Task {
            do {
                try await engine.fillReadModel(rolloutsMax: rolloutsMax)
                logger.info("read model loaded", metadata: ["known": "\(engine.readModel.count)"])
            } catch {
                fillFailed.withLock { $0 = true }
                logger.error("cannot load the read model; reads come from the database", metadata: ["error": "\(error)"])
            }
            filled.open()
        }
        return active.count
    }

    /// Runs until `stop()`.
    package func run() async {
        if !ready.current {
            do { try await resumeAll() } catch {
                logger.critical("cannot resume rollouts", metadata: ["error": "\(error)"])
                return
            }
        }
        // On a real (or sped-up) clock only: a virtual clock moves when the driver is idle, never for a sweep. With
        // several workers, one sweeps (the longest-running).
        let sweeps = Task { [engine, clock, configuration, logger, coordination] in
            while !Task.isCancelled && !clock.advancesOnlyWhenIdle {
                do {
                    let sweeper = coordination?.sweepsRetention ?? true
                    let purged = sweeper ? try await engine.purgeDue() : []
                    if !purged.isEmpty { logger.info("purged ended rollouts", metadata: ["rollouts": "\(purged)"]) }
                    try await clock.sleep(until: clock.now().addingTimeInterval(configuration.retentionSweepSeconds))
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("retention sweep failed", metadata: ["error": "\(error)"])
                    try? await clock.sleep(until: clock.now().addingTimeInterval(configuration.retentionSweepSeconds))
                }
            }
        }
        let coordinating = leaseKeeping.map { keeping in
            (rounds: Task { _ = await keeping.keepRounds() }, notifications: Task { await keeping.follow() })
        }
        await driver.run()
        sweeps.cancel()
        coordinating?.rounds.cancel()
        coordinating?.notifications.cancel()
        coordination?.stop()
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
        try await submit(planSource: planSource, fileName: fileName, baseDirectory: baseDirectory, supersede: false)
    }

    /// As `submit`, refusing (`SupersedeConflict`) a plan whose release already rolls out on the same fleet under
    /// another rollout id, unless `supersede`: that rollout is then aborted first ("superseded by <id>"), so the two
    /// never run side by side. Submitting an existing rollout's plan again answers it, whatever else runs.
    package func submit(planSource: String, fileName: String, baseDirectory: String?,
                        supersede: Bool) async throws -> SubmitResult {
        // Over the API, the status server has already held the plan's files (artifacts, key, job document template)
        // to the worker's artifact directories before this parse reads any of them.
        var plan = try PlanParser.parse(planSource, file: fileName, baseDirectory: baseDirectory,
                                        fileExists: { FileManager.default.fileExists(atPath: $0) },
                                        readFile: PlanFile.readTemplate(atPath:))
        // The worker's webhooks join the plan's (the plan text, and so the rollout id, stay as submitted).
        for webhook in configuration.webhooks where !plan.notifications.contains(webhook) {
            plan.notifications.append(webhook)
        }
        let result = try await engine.submit(plan: plan, planSource: planSource,
                                             releaseRule: supersede ? .supersede(by: "supersede") : .refuse)
        // Taken by the worker that received it when it can (else by a round of whichever worker has room).
        if result.created, let leaseKeeping { await leaseKeeping.claim(result.rolloutId) }
        for other in result.superseded {
            logger.notice("rollout superseded", metadata: ["rollout": "\(other)", "by": "\(result.rolloutId)"])
            await driver.wake(other)
        }
        if result.created || !result.state.phase.isTerminal { await driver.wake(result.rolloutId) }
        return result
    }

    package func command(_ command: RolloutEvent, rolloutId: String) async throws -> RolloutState {
        let state = try await engine.command(command, rolloutId: rolloutId)
        await driver.wake(rolloutId)
        return state
    }

    package func excludeDevice(rolloutId: String, thing: String, cancel: Bool, force: Bool, by: String,
                               reason: String?) async throws -> RolloutState {
        let state = try await engine.excludeDevice(rolloutId: rolloutId, thing: thing, cancel: cancel, force: force,
                                                   by: by, reason: reason)
        await driver.wake(rolloutId)
        return state
    }

    package nonisolated func device(rolloutId: String, thing: String) async throws -> DeviceReport {
        try await engine.deviceReport(rolloutId: rolloutId, thing: thing)
    }

    // Reads: nonisolated, so they never queue behind the worker's actor; the read model answers them, and what only
    // the store knows is read on the engine's thread.

    package nonisolated func rollouts(phase: RolloutPhase?, limit: Int) async throws -> [StoredRollout] {
        try await listing(phase: phase, limit: limit).map(\.rollout)
    }

    package nonisolated func listing(phase: RolloutPhase?, limit: Int) async throws -> [RolloutListItem] {
        let limit = max(1, min(limit, 10_000))
        if ready.current { await filled.wait() }
        guard ready.current, !fillFailed.current else {
            return try await engine.storedRollouts(phase: phase, limit: limit).map { RolloutListItem(rollout: $0, revision: 0) }
        }
        return engine.readModel.listing(phase: phase, limit: limit).map {
            RolloutListItem(rollout: $0.rollout, revision: $0.revision)
        }
    }

    package nonisolated func rollout(id: String) async throws -> RolloutDetail? {
        try await engine.detail(id)
    }

    package nonisolated func events(rolloutId: String, afterSequence: Int, limit: Int) async throws -> [RolloutEventRecord] {
        try await engine.events(rolloutId: rolloutId, afterSequence: afterSequence, limit: max(1, min(limit, 1000)))
    }

    package nonisolated func metrics() async -> WorkerMetrics {
        if ready.current { await filled.wait() }
        let tally = engine.readModel.tally()
        let statistics = engine.statistics
        return WorkerMetrics(rolloutsByPhase: tally.phases, stagesByStatus: tally.stages,
                             verdictsByKind: statistics.verdicts, engine: statistics,
                             effectQueueDepth: tally.pendingEffects, stepErrors: driver.stepErrorCount,
                             steps: driver.stepCount,
                             startedAt: startedAt, fleetAPIs: engine.fleet.apiUsage(),
                             coordination: coordination?.statistics)
    }

    /// Ready once the rollouts are scheduled; with several workers, also only while the database answers.
    package nonisolated func isReady() async -> Bool { ready.current && (coordination?.isHealthy ?? true) }

    /// The read model's revision once it holds every rollout (before, answers come from the store or are partial:
    /// nothing to reuse).
    package nonisolated func readRevision() -> UInt64? {
        filled.isOpen && !fillFailed.current ? engine.readModel.revision : nil
    }

    package nonisolated func revision(ofRollout id: String) -> UInt64? {
        engine.readModel.revision(of: id)
    }
}
