import Foundation
import RolloutCore

/// What the worker reads from the store besides the read model (a worker's start, event pages, reads before it is
/// ready): done here, so these blocking calls run on the engine's thread, never on Swift's cooperative pool.
extension RolloutEngine {
    /// The ids of the rollouts still to drive (not finished, or with effects left), oldest first.
    package func activeRolloutIds() throws -> [String] {
        try store.activeRolloutIds()
    }

    /// Every unfinished rollout with its plan (the read model's copy when it has one), for `SupersedeRule`.
    package func liveRollouts() throws -> [SupersedeRule.Live] {
        try store.activeRolloutIds().compactMap { id in
            guard let plan = try readModel.entry(id)?.rollout.plan ?? store.rollout(id: id)?.plan else { return nil }
            return SupersedeRule.Live(rolloutId: id, plan: plan)
        }
    }

    /// Loads every stored rollout (at most `rolloutsMax`) the read model does not hold yet, with its pending effects.
    /// One call, so no commit of this engine lands between reading a rollout and publishing it; one a step loaded
    /// first is newer and kept. The rollouts are read before their outboxes: a commit of another worker landing in
    /// between leaves an entry older than its outbox, which that commit's announcement (a later event count) reads
    /// again; the other order would leave one newer than its outbox, announced as no news.
    package func fillReadModel(rolloutsMax: Int) throws {
        let rollouts = try store.rollouts(phases: nil, limit: rolloutsMax)
        let pending = try store.pendingEffectKeys()
        for rollout in rollouts {
            readModel.loadIfAbsent(rollout, pendingEffectKeys: pending[rollout.id] ?? [])
        }
    }

    /// A page of a rollout's event log.
    package func events(rolloutId: String, afterSequence: Int, limit: Int) throws -> [RolloutEventRecord] {
        try store.events(rolloutId: rolloutId, afterSequence: afterSequence, limit: limit)
    }

    /// Rollouts newest first as stored (for reads before the read model is loaded).
    package func storedRollouts(phase: RolloutPhase?, limit: Int) throws -> [StoredRollout] {
        try store.rollouts(phases: phase.map { [$0] }, limit: limit)
    }

    /// Everything a status view shows of one rollout, loaded (with its verdict history) from the store on first use;
    /// nil when no such rollout is stored.
    package func detail(_ rolloutId: String) throws -> RolloutDetail? {
        if readModel.revision(of: rolloutId) == nil {
            guard try store.rollout(id: rolloutId) != nil else { return nil }
            try reload(rolloutId)
        }
        return try readModel.detail(rolloutId)
    }
}
