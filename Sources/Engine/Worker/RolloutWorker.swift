import Foundation
import Logging
import RolloutCore

/// The long-running worker: resumes every unfinished rollout at start, then runs them all, waking on the
/// next due timer, on a submission or command, and on fleet polls; never on a fixed tick.
///
/// `run()` returns after `stop()` once the steps in flight are finished and persisted (graceful shutdown);
/// a SIGKILL at any instant loses nothing, because every step is persisted before the next one starts.
public actor RolloutWorker: RolloutService {
    public struct Configuration: Sendable {
        /// Rollouts stepped at the same time (their fleet calls overlap).
        public var stepConcurrencyMax: Int
        /// Longest sleep without anything due, in real seconds (a safety net; wake-ups are event-driven).
        public var idleWallSecondsMax: Double
        /// Retry delay after a step failed (database or programming error), in clock seconds.
        public var stepErrorBackoffSeconds: Double
        /// Rollouts resumed at start (the database holds at most this many live ones).
        public var rolloutsMax: Int
        /// Webhooks told about every rollout submitted to this worker, besides the plan's own.
        public var webhooks: [WebhookTarget]

        public init(stepConcurrencyMax: Int = 8, idleWallSecondsMax: Double = 60, stepErrorBackoffSeconds: Double = 5,
                    rolloutsMax: Int = 100_000, webhooks: [WebhookTarget] = []) {
            self.webhooks = webhooks
            precondition(stepConcurrencyMax >= 1, "at least one step at a time")
            self.stepConcurrencyMax = stepConcurrencyMax
            self.idleWallSecondsMax = idleWallSecondsMax
            self.stepErrorBackoffSeconds = stepErrorBackoffSeconds
            self.rolloutsMax = rolloutsMax
        }
    }

    public let engine: RolloutEngine
    let store: any RolloutStore
    let clock: any RolloutClock
    let configuration: Configuration
    let logger: Logger
    private var queue = WakeQueue()
    private let signal = WakeSignal()
    private var ready = false
    private var stopping = false
    private var stepErrors = 0
    private let startedAt: Date
    /// What the API reads, refreshed after every step and command: reads never decode the store's JSON or wait
    /// behind a commit. Bounded by `rolloutsMax`.
    private var snapshots: [String: Snapshot] = [:]

    struct Snapshot {
        var rollout: StoredRollout
        var verdicts: [VerdictRecord]
        var pendingEffects: Int
        /// False for snapshots made at start without verdicts and outbox depth (read on first use).
        var complete = true
    }

    public init(engine: RolloutEngine, store: any RolloutStore, clock: any RolloutClock,
                configuration: Configuration = Configuration(), logger: Logger = Logger(label: "rollout.worker")) {
        self.engine = engine
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.startedAt = clock.now()
    }

    /// Schedules every unfinished rollout for an immediate step. Returns how many were resumed.
    @discardableResult
    public func resumeAll() throws -> Int {
        let now = clock.now()
        for rollout in try store.rollouts(phases: nil, limit: configuration.rolloutsMax) {
            // Verdicts and outbox depth are read on first use: a start with 10,000 rollouts stays quick.
            snapshots[rollout.id] = Snapshot(rollout: rollout, verdicts: [], pendingEffects: 0, complete: false)
        }
        let active = try store.activeRolloutIds()
        for id in active { queue.schedule(id, at: now) }
        ready = true
        logger.info("worker ready", metadata: ["resumed": "\(active.count)", "known": "\(snapshots.count)"])
        return active.count
    }

    /// Runs until `stop()`: steps due rollouts, sleeps until the next one is due or something happens.
    public func run() async {
        if !ready {
            do { try resumeAll() } catch {
                logger.critical("cannot resume rollouts", metadata: ["error": "\(error)"])
                return
            }
        }
        while !stopping {
            let due = queue.popDue(now: clock.now(), limit: configuration.stepConcurrencyMax)
            if due.isEmpty {
                let wall = queue.earliest().map { clock.wallSeconds(until: $0) } ?? configuration.idleWallSecondsMax
                await signal.wait(seconds: min(wall, configuration.idleWallSecondsMax))
                continue
            }
            // Steps of different rollouts overlap (their fleet calls are I/O); each result is handled here, on the actor.
            let steps = due.map { id in (id, Task { [engine] in try await engine.step(rolloutId: id) }) }
            for (id, step) in steps {
                await finishStep(id, result: await step.result)
            }
        }
        logger.info("worker stopped")
    }

    /// Asks `run()` to return after the steps in flight.
    public func stop() async {
        stopping = true
        await signal.notify()
    }

    private func finishStep(_ id: String, result: Result<Date?, Error>) async {
        switch result {
        case .success(let wake):
            // A command or submission during the step scheduled it again: keep the earlier of the two.
            let requested = queue.wakeAt(of: id)
            queue.schedule(id, at: [wake, requested].compactMap { $0 }.min())
            if let state = try? await engine.state(of: id) {
                refreshSnapshot(id, state: state)
            }
        case .failure(let error):
            stepErrors += 1
            logger.error("step failed; will retry", metadata: ["rollout": "\(id)", "error": "\(error)"])
            await engine.forget(rolloutId: id)
            queue.schedule(id, at: clock.now().addingTimeInterval(configuration.stepErrorBackoffSeconds))
        }
    }

    private func wake(_ id: String) async {
        queue.schedule(id, at: clock.now())
        await signal.notify()
    }

    // MARK: RolloutService

    public func submit(planSource: String, fileName: String) async throws -> SubmitResult {
        try await submit(planSource: planSource, fileName: fileName, baseDirectory: nil)
    }

    public func submit(planSource: String, fileName: String, baseDirectory: String?) async throws -> SubmitResult {
        var plan = try PlanParser.parse(planSource, file: fileName, baseDirectory: baseDirectory,
                                        fileExists: { FileManager.default.fileExists(atPath: $0) })
        // The worker's webhooks join the plan's (the plan text, and so the rollout id, stay as submitted).
        for webhook in configuration.webhooks where !plan.notifications.contains(webhook) {
            plan.notifications.append(webhook)
        }
        let result = try await engine.submit(plan: plan, planSource: planSource)
        refreshSnapshot(result.rolloutId, state: result.state)
        if result.created || !result.state.phase.isTerminal { await wake(result.rolloutId) }
        return result
    }

    public func command(_ command: RolloutEvent, rolloutId: String) async throws -> RolloutState {
        let state = try await engine.command(command, rolloutId: rolloutId)
        refreshSnapshot(rolloutId, state: state)
        await wake(rolloutId)
        return state
    }

    public func rollouts(phase: RolloutPhase?, limit: Int) async throws -> [StoredRollout] {
        let limit = max(1, min(limit, 10_000))
        guard ready else { return try store.rollouts(phases: phase.map { [$0] }, limit: limit) }
        var matching = snapshots.values.map(\.rollout)
        if let phase { matching = matching.filter { $0.state.displayPhase == phase } }
        // Newest first, as the store lists them.
        matching.sort { $0.state.createdAt != $1.state.createdAt ? $0.state.createdAt > $1.state.createdAt : $0.id > $1.id }
        return Array(matching.prefix(limit))
    }

    public func rollout(id: String) async throws -> RolloutDetail? {
        if snapshots[id] == nil || snapshots[id]?.complete == false {
            guard try store.rollout(id: id) != nil else { return nil }
            refreshSnapshot(id, state: nil)
        }
        guard let snapshot = snapshots[id] else { return nil }
        return RolloutDetail(rollout: snapshot.rollout, verdicts: snapshot.verdicts, pendingEffects: snapshot.pendingEffects,
                             nextWakeAt: queue.wakeAt(of: id))
    }

    /// Re-reads what changed: the state (given, from the engine), verdicts and the outbox depth; the plan is read once.
    private func refreshSnapshot(_ id: String, state: RolloutState?) {
        do {
            var rollout: StoredRollout
            if var known = snapshots[id]?.rollout, let state {
                known.state = state
                rollout = known
            } else {
                guard let stored = try store.rollout(id: id) else { return }
                rollout = stored
                if let state { rollout.state = state }
            }
            let previous = snapshots[id]
            let verdicts = previous?.complete == true && previous?.rollout.state.eventCount == rollout.state.eventCount
                ? previous!.verdicts : try store.verdicts(rolloutId: id)
            snapshots[id] = Snapshot(rollout: rollout, verdicts: verdicts,
                                     pendingEffects: try store.pendingEffects(rolloutId: id).count)
        } catch {
            logger.warning("cannot refresh the status of a rollout", metadata: ["rollout": "\(id)", "error": "\(error)"])
        }
    }

    public func events(rolloutId: String, afterSequence: Int, limit: Int) async throws -> [RolloutEventRecord] {
        try store.events(rolloutId: rolloutId, afterSequence: afterSequence, limit: max(1, min(limit, 1000)))
    }

    public func metrics() async -> WorkerMetrics {
        var phases: [RolloutPhase: Int] = [:]
        var stages: [StageStatus: Int] = [:]
        var depth = 0
        // From the snapshots the API serves: no state is read for metrics.
        for snapshot in snapshots.values {
            let state = snapshot.rollout.state
            phases[state.displayPhase, default: 0] += 1
            for stage in state.stages { stages[stage.status, default: 0] += 1 }
            depth += snapshot.pendingEffects
        }
        return WorkerMetrics(rolloutsByPhase: phases, stagesByStatus: stages, verdictsByKind: await engine.statistics.verdicts,
                             engine: await engine.statistics, effectQueueDepth: depth, stepErrors: stepErrors,
                             startedAt: startedAt)
    }

    public func isReady() async -> Bool { ready }
}
