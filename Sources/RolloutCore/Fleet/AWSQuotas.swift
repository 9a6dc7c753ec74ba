import Foundation

/// The AWS quotas a rollout runs into, per account and region: request rates per API (the worker's token buckets)
/// and the counts preflight compares against (job slots, groups per thing, job document size).
///
/// Defaults are AWS's published defaults (below, with their Service Quotas codes); an account whose quotas were
/// raised (or lowered, to leave room for other tools) overrides them with `--aws-quota NAME=VALUE`.
///
/// Sources:
/// - AWS General Reference, "AWS IoT Device Management endpoints and quotas", Jobs
///   (https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html#job-limits): every Jobs
///   control-plane API 10 TPS; concurrent jobs 500; active snapshot jobs 100,000; job execution rollout rate
///   1,000 per minute; job document 32 KB.
/// - AWS General Reference, "AWS IoT Core endpoints and quotas", API throttling
///   (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits): thing and thing group APIs.
/// - The same values as the Service Quotas API lists them (`aws service-quotas list-aws-default-service-quotas
///   --service-code iot` / `iotcore`), whose quota codes are given here so a raise can be requested
///   (`aws service-quotas request-service-quota-increase --service-code iot --quota-code L-FBF5CD89 --desired-value 1000`).
/// - Amazon S3 User Guide, "Best practices design patterns: optimizing Amazon S3 performance"
///   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html): at least 3,500
///   PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per second per partitioned prefix (not a Service Quota:
///   S3 scales by prefix and answers 503 SlowDown while it does).
/// - AddThingToThingGroup API reference: a thing belongs to at most 10 thing groups (not adjustable).
package struct AWSQuotas: Sendable, Equatable {
    /// Calls per second per API name (`CreateJob`, …, `S3`): the refill rate of the worker's bucket for that API,
    /// whose burst is one second's worth (at least one call).
    package var ratesPerSecond: [String: Double]
    /// Jobs rolling out or cancelling executions at once (AWS "Concurrent jobs"); CreateJob beyond it answers
    /// `LimitExceededException`.
    package var concurrentJobsMax: Int
    /// Jobs IN_PROGRESS at once (AWS "Active snapshot jobs").
    package var activeJobsMax: Int

    /// Static thing groups one thing may belong to (AWS, not adjustable).
    package static let thingGroupsPerThingMax = 10
    /// Largest job document AWS accepts, inline or from S3 (bytes).
    package static let jobDocumentBytesMax = 32_768
    /// Most executions a job rolls out per minute (`maximumPerMinute` ceiling, and the rate without one).
    package static let jobExecutionsPerMinuteMax = 1000
    /// Name of the bucket that meters every S3 call.
    package static let s3 = "S3"

    /// One published default.
    package struct Published: Sendable, Equatable {
        package enum Unit: String, Sendable {
            case perSecond = "per second", jobs
        }

        package var name: String
        package var value: Double
        package var unit: Unit
        /// Service Quotas code (`L-…`), nil where AWS publishes the limit outside Service Quotas.
        package var quotaCode: String?
        package var adjustable: Bool
    }

    /// The defaults, in the order `--help` lists them. Adjustable as AWS Service Quotas reports them; CreateJob's
    /// rate is not in its list of adjustable quotas.
    package static let published: [Published] = [
        Published(name: "CreateJob", value: 10, unit: .perSecond, quotaCode: "L-23F244D4", adjustable: false),
        Published(name: "DescribeJob", value: 10, unit: .perSecond, quotaCode: "L-609D00CE", adjustable: true),
        Published(name: "ListJobExecutionsForJob", value: 10, unit: .perSecond, quotaCode: "L-9CCB5F90", adjustable: true),
        Published(name: "CancelJob", value: 10, unit: .perSecond, quotaCode: "L-DEC656C5", adjustable: true),
        Published(name: "GetJobDocument", value: 10, unit: .perSecond, quotaCode: "L-86FC5D66", adjustable: true),
        Published(name: "ListJobs", value: 10, unit: .perSecond, quotaCode: "L-145FD0E6", adjustable: true),
        Published(name: "DeleteJob", value: 10, unit: .perSecond, quotaCode: "L-46C255C8", adjustable: true),
        Published(name: "DescribeJobExecution", value: 10, unit: .perSecond, quotaCode: "L-B731A266", adjustable: true),
        Published(name: "CancelJobExecution", value: 10, unit: .perSecond, quotaCode: "L-5D01DB62", adjustable: true),
        Published(name: "DeleteJobExecution", value: 10, unit: .perSecond, quotaCode: "L-4AB367B4", adjustable: true),
        Published(name: "AddThingToThingGroup", value: 100, unit: .perSecond, quotaCode: "L-2904683A", adjustable: true),
        Published(name: "CreateThingGroup", value: 25, unit: .perSecond, quotaCode: "L-512F449C", adjustable: true),
        Published(name: "DescribeThingGroup", value: 100, unit: .perSecond, quotaCode: "L-52E1E197", adjustable: true),
        Published(name: "DeleteThingGroup", value: 15, unit: .perSecond, quotaCode: "L-FCAB1AF4", adjustable: true),
        Published(name: "ListThingsInThingGroup", value: 25, unit: .perSecond, quotaCode: "L-D33FD5F9", adjustable: true),
        Published(name: "ListThingGroups", value: 10, unit: .perSecond, quotaCode: "L-1E5260D6", adjustable: true),
        Published(name: "ListThingGroupsForThing", value: 100, unit: .perSecond, quotaCode: "L-75F129AD", adjustable: true),
        Published(name: "DescribeThing", value: 350, unit: .perSecond, quotaCode: "L-0EF0F5EE", adjustable: true),
        Published(name: "ListThings", value: 10, unit: .perSecond, quotaCode: "L-57AAC135", adjustable: true),
        Published(name: "CreateThing", value: 100, unit: .perSecond, quotaCode: "L-64CBACAC", adjustable: true),
        Published(name: "DeleteThing", value: 100, unit: .perSecond, quotaCode: "L-889800F7", adjustable: true),
        // Writes per partitioned prefix: the lower of S3's two request rates meters every S3 call.
        Published(name: s3, value: 3500, unit: .perSecond, quotaCode: nil, adjustable: false),
        Published(name: "ConcurrentJobs", value: 500, unit: .jobs, quotaCode: "L-FBF5CD89", adjustable: true),
        Published(name: "ActiveJobs", value: 100_000, unit: .jobs, quotaCode: "L-D80B05DB", adjustable: true),
    ]

    package static let defaults = AWSQuotas(
        ratesPerSecond: Dictionary(uniqueKeysWithValues: published.filter { $0.unit == .perSecond }.map { ($0.name, $0.value) }),
        concurrentJobsMax: 500, activeJobsMax: 100_000)

    package init(ratesPerSecond: [String: Double], concurrentJobsMax: Int, activeJobsMax: Int) {
        self.ratesPerSecond = ratesPerSecond
        self.concurrentJobsMax = concurrentJobsMax
        self.activeJobsMax = activeJobsMax
    }

    /// The bucket that meters `operation` of `service`: `S3` for every S3 call, the operation itself for a
    /// metered IoT API, nil for calls no bucket meters (IAM and STS during preflight, IoT calls without a
    /// published rate): they are still counted.
    package func meteredAPI(operation: String, service: String) -> String? {
        if service == "s3" { return AWSQuotas.s3 }
        guard service == "iot", ratesPerSecond[operation] != nil else { return nil }
        return operation
    }

    /// The defaults with `NAME=VALUE` overrides applied (`CreateJob=5`, `S3=1000`, `ConcurrentJobs=1000`).
    package static func parse(_ overrides: [String]) throws(AWSQuotaError) -> AWSQuotas {
        var quotas = AWSQuotas.defaults
        for text in overrides {
            let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw AWSQuotaError("--aws-quota `\(text)`: expected NAME=VALUE with a positive number, e.g. CreateJob=5")
            }
            do {
                try quotas.apply(name: parts[0], value: value)
            } catch {
                throw AWSQuotaError("--aws-quota `\(text)`: \(error.message)")
            }
        }
        return quotas
    }

    /// Sets one quota by its published name (case-insensitive): a rate in calls per second, or a count of jobs.
    package mutating func apply(name: String, value: Double) throws(AWSQuotaError) {
        guard value.isFinite, value > 0 else { throw AWSQuotaError("expected NAME=VALUE with a positive number, e.g. CreateJob=5") }
        guard let entry = AWSQuotas.published.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw AWSQuotaError("unknown name `\(name)`; one of " + AWSQuotas.published.map(\.name).joined(separator: ", "))
        }
        switch (entry.unit, entry.name) {
        case (.perSecond, _):
            guard value <= 100_000 else { throw AWSQuotaError("at most 100000 calls per second") }
            ratesPerSecond[entry.name] = value
        case (.jobs, let name):
            guard value == value.rounded(), value <= 10_000_000 else {
                throw AWSQuotaError("\(name) is a whole number of jobs")
            }
            if name == "ConcurrentJobs" { concurrentJobsMax = Int(value) } else { activeJobsMax = Int(value) }
        }
    }

    /// `NAME=VALUE` lines for `--help`: every name with its default, unit and whether AWS lets it be raised.
    package static var helpText: String {
        published.map { entry in
            let value = entry.value == entry.value.rounded() ? String(Int(entry.value)) : String(entry.value)
            let code = entry.quotaCode.map { ", \($0)" } ?? ""
            return "\(entry.name)=\(value) (\(entry.unit.rawValue)\(code)\(entry.adjustable ? ", adjustable" : ""))"
        }.joined(separator: "; ")
    }
}

/// A `--aws-quota` value that cannot be used.
package struct AWSQuotaError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
