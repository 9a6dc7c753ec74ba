import Foundation
import Testing

@testable import FleetAWS

/// The bucket is pure: time is passed in, so these tests never sleep.
@Suite("TokenBucket: burst, then one token per 1/rate seconds, callers queued in order")
struct TokenBucketTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a full bucket serves its burst at once, then each caller waits 1/rate longer than the one before")
    func burstThenQueue() {
        var bucket = TokenBucket(capacity: 10, refillPerSecond: 10, now: start)
        let burst = (0..<10).map { _ in bucket.reserve(at: start) }
        #expect(burst == Array(repeating: 0, count: 10))
        let queued = (0..<3).map { _ in bucket.reserve(at: start) }
        #expect(queued.map { ($0 * 1000).rounded() } == [100, 200, 300], "\(queued)")
        #expect(bucket.usedRatio(at: start) == 1.3, "three callers queue beyond an empty bucket")
    }

    @Test("tokens come back at the refill rate, never beyond the capacity")
    func refill() {
        var bucket = TokenBucket(capacity: 2, refillPerSecond: 1, now: start)
        #expect(bucket.reserve(at: start) == 0)
        #expect(bucket.reserve(at: start) == 0)
        #expect(bucket.reserve(at: start) == 1)
        // 1 s later the debt is paid; 10 s later the bucket is full again, not 9 tokens over.
        #expect(bucket.level(at: start.addingTimeInterval(1)) == 0)
        #expect(bucket.level(at: start.addingTimeInterval(11)) == 2)
        #expect(bucket.reserve(at: start.addingTimeInterval(11)) == 0)
        #expect(bucket.reserve(at: start.addingTimeInterval(11)) == 0)
        #expect(bucket.reserve(at: start.addingTimeInterval(11)) == 1)
    }

    @Test("a clock that goes backwards adds no tokens and moves nothing back")
    func clockBackwards() {
        var bucket = TokenBucket(capacity: 1, refillPerSecond: 2, now: start)
        #expect(bucket.reserve(at: start) == 0)
        #expect(bucket.reserve(at: start.addingTimeInterval(-5)) == 0.5)
        #expect(bucket.updatedAt == start)
        #expect(bucket.level(at: start.addingTimeInterval(1)) == 1, "1 s at 2/s pays the debt of 1 and refills 1")
    }

    @Test("a slow rate spaces callers by whole seconds: CreateJob at 10/s after its burst")
    func createJobPace() {
        var bucket = TokenBucket(capacity: 10, refillPerSecond: 10, now: start)
        var waits: [Double] = []
        for second in 0..<3 {
            let now = start.addingTimeInterval(Double(second))
            waits.append(contentsOf: (0..<20).map { _ in bucket.reserve(at: now) })
        }
        // 60 callers over 3 s at 10/s with a burst of 10: the last goes (60 − 10) / 10 = 5 s after the start.
        let lastWait = waits.last!
        #expect(abs(lastWait + 2 - 5) < 1e-9, "\(lastWait)")
        let sendTimes = waits.enumerated().map { Double($0.offset / 20) + $0.element }
        #expect(sendTimes == sendTimes.sorted(), "callers are served in the order they arrived")
        #expect(Set(sendTimes.map { ($0 * 1000).rounded() }).count == 51, "10 at once, then one per 0.1 s")
    }
}
