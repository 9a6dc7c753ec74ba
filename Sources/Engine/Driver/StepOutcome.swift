import Foundation
import RolloutCore

/// What a rollout needs after one `RolloutEngine.step`: the one place that decides "done, later, or a person".
package enum StepOutcome: Sendable, Equatable {
    /// Terminal, and nothing is left in its outbox.
    case finished
    /// Look at it again at this instant (a timer, a poll, an effect's retry).
    case due(Date)
    /// Nothing moves without a person; `nextDueAt` is timed work that still goes on meanwhile (a paused stage's
    /// job is still polled, so a failing gate still acts).
    case needsPerson(PersonNeeded, nextDueAt: Date?)
    /// Another worker holds its lease (several workers on one database): not this worker's to step until a lease
    /// of its own says so.
    case notLeased

    /// When the rollout must be looked at again, whatever the reason (nil: finished, or only a person can move it).
    package var nextDueAt: Date? {
        switch self {
        case .finished, .notLeased: return nil
        case .due(let at): return at
        case .needsPerson(_, let at): return at
        }
    }
}

/// Why a rollout waits for a person.
package enum PersonNeeded: Sendable, Equatable {
    /// A pause is in force (a person's, a failed gate's with `onFailure: pause`, missing evidence, a failed call).
    case resume(PauseInfo.Kind)
    /// A stage with `approval: required` waits.
    case approval(stage: String)
    /// A live rollout with nothing scheduled (never expected; shown so that it is not silently stuck).
    case nothingScheduled
}
