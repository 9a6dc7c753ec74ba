import Engine
import Foundation
import RolloutCore

/// One simulated device's execution: what `rollout device` shows and cancels, as on AWS.
extension SimulatedFleet {
    package nonisolated(nonsending) func execution(jobId: String, thing: String) async throws -> DeviceExecution? {
        try apiCall("DescribeJobExecution", jobId)
        guard let job = lock.withLock({ jobs[jobId] }), let device = population.index(of: thing),
              let position = job.position(ofDevice: device) else { return nil }
        let now = clock.now()
        let status = job.status(ofPosition: position, at: now)
        let execution = job.execution(ofPosition: position)
        let started = execution.start.isFinite && now >= job.createdAt.addingTimeInterval(TimeInterval(execution.start))
            ? job.createdAt.addingTimeInterval(TimeInterval(execution.start)) : nil
        let finished = execution.finish.isFinite && now >= job.createdAt.addingTimeInterval(TimeInterval(execution.finish))
            ? job.createdAt.addingTimeInterval(TimeInterval(execution.finish)) : nil
        var details: [String: String] = [:]
        if status == .failed { details["reason"] = "simulated install failure" }
        return DeviceExecution(jobId: jobId, status: status, statusDetails: details,
                               versionNumber: 1 + (started == nil ? 0 : 1) + (finished == nil ? 0 : 1),
                               queuedAt: job.createdAt, startedAt: started, lastUpdatedAt: finished ?? started ?? job.createdAt)
    }

    /// As AWS: a queued execution is cancelled; an installing one only with `force`; one that is over, or absent,
    /// is left as it is. Journalled, so a restarted rehearsal keeps the cancel.
    package nonisolated(nonsending) func cancelExecution(jobId: String, thing: String, force: Bool) async throws {
        try apiCall("CancelJobExecution", jobId)
        guard let job = lock.withLock({ jobs[jobId] }), let device = population.index(of: thing),
              let position = job.position(ofDevice: device) else { return }
        let now = clock.now()
        let cancelled = lock.withLock { () -> Bool in
            switch job.status(ofPosition: position, at: now) {
            case .queued: break
            case .inProgress where force: break
            default: return false
            }
            job.cancelDevice(position: position, at: now, force: force)
            return true
        }
        if cancelled, let journalPath = lock.withLock({ journalPath }) {
            try? appendToJournal(JournalEntry(operation: "cancelExecution", jobId: jobId, at: now.timeIntervalSince1970,
                                              force: force, thing: thing), path: journalPath)
        }
    }

    func restoreDeviceCancel(jobId: String, thing: String, at: Date, force: Bool) {
        lock.withLock {
            guard let job = jobs[jobId], let device = population.index(of: thing),
                  let position = job.position(ofDevice: device) else { return }
            job.cancelDevice(position: position, at: at, force: force)
        }
    }
}

/// Deleting an ended rollout's jobs (`aws.retention`): the simulated fleet forgets them at once (its memory is what
/// accumulates here), journalled so a restarted rehearsal does not bring them back.
extension SimulatedFleet {
    package nonisolated(nonsending) func purgeJobs(rolloutId: String, jobIds: [String], aws: AWSPlanSettings?) async throws -> Bool {
        for jobId in jobIds {
            try apiCall("DeleteJob", jobId)
            let removed = lock.withLock { forgetJob(jobId) }
            if removed, let journalPath = lock.withLock({ journalPath }) {
                try? appendToJournal(JournalEntry(operation: "purge", jobId: jobId, at: clock.now().timeIntervalSince1970),
                                     path: journalPath)
            }
        }
        return true
    }
}
