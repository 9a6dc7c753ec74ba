import Foundation
import RolloutCore

/// Numbers, durations and timeline lines of `rollout preflight`, for people.
package enum PreflightText {
    /// `500,000`.
    package static func count(_ value: Int) -> String {
        value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
    }

    /// `20`, `12.5`.
    package static func count(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? count(Int(value))
            : value.formatted(.number.precision(.fractionLength(0...1)).locale(Locale(identifier: "en_US")))
    }

    /// `8 h 20 m`, `2 m 5 s`, `2 s` (rounded up: a projection never promises less than it computed).
    package static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded(.up))
        let days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60, rest = total % 60
        if days > 0 { return hours > 0 ? "\(days) d \(hours) h" : "\(days) d" }
        if hours > 0 { return minutes > 0 ? "\(hours) h \(minutes) m" : "\(hours) h" }
        if minutes > 0 { return rest > 0 ? "\(minutes) m \(rest) s" : "\(minutes) m" }
        return "\(max(rest, 1)) s"
    }

    /// How a stage's job reaches its devices, in words.
    package static func targeting(_ targeting: LaunchProjection.Targeting, groupFillPerSecond: Double) -> String {
        switch targeting {
        case .things: return "thing ARNs"
        case .rings: return "rings"
        case .temporaryGroup: return "temporary group filled at \(count(groupFillPerSecond))/s"
        case .none: return "no device"
        }
    }

    /// `wave-3: 500,000 devices; job created in ~2 s (rings); notifications take ≥ 8 h 20 m at 1,000 per minute;
    /// bake 1h; earliest start 2026-03-02T10:00:00Z`.
    package static func stage(_ stage: LaunchProjection.Stage, groupFillPerSecond: Double) -> String {
        guard let devices = stage.devices else { return "\(stage.stage): group of unknown size" }
        guard devices > 0 else { return "\(stage.stage): no device, skipped" }
        var parts = ["\(stage.stage): \(count(devices)) devices"]
        parts.append("job created in ~\(duration(stage.jobCreationSeconds)) "
                     + "(\(targeting(stage.targeting, groupFillPerSecond: groupFillPerSecond)))")
        parts.append("notifications take ≥ \(duration(stage.notificationSeconds)) at "
                     + "\(count(stage.notificationsPerMinute)) per minute")
        parts.append("bake \(DurationText.format(stage.bakeSeconds))")
        if stage.approvalRequired { parts.append("approval") }
        if let start = stage.earliestStart {
            parts.append("earliest start \(TimeText.format(start))"
                         + (stage.windowWaitSeconds > 0 ? " (after \(duration(Double(stage.windowWaitSeconds))) for a window)" : ""))
        } else {
            parts.append("never starts (no maintenance window opens)")
        }
        if stage.notificationsOutlastBake { parts.append("the bake ends before every device is notified") }
        return parts.joined(separator: "; ")
    }
}
