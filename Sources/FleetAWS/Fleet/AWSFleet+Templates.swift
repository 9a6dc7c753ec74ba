import Engine
import Foundation
import RolloutCore

/// Jobs created from an existing AWS IoT job template (`job.templateArn`): the document is the template's.
extension AWSFleet {
    /// CreateJob with `jobTemplateArn` and the plan's own settings (targets, timeouts, rollout rate, retries, abort
    /// criteria, presigning); no document of ours and no copy in S3. A job that already exists is adopted when it
    /// has the same targets and the template's document, as after a lost answer.
    func createJob(_ request: JobRequest, fromTemplate templateArn: String, wanted: Set<String>, aws: AWSPlanSettings,
                   region: String) async throws {
        let iot = configuration.iotClient(region: region)
        if let existing = try await describeJobIfPresent(request.jobId, iot: iot) {
            try await adopt(existing, jobId: request.jobId, targets: wanted, templateArn: templateArn, iot: iot)
            return
        }
        let targetArns = try await resolveTargets(request, iot: iot, region: region)
        let body = IoTCreateJobRequest(
            targets: targetArns, description: "rollout \(request.rolloutId) stage \(request.stage) (template)",
            targetSelection: "SNAPSHOT",
            presignedUrlConfig: aws.presignedUrlRoleArn.map {
                IoTPresignedUrlConfig(roleArn: $0, expiresInSec: aws.presignedUrlExpiresSeconds)
            },
            timeoutConfig: request.settings.inProgressTimeoutSeconds.map { IoTTimeoutConfig(inProgressTimeoutInMinutes: ($0 + 59) / 60) },
            jobExecutionsRolloutConfig: request.settings.maxPerMinute.map { IoTRolloutConfig(maximumPerMinute: $0) },
            jobExecutionsRetryConfig: AWSFleet.retryConfig(request.settings),
            abortConfig: AWSFleet.abortConfig(request.abortCriteria), jobTemplateArn: templateArn)
        do {
            try await iot.createJob(request.jobId, body)
            logger.info("created job \(request.jobId) from template \(templateArn) for \(targetArns.count) target(s)")
        } catch let error where FleetErrorMapping.isAlreadyExists(error) {
            guard let existing = try await describeJobIfPresent(request.jobId, iot: iot) else { throw error }
            try await adopt(existing, jobId: request.jobId, targets: wanted, templateArn: templateArn, iot: iot)
        }
    }

    /// Accepts an existing job with the same targets whose document is the template's (DescribeJobTemplate).
    func adopt(_ existing: IoTDescribeJobResponse, jobId: String, targets wanted: Set<String>, templateArn: String,
               iot: IoTClient) async throws {
        let found = Set((existing.job.targets ?? []).map(AWSFleet.targetName(ofArn:)))
        guard found == wanted else {
            throw FleetError.conflict("job \(jobId) exists with other targets (\(found.count) found, \(wanted.count) wanted)")
        }
        let templateId = String(templateArn.split(separator: "/").last ?? "")
        // A template whose document lives in S3 (documentSource) has none inline to compare: the targets decide.
        if let templateDocument = try await iot.jobTemplateDocument(templateId) {
            guard let document = try await iot.getJobDocument(jobId),
                  AWSFleet.sameJSON(Data(document.utf8), Data(templateDocument.utf8)) else {
                throw FleetError.conflict("job \(jobId) exists with a document other than template \(templateId)'s")
            }
        }
        logger.info("job \(jobId) already exists from template \(templateId); adopted")
    }
}
