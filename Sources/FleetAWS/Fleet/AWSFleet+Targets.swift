import Engine
import Foundation
import HTTPTransport
import Logging
import RolloutCore

/// Targets: thing ARNs for small stages, a temporary thing group (filled at a bounded rate, resumably) for large
/// ones; adoption of a job that already exists.
extension AWSFleet {
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
        case .groups(let names):
            return Set(names.map { "group:\($0)" })
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
        case .groups(let names):
            // Ring groups: one DescribeThingGroup gives the ARN prefix every other group shares.
            guard let first = names.first, names.count <= AWSFleet.directTargetsMax else {
                throw FleetError.permanent("job \(request.jobId) targets \(names.count) groups (1…\(AWSFleet.directTargetsMax))")
            }
            guard let arn = try await iot.describeThingGroup(first).thingGroupArn,
                  let range = arn.range(of: ":thinggroup/") else {
                throw FleetError.permanent("DescribeThingGroup \(first) answered without a thing group ARN")
            }
            let prefix = String(arn[..<range.upperBound])
            return names.map { prefix + $0 }
        case .devices(let ids) where ids.count <= AWSFleet.directTargetsMax:
            let prefix = try await thingArnPrefix(iot: iot, region: region, sampleThing: ids[0])
            return ids.map { prefix + $0 }
        case .devices(let ids):
            return [try await fillTemporaryGroup(jobId: request.jobId, rolloutId: request.rolloutId,
                                                 stage: request.stage, devices: Array(ids), iot: iot)]
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

    /// Adds `devices` to `group`, a few at a time, paced by `groupAddRatePerSecond`. With `skippingCrowded`, a device
    /// already in as many groups as AWS allows is skipped instead of stopping the whole fill; the skipped are returned.
    @discardableResult
    func addPaced(_ devices: [String], to group: String, iot: IoTClient,
                  skippingCrowded: Bool = false) async throws -> [FleetCapacityWait] {
        let concurrency = configuration.groupAddConcurrency
        let rate = configuration.groupAddRatePerSecond
        let started = configuration.now()
        var index = 0
        var skipped: [FleetCapacityWait] = []
        while index < devices.count {
            let batch = devices[index..<min(index + concurrency, devices.count)]
            try await withThrowingTaskGroup(of: FleetCapacityWait?.self) { tasks in
                for device in batch {
                    tasks.addTask {
                        do {
                            try await AWSFleet.addToGroup(device, group: group, iot: iot)
                            return nil
                        } catch FleetError.capacity(let wait) where skippingCrowded {
                            guard case .thingGroupRoom = wait.resource else { throw FleetError.capacity(wait) }
                            return wait
                        }
                    }
                }
                for try await refusal in tasks {
                    if let refusal { skipped.append(refusal) }
                }
            }
            index += batch.count
            if let rate, rate > 0, index < devices.count {
                let due = Double(index) / rate - configuration.now().timeIntervalSince(started)
                if due > 0 { try await configuration.retry.sleep(due) }
            }
        }
        return skipped
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
}

/// Thing ARN prefixes per region (the account id is learned once).
actor ThingArnPrefixCache {
    private var prefixes: [String: String] = [:]

    func prefix(for region: String) -> String? { prefixes[region] }
    func set(_ prefix: String, for region: String) { prefixes[region] = prefix }
}
