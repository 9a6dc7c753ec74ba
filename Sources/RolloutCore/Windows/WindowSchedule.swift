import Foundation

/// Questions about a set of maintenance windows taken together: a stage may start when any window is open,
/// and a stage with no windows may start at any time.
package enum WindowSchedule {
    /// True when `windows` is empty or `date` lies in an occurrence of any window.
    package static func isOpen(at date: Date, windows: [MaintenanceWindow]) -> Bool {
        windows.isEmpty || windows.contains { $0.occurrence(containing: date) != nil }
    }

    /// `date` itself if open, else the earliest next start among all windows; nil if none ever opens
    /// (within each window's default search limit).
    package static func nextOpening(atOrAfter date: Date, windows: [MaintenanceWindow]) -> Date? {
        if isOpen(at: date, windows: windows) { return date }
        // A window with no duration has starts but never opens.
        return windows
            .filter { $0.durationSeconds > 0 }
            .compactMap { $0.nextStart(after: date) }
            .min()
    }

    /// When the window open at `date` closes: the latest end among the occurrences containing `date`. An
    /// occurrence of another window that starts before then and runs on is not chained in. Nil when no
    /// window is open at `date`, including when `windows` is empty (always open, so never closing).
    package static func closing(openAt date: Date, windows: [MaintenanceWindow]) -> Date? {
        windows.compactMap { $0.occurrence(containing: date)?.end }.max()
    }

    /// When `seconds` of open-window time have passed since `start` (time outside every window does not count):
    /// how long a `bakeIn: windows` bake really lasts. `start` itself if `seconds` is 0; nil when the windows
    /// stop opening before that. Bounded: at most 10,000 window occurrences are walked.
    package static func endOfOpenTime(from start: Date, seconds: Int, windows: [MaintenanceWindow]) -> Date? {
        guard seconds > 0 else { return start }
        guard !windows.isEmpty else { return start.addingTimeInterval(TimeInterval(seconds)) }
        var remaining = TimeInterval(seconds)
        var cursor = start
        for _ in 0..<10_000 {
            guard let opening = nextOpening(atOrAfter: cursor, windows: windows),
                  let closing = closing(openAt: opening, windows: windows) else { return nil }
            let open = closing.timeIntervalSince(opening)
            if open >= remaining { return opening.addingTimeInterval(remaining) }
            remaining -= open
            // A window closing exactly where another opens: the next search starts at the close.
            cursor = closing > opening ? closing : opening.addingTimeInterval(1)
        }
        return nil
    }
}
