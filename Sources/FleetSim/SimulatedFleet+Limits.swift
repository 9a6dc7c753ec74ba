import Engine
import Foundation
import RolloutCore
import RolloutText

/// The AWS limits the rehearsal meets as the real run would (beside the request quotas of `SimulatedAPIBudget` and
/// the rollout rate of `SimulatedExecution`): a job's targets, the temporary group a larger stage fills first, and
/// the account's concurrent jobs. Each is a wait, not a failure, as on the AWS path.
extension SimulatedFleet {
    /// AWS's limit on a job's targets (things or groups), modelled so a rehearsal fails where AWS would.
    static let jobTargetsMax = 100

    /// AWS would fill the job's temporary group (one AddThingToThingGroup per device, at the quota's rate) before
    /// creating the job: the job is created once that fill would be done, counted from the first attempt.
    func awaitTemporaryGroupFill(jobId: String, devices: Int, now: Date) throws {
        let rate = scenario.quotas.ratesPerSecond["AddThingToThingGroup"] ?? 100
        var started = lock.withLock { fillsStartedAt[jobId] }
        if started == nil {
            // Kept once the journal has it: a restarted worker then goes on from the same start.
            if lock.withLock({ jobs[jobId] == nil }), let journalPath = lock.withLock({ journalPath }) {
                do {
                    try appendToJournal(JournalEntry(operation: "fill", jobId: jobId, at: now.timeIntervalSince1970),
                                        path: journalPath)
                } catch {
                    throw FleetError.retryable("simulated fleet journal: \(error)", retryAfterSeconds: nil)
                }
            }
            started = lock.withLock { () -> Date in
                if fillsStartedAt[jobId] == nil { fillsStartedAt[jobId] = now }
                return fillsStartedAt[jobId]!
            }
        }
        let burst = max(1, rate)
        // The quota's one second of burst goes at once, the rest at its rate (the budget's token bucket).
        let needed = max(0, Double(devices) - burst) / rate
        let elapsed = now.timeIntervalSince(started!)
        guard elapsed < needed, lock.withLock({ jobs[jobId] == nil }) else { return }
        let group = "rollout-\(jobId)"
        throw FleetError.capacity(FleetCapacityWait(
            resource: .temporaryGroupFill(group: group, added: min(devices, Int(burst + elapsed * rate)), total: devices),
            detail: "job \(jobId) targets \(devices) devices, more than a job's \(Self.jobTargetsMax) targets: AWS fills "
                + "thing group \(group) at \(PreflightText.count(rate)) AddThingToThingGroup calls per second first",
            remedy: "with rings (`rollout rings sync --group FLEET`) a stage's job targets ring groups and fills nothing",
            retryAfterSeconds: needed - elapsed))
    }

    /// AWS refuses a job beyond the account's concurrent jobs (those still notifying their devices): the stage
    /// waits for the first slot to free. Called under `lock`.
    func checkJobSlot(jobId: String, now: Date) throws {
        let limit = scenario.quotas.concurrentJobsMax
        var holding = 0
        var firstFree: Date?
        for job in jobs.values where job.holdsJobSlot(at: now) {
            holding += 1
            let free = min(job.notifiedAllAt, job.cancelledAt ?? .distantFuture)
            firstFree = min(firstFree ?? free, free)
        }
        guard holding >= limit else { return }
        throw FleetError.capacity(FleetCapacityWait(
            resource: .jobSlot,
            detail: "job \(jobId): LimitExceededException: \(holding) jobs are rolling out, the account allows \(limit) "
                + "concurrent jobs (simulated)",
            remedy: "wait for a job to finish notifying its devices, or raise the quota (`ConcurrentJobs`)",
            retryAfterSeconds: firstFree.map { max(1, $0.timeIntervalSince(now)) }))
    }
}
