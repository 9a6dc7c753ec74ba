import Foundation

/// Where time comes from: the wall clock in the worker, a virtual clock in simulation.
public protocol RolloutClock: Sendable {
    func now() -> Date
    /// Real seconds until the clock shows `date` (sped-up clocks get there sooner).
    func wallSeconds(until date: Date) -> Double
}

extension RolloutClock {
    public func wallSeconds(until date: Date) -> Double {
        max(0, date.timeIntervalSince(now()))
    }
}

/// The real clock, optionally sped up (`--time-scale`) for demos and tests: it runs `scale` times faster than
/// wall time from `startingAt` (default: now). A sped-up worker restarted on the same database starts its clock at
/// the latest instant already recorded, so time never runs backwards for its rollouts.
public struct SystemClock: RolloutClock {
    public let scale: Double
    let wallOrigin: Date
    let origin: Date

    public init(scale: Double = 1, startingAt: Date? = nil) {
        precondition(scale >= 1, "time scale must be at least 1")
        self.scale = scale
        let wall = Date()
        self.wallOrigin = wall
        self.origin = scale == 1 ? wall : max(wall, startingAt ?? wall)
    }

    public func now() -> Date {
        guard scale != 1 else { return Date() }
        return origin.addingTimeInterval(Date().timeIntervalSince(wallOrigin) * scale)
    }

    /// Wall seconds until clock instant `date`.
    public func wallSeconds(until date: Date) -> Double {
        max(0, date.timeIntervalSince(now()) / scale)
    }
}
