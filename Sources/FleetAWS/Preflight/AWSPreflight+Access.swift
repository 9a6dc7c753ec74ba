import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The checks of what the rollout touches first: bucket, artifacts, presigning role, the caller's permissions and
/// the job documents.
extension AWSPreflight {
    // MARK: - Bucket and artifacts

    func checkBucket(_ context: inout Context) async -> PreflightFinding {
        let bucket = context.settings.bucket
        let resource = "s3://\(bucket)"
        do {
            switch try await configuration.s3Client(region: context.region).headBucket(bucket) {
            case .missing:
                context.bucketUsable = false
                return PreflightFinding(
                    check: "bucket", status: .blocked, resource: resource, summary: "no such bucket",
                    remedy: "create it (`aws s3 mb s3://\(bucket) --region \(context.region)`), or fix the plan's `aws.bucket`")
            case .forbidden:
                return PreflightFinding(
                    check: "bucket", status: .couldNotCheck, resource: resource,
                    summary: "HeadBucket answered 403: the bucket belongs to another account, or the caller may not list it",
                    remedy: "grant s3:ListBucket on arn:aws:s3:::\(bucket) to the caller, or use a bucket of this account")
            case .exists(let bucketRegion):
                if let bucketRegion, bucketRegion != context.region {
                    return PreflightFinding(
                        check: "bucket", status: .warning, resource: resource,
                        summary: "exists in \(bucketRegion), but the rollout runs in \(context.region): devices download "
                            + "across regions and job documents point at the wrong endpoint",
                        remedy: "set the plan's `aws.region: \(bucketRegion)`, or use a bucket in \(context.region)")
                }
                return PreflightFinding(check: "bucket", status: .ok, resource: resource,
                                        summary: "exists (whether the caller may write to it: see permissions)")
            }
        } catch {
            return unchecked("bucket", resource: resource, error: error, actions: "s3:ListBucket")
        }
    }

    func checkArtifacts(_ context: inout Context) async -> [PreflightFinding] {
        let plan = context.plan
        let (releaseFinding, release) = await checkArtifact(plan.release.artifact, version: plan.release.version,
                                                            label: "release", context: context)
        context.release = release
        var findings = [releaseFinding]
        if let rollback = plan.rollback {
            let (finding, staged) = await checkArtifact(rollback.artifact, version: rollback.version,
                                                        label: "rollback", context: context)
            context.rollback = staged
            findings.append(finding)
        }
        return findings
    }

    /// Whether the image is where the rollout will look for it; returns the staged artifact as the rollout would
    /// record it (for the job document's size), nil when it cannot be known.
    func checkArtifact(_ location: ArtifactLocation, version: String, label: String,
                       context: Context) async -> (PreflightFinding, StagedArtifact?) {
        let settings = context.settings
        let firmware = context.plan.release.firmware
        let s3 = configuration.s3Client(region: context.region)
        // An ECDSA P-256 signature in DER is at most 72 bytes: 96 base64 characters.
        let signature = context.plan.release.signingKeyPath.map { _ in String(repeating: "A", count: 96) }
        switch location {
        case .file(let path):
            guard FileManager.default.fileExists(atPath: path) else {
                return (PreflightFinding(check: "artifact", status: .blocked, resource: path,
                                         summary: "\(label) \(version): no such file",
                                         remedy: "fix the plan's \(label) artifact path"), nil)
            }
            let hashed: (digest: Data, size: Int64)
            do {
                hashed = try await BlockingIO.run { try SHA256Digest.hashFile(atPath: path) }
            } catch {
                return (PreflightFinding(check: "artifact", status: .blocked, resource: path,
                                         summary: "\(label) \(version): unreadable (\(error))",
                                         remedy: "make the file readable by the worker"), nil)
            }
            let digest = hashed.digest.lowercaseHex
            let key = "firmware/\(firmware)/\(version)/\(digest).bin"
            let staged = StagedArtifact(version: version, url: AWSFleet.deviceURL(bucket: settings.bucket, key: key,
                                                                                 region: context.region, settings: settings),
                                        bucket: settings.bucket, key: key, sha256Hex: digest, sizeBytes: hashed.size,
                                        signatureBase64: signature)
            let resource = "s3://\(settings.bucket)/\(key)"
            guard context.bucketUsable else {
                return (PreflightFinding(check: "artifact", status: .couldNotCheck, resource: resource,
                                         summary: "\(label) \(version): not looked for, the bucket does not exist",
                                         remedy: "see the bucket"), staged)
            }
            do {
                let existing = try await s3.headObject(bucket: settings.bucket, key: key)
                if let existing, existing.knownSHA256Hex == digest, existing.size == hashed.size {
                    return (PreflightFinding(check: "artifact", status: .ok, resource: resource,
                                             summary: "\(label) \(version): already there"), staged)
                }
                return (PreflightFinding(check: "artifact", status: .ok, resource: resource,
                                         summary: "\(label) \(version): \(Bytes.format(hashed.size)) from \(path), "
                                             + "uploaded at launch"), staged)
            } catch {
                return (unchecked("artifact", resource: resource, error: error, actions: "s3:GetObject"), staged)
            }
        case .s3(let bucket, let key):
            let resource = "s3://\(bucket)/\(key)"
            do {
                guard let metadata = try await s3.headObject(bucket: bucket, key: key) else {
                    return (PreflightFinding(check: "artifact", status: .blocked, resource: resource,
                                             summary: "\(label) \(version): no such object",
                                             remedy: "upload it (`aws s3 cp <image> \(resource)`), or fix the plan's "
                                                 + "\(label) artifact"), nil)
                }
                let staged = StagedArtifact(
                    version: version, url: AWSFleet.deviceURL(bucket: bucket, key: key, region: context.region,
                                                               settings: settings),
                    bucket: bucket, key: key, sha256Hex: metadata.knownSHA256Hex ?? String(repeating: "0", count: 64),
                    sizeBytes: metadata.size, signatureBase64: signature)
                return (PreflightFinding(check: "artifact", status: .ok, resource: resource,
                                         summary: "\(label) \(version): \(Bytes.format(metadata.size)), used in place"),
                        staged)
            } catch {
                return (unchecked("artifact", resource: resource, error: error, actions: "s3:GetObject"), nil)
            }
        }
    }

    // MARK: - Presigning role

    func checkPresigningRole(_ context: Context) async -> PreflightFinding {
        guard let roleArn = context.settings.presignedUrlRoleArn else {
            return PreflightFinding(check: "presigning role", status: .ok, resource: "aws.presignedUrlRoleArn",
                                    summary: "none: job documents carry plain S3 URLs, which devices must be allowed to read")
        }
        guard let name = roleArn.split(separator: "/").last.map(String.init), roleArn.contains(":role/") else {
            return PreflightFinding(check: "presigning role", status: .blocked, resource: roleArn,
                                    summary: "not a role ARN", remedy: "set aws.presignedUrlRoleArn to arn:aws:iam::<account>:role/<name>")
        }
        do {
            let found = try await configuration.iamClient().roleArn(name: name)
            return PreflightFinding(check: "presigning role", status: .ok, resource: found, summary: "exists")
        } catch let error as AWSError where error.code == "NoSuchEntity" || error.status == 404 {
            return PreflightFinding(
                check: "presigning role", status: .blocked, resource: roleArn, summary: "no such role",
                remedy: "create it (a role AWS IoT may assume, allowed s3:GetObject on s3://\(context.settings.bucket)/firmware/*), "
                    + "or fix the plan's aws.presignedUrlRoleArn")
        } catch {
            return unchecked("presigning role", resource: roleArn, error: error, actions: "iam:GetRole")
        }
    }

    // MARK: - Permissions

    /// Actions on one resource that the rollout will perform.
    struct PermissionProbe: Equatable {
        var resource: String
        var actions: [String]
    }

    /// Every call the rollout makes, on the resources it makes them on (job ids and group names are derived, so
    /// they are known before launch).
    static func permissionProbes(plan: RolloutPlan, rolloutId: String, settings: AWSPlanSettings, region: String,
                                 account: String, partition: String, release: StagedArtifact?, sampleDevice: String?,
                                 fillsGroups: Bool) -> [PermissionProbe] {
        let iot = "arn:\(partition):iot:\(region):\(account)"
        let canaryJob = RolloutState.jobId(rolloutId: rolloutId, stage: plan.canary.name)
        let rollbackJob = RolloutState.jobId(rolloutId: rolloutId, stage: "rollback")
        // `aws.retention` deletes the jobs once the rollout is over: checked now, not found missing in 30 days.
        let jobActions = ["iot:CreateJob", "iot:DescribeJob", "iot:GetJobDocument", "iot:ListJobExecutionsForJob",
                          "iot:CancelJob"] + (settings.retentionSeconds != nil ? ["iot:DeleteJob"] : [])
        var probes = [PermissionProbe(resource: "\(iot):job/\(canaryJob)", actions: jobActions)]
        if plan.onFailure == .rollback {
            probes.append(PermissionProbe(resource: "\(iot):job/\(rollbackJob)", actions: jobActions))
        }
        if let group = plan.fleet.thingGroup {
            probes.append(PermissionProbe(resource: "\(iot):thinggroup/\(group)",
                                          actions: ["iot:DescribeThingGroup", "iot:ListThingsInThingGroup",
                                                    "iot:ListThingGroups"]))
        } else {
            probes.append(PermissionProbe(resource: "*", actions: ["iot:ListThings"]))
        }
        for stage in plan.stages {
            if case .group(let name) = stage.target {
                probes.append(PermissionProbe(resource: "\(iot):thinggroup/\(name)",
                                              actions: ["iot:DescribeThingGroup", "iot:ListThingsInThingGroup"]))
            }
        }
        if fillsGroups {
            let group = AWSFleet.temporaryGroupName(jobId: canaryJob)
            probes.append(PermissionProbe(resource: "\(iot):thinggroup/\(group)",
                                          actions: ["iot:CreateThingGroup", "iot:DescribeThingGroup",
                                                    "iot:AddThingToThingGroup", "iot:ListThingsInThingGroup",
                                                    "iot:DeleteThingGroup", "iot:CreateJob"]))
        }
        if let sampleDevice {
            probes.append(PermissionProbe(resource: "\(iot):thing/\(sampleDevice)",
                                          actions: ["iot:DescribeThing", "iot:CreateJob"]
                                              + (fillsGroups ? ["iot:AddThingToThingGroup"] : [])))
        }
        let s3 = "arn:\(partition):s3:::"
        let firmwareKey = release?.key ?? "firmware/\(plan.release.firmware)/\(plan.release.version)/image.bin"
        let firmwareBucket = release?.bucket ?? settings.bucket
        let uploads = { (location: ArtifactLocation) -> Bool in if case .file = location { return true }; return false }
        probes.append(PermissionProbe(resource: "\(s3)\(firmwareBucket)/\(firmwareKey)",
                                      actions: uploads(plan.release.artifact) ? ["s3:GetObject", "s3:PutObject"]
                                          : ["s3:GetObject"]))
        probes.append(PermissionProbe(resource: "\(s3)\(settings.bucket)/jobs/\(canaryJob).json",
                                      actions: ["s3:GetObject", "s3:PutObject"]
                                          + (settings.retentionSeconds != nil ? ["s3:DeleteObject"] : [])))
        // Jobs from job templates: CreateJob is also authorised on the template, and adoption reads it.
        for templateArn in Set([plan.job.templateArn, plan.job.rollbackTemplateArn].compactMap { $0 }).sorted() {
            probes.append(PermissionProbe(resource: templateArn, actions: ["iot:CreateJob", "iot:DescribeJobTemplate"]))
        }
        if let role = settings.presignedUrlRoleArn {
            probes.append(PermissionProbe(resource: role, actions: ["iam:PassRole"]))
        }
        return probes
    }

    func checkPermissions(_ context: Context) async -> PreflightFinding {
        let identity: CallerIdentity
        do {
            identity = try await configuration.stsClient(region: context.region).callerIdentity()
        } catch {
            return unchecked("permissions", resource: "caller", error: error, actions: "sts:GetCallerIdentity")
        }
        let partition = identity.arn.split(separator: ":").dropFirst().first.map(String.init) ?? "aws"
        let probes = AWSPreflight.permissionProbes(
            plan: context.plan, rolloutId: context.rolloutId, settings: context.settings, region: context.region,
            account: identity.account, partition: partition, release: context.release,
            sampleDevice: context.eligible?.first,
            fillsGroups: context.stages.contains { $0.targeting == .temporaryGroup }
                || (context.plan.onFailure == .rollback && (context.eligible?.count ?? 0) > AWSFleet.directTargetsMax))
        let everything = probes.flatMap { probe in probe.actions.map { "\($0) on \(probe.resource)" } }
        let notChecked = "not checked: " + Set(probes.flatMap(\.actions)).sorted().joined(separator: ", ")
        guard let principal = identity.simulatablePrincipal else {
            return PreflightFinding(
                check: "permissions", status: .couldNotCheck, resource: identity.arn,
                summary: "IAM can simulate the policies of a user or role only; \(notChecked)",
                remedy: "check these permissions by hand, or run preflight as the IAM user or role the worker uses")
        }
        let iam = configuration.iamClient()
        var principalArn: String
        switch principal {
        case .user(let arn):
            principalArn = arn
        case .role(let name, let arn):
            // A session ARN drops the role's path; the role's own ARN has it.
            principalArn = (try? await iam.roleArn(name: name)) ?? arn
        }
        var denied: [String] = []
        for probe in probes {
            do {
                let decisions = try await iam.simulate(principalArn: principalArn, actions: probe.actions,
                                                       resourceArn: probe.resource)
                denied += decisions.filter { !$0.isAllowed }.map { "\($0.action) on \(probe.resource) (\($0.decision))" }
            } catch {
                let reason = CredentialRedaction.text("\(error)")
                return PreflightFinding(
                    check: "permissions", status: .couldNotCheck, resource: principalArn,
                    summary: "IAM policy simulation failed (\(reason)); \(notChecked)",
                    remedy: "grant iam:SimulatePrincipalPolicy (and iam:GetRole) on the caller to run this check")
            }
        }
        guard denied.isEmpty else {
            return PreflightFinding(
                check: "permissions", status: .blocked, resource: principalArn,
                summary: "may not perform \(denied.count) of the \(everything.count) calls the rollout makes: "
                    + denied.prefix(10).joined(separator: "; ") + (denied.count > 10 ? "; and \(denied.count - 10) more" : ""),
                remedy: "allow these actions in an IAM policy of \(principalArn)")
        }
        return PreflightFinding(check: "permissions", status: .ok, resource: principalArn,
                                summary: "may perform all \(everything.count) calls the rollout makes (IAM policy simulation)")
    }

    // MARK: - Job documents

    /// The largest stage document and the rollback document, as the rollout will encode them, against AWS's limit.
    func checkJobDocuments(_ context: Context) -> [PreflightFinding] {
        guard let release = context.release else { return [] }
        let plan = context.plan
        let longest = plan.stages.map(\.name).max { $0.count < $1.count } ?? plan.canary.name
        var documents: [(String, JobDocument)] = []
        // A job made from a job template carries the template's document: not ours to measure.
        if plan.job.templateArn == nil {
            documents.append(("stage", JobDocument.forStage(rolloutId: context.rolloutId, stage: longest, release: release,
                                                            previousVersion: plan.rollback?.version,
                                                            rollback: context.rollback)))
        }
        if let rollback = context.rollback, plan.job.rollbackTemplateArn == nil {
            documents.append(("rollback", JobDocument.forRollback(rolloutId: context.rolloutId, rollback: rollback,
                                                                  releaseVersion: plan.release.version)))
        }
        return documents.map { label, document in
            let size: Int
            do {
                size = try AWSFleet.encodeDocument(document, shape: plan.job.document).count
            } catch {
                return PreflightFinding(check: "job document", status: .blocked, resource: "\(label) job document",
                                        summary: "\(error)", remedy: "fix the plan's job.document template")
            }
            let limit = AWSQuotas.jobDocumentBytesMax
            let resource = "\(label) job document"
            guard size <= limit else {
                return PreflightFinding(check: "job document", status: .blocked, resource: resource,
                                        summary: "\(PreflightText.count(size)) bytes; AWS accepts \(PreflightText.count(limit))",
                                        remedy: "shorten the plan's names and versions")
            }
            return PreflightFinding(check: "job document", status: .ok, resource: resource,
                                    summary: "\(PreflightText.count(size)) bytes of \(PreflightText.count(limit)) allowed")
        }
    }
}

/// Sizes as people read them: `3.1 MB`.
enum Bytes {
    static func format(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}
