import Engine
import Foundation
import HTTPTransport
import Logging
import RolloutCore

/// The `Fleet` port on AWS IoT Jobs + S3.
///
/// - Artifacts: content-addressed in the plan's bucket (`firmware/<name>/<version>/<sha256>.bin`), uploaded
///   streamed with a SHA-256 checksum, skipped when HeadObject already shows that digest; an `s3://` artifact is used
///   in place (hashed by ranged reads when S3 holds no digest for it).
/// - Jobs: SNAPSHOT jobs with the document inline (documents are ~1 KB, the inline limit is 32 KB; larger ones go
///   through `documentSource`), and a copy at `jobs/<jobId>.json` in the bucket for the record. Up to 100 devices
///   are targeted by thing ARN; more go into a temporary static group `rollout-<jobId>`, filled at a bounded rate and
///   resumably (members listed first, only the missing added).
/// - Idempotency: DescribeJob first (moto replaces a duplicate job silently, AWS answers 409), adopt a job whose
///   targets and document match, `FleetError.conflict` otherwise; a 409 from CreateJob goes the same way.
package struct AWSFleet: Fleet {
    package let kind = "aws"
    package let configuration: AWSConfiguration
    /// Jobs with more target devices than this get a temporary thing group (AWS allows 100 targets per job).
    package static let directTargetsMax = 100
    /// Larger documents are passed by `documentSource` (AWS allows 32 KB inline).
    package static let inlineDocumentBytesMax = 32_000
    package static let defaultCancelReasonCode = "ROLLOUT_GATE_FAILED"

    let arnPrefixes = ThingArnPrefixCache()
    var logger: Logger { configuration.logger }

    package init(configuration: AWSConfiguration) {
        self.configuration = configuration
    }

    /// Calls, throttled answers and budget use per API of every account-region this fleet's clients used.
    package func apiUsage() -> [FleetAPIUsage] {
        configuration.rateBudgets.usage()
    }

    package func shareAPIBudget(among workers: Int) {
        configuration.rateBudgets.share(among: workers)
    }

    // MARK: - Inventory

    package func inventory(_ selection: FleetSelection) async throws -> DeviceInventory {
        try await mapped("inventory") {
            let iot = configuration.iotClient()
            var candidates: Set<String>
            if let group = selection.thingGroup {
                candidates = Set(try await iot.listThingsInThingGroup(group, recursive: true))
            } else if selection.selector.isEmpty {
                candidates = Set(try await iot.listThings())
            } else {
                candidates = []
            }
            var first = selection.thingGroup == nil
            for (attribute, values) in selection.selector.sorted(by: { $0.key < $1.key }) {
                var matching: Set<String> = []
                for value in values.sorted() {
                    matching.formUnion(try await iot.listThings(attributeName: attribute, attributeValue: value))
                }
                candidates = first ? matching : candidates.intersection(matching)
                first = false
            }
            candidates.subtract(selection.exclude)
            return DeviceInventory(deviceIds: DeviceIdList(candidates.sorted()))
        }
    }

    package func groupMembers(_ group: String) async throws -> [String] {
        try await mapped("thing group \(group)") {
            Array(Set(try await configuration.iotClient().listThingsInThingGroup(group, recursive: true))).sorted()
        }
    }

    /// The fleet's rings: `<group>-ring-NN` groups (ListThingGroups by prefix) and their members. Rings with gaps
    /// (a ring deleted by hand) make the rollout wait for `rollout rings sync`.
    package func ringMembership(fleetGroup: String) async throws -> RingMembership? {
        try await mapped("rings of thing group \(fleetGroup)") {
            let iot = configuration.iotClient()
            let prefix = RingLayout.groupPrefix(fleetGroup: fleetGroup)
            let names = try await iot.listThingGroups(namePrefix: prefix).filter {
                RingLayout.ringIndex(ofGroup: $0, fleetGroup: fleetGroup) != nil
            }
            guard !names.isEmpty else { return nil }
            let byIndex = Dictionary(names.map { (RingLayout.ringIndex(ofGroup: $0, fleetGroup: fleetGroup)!, $0) },
                                     uniquingKeysWith: { first, _ in first })
            let count = byIndex.count
            guard count <= RingLayout.countMax, (0..<count).allSatisfy({ byIndex[$0] != nil }) else {
                throw FleetError.capacity(FleetCapacityWait(
                    resource: .rings(fleetGroup: fleetGroup),
                    detail: "the ring groups of \(fleetGroup) are not numbered 0…\(count - 1): \(names.sorted().prefix(5))",
                    remedy: "run `rollout rings sync --group \(fleetGroup)` (or set fleet.targeting: groups)"))
            }
            let ordered = (0..<count).map { byIndex[$0]! }
            var ringOfDevice: [String: Int] = [:]
            for (index, name) in ordered.enumerated() {
                for thing in try await iot.listThingsInThingGroup(name) { ringOfDevice[thing] = index }
            }
            return RingMembership(groupNames: ordered, listed: ringOfDevice)
        }
    }

    // MARK: - Jobs

    package func createJob(_ request: JobRequest) async throws {
        try await mapped("job \(request.jobId)") {
            let aws = try requireSettings(request.aws)
            try AWSFleet.validateJobId(request.jobId)
            let outside = PlanLimits.violations(of: request.settings, aws: aws)
            guard outside.isEmpty else {
                throw FleetError.permanent("job \(request.jobId): outside AWS IoT's limits: \(outside.joined(separator: ", "))")
            }
            let region = aws.region ?? configuration.region
            let iot = configuration.iotClient(region: region)
            let s3 = configuration.s3Client(region: region)
            let wanted = try wantedTargets(request)
            if let templateArn = request.templateArn {
                try await createJob(request, fromTemplate: templateArn, wanted: wanted, aws: aws, region: region)
                return
            }
            let document = try AWSFleet.encodeDocument(request.document, shape: request.settings.document)

            if let existing = try await describeJobIfPresent(request.jobId, iot: iot) {
                try await adopt(existing, jobId: request.jobId, targets: wanted, document: document, iot: iot, s3: s3,
                                bucket: aws.bucket)
                return
            }
            let documentKey = "jobs/\(request.jobId).json"
            try await s3.putObject(bucket: aws.bucket, key: documentKey, data: document, contentType: "application/json")
            let targetArns = try await resolveTargets(request, iot: iot, region: region)
            let inline = document.count <= AWSFleet.inlineDocumentBytesMax
            let body = IoTCreateJobRequest(
                targets: targetArns,
                document: inline ? String(decoding: document, as: UTF8.self) : nil,
                documentSource: inline ? nil : AWSFleet.documentSourceURL(bucket: aws.bucket, key: documentKey, region: region),
                description: "rollout \(request.rolloutId) stage \(request.stage)",
                targetSelection: "SNAPSHOT",
                presignedUrlConfig: aws.presignedUrlRoleArn.map {
                    IoTPresignedUrlConfig(roleArn: $0, expiresInSec: aws.presignedUrlExpiresSeconds)
                },
                timeoutConfig: request.settings.inProgressTimeoutSeconds.map {
                    IoTTimeoutConfig(inProgressTimeoutInMinutes: ($0 + 59) / 60)
                },
                jobExecutionsRolloutConfig: request.settings.maxPerMinute.map {
                    IoTRolloutConfig(maximumPerMinute: $0)
                },
                jobExecutionsRetryConfig: AWSFleet.retryConfig(request.settings),
                abortConfig: AWSFleet.abortConfig(request.abortCriteria))
            do {
                try await iot.createJob(request.jobId, body)
                logger.info("created job \(request.jobId) for \(targetArns.count) target(s)")
            } catch let error where FleetErrorMapping.isAlreadyExists(error) {
                guard let existing = try await describeJobIfPresent(request.jobId, iot: iot) else { throw error }
                try await adopt(existing, jobId: request.jobId, targets: wanted, document: document, iot: iot, s3: s3,
                                bucket: aws.bucket)
            }
        }
    }

    package func jobProgress(jobId: String) async throws -> JobProgress {
        try await mapped("job \(jobId)") {
            let job = try await configuration.iotClient().describeJob(jobId).job
            return AWSFleet.progress(of: job)
        }
    }

    static func progress(of job: IoTJob) -> JobProgress {
        let details = job.jobProcessDetails
        var progress = JobProgress(queued: details?.numberOfQueuedThings ?? 0,
                                   inProgress: details?.numberOfInProgressThings ?? 0,
                                   succeeded: details?.numberOfSucceededThings ?? 0,
                                   failed: details?.numberOfFailedThings ?? 0,
                                   timedOut: details?.numberOfTimedOutThings ?? 0,
                                   rejected: details?.numberOfRejectedThings ?? 0,
                                   canceled: details?.numberOfCanceledThings ?? 0,
                                   removed: details?.numberOfRemovedThings ?? 0)
        progress.jobDone = (job.status == "COMPLETED" || job.status == "CANCELED") && progress.pending == 0
        return progress
    }

    package func devices(jobId: String, statuses: Set<ExecutionStatus>) async throws -> [String] {
        try await mapped("job \(jobId)") {
            let iot = configuration.iotClient()
            var names: Set<String> = []
            for status in statuses.sorted(by: { $0.rawValue < $1.rawValue }) {
                for summary in try await iot.listJobExecutionsForJob(jobId, status: status.rawValue) {
                    names.insert(summary.thingName)
                }
            }
            return names.sorted()
        }
    }

    package func devicesThatMayHoldFirmware(jobId: String) async throws -> [String] {
        try await mapped("job \(jobId)") {
            let iot = configuration.iotClient()
            var names: Set<String> = []
            for status in ["SUCCEEDED", "IN_PROGRESS", "TIMED_OUT", "CANCELED"] {
                for summary in try await iot.listJobExecutionsForJob(jobId, status: status)
                where status != "CANCELED" || summary.startedAt != nil {
                    names.insert(summary.thingName)
                }
            }
            return names.sorted()
        }
    }

    package func cancelJob(jobId: String, reason: String, force: Bool) async throws {
        try await mapped("job \(jobId)") {
            let iot = configuration.iotClient()
            let job = try await iot.describeJob(jobId).job
            if job.isTerminal {
                logger.info("job \(jobId) is already \(job.status ?? "over"); nothing to cancel")
                return
            }
            let (reasonCode, comment) = AWSFleet.cancelReason(reason)
            do {
                try await iot.cancelJob(jobId, reasonCode: reasonCode, comment: comment, force: force)
            } catch let error as AWSError where !error.isRetryable && !FleetErrorMapping.isNotFound(error) {
                // Completed or cancelled meanwhile (InvalidStateTransition / InvalidRequest): that is success.
                if try await iot.describeJob(jobId).job.isTerminal { return }
                throw error
            }
            logger.info("cancelled job \(jobId) (\(reasonCode)\(force ? ", forced" : ""))")
        }
    }

    package func cleanUp(rolloutId: String, jobId: String) async throws {
        try await mapped("clean-up of job \(jobId)") {
            let group = AWSFleet.temporaryGroupName(jobId: jobId)
            do {
                try await configuration.iotClient().deleteThingGroup(group)
                logger.info("deleted temporary thing group \(group)")
            } catch let error where FleetErrorMapping.isNotFound(error) {
                return
            }
        }
    }

    package func temporaryResources(rolloutId: String, jobId: String) async throws -> [String] {
        try await mapped("temporary resources of job \(jobId)") {
            let group = AWSFleet.temporaryGroupName(jobId: jobId)
            do {
                _ = try await configuration.iotClient().describeThingGroup(group)
                return ["thing group \(group)"]
            } catch let error where FleetErrorMapping.isNotFound(error) {
                return []
            }
        }
    }

    // MARK: - Helpers

    /// The document's bytes in the plan's shape; a template that cannot make one is a permanent failure.
    package static func encodeDocument(_ document: JobDocument, shape: JobDocumentShape?) throws -> Data {
        do {
            return try JobDocumentRenderer.render(document, shape: shape)
        } catch {
            throw FleetError.permanent("job document: \(error.message)")
        }
    }

    static func documentSourceURL(bucket: String, key: String, region: String) -> String {
        "https://s3.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))/\(bucket)/\(key)"
    }

    static func retryConfig(_ settings: JobSettings) -> IoTRetryConfig? {
        var criteria: [IoTRetryCriteria] = []
        if settings.retriesOnFailure > 0 {
            criteria.append(IoTRetryCriteria(failureType: "FAILED", numberOfRetries: settings.retriesOnFailure))
        }
        if settings.retriesOnTimeout > 0 {
            criteria.append(IoTRetryCriteria(failureType: "TIMED_OUT", numberOfRetries: settings.retriesOnTimeout))
        }
        return criteria.isEmpty ? nil : IoTRetryConfig(criteriaList: criteria)
    }

    /// AWS's `abortConfig` for the criteria (nil when there are none).
    static func abortConfig(_ criteria: [JobAbortCriterion]) -> IoTAbortConfig? {
        guard !criteria.isEmpty else { return nil }
        return IoTAbortConfig(criteriaList: criteria.map {
            IoTAbortCriteria(failureType: $0.outcome.rawValue, thresholdPercentage: $0.thresholdPercent,
                             minNumberOfExecutedThings: $0.executedMin)
        })
    }

    /// A reason that is already a reason code (`[A-Z0-9_]+`, ≤ 128) is used as the code; any other text becomes the
    /// comment (control characters removed, ≤ 2028 characters) under `ROLLOUT_GATE_FAILED`.
    static func cancelReason(_ reason: String) -> (code: String, comment: String?) {
        let isCode = !reason.isEmpty && reason.count <= 128
            && reason.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        if isCode { return (reason, nil) }
        let cleaned = String(String.UnicodeScalarView(reason.unicodeScalars.filter {
            !CharacterSet.controlCharacters.contains($0)
        })).prefix(2028)
        return (defaultCancelReasonCode, cleaned.isEmpty ? nil : String(cleaned))
    }

    func requireSettings(_ settings: AWSPlanSettings?) throws -> AWSPlanSettings {
        guard let settings else {
            throw FleetError.permanent("the AWS fleet needs the plan's `aws` settings (bucket)")
        }
        return settings
    }

    /// Runs `body`, translating every failure into a `FleetError` that names `context`.
    func mapped<T>(_ context: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            let mapped = FleetErrorMapping.map(error, context: context)
            logger.warning("\(mapped)")
            throw mapped
        }
    }
}
