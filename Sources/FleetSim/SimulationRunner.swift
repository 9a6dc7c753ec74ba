import Engine
import Foundation
import RolloutCore

/// Drives one rollout through the engine on the virtual clock: step, then jump to the next due instant.
///
/// Nobody is there to approve or resume in a rehearsal, so approvals are granted by the simulator after
/// `approvalDelaySeconds` (or the run stops at the approval), and a pause ends the run.
public struct SimulationRunner: Sendable {
    public struct Options: Sendable {
        /// Virtual delay before the simulator approves a stage; nil stops the run at the first approval.
        public var approvalDelaySeconds: Int?
        /// The run stops when virtual time passes this (a window that never opens, an endless bake).
        public var virtualSecondsMax: Double
        public var stepsMax: Int

        public init(approvalDelaySeconds: Int? = 1800, virtualSecondsMax: Double = 400 * 86400, stepsMax: Int = 1_000_000) {
            self.approvalDelaySeconds = approvalDelaySeconds
            self.virtualSecondsMax = virtualSecondsMax
            self.stepsMax = stepsMax
        }
    }

    /// Why the run ended.
    public enum Ending: String, Sendable {
        case finished, awaitingApproval, paused, virtualTimeLimit, stepLimit
    }

    let engine: RolloutEngine
    let clock: VirtualClock
    let options: Options

    public init(engine: RolloutEngine, clock: VirtualClock, options: Options = Options()) {
        self.engine = engine
        self.clock = clock
        self.options = options
    }

    /// Runs `rolloutId` until it ends or cannot go on without a person. `onStep` sees the state after every step.
    public func run(rolloutId: String, onStep: (RolloutState) -> Void = { _ in }) async throws -> Ending {
        let start = clock.now()
        let deadline = start.addingTimeInterval(options.virtualSecondsMax)
        var approvalDueAt: Date?
        for _ in 0..<options.stepsMax {
            let wake = try await engine.step(rolloutId: rolloutId)
            guard let state = try await engine.state(of: rolloutId) else { return .finished }
            onStep(state)
            if state.phase.isTerminal && wake == nil { return .finished }
            if state.pause != nil && !state.phase.isTerminal { return .paused }
            var next = wake
            if state.phase == .awaitingApproval {
                guard let delay = options.approvalDelaySeconds else { return .awaitingApproval }
                let due = approvalDueAt ?? clock.now().addingTimeInterval(TimeInterval(delay))
                approvalDueAt = due
                if clock.now() >= due {
                    try await engine.command(.approved(by: "simulator"), rolloutId: rolloutId)
                    approvalDueAt = nil
                    continue
                }
                next = min(next ?? due, due)
            }
            guard let next else { return state.phase.isTerminal ? .finished : .paused }
            if next > deadline { return .virtualTimeLimit }
            clock.advance(to: next)
        }
        return .stepLimit
    }
}
