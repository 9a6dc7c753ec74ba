import Foundation

/// Request and response shapes of the AWS IoT REST+JSON API (checked against botocore's `iot` 2015-05-28 model),
/// with only the members the rollout uses.
public struct IoTThing: Decodable, Sendable, Equatable {
    public var thingName: String
    public var thingArn: String?
    public var thingId: String?
    public var attributes: [String: String]?
    public var version: Int?
}

public struct IoTThingGroup: Decodable, Sendable, Equatable {
    public var thingGroupName: String
    public var thingGroupArn: String?
    public var thingGroupId: String?
    public var version: Int?
}

public struct IoTPresignedUrlConfig: Codable, Sendable, Equatable {
    public var roleArn: String?
    public var expiresInSec: Int?

    public init(roleArn: String?, expiresInSec: Int?) {
        self.roleArn = roleArn
        self.expiresInSec = expiresInSec
    }
}

public struct IoTTimeoutConfig: Codable, Sendable, Equatable {
    public var inProgressTimeoutInMinutes: Int?

    public init(inProgressTimeoutInMinutes: Int?) {
        self.inProgressTimeoutInMinutes = inProgressTimeoutInMinutes
    }
}

public struct IoTRolloutConfig: Codable, Sendable, Equatable {
    public var maximumPerMinute: Int?

    public init(maximumPerMinute: Int?) {
        self.maximumPerMinute = maximumPerMinute
    }
}

public struct IoTRetryCriteria: Codable, Sendable, Equatable {
    /// `FAILED`, `TIMED_OUT`, `ALL`.
    public var failureType: String
    public var numberOfRetries: Int

    public init(failureType: String, numberOfRetries: Int) {
        self.failureType = failureType
        self.numberOfRetries = numberOfRetries
    }
}

public struct IoTRetryConfig: Codable, Sendable, Equatable {
    public var criteriaList: [IoTRetryCriteria]

    public init(criteriaList: [IoTRetryCriteria]) {
        self.criteriaList = criteriaList
    }
}

public struct IoTAbortCriteria: Codable, Sendable, Equatable {
    /// `FAILED`, `REJECTED`, `TIMED_OUT`, `ALL`.
    public var failureType: String
    /// `CANCEL`.
    public var action: String
    /// Percentage 0–100.
    public var thresholdPercentage: Double
    public var minNumberOfExecutedThings: Int

    public init(failureType: String, action: String = "CANCEL", thresholdPercentage: Double,
                minNumberOfExecutedThings: Int) {
        self.failureType = failureType
        self.action = action
        self.thresholdPercentage = thresholdPercentage
        self.minNumberOfExecutedThings = minNumberOfExecutedThings
    }
}

public struct IoTAbortConfig: Codable, Sendable, Equatable {
    public var criteriaList: [IoTAbortCriteria]

    public init(criteriaList: [IoTAbortCriteria]) {
        self.criteriaList = criteriaList
    }
}

/// The body of `CreateJob` (`PUT /jobs/{jobId}`): `document` (≤ 32 KB) or `documentSource` (an S3 URL).
public struct IoTCreateJobRequest: Encodable, Sendable, Equatable {
    public var targets: [String]
    public var document: String?
    public var documentSource: String?
    public var description: String?
    /// `SNAPSHOT` (the job ends when its targets are done) or `CONTINUOUS`.
    public var targetSelection: String
    public var presignedUrlConfig: IoTPresignedUrlConfig?
    public var timeoutConfig: IoTTimeoutConfig?
    public var jobExecutionsRolloutConfig: IoTRolloutConfig?
    public var jobExecutionsRetryConfig: IoTRetryConfig?
    public var abortConfig: IoTAbortConfig?

    public init(targets: [String], document: String? = nil, documentSource: String? = nil, description: String? = nil,
                targetSelection: String = "SNAPSHOT", presignedUrlConfig: IoTPresignedUrlConfig? = nil,
                timeoutConfig: IoTTimeoutConfig? = nil, jobExecutionsRolloutConfig: IoTRolloutConfig? = nil,
                jobExecutionsRetryConfig: IoTRetryConfig? = nil, abortConfig: IoTAbortConfig? = nil) {
        precondition((document == nil) != (documentSource == nil), "exactly one of document / documentSource")
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

public struct IoTJobProcessDetails: Decodable, Sendable, Equatable {
    public var numberOfCanceledThings: Int?
    public var numberOfSucceededThings: Int?
    public var numberOfFailedThings: Int?
    public var numberOfRejectedThings: Int?
    public var numberOfQueuedThings: Int?
    public var numberOfInProgressThings: Int?
    public var numberOfRemovedThings: Int?
    public var numberOfTimedOutThings: Int?
}

/// `DescribeJob`'s `job`.
public struct IoTJob: Decodable, Sendable, Equatable {
    public var jobId: String
    public var jobArn: String?
    /// `IN_PROGRESS`, `CANCELED`, `COMPLETED`, `DELETION_IN_PROGRESS`, `SCHEDULED`.
    public var status: String?
    public var targets: [String]?
    public var targetSelection: String?
    public var reasonCode: String?
    public var comment: String?
    public var forceCanceled: Bool?
    public var jobProcessDetails: IoTJobProcessDetails?
    public var presignedUrlConfig: IoTPresignedUrlConfig?
    public var timeoutConfig: IoTTimeoutConfig?
    public var jobExecutionsRolloutConfig: IoTRolloutConfig?

    /// The job will not change any more (its executions may still be finishing when it was cancelled without force).
    public var isTerminal: Bool {
        status == "COMPLETED" || status == "CANCELED" || status == "DELETION_IN_PROGRESS"
    }
}

/// `ListJobs`' summary of one job.
public struct IoTJobSummary: Decodable, Sendable, Equatable {
    public var jobId: String
    public var status: String?
    /// True while the job rolls out or cancels executions (it then holds one of the account's concurrent-job
    /// slots); absent in older answers and emulators.
    public var isConcurrent: Bool?
}

public struct IoTDescribeJobResponse: Decodable, Sendable, Equatable {
    public var documentSource: String?
    public var job: IoTJob
}

public struct IoTJobExecutionSummary: Decodable, Sendable, Equatable {
    public var thingArn: String
    public var status: String?
    public var executionNumber: Int64?
    /// When the device started the execution (epoch seconds); nil for one that never left QUEUED.
    public var startedAt: Double?

    enum CodingKeys: String, CodingKey {
        case thingArn, jobExecutionSummary
    }

    enum SummaryKeys: String, CodingKey {
        case status, executionNumber, startedAt
    }

    public init(thingArn: String, status: String?, executionNumber: Int64?, startedAt: Double? = nil) {
        self.thingArn = thingArn
        self.status = status
        self.executionNumber = executionNumber
        self.startedAt = startedAt
    }

    public init(from decoder: Decoder) throws {
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
    public var thingName: String {
        IoTClient.thingName(fromArn: thingArn)
    }
}

/// `DescribeJobExecution`'s `execution`.
public struct IoTJobExecution: Decodable, Sendable, Equatable {
    public var jobId: String?
    public var status: String?
    public var thingArn: String?
    public var executionNumber: Int64?
    public var versionNumber: Int64?
    public var forceCanceled: Bool?
}
