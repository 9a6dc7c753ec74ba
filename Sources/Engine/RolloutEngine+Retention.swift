import Foundation
import Logging
import RolloutCore

/// Nothing accumulates (`aws.retention`): an ended rollout's jobs and job documents are deleted once its retention
/// has passed, and the deletion is recorded as the rollout's last event (`purged`).
extension RolloutEngine {
    /// One sweep: the rollouts longest due first (at most `limit` looked at); each one's jobs are deleted a bounded
    /// number at a time (`Fleet.purgeJobs`). The sweep ends at the first rollout whose jobs are still being deleted,
    /// so this worker never has more deletions in flight than one call allows (AWS: 10 per account). A fleet error is
    /// logged, that rollout waits for the next sweep and the sweep goes on (at most `failuresMax` of them, so rollouts
    /// that cannot be purged, say for a missing permission, never starve the others for long). Returns the rollouts
    /// purged now.
    @discardableResult
    package func purgeDue(limit: Int = 100, failuresMax: Int = 10) async throws -> [String] {
        precondition(limit > 0 && failuresMax > 0, "at least one rollout per sweep")
        var purged: [String] = []
        var failures = 0
        for rollout in try store.rolloutsDueForPurge(at: clock.now(), fleetKind: fleet.kind, limit: limit) {
            let jobIds = rollout.state.createdJobIds
            do {
                guard try await fleet.purgeJobs(rolloutId: rollout.id, jobIds: jobIds, aws: rollout.plan.aws) else { break }
            } catch {
                logger.warning("purge failed; retried at the next sweep", metadata: [
                    "rollout": "\(rollout.id)", "error": "\(CredentialRedaction.text("\(error)"))",
                ])
                failures += 1
                if failures >= failuresMax { break }
                continue
            }
            try recordPurge(rolloutId: rollout.id, jobs: jobIds.count)
            purged.append(rollout.id)
        }
        return purged
    }

    /// Commits `purged` to the ended rollout (one transaction, as every state change).
    func recordPurge(rolloutId: String, jobs: Int) throws {
        for _ in 0..<3 {
            var runtime = try loadRuntime(rolloutId)
            let state = runtime.rollout.state
            guard state.purgedAt == nil else { return }
            let at = clock.now()
            let transition = RolloutStateMachine.applyLogged(.purged(jobs: jobs), to: state, plan: runtime.rollout.plan, at: at)
            do {
                try persist(StoreCommit(transition, of: rolloutId, event: .purged(jobs: jobs), before: state, at: at),
                            runtime: &runtime)
                logTransition(id: rolloutId, event: .purged(jobs: jobs), state: transition.state)
                return
            } catch StoreError.conflict {
                try reload(rolloutId)
            }
        }
        throw StoreError.database("rollout \(rolloutId) kept changing while recording its purge")
    }
}
