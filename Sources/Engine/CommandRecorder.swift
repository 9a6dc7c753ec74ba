import Foundation
import RolloutCore

/// Records a command straight into a store, for when no worker holds the database (e.g. approving a rollout
/// that `rollout run` stopped at): the next worker or `rollout run` on that database acts on it.
package enum CommandRecorder {
    /// Checks the command against the rollout's state and commits it as one event (no effect is performed here:
    /// the effects it queues wait in the outbox for the engine). The command is stamped with the database's own
    /// clock (`instant(for:store:wallNow:)`).
    package static func record(_ command: RolloutEvent, rolloutId: String, store: any RolloutStore,
                              wallNow: Date) throws -> RolloutState {
        precondition(command.isCommand, "only control verbs are recorded")
        guard let rollout = try store.rollout(id: rolloutId) else { throw StoreError.notFound(rolloutId: rolloutId) }
        let now = try instant(for: rollout, store: store, wallNow: wallNow)
        if let reason = RolloutStateMachine.rejection(of: command, in: rollout.state, plan: rollout.plan) {
            throw CommandRejected(reason: reason)
        }
        let transition = RolloutStateMachine.applyLogged(command, to: rollout.state, plan: rollout.plan, at: now)
        let state = transition.state
        try store.commit(StoreCommit(
            rolloutId: rolloutId, expectedEventCount: rollout.state.eventCount,
            event: RolloutEventRecord(sequence: state.eventCount, at: now, event: command), state: state,
            effects: transition.effects, verdicts: transition.verdicts))
        return state
    }

    /// When a command recorded straight into a database happens. A simulated rollout runs on a virtual (or
    /// sped-up) clock that only the database knows: its latest instant is "now" there, so time never runs
    /// backwards or leaps ahead for the rollout. Other rollouts run on the wall clock, never before that instant.
    static func instant(for rollout: StoredRollout, store: any RolloutStore, wallNow: Date) throws -> Date {
        let latest = max(try store.latestInstant() ?? rollout.state.updatedAt, rollout.state.updatedAt)
        return rollout.fleetKind == "sim" ? latest : max(wallNow, latest)
    }
}
