import Foundation

/// Polls of a rollout's job that keep failing (the fleet or a metric source does not answer): shown beside the
/// rollout, so "waiting for gates" never hides that no evidence is arriving. Cleared by the next poll that works.
package struct PollFailure: Sendable, Equatable, Codable {
    /// The first failed poll of this run of failures.
    package var since: Date
    package var attempts: Int
    /// The last failure as the fleet described it (credentials are masked where it is shown).
    package var lastError: String

    package init(since: Date, attempts: Int, lastError: String) {
        self.since = since
        self.attempts = attempts
        self.lastError = lastError
    }
}
