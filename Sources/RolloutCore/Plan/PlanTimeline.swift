import Foundation

/// One stage of the dry-run timeline.
package struct TimelineEntry: Codable, Equatable, Sendable {
    package var stage: String
    package var target: String
    /// Devices in this stage, nil for a group stage (its size is known only from the fleet).
    package var devices: Int?
    package var cumulativeDevices: Int?
    package var bakeSeconds: Int
    package var approvalRequired: Bool
    /// Earliest instant the stage can start, if every gate passes as soon as its bake ends and every approval is
    /// given at once; nil when no maintenance window ever opens.
    package var earliestStart: Date?
    package var earliestBakeEnd: Date?
    /// Time spent waiting for a window before this stage.
    package var windowWaitSeconds: Int
    /// How the stage's job reaches AWS and its devices (targeting, creation and notification times), when asked for.
    package var launch: LaunchProjection.Stage?
}

/// The dry run of `rollout plan`: stage sizes and earliest starts, given bakes, windows and (with `launch`) how long
/// each stage's job takes to create on AWS and to notify its devices. Pure: the schedule is `LaunchProjection`'s.
package enum PlanTimeline {
    /// With `launch` nil, jobs are taken to exist and notify at once (the plan's own timing only).
    package static func calculate(plan: RolloutPlan, devices: Int, groupSizes: [String: Int] = [:],
                                  launch: (ringCount: Int, rates: LaunchProjection.Rates)? = nil,
                                  now: Date) -> [TimelineEntry] {
        let rates = launch?.rates ?? LaunchProjection.Rates(jobCallsSeconds: 0, groupFillPerSecond: .infinity,
                                                            notificationsPerMinuteMax: Int.max)
        let projected = LaunchProjection.calculate(plan: plan, eligible: devices, groupSizes: groupSizes,
                                                   ringCount: launch?.ringCount ?? 0, rates: rates, now: now)
        var entries: [TimelineEntry] = []
        var cumulative = 0
        var sizesKnown = true
        for (stage, projection) in zip(plan.stages, projected) {
            if let size = projection.devices { cumulative += size } else { sizesKnown = false }
            entries.append(TimelineEntry(
                stage: stage.name, target: stage.target.description, devices: projection.devices,
                cumulativeDevices: sizesKnown ? cumulative : nil, bakeSeconds: stage.bakeDurationSeconds,
                approvalRequired: stage.approvalRequired, earliestStart: projection.earliestStart,
                earliestBakeEnd: projection.earliestBakeEnd, windowWaitSeconds: projection.windowWaitSeconds,
                launch: launch == nil ? nil : projection))
        }
        return entries
    }

    /// Sizes as `CohortPlanner` will compute them, from counts alone (nil for group stages of unknown size).
    package static func stageSizes(plan: RolloutPlan, eligible: Int, groupSizes: [String: Int]) -> [Int?] {
        var assigned = 0
        var sizes: [Int?] = []
        for stage in plan.stages {
            switch stage.target {
            case .devices(let count):
                let size = min(count, eligible - assigned)
                assigned += size
                sizes.append(size)
            case .percent(let share):
                let size = max(0, CohortPlanner.cumulativeTarget(share: share, eligible: eligible) - assigned)
                assigned += size
                sizes.append(size)
            case .group(let name):
                if let members = groupSizes[name] {
                    let size = min(members, eligible - assigned)
                    assigned += size
                    sizes.append(size)
                } else {
                    sizes.append(nil)
                }
            }
        }
        return sizes
    }
}
