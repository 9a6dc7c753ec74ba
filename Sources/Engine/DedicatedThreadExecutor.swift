import Foundation

/// A serial executor with a thread of its own. An actor that makes blocking C calls (the engine: its SQLite commits
/// wait for an fsync each on the worker's store) runs on it instead of Swift's cooperative pool, whose few threads
/// (two on a 2-core machine) the HTTP server and every other task need: DESIGN.md keeps blocking C calls off the pool.
///
/// Jobs run one at a time, in the order they were enqueued. The thread starts with the first job and ends once the
/// executor is released (its actor gone, so no job can be left).
package final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    /// What the executor and its thread share; the thread never holds the executor itself.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [UnownedJob] = []
        var head = 0
        var started = false
        var waiting = false
        var closed = false
    }

    private let queue = Queue()
    package let name: String

    package init(name: String) {
        self.name = name
    }

    deinit {
        let queue = self.queue
        queue.condition.lock()
        queue.closed = true
        queue.condition.signal()
        queue.condition.unlock()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.condition.lock()
        if !queue.started {
            queue.started = true
            let queue = self.queue
            let executor = asUnownedSerialExecutor()
            let name = self.name
            let thread = Thread {
                // Named from inside: on Linux a new thread otherwise keeps the name of the one that started it (a
                // pool thread's), which misleads profiles and tests.
                Thread.current.name = name
                Self.run(queue, executor: executor)
            }
            thread.start()
        }
        queue.jobs.append(job)
        if queue.waiting { queue.condition.signal() }
        queue.condition.unlock()
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// The thread's loop: takes the queued jobs in order, runs them, sleeps when there are none.
    private static func run(_ queue: Queue, executor: UnownedSerialExecutor) {
        while true {
            queue.condition.lock()
            while queue.head == queue.jobs.count {
                if queue.closed {
                    queue.condition.unlock()
                    return
                }
                queue.waiting = true
                queue.condition.wait()
                queue.waiting = false
            }
            let job = queue.jobs[queue.head]
            queue.head += 1
            if queue.head == queue.jobs.count {
                queue.jobs.removeAll(keepingCapacity: true)
                queue.head = 0
            }
            queue.condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
