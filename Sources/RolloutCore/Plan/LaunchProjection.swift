import Foundation

/// How each stage of a plan would unfold on the fleet: when it can start (windows, bakes, `notBefore`), how long its
/// job takes to create (a temporary group is filled at the API budget's pace; rings and direct targets take a few
/// calls), and how long AWS takes to notify its devices at `maxPerMinute`. Pure: sizes and rates are arguments.
///
/// Like `PlanTimeline`, it assumes every gate passes as soon as its bake ends and every approval is given at once;
/// a bake starts once the stage's job exists.
package enum LaunchProjection {
    /// The rates the projection assumes.
    package struct Rates: Sendable, Equatable {
        /// A job whose targets need no filling: a handful of calls (describe, document upload, CreateJob).
        package var jobCallsSeconds: Double
        /// Devices added to a temporary group per second: the lower of the fleet's pacing and the API budget.
        package var groupFillPerSecond: Double
        /// Stages up to this many devices target their things directly (AWS: 100 targets per job).
        package var directTargetsMax: Int
        /// Executions AWS rolls out per minute without `maxPerMinute`, and the most it allows with one.
        package var notificationsPerMinuteMax: Int

        package init(jobCallsSeconds: Double = 2, groupFillPerSecond: Double, directTargetsMax: Int = 100,
                    notificationsPerMinuteMax: Int = 1000) {
            precondition(groupFillPerSecond > 0 && jobCallsSeconds >= 0, "rates must be positive")
            precondition(directTargetsMax >= 1 && notificationsPerMinuteMax >= 1, "limits must be positive")
            self.jobCallsSeconds = jobCallsSeconds
            self.groupFillPerSecond = groupFillPerSecond
            self.directTargetsMax = directTargetsMax
            self.notificationsPerMinuteMax = notificationsPerMinuteMax
        }
    }

    /// How a stage's job reaches its devices.
    package enum Targeting: String, Codable, Sendable, Equatable {
        /// Thing ARNs listed in the job (≤ 100 devices).
        case things
        /// The fleet's persistent ring groups.
        case rings
        /// A temporary group filled device by device before the job is created.
        case temporaryGroup
        /// No device (the stage is skipped), or a group stage whose size is unknown.
        case none
    }

    /// One stage, projected.
    package struct Stage: Codable, Sendable, Equatable {
        package var stage: String
        /// Devices, nil for a group stage of unknown size.
        package var devices: Int?
        package var targeting: Targeting
        package var windowWaitSeconds: Int
        /// Nil when no maintenance window ever opens.
        package var earliestStart: Date?
        /// From the stage's start until its job exists.
        package var jobCreationSeconds: Double
        /// Executions notified per minute (the plan's `maxPerMinute`, at most AWS's ceiling).
        package var notificationsPerMinute: Int
        /// From the job's creation until AWS has notified every device.
        package var notificationSeconds: Double
        package var bakeSeconds: Int
        package var approvalRequired: Bool
        package var earliestBakeEnd: Date?
        /// True when the bake ends before every device was notified: the gates then judge part of the stage.
        package var notificationsOutlastBake: Bool

        package init(stage: String, devices: Int?, targeting: Targeting, windowWaitSeconds: Int, earliestStart: Date?,
                    jobCreationSeconds: Double, notificationsPerMinute: Int, notificationSeconds: Double,
                    bakeSeconds: Int, approvalRequired: Bool, earliestBakeEnd: Date?, notificationsOutlastBake: Bool) {
            self.stage = stage
            self.devices = devices
            self.targeting = targeting
            self.windowWaitSeconds = windowWaitSeconds
            self.earliestStart = earliestStart
            self.jobCreationSeconds = jobCreationSeconds
            self.notificationsPerMinute = notificationsPerMinute
            self.notificationSeconds = notificationSeconds
            self.bakeSeconds = bakeSeconds
            self.approvalRequired = approvalRequired
            self.earliestBakeEnd = earliestBakeEnd
            self.notificationsOutlastBake = notificationsOutlastBake
        }
    }

    package static func calculate(plan: RolloutPlan, eligible: Int, groupSizes: [String: Int] = [:], ringCount: Int,
                                 rates: Rates, now: Date) -> [Stage] {
        let sizes = PlanTimeline.stageSizes(plan: plan, eligible: eligible, groupSizes: groupSizes)
        let perMinute = min(plan.job.maxPerMinute ?? rates.notificationsPerMinuteMax, rates.notificationsPerMinuteMax)
        var ready: Date? = max(now, plan.schedule.notBefore ?? now)
        var stages: [Stage] = []
        for (index, spec) in plan.stages.enumerated() {
            let size = sizes[index]
            let targeting = assessTargeting(devices: size, ringCount: ringCount, rates: rates)
            let creation = calculateJobCreationSeconds(devices: size ?? 0, targeting: targeting, rates: rates)
            let notification = Double(size ?? 0) / Double(max(1, perMinute)) * 60
            var start: Date?
            var wait = 0
            if let ready {
                start = WindowSchedule.nextOpening(atOrAfter: ready, windows: plan.schedule.windows)
                if let start { wait = Int(start.timeIntervalSince(ready)) }
            }
            let bakeEnd = start.map { plan.schedule.bakeEnd(start: $0.addingTimeInterval(creation),
                                                            seconds: spec.bakeDurationSeconds) }
            stages.append(Stage(stage: spec.name, devices: size, targeting: targeting, windowWaitSeconds: wait,
                                earliestStart: start, jobCreationSeconds: creation, notificationsPerMinute: perMinute,
                                notificationSeconds: notification, bakeSeconds: spec.bakeDurationSeconds,
                                approvalRequired: spec.approvalRequired, earliestBakeEnd: bakeEnd,
                                notificationsOutlastBake: notification > Double(spec.bakeDurationSeconds)))
            // A stage with no device is skipped and takes no time.
            ready = size == 0 ? ready : bakeEnd
        }
        return stages
    }

    /// Direct targets up to the per-job limit; above it rings when the fleet has them, else a temporary group.
    package static func assessTargeting(devices: Int?, ringCount: Int, rates: Rates) -> Targeting {
        guard let devices, devices > 0 else { return .none }
        if devices <= rates.directTargetsMax { return .things }
        return ringCount > 0 ? .rings : .temporaryGroup
    }

    /// A few calls, plus one AddThingToThingGroup per device at the fill rate for a temporary group.
    package static func calculateJobCreationSeconds(devices: Int, targeting: Targeting, rates: Rates) -> Double {
        switch targeting {
        case .none: return 0
        case .things, .rings: return rates.jobCallsSeconds
        case .temporaryGroup: return rates.jobCallsSeconds + Double(devices) / rates.groupFillPerSecond
        }
    }
}
