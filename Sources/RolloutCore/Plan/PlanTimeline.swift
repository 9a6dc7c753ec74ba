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
}

/// The dry run of `rollout plan`: stage sizes and earliest starts, given bakes and windows. Pure.
package enum PlanTimeline {
    package static func calculate(plan: RolloutPlan, devices: Int, groupSizes: [String: Int] = [:], now: Date) -> [TimelineEntry] {
        let sizes = stageSizes(plan: plan, eligible: devices, groupSizes: groupSizes)
        var entries: [TimelineEntry] = []
        var ready: Date? = max(now, plan.schedule.notBefore ?? now)
        var cumulative = 0
        for (index, stage) in plan.stages.enumerated() {
            let size = sizes[index]
            if let size { cumulative += size }
            var start: Date?
            var wait = 0
            if let ready {
                start = WindowSchedule.nextOpening(atOrAfter: ready, windows: plan.schedule.windows)
                if let start { wait = Int(start.timeIntervalSince(ready)) }
            }
            let bakeEnd = start?.addingTimeInterval(TimeInterval(stage.bakeDurationSeconds))
            entries.append(TimelineEntry(
                stage: stage.name, target: stage.target.description, devices: size,
                cumulativeDevices: sizes[...index].contains(where: { $0 == nil }) ? nil : cumulative,
                bakeSeconds: stage.bakeDurationSeconds, approvalRequired: stage.approvalRequired, earliestStart: start,
                earliestBakeEnd: bakeEnd, windowWaitSeconds: wait))
            // A stage with no device is skipped and takes no time.
            ready = size == 0 ? ready : bakeEnd
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
