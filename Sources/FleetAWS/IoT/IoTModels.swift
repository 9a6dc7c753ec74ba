import Foundation

/// Request and response shapes of the AWS IoT REST+JSON API (checked against botocore's `iot` 2015-05-28 model),
/// with only the members the rollout uses.
package struct IoTThing: Decodable, Sendable, Equatable {
    package var thingName: String
    package var thingArn: String?
    package var thingId: String?
    package var attributes: [String: String]?
    package var version: Int?
}

package struct IoTThingGroup: Decodable, Sendable, Equatable {
    package var thingGroupName: String
    package var thingGroupArn: String?
    package var thingGroupId: String?
    package var version: Int?
}

package struct IoTPresignedUrlConfig: Codable, Sendable, Equatable {
    package var roleArn: String?
    package var expiresInSec: Int?

    package init(roleArn: String?, expiresInSec: Int?) {
        self.roleArn = roleArn
        self.expiresInSec = expiresInSec
    }
}

package struct IoTTimeoutConfig: Codable, Sendable, Equatable {
    package var inProgressTimeoutInMinutes: Int?

    package init(inProgressTimeoutInMinutes: Int?) {
        self.inProgressTimeoutInMinutes = inProgressTimeoutInMinutes
    }
}

package struct IoTRolloutConfig: Codable, Sendable, Equatable {
    package var maximumPerMinute: Int?

    package init(maximumPerMinute: Int?) {
        self.maximumPerMinute = maximumPerMinute
    }
}

package struct IoTRetryCriteria: Codable, Sendable, Equatable {
    /// `FAILED`, `TIMED_OUT`, `ALL`.
    package var failureType: String
    package var numberOfRetries: Int

    package init(failureType: String, numberOfRetries: Int) {
        self.failureType = failureType
        self.numberOfRetries = numberOfRetries
    }
}

package struct IoTRetryConfig: Codable, Sendable, Equatable {
    package var criteriaList: [IoTRetryCriteria]

    package init(criteriaList: [IoTRetryCriteria]) {
        self.criteriaList = criteriaList
    }
}

package struct IoTAbortCriteria: Codable, Sendable, Equatable {
    /// `FAILED`, `REJECTED`, `TIMED_OUT`, `ALL`.
    package var failureType: String
    /// `CANCEL`.
    package var action: String
    /// Percentage 0–100.
    package var thresholdPercentage: Double
    package var minNumberOfExecutedThings: Int

    package init(failureType: String, action: String = "CANCEL", thresholdPercentage: Double,
                minNumberOfExecutedThings: Int) {
        self.failureType = failureType
        self.action = action
        self.thresholdPercentage = thresholdPercentage
        self.minNumberOfExecutedThings = minNumberOfExecutedThings
    }
}

package struct IoTAbortConfig: Codable, Sendable, Equatable {
    package var criteriaList: [IoTAbortCriteria]

    package init(criteriaList: [IoTAbortCriteria]) {
        self.criteriaList = criteriaList
    }
}

/// The body of `CreateJob` (`PUT /jobs/{jobId}`): `document` (≤ 32 KB) or `documentSource` (an S3 URL).
package struct IoTCreateJobRequest: Encodable, Sendable, Equatable {
    package var targets: [String]
    package var document: String?
    package var documentSource: String?
    package var description: String?
    /// `SNAPSHOT` (the job ends when its targets are done) or `CONTINUOUS`.
    package var targetSelection: String
    package var presignedUrlConfig: IoTPresignedUrlConfig?
    package var timeoutConfig: IoTTimeoutConfig?
    package var jobExecutionsRolloutConfig: IoTRolloutConfig?
    package var jobExecutionsRetryConfig: IoTRetryConfig?
    package var abortConfig: IoTAbortConfig?
    /// The job takes its document from this template (then neither `document` nor `documentSource`).
    package var jobTemplateArn: String?

    package init(targets: [String], document: String? = nil, documentSource: String? = nil, description: String? = nil,
                targetSelection: String = "SNAPSHOT", presignedUrlConfig: IoTPresignedUrlConfig? = nil,
                timeoutConfig: IoTTimeoutConfig? = nil, jobExecutionsRolloutConfig: IoTRolloutConfig? = nil,
                jobExecutionsRetryConfig: IoTRetryConfig? = nil, abortConfig: IoTAbortConfig? = nil,
                jobTemplateArn: String? = nil) {
        precondition([document != nil, documentSource != nil, jobTemplateArn != nil].filter { $0 }.count == 1,
                     "exactly one of document / documentSource / jobTemplateArn")
        self.jobTemplateArn = jobTemplateArn
        self.targets = targets
        self.document = document
        self.documentSource = documentSource
        self.description = description
        self.targetSelection = targetSelection
        self.presignedUrlConfig = presignedUrlConfig
        self.timeoutConfig = timeoutConfig
        self.jobExecutionsRolloutConfig = jobExecutionsRolloutConfig
        self.jobExecutionsRetryConfig = jobExecutionsRetryConfig
        self.abortConfig = abortConfig
    }
}

package struct IoTJobProcessDetails: Decodable, Sendable, Equatable {
    package var numberOfCanceledThings: Int?
    package var numberOfSucceededThings: Int?
    package var numberOfFailedThings: Int?
    package var numberOfRejectedThings: Int?
    package var numberOfQueuedThings: Int?
    package var numberOfInProgressThings: Int?
    package var numberOfRemovedThings: Int?
    package var numberOfTimedOutThings: Int?
}

/// `DescribeJob`'s `job`.
package struct IoTJob: Decodable, Sendable, Equatable {
    package var jobId: String
    package var jobArn: String?
    /// `IN_PROGRESS`, `CANCELED`, `COMPLETED`, `DELETION_IN_PROGRESS`, `SCHEDULED`.
    package var status: String?
    package var targets: [String]?
    package var targetSelection: String?
    package var reasonCode: String?
    package var comment: String?
    package var forceCanceled: Bool?
    package var jobProcessDetails: IoTJobProcessDetails?
    package var presignedUrlConfig: IoTPresignedUrlConfig?
    package var timeoutConfig: IoTTimeoutConfig?
    package var jobExecutionsRolloutConfig: IoTRolloutConfig?

    /// The job will not change any more (its executions may still be finishing when it was cancelled without force).
    package var isTerminal: Bool {
        status == "COMPLETED" || status == "CANCELED" || status == "DELETION_IN_PROGRESS"
    }
}

/// `ListJobs`' summary of one job.
package struct IoTJobSummary: Decodable, Sendable, Equatable {
    package var jobId: String
    package var status: String?
    /// True while the job rolls out or cancels executions (it then holds one of the account's concurrent-job
    /// slots); absent in older answers and emulators.
    package var isConcurrent: Bool?
}

package struct IoTDescribeJobResponse: Decodable, Sendable, Equatable {
    package var documentSource: String?
    package var job: IoTJob
}

package struct IoTJobExecutionSummary: Decodable, Sendable, Equatable {
    package var thingArn: String
    package var status: String?
    package var executionNumber: Int64?
    /// When the device started the execution (epoch seconds); nil for one that never left QUEUED.
    package var startedAt: Double?

    enum CodingKeys: String, CodingKey {
        case thingArn, jobExecutionSummary
    }

    enum SummaryKeys: String, CodingKey {
        case status, executionNumber, startedAt
    }

    package init(thingArn: String, status: String?, executionNumber: Int64?, startedAt: Double? = nil) {
        self.thingArn = thingArn
        self.status = status
        self.executionNumber = executionNumber
        self.startedAt = startedAt
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        thingArn = try container.decode(String.self, forKey: .thingArn)
        if container.contains(.jobExecutionSummary) {
            let summary = try container.nestedContainer(keyedBy: SummaryKeys.self, forKey: .jobExecutionSummary)
            status = try summary.decodeIfPresent(String.self, forKey: .status)
            executionNumber = try summary.decodeIfPresent(Int64.self, forKey: .executionNumber)
            startedAt = try summary.decodeIfPresent(Double.self, forKey: .startedAt)
        }
    }

    /// `arn:aws:iot:<region>:<account>:thing/<name>` → `<name>`.
    package var thingName: String {
        IoTClient.thingName(fromArn: thingArn)
    }
}

/// `DescribeJobExecution`'s `execution`; dates are epoch seconds.
package struct IoTJobExecution: Decodable, Sendable, Equatable {
    package struct StatusDetails: Decodable, Sendable, Equatable {
        package var detailsMap: [String: String]?
    }

    package var jobId: String?
    package var status: String?
    package var thingArn: String?
    package var executionNumber: Int64?
    package var versionNumber: Int64?
    package var forceCanceled: Bool?
    package var statusDetails: StatusDetails?
    package var queuedAt: Double?
    package var startedAt: Double?
    package var lastUpdatedAt: Double?
}
