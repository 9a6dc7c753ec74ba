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

    private let arnPrefixes = ThingArnPrefixCache()
    private var logger: Logger { configuration.logger }

    package init(configuration: AWSConfiguration) {
        self.configuration = configuration
    }

    /// Calls, throttled answers and budget use per API of every account-region this fleet's clients used.
    package func apiUsage() -> [FleetAPIUsage] {
        configuration.rateBudgets.usage()
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
            return DeviceInventory(deviceIds: candidates.sorted())
        }
    }

    package func groupMembers(_ group: String) async throws -> [String] {
        try await mapped("thing group \(group)") {
            Array(Set(try await configuration.iotClient().listThingsInThingGroup(group, recursive: true))).sorted()
        }
    }

    // MARK: - Artifacts

    package func stageArtifact(_ artifact: ArtifactRequest) async throws -> StagedArtifact {
        try await mapped("artifact \(artifact.location)") {
            let aws = try requireSettings(artifact.aws)
            let region = aws.region ?? configuration.region
            let s3 = configuration.s3Client(region: region)
            let signingKey = try artifact.signingKeyPath.map {
                try FirmwareSigning.readFile($0, what: "signing key")
            }
            let bucket: String
            let key: String
            let digest: String
            let size: Int64
            var signature: Data?
            switch artifact.location {
            case .file(let path):
                let hashed = try await BlockingIO.run { try SHA256Digest.hashFile(atPath: path) }
                digest = hashed.digest.lowercaseHex
                size = hashed.size
                bucket = aws.bucket
                key = "firmware/\(artifact.firmware)/\(artifact.version)/\(digest).bin"
                let existing = try await s3.headObject(bucket: bucket, key: key)
                if let existing, existing.knownSHA256Hex == digest, existing.size == size {
                    logger.info("artifact s3://\(bucket)/\(key) already staged")
                } else {
                    try await s3.putObject(bucket: bucket, key: key, filePath: path, size: size, sha256: hashed.digest,
                                           contentType: "application/octet-stream", metadata: ["sha256": digest])
                    logger.info("uploaded \(path) to s3://\(bucket)/\(key) (\(size) bytes)")
                }
                if let signingKey {
                    signature = try await BlockingIO.run {
                        let signer = try FirmwareSigner(privateKeyPEM: signingKey)
                        try FirmwareSigning.forEachChunk(ofFile: path) { signer.update($0) }
                        return try signer.finish()
                    }
                }
            case .s3(let sourceBucket, let sourceKey):
                bucket = sourceBucket
                key = sourceKey
                guard let metadata = try await s3.headObject(bucket: bucket, key: key) else {
                    throw FleetError.notFound("s3://\(bucket)/\(key)")
                }
                size = metadata.size
                if let known = metadata.knownSHA256Hex, signingKey == nil {
                    digest = known
                } else {
                    let hasher = StreamingDigest(signingKeyPEM: signingKey)
                    _ = try await s3.streamObject(bucket: bucket, key: key, size: size) { try hasher.update($0) }
                    let result = try hasher.finish()
                    digest = result.sha256Hex
                    signature = result.signature
                    if let known = metadata.knownSHA256Hex, known != digest {
                        throw FleetError.permanent("s3://\(bucket)/\(key) reads as SHA-256 \(digest) but is labelled \(known)")
                    }
                }
            }
            return StagedArtifact(version: artifact.version, url: AWSFleet.deviceURL(bucket: bucket, key: key,
                                                                                        region: region, settings: aws),
                                  bucket: bucket, key: key, sha256Hex: digest, sizeBytes: size,
                                  signatureBase64: signature?.base64EncodedString())
        }
    }

    /// With a presigning role: the placeholder IoT replaces by a presigned URL,
    /// `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}`; without one, the plain URL.
    package static func deviceURL(bucket: String, key: String, region: String, settings: AWSPlanSettings) -> String {
        let plain = "https://s3.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))/\(bucket)/\(URIEncoding.encode(key, encodeSlash: false))"
        return settings.presignedUrlRoleArn == nil ? plain : "${aws:iot:s3-presigned-url:\(plain)}"
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
            let document = try AWSFleet.encodeDocument(request.document)
            let wanted = try wantedTargets(request)

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

    // MARK: - Targets

    /// `rollout-<jobId>`: 1–128 characters of `[a-zA-Z0-9:_-]` (job ids are 1–64 of `[a-zA-Z0-9_-]`).
    package static func temporaryGroupName(jobId: String) -> String {
        "rollout-\(jobId)"
    }

    static func validateJobId(_ jobId: String) throws {
        guard !jobId.isEmpty, jobId.count <= 64,
              jobId.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" })
        else {
            throw FleetError.permanent("job id \"\(jobId)\" must be 1–64 characters of [a-zA-Z0-9_-]")
        }
    }

    /// What the job must target, as comparable names: `thing:<name>` or `group:<name>`.
    func wantedTargets(_ request: JobRequest) throws -> Set<String> {
        switch request.targets {
        case .group(let name):
            return ["group:\(name)"]
        case .devices(let ids):
            guard !ids.isEmpty else { throw FleetError.permanent("job \(request.jobId) has no target devices") }
            if ids.count <= AWSFleet.directTargetsMax {
                return Set(ids.map { "thing:\($0)" })
            }
            return ["group:\(AWSFleet.temporaryGroupName(jobId: request.jobId))"]
        }
    }

    static func targetName(ofArn arn: String) -> String {
        if let range = arn.range(of: ":thinggroup/") { return "group:" + arn[range.upperBound...] }
        if let range = arn.range(of: ":thing/") { return "thing:" + arn[range.upperBound...] }
        return arn
    }

    func resolveTargets(_ request: JobRequest, iot: IoTClient, region: String) async throws -> [String] {
        switch request.targets {
        case .group(let name):
            guard let arn = try await iot.describeThingGroup(name).thingGroupArn else {
                throw FleetError.permanent("DescribeThingGroup \(name) answered without an ARN")
            }
            return [arn]
        case .devices(let ids) where ids.count <= AWSFleet.directTargetsMax:
            let prefix = try await thingArnPrefix(iot: iot, region: region, sampleThing: ids[0])
            return ids.map { prefix + $0 }
        case .devices(let ids):
            return [try await fillTemporaryGroup(jobId: request.jobId, rolloutId: request.rolloutId,
                                                 stage: request.stage, devices: ids, iot: iot)]
        }
    }

    /// `arn:<partition>:iot:<region>:<account>:thing/`, learned from one DescribeThing and cached per region.
    func thingArnPrefix(iot: IoTClient, region: String, sampleThing: String) async throws -> String {
        if let cached = await arnPrefixes.prefix(for: region) { return cached }
        guard let arn = try await iot.describeThing(sampleThing).thingArn, let range = arn.range(of: ":thing/") else {
            throw FleetError.permanent("DescribeThing \(sampleThing) answered without a thing ARN")
        }
        let prefix = String(arn[..<range.upperBound])
        await arnPrefixes.set(prefix, for: region)
        return prefix
    }

    /// Creates (or finds) `rollout-<jobId>` and adds the devices not yet in it, paced at `groupAddRatePerSecond`;
    /// returns the group's ARN. Safe to run again after a crash at any point.
    func fillTemporaryGroup(jobId: String, rolloutId: String, stage: String, devices: [String],
                            iot: IoTClient) async throws -> String {
        let group = AWSFleet.temporaryGroupName(jobId: jobId)
        var arn: String?
        do {
            arn = try await iot.createThingGroup(group, description: "rollout \(rolloutId) stage \(stage) (temporary)")
                .thingGroupArn
        } catch let error where FleetErrorMapping.isAlreadyExists(error) {
            arn = nil
        }
        if arn == nil {
            arn = try await iot.describeThingGroup(group).thingGroupArn
        }
        guard let arn else { throw FleetError.permanent("thing group \(group) has no ARN") }
        let wanted = Set(devices)
        let present = Set(try await iot.listThingsInThingGroup(group))
        let strangers = present.subtracting(wanted)
        guard strangers.isEmpty else {
            throw FleetError.conflict("thing group \(group) holds \(strangers.count) device(s) outside job \(jobId), e.g. \(strangers.sorted().first!)")
        }
        var missing: [String] = []
        var seen: Set<String> = []
        for device in devices where !present.contains(device) && seen.insert(device).inserted {
            missing.append(device)
        }
        logger.info("thing group \(group): \(present.count) present, adding \(missing.count)")
        try await addPaced(missing, to: group, iot: iot)
        return arn
    }

    func addPaced(_ devices: [String], to group: String, iot: IoTClient) async throws {
        let concurrency = configuration.groupAddConcurrency
        let rate = configuration.groupAddRatePerSecond
        let started = configuration.now()
        var index = 0
        while index < devices.count {
            let batch = devices[index..<min(index + concurrency, devices.count)]
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for device in batch {
                    tasks.addTask { try await AWSFleet.addToGroup(device, group: group, iot: iot) }
                }
                try await tasks.waitForAll()
            }
            index += batch.count
            if let rate, rate > 0, index < devices.count {
                let due = Double(index) / rate - configuration.now().timeIntervalSince(started)
                if due > 0 { try await configuration.retry.sleep(due) }
            }
        }
    }

    /// Adds one device to a temporary group. A device already in as many groups as AWS allows is refused (AWS
    /// documents only `InvalidRequestException` for AddThingToThingGroup, so the cause is checked by reading the
    /// device's groups): the stage then waits for room, naming the device and what to run, rather than failing.
    static func addToGroup(_ device: String, group: String, iot: IoTClient) async throws {
        do {
            try await iot.addThingToThingGroup(thing: device, group: group)
        } catch let error as AWSError where error.isLimitExceeded || error.code == "InvalidRequestException" {
            let groups = try await iot.listThingGroupsForThing(device)
            guard error.isLimitExceeded || groups.count >= AWSQuotas.thingGroupsPerThingMax else { throw error }
            throw FleetError.capacity(FleetCapacityWait(
                resource: .thingGroupRoom(thing: device),
                detail: "thing group \(group): AddThingToThingGroup \(device): \(error.code): \(error.message) "
                    + "(\(device) is in \(groups.count) thing groups, AWS allows \(AWSQuotas.thingGroupsPerThingMax))",
                remedy: "remove \(device) from a group it no longer needs (`aws iot list-thing-groups-for-thing "
                    + "--thing-name \(device)`, then `aws iot remove-thing-from-thing-group --thing-name \(device) "
                    + "--thing-group-name <group>`); the stage goes on once it fits"))
        }
    }

    // MARK: - Adoption

    func describeJobIfPresent(_ jobId: String, iot: IoTClient) async throws -> IoTDescribeJobResponse? {
        do {
            return try await iot.describeJob(jobId)
        } catch let error where FleetErrorMapping.isNotFound(error) {
            return nil
        }
    }

    /// Accepts an existing job that targets the same devices with the same document; anything else is a conflict.
    func adopt(_ existing: IoTDescribeJobResponse, jobId: String, targets wanted: Set<String>, document: Data,
               iot: IoTClient, s3: S3Client, bucket: String) async throws {
        let found = Set((existing.job.targets ?? []).map(AWSFleet.targetName(ofArn:)))
        guard found == wanted else {
            throw FleetError.conflict("job \(jobId) exists with other targets (\(found.count) found, \(wanted.count) wanted)")
        }
        var existingDocument: Data?
        if let text = try await iot.getJobDocument(jobId), !text.isEmpty {
            existingDocument = Data(text.utf8)
        } else if existing.documentSource != nil {
            existingDocument = try await s3.getObject(bucket: bucket, key: "jobs/\(jobId).json")
        }
        guard let existingDocument, AWSFleet.sameJSON(existingDocument, document) else {
            throw FleetError.conflict("job \(jobId) exists with another job document")
        }
        logger.info("job \(jobId) already exists and matches; adopted")
    }

    static func sameJSON(_ lhs: Data, _ rhs: Data) -> Bool {
        guard let left = try? JSONSerialization.jsonObject(with: lhs) as? NSDictionary,
              let right = try? JSONSerialization.jsonObject(with: rhs) as? NSDictionary
        else { return lhs == rhs }
        return left.isEqual(right)
    }

    // MARK: - Helpers

    package static func encodeDocument(_ document: JobDocument) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
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

/// Thing ARN prefixes per region (the account id is learned once).
actor ThingArnPrefixCache {
    private var prefixes: [String: String] = [:]

    func prefix(for region: String) -> String? { prefixes[region] }
    func set(_ prefix: String, for region: String) { prefixes[region] = prefix }
}

/// SHA-256 and (optionally) an ECDSA signature over the same stream of chunks.
final class StreamingDigest: @unchecked Sendable {
    private var digest: SHA256Digest? = SHA256Digest()
    private let signingKeyPEM: Data?
    private var signer: FirmwareSigner?

    init(signingKeyPEM: Data?) {
        self.signingKeyPEM = signingKeyPEM
    }

    func update(_ chunk: Data) throws {
        if signer == nil, let signingKeyPEM {
            signer = try FirmwareSigner(privateKeyPEM: signingKeyPEM)
        }
        digest?.update(chunk)
        signer?.update(chunk)
    }

    func finish() throws -> (sha256Hex: String, signature: Data?) {
        if signer == nil, let signingKeyPEM {
            signer = try FirmwareSigner(privateKeyPEM: signingKeyPEM)
        }
        let finished = digest.take()!
        return (finished.finalize().lowercaseHex, try signer?.finish())
    }
}

/// Blocking file reads (hashing, signing a 500 MB image) off the cooperative pool.
enum BlockingIO {
    static let pool = BlockingThreadPool<Void>(name: "rollout-fileio", threadCount: 2) { () }

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run { _ in try work() }
    }
}
