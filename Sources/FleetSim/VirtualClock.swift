import Engine
import Foundation

/// The simulation's clock: it stands still until told to jump to the next due instant, so days of rollout take
/// milliseconds. Thread-safe; never moves backwards.
package final class VirtualClock: RolloutClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    package init(start: Date) {
        self.current = start
    }

    package func now() -> Date {
        lock.withLock { current }
    }

    /// Jumps to `date` (the driver calls it only when no step is in flight).
    package func sleep(until date: Date) async throws {
        advance(to: date)
    }

    package var advancesOnlyWhenIdle: Bool { true }

    /// Moves the clock to `date` if that is later than now.
    package func advance(to date: Date) {
        lock.withLock {
            if date > current { current = date }
        }
    }
}
