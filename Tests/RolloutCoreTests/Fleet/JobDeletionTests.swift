import Testing
@testable import RolloutCore

/// Deleting an ended rollout's jobs within AWS's limit of 10 deletions at once.
@Suite struct JobDeletionTests {
    @Test("at most ten deleting at once (those already deleting count), force only for a job still in progress")
    func batches() {
        var jobs: [(jobId: String, presence: JobDeletion.Presence)] = (0..<14).map { ("j\($0)", .present(inProgress: $0 == 1)) }
        jobs[0].presence = .gone
        jobs[2].presence = .deleting
        let next = JobDeletion.next(jobs)
        #expect(next.count == 9, "10 minus the one already deleting")
        #expect(next.first?.jobId == "j1" && next.first?.force == true)
        #expect(next.dropFirst().allSatisfy { !$0.force })
        #expect(!next.contains { $0.jobId == "j0" || $0.jobId == "j2" })
        #expect(!JobDeletion.isDone(jobs))
        #expect(JobDeletion.isDone(jobs.map { ($0.jobId, .gone) }))
        #expect(JobDeletion.next((0..<12).map { ("d\($0)", .deleting) }).isEmpty, "no room while ten or more are deleting")
    }
}
