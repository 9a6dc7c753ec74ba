import Foundation
import Testing
@testable import Engine

@Suite struct WakeQueueTests {
    let start = Date(timeIntervalSinceReferenceDate: 0)

    @Test func popsDueRolloutsEarliestFirst() {
        var queue = WakeQueue()
        queue.schedule("b", at: start.addingTimeInterval(20))
        queue.schedule("a", at: start.addingTimeInterval(10))
        queue.schedule("c", at: start.addingTimeInterval(30))
        #expect(queue.earliest() == start.addingTimeInterval(10))
        #expect(queue.popDue(now: start.addingTimeInterval(5)) == nil)
        #expect(queue.popDue(now: start.addingTimeInterval(25)) == "a")
        #expect(queue.popDue(now: start.addingTimeInterval(25)) == "b")
        #expect(queue.popDue(now: start.addingTimeInterval(25)) == nil)
        #expect(queue.count == 1)
    }

    @Test func reschedulingReplacesTheEarlierEntry() {
        var queue = WakeQueue()
        queue.schedule("a", at: start.addingTimeInterval(10))
        queue.schedule("a", at: start.addingTimeInterval(50))
        #expect(queue.wakeAt(of: "a") == start.addingTimeInterval(50))
        #expect(queue.popDue(now: start.addingTimeInterval(20)) == nil, "the stale entry is skipped")
        #expect(queue.earliest() == start.addingTimeInterval(50))
        queue.schedule("a", at: nil)
        #expect(queue.earliest() == nil)
        #expect(queue.count == 0)
    }

    @Test func staleEntriesStayBounded() {
        var queue = WakeQueue()
        for round in 0..<10_000 {
            queue.schedule("r\(round % 10)", at: start.addingTimeInterval(Double(round)))
        }
        #expect(queue.count == 10)
        var popped: [String] = []
        while let id = queue.popDue(now: start.addingTimeInterval(1e9)) { popped.append(id) }
        #expect(popped == (0..<10).map { "r\($0)" })
    }
}
