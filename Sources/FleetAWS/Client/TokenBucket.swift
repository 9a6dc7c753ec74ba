import Foundation

/// A token bucket that reserves: every call takes one token at once and learns how long to wait before using it.
///
/// Pure: the time is an argument, never read. The bucket holds up to `capacity` tokens (the burst) and gains
/// `refillPerSecond` per second. A caller who finds it empty still takes a token, driving the level below zero:
/// that debt is the queue of callers already promised a slot, so the next caller waits behind all of them, in order
/// of arrival, and no two callers are given the same instant. The debt is bounded by the callers in flight (each
/// takes exactly one token per request it is about to send).
package struct TokenBucket: Sendable, Equatable {
    package let capacity: Double
    package let refillPerSecond: Double
    /// Tokens at `updatedAt`; negative while callers wait for tokens already promised to them.
    package private(set) var level: Double
    package private(set) var updatedAt: Date

    /// A full bucket at `now`.
    package init(capacity: Double, refillPerSecond: Double, now: Date) {
        precondition(capacity >= 1, "a bucket holds at least one token")
        precondition(refillPerSecond > 0 && refillPerSecond.isFinite, "refill must be a positive rate")
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
        self.level = capacity
        self.updatedAt = now
    }

    /// The level at `now` without taking anything (a clock that went backwards adds nothing).
    package func level(at now: Date) -> Double {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        return min(capacity, level + elapsed * refillPerSecond)
    }

    /// Takes one token at `now`; returns the seconds to wait before using it (0 when one was there).
    package mutating func reserve(at now: Date) -> TimeInterval {
        level = level(at: now) - 1
        updatedAt = max(updatedAt, now)
        return level >= 0 ? 0 : -level / refillPerSecond
    }

    /// The same bucket with another size and rate from `now`: its tokens (or debt) kept, capped to the new size.
    package func resized(capacity: Double, refillPerSecond: Double, at now: Date) -> TokenBucket {
        var bucket = TokenBucket(capacity: capacity, refillPerSecond: refillPerSecond, now: max(now, updatedAt))
        bucket.level = min(capacity, level(at: now))
        return bucket
    }

    /// Share of the bucket in use at `now`: 0 full, 1 empty, above 1 when callers queue for tokens.
    package func usedRatio(at now: Date) -> Double {
        (capacity - level(at: now)) / capacity
    }
}
