import Engine
import Foundation
import RolloutCore

/// Drives one rollout through the engine on the virtual clock with the one `RolloutDriver`: step, then jump to the
/// next due instant.
///
/// Nobody is there to approve or resume in a rehearsal, so approvals are granted by the simulator after
/// `approvalDelaySeconds` (or the run stops at the approval), and a pause ends the run.
package struct SimulationRunner: Sendable {
    package struct Options: Sendable {
        /// Virtual delay before the simulator approves a stage; nil stops the run at the first approval.
        package var approvalDelaySeconds: Int?
        /// The run stops when virtual time passes this (a window that never opens, an endless bake).
        package var virtualSecondsMax: Double
        package var stepsMax: Int

        package init(approvalDelaySeconds: Int? = 1800, virtualSecondsMax: Double = 400 * 86400, stepsMax: Int = 1_000_000) {
            self.approvalDelaySeconds = approvalDelaySeconds
            self.virtualSecondsMax = virtualSecondsMax
            self.stepsMax = stepsMax
        }
    }

    /// Why the run ended.
    package enum Ending: String, Sendable {
        case finished, awaitingApproval, paused, virtualTimeLimit, stepLimit
    }

    let engine: RolloutEngine
    let clock: VirtualClock
    let options: Options

    package init(engine: RolloutEngine, clock: VirtualClock, options: Options = Options()) {
        self.engine = engine
        self.clock = clock
        self.options = options
    }

    /// Runs `rolloutId` until it ends or cannot go on without a person. `onStep` sees the state after every step.
    package func run(rolloutId: String, onStep: @escaping @Sendable (RolloutState) -> Void = { _ in }) async throws
        -> Ending
    {
        let approver = SimulatedApprover(options: options, clock: clock,
                                         deadline: clock.now().addingTimeInterval(options.virtualSecondsMax),
                                         onStep: onStep)
        let driver = RolloutDriver(engine: engine, clock: clock, configuration: RolloutDriver.Configuration(stepsInFlightMax: 1, stepErrorEndsDrive: true),
                                   policy: { id, outcome, driver in await approver.decide(id, outcome, driver) })
        _ = try await driver.drive(rolloutId)
        if let failure = approver.failure { throw failure }
        return approver.ending
    }
}

/// The simulator's stand-in for the people around a rollout: approves after a delay, stops at a pause, and bounds
/// the run by virtual time and steps. Called by the driver one step at a time (never concurrently).
final class SimulatedApprover: @unchecked Sendable {
    let options: SimulationRunner.Options
    let clock: VirtualClock
    let deadline: Date
    let onStep: @Sendable (RolloutState) -> Void
    private(set) var ending = SimulationRunner.Ending.finished
    private(set) var failure: (any Error)?
    private var steps = 0
    private var approvalDueAt: Date?

    init(options: SimulationRunner.Options, clock: VirtualClock, deadline: Date,
         onStep: @escaping @Sendable (RolloutState) -> Void) {
        self.options = options
        self.clock = clock
        self.deadline = deadline
        self.onStep = onStep
    }

    func decide(_ rolloutId: String, _ outcome: StepOutcome, _ driver: RolloutDriver) async -> RolloutDriver.Decision {
        if let state = driver.engine.readModel.rollout(rolloutId)?.state { onStep(state) }
        steps += 1
        guard steps < options.stepsMax else { return end(.stepLimit) }
        switch outcome {
        case .finished:
            return end(.finished)
        case .needsPerson(.approval, let next):
            guard let delay = options.approvalDelaySeconds else { return end(.awaitingApproval) }
            let due = approvalDueAt ?? clock.now().addingTimeInterval(TimeInterval(delay))
            approvalDueAt = due
            guard clock.now() >= due else { return due > deadline ? end(.virtualTimeLimit) : .wake(at: min(next ?? due, due)) }
            approvalDueAt = nil
            do {
                try await driver.engine.command(.approved(by: "simulator"), rolloutId: rolloutId)
            } catch {
                failure = error
                return end(.paused)
            }
            return .wake(at: clock.now())
        case .needsPerson:
            return end(.paused)
        case .notLeased:
            preconditionFailure("a rehearsal's engine is the only one on its database (its leases are SoleWorker)")
        case .due(let at):
            return at > deadline ? end(.virtualTimeLimit) : .proceed
        }
    }

    private func end(_ ending: SimulationRunner.Ending) -> RolloutDriver.Decision {
        self.ending = ending
        return .release
    }
}
