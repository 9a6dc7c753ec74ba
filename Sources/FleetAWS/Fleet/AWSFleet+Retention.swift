import Engine
import Foundation
import RolloutCore

/// Deleting an ended rollout's jobs and job documents (`aws.retention`, `rollout cleanup --older-than`).
extension AWSFleet {
    /// DescribeJob of each job; DeleteJob of at most 10 at a time (AWS's limit on jobs in DELETION_IN_PROGRESS;
    /// `force` only for a job still IN_PROGRESS); DeleteObject of the document copy `jobs/<job id>.json` once its job
    /// is gone. DeleteJob takes the job's executions with it.
    package func purgeJobs(rolloutId: String, jobIds: [String], aws: AWSPlanSettings?) async throws -> Bool {
        try await mapped("purge of rollout \(rolloutId)") {
            let settings = try requireSettings(aws)
            let region = settings.region ?? configuration.region
            let iot = configuration.iotClient(region: region)
            let s3 = configuration.s3Client(region: region)
            var jobs: [(jobId: String, presence: JobDeletion.Presence)] = []
            for jobId in jobIds {
                do {
                    let status = try await iot.describeJob(jobId).job.status
                    jobs.append((jobId, status == "DELETION_IN_PROGRESS" ? .deleting
                                    : .present(inProgress: status == "IN_PROGRESS")))
                } catch let error where FleetErrorMapping.isNotFound(error) {
                    jobs.append((jobId, .gone))
                    // Deleting an absent object succeeds: a repeat after a lost answer is harmless.
                    try await s3.deleteObject(bucket: settings.bucket, key: "jobs/\(jobId).json")
                }
            }
            for (jobId, force) in JobDeletion.next(jobs) {
                try await iot.deleteJob(jobId, force: force)
                logger.info("deleting job \(jobId) of rollout \(rolloutId)\(force ? " (forced: still in progress)" : "")")
            }
            return JobDeletion.isDone(jobs)
        }
    }
}

extension AWSFleet {
    /// The jobs of `jobIds` that still exist (DescribeJob; read-only: `rollout cleanup --dry-run`).
    package func existingJobs(_ jobIds: [String], aws: AWSPlanSettings?) async throws -> [String] {
        try await mapped("jobs") {
            let iot = configuration.iotClient(region: aws?.region ?? configuration.region)
            var existing: [String] = []
            for jobId in jobIds {
                do {
                    _ = try await iot.describeJob(jobId)
                    existing.append(jobId)
                } catch let error where FleetErrorMapping.isNotFound(error) {
                    continue
                }
            }
            return existing
        }
    }
}
