import Foundation

/// One device's execution of one job, as the fleet reports it (AWS DescribeJobExecution).
package struct DeviceExecution: Codable, Equatable, Sendable {
    package var jobId: String
    package var status: ExecutionStatus
    /// What the device's agent reported with its last update (`statusDetails.detailsMap`), at most 10 entries kept.
    package var statusDetails: [String: String]
    /// Incremented by every update of the execution.
    package var versionNumber: Int?
    package var queuedAt: Date?
    package var startedAt: Date?
    package var lastUpdatedAt: Date?

    package init(jobId: String, status: ExecutionStatus, statusDetails: [String: String] = [:], versionNumber: Int? = nil,
                queuedAt: Date? = nil, startedAt: Date? = nil, lastUpdatedAt: Date? = nil) {
        self.jobId = jobId
        self.status = status
        self.statusDetails = statusDetails
        self.versionNumber = versionNumber
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.lastUpdatedAt = lastUpdatedAt
    }
}
