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
    private nonisolated let rounds = CoordinationRounds()
    let clock: any RolloutClock
    let configuration: Configuration
    let logger: Logger
    /// Read from any thread: the API's reads never wait for the worker's actor.
    private nonisolated let ready = Locked(false)
    /// Open once the read model holds every stored rollout (or failed to: then reads come from the store).
    private nonisolated let filled = Latch()
    private nonisolated let fillFailed = Locked(false)
    private let startedAt: Date

    /// With `coordination`, the engine must have been made with it as its `leases`.
    package init(engine: RolloutEngine, clock: any RolloutClock, configuration: Configuration = Configuration(),
                coordination: (any WorkerCoordination)? = nil, logger: Logger = Logger(label: "rollout.worker")) {
        precondition(coordination == nil || engine.leases is any WorkerCoordination,
                     "a coordinated worker's engine acts under the coordination's leases")
        self.engine = engine
        self.coordination = coordination
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

    /// Schedules the unfinished rollouts for an immediate step (the worker is then ready), and starts filling the read
    /// model with every stored rollout. Returns how many were resumed.
    @discardableResult
    package func resumeAll() async throws -> Int {
        let active: [String]
        if let coordination {
            // Only what this worker leases: the others are other workers' (or claimed in later rounds).
            let round = try await rounds.round(coordination)
            _ = await engine.absorb(round)
            active = round.claimed
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
        // On a real (or sped-up) clock only: a virtual clock moves when the driver is idle, never for a sweep.
        let sweeps = Task { [engine, clock, configuration, logger] in
            while !Task.isCancelled && !clock.advancesOnlyWhenIdle {
                do {
                    let purged = try await engine.purgeDue()
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
        let coordinating = coordination.map { coordination in
            (rounds: Task { await coordinate(coordination) }, notifications: Task { await follow(coordination) })
        }
        await driver.run()
        sweeps.cancel()
        coordinating?.rounds.cancel()
        coordinating?.notifications.cancel()
        coordination?.stop()
        logger.info("worker stopped")
    }

    /// A coordination round every `roundIntervalSeconds` of wall-clock time: newly leased rollouts are read again
    /// and stepped at once; other workers' changes reach the read model (the API serves every rollout). A round
    /// that fails (the database is unreachable) is retried with a growing backoff, up to the round interval; the
    /// leases lapse on their own meanwhile, so this worker acts on nothing it may have lost.
    private nonisolated func coordinate(_ coordination: any WorkerCoordination) async {
        var failures = 0
        while !Task.isCancelled {
            let wait: Double
            do {
                let round = try await rounds.round(coordination)
                // Changed by others and leased here: a command recorded through another worker's API.
                let commanded = await engine.absorb(round).filter { coordination.fence(for: $0) != nil }
                if failures > 0 { logger.notice("database reachable again; leases renewed") }
                failures = 0
                engine.fleet.shareAPIBudget(among: round.workersAlive)
                await driver.wake(round.claimed + commanded)
                wait = coordination.roundIntervalSeconds
            } catch {
                failures += 1
                logger.error("coordination round failed; acting only on leases still valid", metadata: [
                    "error": "\(error)", "failures": "\(failures)",
                ])
                wait = min(coordination.roundIntervalSeconds, 0.25 * Double(1 << min(failures, 6)))
            }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    /// Other workers' commits as they are announced: read into the read model; stepped when this worker leases them
    /// (a command recorded by another worker's API). Announcements are gathered for `followBatchSeconds` and read
    /// in batches: at thousands of commits a second, one read per announcement would swamp the engine's thread.
    private nonisolated func follow(_ coordination: any WorkerCoordination) async {
        let gathered = Locked<[RolloutChange]>([])
        let (engine, driver) = (self.engine, self.driver)
        for await change in coordination.notifications() {
            if Task.isCancelled { return }
            guard engine.isNews(change) else { continue }
            let first = gathered.withLock { gathered -> Bool in
                gathered.append(change)
                return gathered.count == 1
            }
            guard first else { continue }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(Self.followBatchSeconds * 1000)))
                let changes = gathered.withLock { gathered -> [RolloutChange] in
                    defer { gathered = [] }
                    return gathered
                }
                // Every announced rollout leased here is woken, read again or not (an earlier batch or the round may
                // have read it first): waking is idempotent, a missed command is not.
                _ = await engine.absorbChanges(changes)
                let leased = Set(changes.map(\.rolloutId)).filter { coordination.fence(for: $0) != nil }
                if !leased.isEmpty { await driver.wake(Array(leased)) }
            }
        }
    }

    /// How long announced changes are gathered before they are read (the delay a command recorded by another
    /// worker's API may take to reach the owner, on top of the notification's own).
    static let followBatchSeconds = 0.05

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
        if result.created, let coordination { await rounds.claim(result.rolloutId, coordination) }
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
