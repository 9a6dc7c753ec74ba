/// Which of an ended rollout's jobs to delete now (`aws.retention`, `rollout cleanup --older-than`). AWS lets at most
/// `inFlightMax` jobs be in DELETION_IN_PROGRESS at once, and deletes a job still IN_PROGRESS only with `force`.
/// Pure.
package enum JobDeletion {
    /// What the fleet says of one job.
    package enum Presence: Equatable, Sendable {
        case gone
        case deleting
        case present(inProgress: Bool)
    }

    package static let inFlightMax = 10

    /// The jobs to delete now, in the order given, with `force` for those still in progress, so that at most
    /// `inFlightMax` are being deleted at once (those already deleting count).
    package static func next(_ jobs: [(jobId: String, presence: Presence)],
                             inFlightMax: Int = JobDeletion.inFlightMax) -> [(jobId: String, force: Bool)] {
        precondition(inFlightMax > 0, "at least one deletion at a time")
        var room = inFlightMax - jobs.filter { $0.presence == .deleting }.count
        var chosen: [(jobId: String, force: Bool)] = []
        for (jobId, presence) in jobs where room > 0 {
            guard case .present(let inProgress) = presence else { continue }
            chosen.append((jobId, inProgress))
            room -= 1
        }
        return chosen
    }

    /// True when every job is gone.
    package static func isDone(_ jobs: [(jobId: String, presence: Presence)]) -> Bool {
        jobs.allSatisfy { $0.presence == .gone }
    }
}
