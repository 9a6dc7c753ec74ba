import Foundation

/// Where time comes from: the wall clock in the worker, a virtual clock in simulation.
package protocol RolloutClock: Sendable {
    func now() -> Date
    /// Returns once the clock shows `date` (at once if it already does). A virtual clock jumps there.
    func sleep(until date: Date) async throws
    /// True for a virtual clock: the driver moves it only when no step is in flight, so what a simulation does
    /// never depends on how threads happen to interleave (discrete-event time).
    var advancesOnlyWhenIdle: Bool { get }
}

extension RolloutClock {
    package var advancesOnlyWhenIdle: Bool { false }
}

/// The real clock, optionally sped up (`--time-scale`) for demos and tests: it runs `scale` times faster than
/// wall time from `startingAt` (default: now). A sped-up worker restarted on the same database starts its clock at
/// the latest instant already recorded, so time never runs backwards for its rollouts.
package struct SystemClock: RolloutClock {
    package let scale: Double
    let wallOrigin: Date
    let origin: Date

    package init(scale: Double = 1, startingAt: Date? = nil) {
        precondition(scale >= 1, "time scale must be at least 1")
        self.scale = scale
        let wall = Date()
        self.wallOrigin = wall
        self.origin = scale == 1 ? wall : max(wall, startingAt ?? wall)
    }

    package func now() -> Date {
        guard scale != 1 else { return Date() }
        return origin.addingTimeInterval(Date().timeIntervalSince(wallOrigin) * scale)
    }

    /// Sleeps the wall time until the clock shows `date` (bounded to a day per call: the caller loops).
    package func sleep(until date: Date) async throws {
        let wallSeconds = min(max(0, date.timeIntervalSince(now()) / scale), 86_400)
        guard wallSeconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(wallSeconds * 1_000_000_000))
    }
}
