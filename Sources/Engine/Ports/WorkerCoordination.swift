import Foundation

/// How workers sharing one database divide the rollouts among themselves (PostgreSQL: `PostgresLeases`).
///
/// The worker runs `round()` every `roundIntervalSeconds` (wall-clock, whatever clock its rollouts run on): it
/// announces the worker as alive, renews its leases, gives back what exceeds its fair share, claims unleased and
/// expired rollouts up to that share, and reads what other workers changed (the fallback of the notifications,
/// which may be lost). Between rounds, `notifications` tells of changes at once.
package protocol WorkerCoordination: RolloutLeases {
    /// This worker's id in the database (`host-pid-random`).
    var workerId: String { get }
    /// Seconds between rounds (a third of the lease: a lease is renewed twice before it could expire).
    var roundIntervalSeconds: Double { get }
    /// One round; throws when the database cannot be reached (the worker then acts on nothing until a round
    /// succeeds: its leases run out on their own).
    func round() throws -> LeaseRound
    /// Claims `rolloutId` now if it is unleased and this worker is within its share (a submission it took).
    func claim(_ rolloutId: String) throws -> Bool
    /// Changes announced by other workers' commits, as they arrive; finishes when `stop()` is called.
    func notifications() -> AsyncStream<RolloutChange>
    /// True while the last round succeeded within the lease (`/readyz`).
    var isHealthy: Bool { get }
    /// True when this worker is the one that sweeps ended rollouts past their retention (the longest-running live
    /// worker, as of the last round): the sweep's calls are idempotent, so two sweepers while that changes hands do
    /// no harm, but every worker sweeping would repeat every call.
    var sweepsRetention: Bool { get }
    /// Counters of this worker's leases (`/metrics`).
    var statistics: CoordinationStatistics { get }
    /// Gives every lease back and marks the worker stopped (graceful shutdown).
    func stop()
}

/// What one round of `WorkerCoordination` found.
package struct LeaseRound: Sendable, Equatable {
    /// Rollouts this worker now leases that it did not before (new, or taken over from a worker that died).
    package var claimed: [String]
    /// Leases this worker held and has lost (expired and taken, or given back over its share).
    package var lost: [String]
    /// Rollouts other workers changed since the last round (id → event count), for the read model.
    package var changed: [RolloutChange]
    /// Workers alive (this one included): the divisor of shared budgets.
    package var workersAlive: Int

    package init(claimed: [String] = [], lost: [String] = [], changed: [RolloutChange] = [], workersAlive: Int = 1) {
        self.claimed = claimed
        self.lost = lost
        self.changed = changed
        self.workersAlive = workersAlive
    }
}

/// A rollout that some worker committed, at its event count.
package struct RolloutChange: Sendable, Equatable, Hashable {
    package var rolloutId: String
    package var eventCount: Int

    package init(rolloutId: String, eventCount: Int) {
        self.rolloutId = rolloutId
        self.eventCount = eventCount
    }
}
