import Foundation
import Logging
import RolloutCore

/// The one loop that drives rollouts, for the worker, `rollout run`, `rollout simulate` and the tests: it steps each
/// rollout when it is due, in a sliding window of at most `stepsInFlightMax` concurrent steps (a slow step, such as
/// filling a thing group or a long retry, never holds up another rollout), and otherwise sleeps on the clock until
/// the next one is due or something happens (a submission, a command, a step ending, `stop()`). Never a fixed tick.
///
/// What happens after a step is the engine's `StepOutcome` (finished, due, needs a person) passed through the
/// driver's `Policy`: the worker keeps every rollout going, `run` stops when its rollout needs a person, the
/// simulator approves after a delay.
package actor RolloutDriver {
    package struct Configuration: Sendable {
        /// Steps of different rollouts running at once (their fleet calls overlap).
        package var stepsInFlightMax: Int
        /// Retry delay after a step failed (a database or programming error), in clock seconds.
        package var stepErrorBackoffSeconds: Double
        /// A failed step ends `drive(_:)` with its error (`run`, `simulate`, tests) instead of being retried after
        /// `stepErrorBackoffSeconds` (the worker).
        package var stepErrorEndsDrive: Bool

        package init(stepsInFlightMax: Int = 8, stepErrorBackoffSeconds: Double = 5, stepErrorEndsDrive: Bool = false) {
            precondition(stepsInFlightMax >= 1, "at least one step at a time")
            precondition(stepErrorBackoffSeconds >= 0, "backoff must not be negative")
            self.stepsInFlightMax = stepsInFlightMax
            self.stepErrorBackoffSeconds = stepErrorBackoffSeconds
            self.stepErrorEndsDrive = stepErrorEndsDrive
        }
    }

    /// What to do with a rollout after a step.
    package enum Decision: Sendable, Equatable {
        /// As the outcome says: step again when due; a finished rollout or one waiting for a person without timed
        /// work is no longer scheduled (a command wakes it).
        case proceed
        /// Step again at this instant (e.g. a simulated approver's delay).
        case wake(at: Date)
        /// Stop driving it: `drive(_:)` returns this outcome.
        case release
    }

    /// Decides after every step; runs on the driver, so it may call the engine.
    package typealias Policy = @Sendable (_ rolloutId: String, _ outcome: StepOutcome, _ driver: RolloutDriver) async
        -> Decision

    /// Keep every rollout going until `stop()` (the worker).
    package static let keepGoing: Policy = { _, _, _ in .proceed }
    /// Release a rollout once it is finished or needs a person (`rollout run`, tests).
    package static let untilFinishedOrPerson: Policy = { _, outcome, _ in
        switch outcome {
        case .finished, .needsPerson, .notLeased: return .release
        case .due: return .proceed
        }
    }

    package nonisolated let engine: RolloutEngine
    /// The engine's thread: a step and the scheduling around it never cross threads (each crossing is a thread wake).
    package nonisolated var unownedExecutor: UnownedSerialExecutor {
        engine.unownedExecutor
    }
    let clock: any RolloutClock
    let configuration: Configuration
    let policy: Policy
    let logger: Logger

    private var queue = WakeQueue()
    private var inFlight: Set<String> = []
    /// Wake-ups asked for a rollout whose step is in flight: applied when the step ends.
    private var wakeWhileInFlight: [String: Date] = [:]
    private var released: [String: Result<StepOutcome, any Error>] = [:]
    private var stopping = false
    private var running = false
    /// Read from any thread (`stepCount`, `stepErrorCount`), for `/metrics`.
    private nonisolated let steps = Locked(0)
    private nonisolated let stepErrors = Locked(0)
    private var timer: (deadline: Date, task: Task<Void, Never>)?
    private let signals: AsyncStream<Signal>
    private let signalSink: AsyncStream<Signal>.Continuation

    private enum Signal: Sendable {
        case poke
        case stepEnded(String, Result<StepOutcome, any Error>)
    }

    package init(engine: RolloutEngine, clock: any RolloutClock, configuration: Configuration = Configuration(),
                policy: @escaping Policy = RolloutDriver.keepGoing, logger: Logger = Logger(label: "rollout.driver")) {
        self.engine = engine
        self.clock = clock
        self.configuration = configuration
        self.policy = policy
        self.logger = logger
        (signals, signalSink) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .unbounded)
    }

    // MARK: scheduling

    /// Steps `rolloutId` at `at` (default: now), or earlier if it is already due earlier.
    package func wake(_ rolloutId: String, at: Date? = nil) {
        wake([rolloutId], at: at)
    }

    /// Steps each of `rolloutIds` at `at` (default: now), or earlier if already due earlier: one call for a worker's
    /// start, however many rollouts it resumes.
    package func wake(_ rolloutIds: [String], at: Date? = nil) {
        let at = at ?? clock.now()
        for rolloutId in rolloutIds {
            released[rolloutId] = nil
            if inFlight.contains(rolloutId) {
                wakeWhileInFlight[rolloutId] = min(at, wakeWhileInFlight[rolloutId] ?? at)
            } else {
                let existing = queue.wakeAt(of: rolloutId)
                reschedule(rolloutId, at: min(at, existing ?? at))
            }
        }
        signalSink.yield(.poke)
    }

    /// Asks `run()` to return once the steps in flight are finished and persisted (graceful shutdown).
    package func stop() {
        stopping = true
        signalSink.yield(.poke)
    }

    /// When `rolloutId` is next stepped (nil: not scheduled).
    package func nextWakeAt(of rolloutId: String) -> Date? {
        queue.wakeAt(of: rolloutId)
    }

    package nonisolated var stepErrorCount: Int { stepErrors.current }
    /// Steps ended since start (each rollout stepped once when due: polls, timers, effects), failed ones included.
    package nonisolated var stepCount: Int { steps.current }

    // MARK: running

    /// Runs until `stop()`: the worker's loop.
    package func run() async {
        await loop { false }
    }

    /// Drives one rollout until the policy releases it (returning its last outcome) or `stop()` is called (nil).
    /// Other scheduled rollouts are stepped meanwhile. With `stepErrorEndsDrive`, a failed step's error is thrown.
    package func drive(_ rolloutId: String) async throws -> StepOutcome? {
        wake(rolloutId)
        await loop { self.released[rolloutId] != nil }
        return try released.removeValue(forKey: rolloutId)?.get()
    }

    private func loop(until done: () -> Bool) async {
        precondition(!running, "one loop per driver")
        running = true
        // `stopping` is not reset: a `stop()` that came before the loop (a signal during start-up) still ends it.
        defer {
            running = false
            timer?.task.cancel()
            timer = nil
        }
        var signals = self.signals.makeAsyncIterator()
        while !done() {
            if stopping {
                if inFlight.isEmpty { return }
            } else {
                startDueSteps()
                if done() { return }
                armTimer()
            }
            guard let signal = await signals.next() else { return }
            await handle(signal)
        }
    }

    private func startDueSteps() {
        while inFlight.count < configuration.stepsInFlightMax, let id = queue.popDue(now: clock.now()) {
            inFlight.insert(id)
            engine.readModel.scheduled(rolloutId: id, at: nil)
            let engine = self.engine
            let sink = signalSink
            Task {
                let result: Result<StepOutcome, any Error>
                do {
                    result = .success(try await engine.step(rolloutId: id))
                } catch {
                    result = .failure(error)
                }
                sink.yield(.stepEnded(id, result))
            }
        }
    }

    /// Sleeps on the clock until the earliest scheduled rollout is due. A virtual clock moves only when no step is
    /// in flight (what a simulation does must not depend on thread timing).
    private func armTimer() {
        guard let deadline = queue.earliest(), deadline > clock.now(),
              inFlight.isEmpty || !clock.advancesOnlyWhenIdle else {
            timer?.task.cancel()
            timer = nil
            return
        }
        if let timer, timer.deadline == deadline { return }
        timer?.task.cancel()
        let clock = self.clock
        let sink = signalSink
        timer = (deadline, Task {
            do {
                // A clock may wake early (the real one sleeps at most a day at a time): sleep again until the
                // deadline, or the driver would keep this timer and never be woken. Bounded by the deadline.
                while clock.now() < deadline {
                    try await clock.sleep(until: deadline)
                }
                sink.yield(.poke)
            } catch {
                return  // cancelled: a new deadline replaced it
            }
        })
    }

    private func handle(_ signal: Signal) async {
        guard case .stepEnded(let id, let result) = signal else {
            if let timer, clock.now() >= timer.deadline { self.timer = nil }
            return
        }
        inFlight.remove(id)
        steps.withLock { $0 += 1 }
        let requested = wakeWhileInFlight.removeValue(forKey: id)
        switch result {
        case .success(let outcome):
            let decision = await policy(id, outcome, self)
            switch decision {
            case .release where requested == nil:
                released[id] = .success(outcome)
                reschedule(id, at: nil)
            case .release, .proceed:
                reschedule(id, at: [outcome.nextDueAt, requested].compactMap { $0 }.min())
            case .wake(let at):
                reschedule(id, at: [at, requested].compactMap { $0 }.min())
            }
        case .failure(let error) where configuration.stepErrorEndsDrive:
            stepErrors.withLock { $0 += 1 }
            released[id] = .failure(error)
            reschedule(id, at: nil)
        case .failure(let error):
            stepErrors.withLock { $0 += 1 }
            logger.error("step failed; will retry", metadata: ["rollout": "\(id)", "error": "\(error)"])
            try? await engine.reload(id)
            reschedule(id, at: clock.now().addingTimeInterval(configuration.stepErrorBackoffSeconds))
        }
    }

    private func reschedule(_ id: String, at: Date?) {
        queue.schedule(id, at: at)
        engine.readModel.scheduled(rolloutId: id, at: at)
    }
}
