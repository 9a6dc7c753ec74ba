import Foundation

/// An effect whose last attempt failed and that will be tried again: what readers show while a rollout is held up
/// by a side effect (a throttled call, a job slot it waits for).
package struct EffectRetry: Sendable, Equatable, Codable {
    /// The effect's key in the outbox (`create-job:wave-1`, …).
    package var key: String
    /// Failed attempts so far; for a capacity wait, the tries of the wait (which use up none of the effect's
    /// attempts).
    package var attempts: Int
    package var nextAttemptAt: Date
    /// The last failure as the fleet described it (credentials are masked where it is shown).
    package var lastError: String
    /// What the effect waits for when it waits for fleet capacity (`a job slot`); such an effect is retried until
    /// it gets it. Nil for an ordinary retry, which fails for good after its attempts.
    package var waitingFor: String?

    package init(key: String, attempts: Int, nextAttemptAt: Date, lastError: String, waitingFor: String?) {
        self.key = key
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.waitingFor = waitingFor
    }
}
