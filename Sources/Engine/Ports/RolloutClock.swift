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

/// The real clock, optionally sped up (`--time-scale`) for demos and tests: virtual time runs `scale` times faster
/// than wall time from the moment the clock was made.
public struct SystemClock: RolloutClock {
    public let scale: Double
    let origin: Date

    public init(scale: Double = 1) {
        precondition(scale >= 1, "time scale must be at least 1")
        self.scale = scale
        self.origin = Date()
    }

    public func now() -> Date {
        guard scale != 1 else { return Date() }
        return origin.addingTimeInterval(Date().timeIntervalSince(origin) * scale)
    }

    /// Wall seconds until virtual instant `date`.
    public func wallSeconds(until date: Date) -> Double {
        max(0, date.timeIntervalSince(now()) / scale)
    }
}
