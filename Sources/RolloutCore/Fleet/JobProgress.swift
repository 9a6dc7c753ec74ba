/// Counts of a stage job's executions, as the fleet reports them (AWS `jobProcessDetails` shape).
package struct JobProgress: Codable, Equatable, Sendable {
    package var queued: Int
    package var inProgress: Int
    package var succeeded: Int
    package var failed: Int
    package var timedOut: Int
    package var rejected: Int
    package var canceled: Int
    package var removed: Int
    /// True once the fleet considers the job over (AWS `COMPLETED`/`CANCELED` with no execution left in flight).
    package var jobDone: Bool

    package init(queued: Int = 0, inProgress: Int = 0, succeeded: Int = 0, failed: Int = 0, timedOut: Int = 0,
                rejected: Int = 0, canceled: Int = 0, removed: Int = 0, jobDone: Bool = false) {
        self.queued = queued
        self.inProgress = inProgress
        self.succeeded = succeeded
        self.failed = failed
        self.timedOut = timedOut
        self.rejected = rejected
        self.canceled = canceled
        self.removed = removed
        self.jobDone = jobDone
    }

    package static let zero = JobProgress()

    /// Executions that reached an outcome the gates can judge.
    package var executed: Int { succeeded + failed + timedOut + rejected }
    /// Executions that have not reached a terminal status.
    package var pending: Int { queued + inProgress }
    package var total: Int { queued + inProgress + succeeded + failed + timedOut + rejected + canceled + removed }
}

/// The status of one device's execution of a job (the AWS IoT `JobExecutionStatus` values).
package enum ExecutionStatus: String, Codable, Sendable, CaseIterable {
    case queued = "QUEUED"
    case inProgress = "IN_PROGRESS"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case timedOut = "TIMED_OUT"
    case rejected = "REJECTED"
    case removed = "REMOVED"
    case canceled = "CANCELED"
}
