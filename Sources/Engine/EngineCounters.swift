import Foundation
import RolloutCore

/// Work counters, for `/metrics` and `rollout bench`.
package struct EngineCounters: Sendable, Equatable {
    package var commits = 0
    package var polls = 0
    package var pollErrors = 0
    package var effectsAttempted = 0
    package var effectErrors = 0
    package var jobsCreated = 0
    /// Effect attempts that found a fleet quota used up and were deferred to wait for capacity.
    package var capacityWaits = 0
    /// Gate verdicts recorded (changes of verdict), by verdict.
    package var verdicts: [Verdict: Int] = [:]

    package init() {}
}
