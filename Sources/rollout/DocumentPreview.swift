import Engine
import FleetAWS
import Foundation
import HTTPTransport
import RolloutCore

/// `rollout plan --show-document STAGE`: the job document a stage (or `rollback`) would send, in the plan's shape,
/// made by the same renderer as the fleets. Local artifacts are hashed as staging hashes them; an `s3://` artifact's
/// digest and size are read from S3 only when the rollout stages it, so they show as zeros here (said on stderr).
/// With `aws.bucket` the firmware URL is the one the AWS fleet would give devices; without, the rehearsal's.
enum DocumentPreview {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func render(plan: RolloutPlan, rolloutId: String, stage: String,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (document: String?, notes: [String]) {
        var notes: [String] = []
        let region = plan.aws?.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
        if plan.aws != nil, region == nil { notes.append("no region in the plan or AWS_REGION: URLs shown for us-east-1") }
        func staged(firmware: String, version: String, location: ArtifactLocation, signed: Bool) throws -> StagedArtifact {
            var digest = String(repeating: "0", count: 64)
            var size: Int64 = 0
            var bucket: String
            var key: String
            switch location {
            case .file(let path):
                do {
                    let hashed = try SHA256Digest.hashFile(atPath: path)
                    digest = hashed.digest.lowercaseHex
                    size = hashed.size
                } catch {
                    throw Failure(description: "cannot read the artifact \(path): \(error)")
                }
                bucket = plan.aws?.bucket ?? ""
                key = AWSFleet.firmwareKey(firmware: firmware, version: version, digest: digest)
            case .s3(let sourceBucket, let sourceKey):
                notes.append("s3://\(sourceBucket)/\(sourceKey): its SHA-256 and size are read when the rollout stages "
                             + "it; shown as zeros")
                bucket = sourceBucket
                key = sourceKey
            }
            let url = plan.aws.map { AWSFleet.deviceURL(bucket: bucket, key: key, region: region ?? "us-east-1", settings: $0) }
                ?? "sim://firmware/\(firmware)/\(version)/\(digest).bin"
            if signed { notes.append("the signature is made when the rollout stages the artifact; shown as empty") }
            return StagedArtifact(version: version, url: url, bucket: bucket, key: key, sha256Hex: digest, sizeBytes: size,
                                  signatureBase64: nil)
        }
        let release = try staged(firmware: plan.release.firmware, version: plan.release.version,
                                 location: plan.release.artifact, signed: plan.release.signingKeyPath != nil)
        let rollback = try plan.rollback.map {
            try staged(firmware: plan.release.firmware, version: $0.version, location: $0.artifact,
                       signed: plan.release.signingKeyPath != nil)
        }
        let templateArn = stage == "rollback" ? plan.job.rollbackTemplateArn : plan.job.templateArn
        if let templateArn {
            let id = templateArn.split(separator: "/").last.map(String.init) ?? templateArn
            return (nil, ["this job is created from job template \(id): AWS sends the template's document "
                          + "(aws iot describe-job-template --job-template-id \(id))"])
        }
        let facts: JobDocument
        if stage == "rollback" {
            guard let rollback else { throw Failure(description: "the plan has no rollback target") }
            facts = JobDocument.forRollback(rolloutId: rolloutId, rollback: rollback, releaseVersion: plan.release.version)
        } else {
            guard plan.stages.contains(where: { $0.name == stage }) else {
                throw Failure(description: "no stage \(stage); the plan's stages: "
                              + (plan.stages.map(\.name) + (plan.rollback == nil ? [] : ["rollback"])).joined(separator: ", "))
            }
            facts = JobDocument.forStage(rolloutId: rolloutId, stage: stage, release: release,
                                         previousVersion: plan.rollback?.version, rollback: rollback)
        }
        do {
            let data = try JobDocumentRenderer.render(facts, shape: plan.job.document)
            return (String(decoding: data, as: UTF8.self), notes)
        } catch {
            throw Failure(description: error.message)
        }
    }
}
