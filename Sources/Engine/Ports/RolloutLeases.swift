import Foundation

/// Which rollouts this worker may act on, when several workers share one database (PostgreSQL).
///
/// A worker acts on a rollout only while it holds the rollout's lease: a step starts only then, and every fleet
/// call of an effect checks again just before it is made. The lease's `LeaseFence` rides on each commit of the
/// step; the store refuses a commit whose fence is no longer the rollout's (`StoreError.fenced`): a worker that
/// was paused past its lease's expiry and then continued cannot write over the worker that took the rollout over.
///
/// `SoleWorker` (one worker per database, as with SQLite) may act on everything and fences nothing.
package protocol RolloutLeases: Sendable {
    /// The fence of a lease held now, not about to expire; nil when this worker must not act on `rolloutId`.
    func fence(for rolloutId: String) -> LeaseFence?
    /// True when `fence` is still the lease held, with time left before it expires (checked before a fleet call).
    func isValid(_ fence: LeaseFence) -> Bool
    /// Records that the store refused a commit made under `fence`: the lease is gone.
    func fenced(_ fence: LeaseFence)
}

/// The owner and epoch of one lease; the epoch grows by one at every claim, so a take-over always changes it.
/// Epoch 0 is no lease at all (`SoleWorker`).
package struct LeaseFence: Sendable, Hashable, CustomStringConvertible {
    package var rolloutId: String
    package var owner: String
    package var epoch: Int64

    package init(rolloutId: String, owner: String, epoch: Int64) {
        self.rolloutId = rolloutId
        self.owner = owner
        self.epoch = epoch
    }

    package var description: String { "lease of \(rolloutId) by \(owner), epoch \(epoch)" }
}

/// A lease this worker still holds in the database, maybe, but no longer trusts: its renewal did not come back before
/// the local deadline. The step stops before any fleet call; the next round renews it (and hands the rollout back to
/// the driver) or finds it taken over. Not a fencing rejection: nobody refused anything.
package struct LeaseLapsed: Error, Sendable, Equatable {
    package var fence: LeaseFence

    package init(fence: LeaseFence) {
        self.fence = fence
    }
}

/// The only worker on its database: every rollout is its own; nothing is fenced.
package struct SoleWorker: RolloutLeases {
    package init() {}
    package func fence(for rolloutId: String) -> LeaseFence? {
        LeaseFence(rolloutId: rolloutId, owner: "", epoch: 0)
    }
    package func isValid(_ fence: LeaseFence) -> Bool { true }
    package func fenced(_ fence: LeaseFence) {}
}
