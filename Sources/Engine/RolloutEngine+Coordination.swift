import Foundation
import RolloutCore

/// The engine's part of coordination (several workers on one database). The rounds themselves run on a thread of
/// their own (`CoordinationRounds`): only what they found is applied here, cheaply, so a round never waits behind
/// steps and steps never wait behind a round's reads.
extension RolloutEngine {
    /// Rollouts read again per query when other workers' changes are absorbed.
    static let reloadBatchMax = 500

    /// Applies a round: forgets what the engine derived for leases lost; marks the rollouts newly leased to be read
    /// again before their next step (lazily); reads in batches the rollouts other workers changed (for the read
    /// model, which serves every rollout's status).
    package func absorb(_ round: LeaseRound) {
        for id in round.lost { working[id] = nil }
        for id in round.claimed {
            working[id] = nil
            staleRollouts.insert(id)
        }
        _ = absorbChanges(round.changed)
    }

    /// Reads again, in batches, the rollouts whose stored event count differs from the read model's; returns their
    /// ids. A batch that fails is left to the next round's change feed.
    package func absorbChanges(_ changes: [RolloutChange]) -> [String] {
        let outdated = Array(Set(changes.filter { readModel.rollout($0.rolloutId)?.state.eventCount != $0.eventCount }
            .map(\.rolloutId)))
        var reloaded: [String] = []
        for start in stride(from: 0, to: outdated.count, by: Self.reloadBatchMax) {
            let batch = Array(outdated[start..<min(start + Self.reloadBatchMax, outdated.count)])
            guard (try? reload(batch)) != nil else { continue }
            reloaded += batch
        }
        return reloaded
    }

    /// Re-reads `ids` from the store in two queries (rollouts, pending effect keys) into the read model, and drops
    /// what the engine derived from them.
    func reload(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        let keys = try store.pendingEffectKeys(rolloutIds: ids)
        for rollout in try store.rollouts(ids: ids) {
            working[rollout.id] = nil
            staleRollouts.remove(rollout.id)
            readModel.load(rollout, pendingEffectKeys: keys[rollout.id] ?? [])
        }
    }

    /// Claims a rollout just submitted, on the engine's thread (the claim's database call blocks: never on Swift's
    /// cooperative pool, which serves the HTTP API). A failure leaves it to the next round of some worker.
    package func claimLease(of rolloutId: String, _ coordination: any WorkerCoordination) {
        _ = try? coordination.claim(rolloutId)
    }
}
