import Foundation
import RolloutCore

/// The engine's part of coordination (several workers on one database). The rounds themselves run on a thread of
/// their own (`CoordinationRounds`): only what they found is applied here, cheaply, so a round never waits behind
/// steps and steps never wait behind a round's reads.
extension RolloutEngine {
    /// Rollouts read again per query when other workers' changes are absorbed.
    static let reloadBatchMax = 500

    /// Applies a round: forgets what the engine derived for leases lost (a rollout newly leased is read again
    /// before its first step under the new epoch: `readUnderEpoch`); reads in batches the rollouts other workers
    /// changed (for the read model, which serves every rollout's status). Returns the ids it read again.
    package func absorb(_ round: LeaseRound) -> [String] {
        for id in round.lost {
            working[id] = nil
            readUnderEpoch[id] = nil
        }
        return absorbChanges(round.changed)
    }

    /// True when `change` is later than what the read model holds (or the rollout is unknown here): a worker's own
    /// commits come back announced too, and are no news.
    package nonisolated func isNews(_ change: RolloutChange) -> Bool {
        readModel.rollout(change.rolloutId).map { change.eventCount > $0.state.eventCount } ?? true
    }

    /// Reads again, in batches, the rollouts stored at a later event count than the read model's (its own commits,
    /// announced late, are not read again); returns their ids. A batch that fails is left to the next round.
    package func absorbChanges(_ changes: [RolloutChange]) -> [String] {
        let outdated = Array(Set(changes.filter(isNews).map(\.rolloutId)))
        var reloaded: [String] = []
        for start in stride(from: 0, to: outdated.count, by: Self.reloadBatchMax) {
            let batch = Array(outdated[start..<min(start + Self.reloadBatchMax, outdated.count)])
            guard (try? reload(ids: batch)) != nil else { continue }
            reloaded += batch
        }
        return reloaded
    }

    /// Re-reads `ids` from the store in two queries (rollouts, pending effect keys) into the read model, and drops
    /// what the engine derived from them.
    func reload(ids: [String]) throws {
        guard !ids.isEmpty else { return }
        let rollouts = try store.rollouts(ids: ids)  // the rollouts first, then their effects, as `reload(_:)`
        let keys = try store.pendingEffectKeys(rolloutIds: ids)
        for rollout in rollouts {
            working[rollout.id] = nil
            readModel.load(rollout, pendingEffectKeys: keys[rollout.id] ?? [])
        }
    }
}
