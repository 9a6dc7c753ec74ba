/// What one worker sharing a database with others has done with its leases since it started (`/metrics`,
/// `rollout workers`).
package struct CoordinationStatistics: Sendable, Equatable {
    /// This worker's id in the database.
    package var workerId: String
    /// Leases held now.
    package var leasesHeld = 0
    /// Leases claimed (new rollouts, given-back ones and take-overs).
    package var claims = 0
    /// Claims of rollouts whose lease another worker had let expire.
    package var takeovers = 0
    /// Leases given back (over the fair share, or of ended rollouts).
    package var released = 0
    /// Writes (commits, effect retries and completions) the database refused because another worker had taken the
    /// lease over: the rollout was dropped before any further fleet call.
    package var fencingRejections = 0
    /// Rounds that failed (the database unreachable or refusing).
    package var roundFailures = 0
    /// Workers alive at the last round, this one included.
    package var workersAlive = 1

    package init(workerId: String) {
        self.workerId = workerId
    }
}
