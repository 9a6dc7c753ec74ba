import Foundation

/// A few dedicated threads for blocking C calls (`curl_easy_perform`), so they never occupy Swift's cooperative
/// pool (2 threads on a 2-core machine: one slow upload there would stall every other task).
///
/// Jobs queue FIFO without bound in count (each is one waiting async caller); threads start on first use and live
/// as long as the pool. Each thread keeps a per-thread state value (`State`), e.g. a reusable curl handle.
package final class BlockingThreadPool<State>: @unchecked Sendable {
    package typealias Job = (inout State) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobsHead = 0
    private var started = false
    private let threadCount: Int
    private let makeState: @Sendable () -> State
    private let name: String

    /// - Parameters:
    ///   - threadCount: 1…64 threads, the number of blocking calls that may run at once.
    ///   - makeState: builds each thread's state, on that thread, before its first job.
    package init(name: String, threadCount: Int, makeState: @escaping @Sendable () -> State) {
        precondition(threadCount >= 1 && threadCount <= 64, "threadCount must be 1…64")
        self.name = name
        self.threadCount = threadCount
        self.makeState = makeState
    }

    /// Runs `work` on one of the pool's threads and returns its result to the awaiting task.
    package func run<T: Sendable>(_ work: @escaping @Sendable (inout State) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            submit { state in
                continuation.resume(with: Result { try work(&state) })
            }
        }
    }

    private func submit(_ job: @escaping Job) {
        condition.lock()
        if !started {
            started = true
            for index in 0..<threadCount {
                let thread = Thread { [self] in self.workerLoop() }
                thread.name = "\(name)-\(index)"
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func workerLoop() {
        var state = makeState()
        while true {
            condition.lock()
            while jobsHead == jobs.count {
                condition.wait()
            }
            let job = jobs[jobsHead]
            jobsHead += 1
            if jobsHead > 1024 && jobsHead * 2 > jobs.count {
                jobs.removeFirst(jobsHead)
                jobsHead = 0
            }
            condition.unlock()
            job(&state)
        }
    }
}
