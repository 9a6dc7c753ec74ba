import Foundation
import RolloutCore

/// The one way a person's command becomes a committed event: checked against the rollout's state (a command that
/// makes no sense is refused with the reason), applied as a logged fact, committed as ONE store transaction whose
/// effects wait in the outbox for the engine. The engine uses it for commands from the API; `record` uses it for a
/// database no worker holds (e.g. approving a rollout that `rollout run` stopped at).
package enum CommandRecorder {
    /// The commit that records `command` at `at`, or `CommandRejected` with the reason.
    package static func commit(for command: RolloutEvent, rollout: StoredRollout, at: Date) throws -> StoreCommit {
        precondition(command.isCommand, "only control verbs are recorded")
        if let reason = RolloutStateMachine.rejection(of: command, in: rollout.state, plan: rollout.plan) {
            throw CommandRejected(reason: reason)
        }
        let transition = RolloutStateMachine.applyLogged(command, to: rollout.state, plan: rollout.plan, at: at)
        return StoreCommit(transition, of: rollout.id, event: command, before: rollout.state, at: at)
    }

    /// Records a command straight into a store no worker holds, stamped with the database's own clock
    /// (`instant(for:store:wallNow:)`). The next worker or `rollout run` on that database acts on it.
    package static func record(_ command: RolloutEvent, rolloutId: String, store: any RolloutStore,
                              wallNow: Date) throws -> RolloutState {
        guard let rollout = try store.rollout(id: rolloutId) else { throw StoreError.notFound(rolloutId: rolloutId) }
        let storeCommit = try commit(for: command, rollout: rollout, at: try instant(for: rollout, store: store,
                                                                                    wallNow: wallNow))
        try store.commit(storeCommit)
        return storeCommit.state
    }

    /// When a command recorded straight into a database happens. A simulated rollout runs on a virtual (or
    /// sped-up) clock that only the database knows: its latest instant is "now" there, so time never runs
    /// backwards or leaps ahead for the rollout. Other rollouts run on the wall clock, never before that instant.
    static func instant(for rollout: StoredRollout, store: any RolloutStore, wallNow: Date) throws -> Date {
        let latest = max(try store.latestInstant() ?? rollout.state.updatedAt, rollout.state.updatedAt)
        return rollout.fleetKind == "sim" ? latest : max(wallNow, latest)
    }
}
