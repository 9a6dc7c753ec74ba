import Foundation
import RolloutCore

/// The engine's part of a coordination round (several workers on one database): on the engine's thread, because
/// the round's database calls block.
extension RolloutEngine {
    /// Runs `coordination.round()`, forgets what the engine derived for leases lost, and reads again the rollouts
    /// newly leased (their previous owner wrote them) and those other workers changed (for the read model).
    package func coordinationRound(_ coordination: any WorkerCoordination) throws -> LeaseRound {
        let round = try coordination.round()
        for id in round.lost { working[id] = nil }
        for id in round.claimed { try? reload(id) }
        for change in round.changed where readModel.rollout(change.rolloutId)?.state.eventCount != change.eventCount {
            try? reload(change.rolloutId)
        }
        return round
    }

    /// Claims a rollout just submitted, on the engine's thread (the claim's database call blocks: never on Swift's
    /// cooperative pool, which serves the HTTP API). A failure leaves it to the next round of some worker.
    package func claimLease(of rolloutId: String, _ coordination: any WorkerCoordination) {
        _ = try? coordination.claim(rolloutId)
    }
}
