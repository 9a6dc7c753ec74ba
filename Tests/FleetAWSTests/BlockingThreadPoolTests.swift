import Foundation
import Testing

@testable import HTTPTransport

/// The dedicated threads that blocking C calls (curl) run on: results and errors come back, each thread keeps its
/// state, at most `threadCount` jobs block at once, and blocked jobs never occupy Swift's cooperative pool.
@Suite struct BlockingThreadPoolTests {
    struct Boom: Error, Equatable {}

    /// Counts jobs in flight, and lets a test hold them until it opens the gate (bounded waits: never hangs).
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var open = false
        private(set) var running = 0
        private(set) var runningMax = 0

        func enter() {
            condition.lock()
            running += 1
            runningMax = max(runningMax, running)
            condition.broadcast()
            let deadline = Date().addingTimeInterval(120)
            while !open && Date() < deadline { _ = condition.wait(until: deadline) }
            running -= 1
            condition.unlock()
        }

        /// Waits (bounded) until `count` jobs are inside, on a thread of its own: blocking one of the cooperative
        /// pool's threads (two on a 2-core machine) could keep the very tasks that submit the jobs from running.
        func waitFor(_ count: Int) async -> Bool {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: self.blockingWaitFor(count)) }
            }
        }

        private func blockingWaitFor(_ count: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date().addingTimeInterval(120)
            while running < count && Date() < deadline { _ = condition.wait(until: deadline) }
            return running >= count
        }

        func release() {
            condition.lock()
            open = true
            condition.broadcast()
            condition.unlock()
        }
    }

    @Test func resultsErrorsAndPerThreadState() async throws {
        let pool = BlockingThreadPool<Int>(name: "test-state", threadCount: 1) { 0 }
        for expected in 1...5 {
            let seen = try await pool.run { (state: inout Int) -> Int in
                state += 1
                return state
            }
            #expect(seen == expected, "one thread keeps its state across jobs")
        }
        await #expect(throws: Boom.self) { _ = try await pool.run { _ -> Int in throw Boom() } }
    }

    @Test func atMostThreadCountBlockAndTheCooperativePoolStaysFree() async throws {
        let threads = 3
        let pool = BlockingThreadPool<Void>(name: "test-block", threadCount: threads) { () }
        let gate = Gate()
        let jobs = (0..<(threads + 2)).map { _ in Task { try await pool.run { _ in gate.enter() } } }
        #expect(await gate.waitFor(threads), "all \(threads) threads run blocking jobs at once")
        // Every pool thread is blocked: ordinary async work still runs (the cooperative threads are free).
        let sum = await Task.detached { (1...1000).reduce(0, +) }.value
        #expect(sum == 500_500)
        #expect(gate.running == threads, "the extra jobs wait for a thread")
        gate.release()
        for job in jobs { try await job.value }
        #expect(gate.runningMax == threads)
    }
}
