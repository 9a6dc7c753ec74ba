import Foundation

/// Lets the worker sleep until a deadline or until something happens (a submission, a command, shutdown),
/// whichever comes first. No polling: a waiting task is resumed exactly once.
actor WakeSignal {
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var pending = false
    private var nextId = 0

    /// Wakes the current waiter, or the next one to wait if nobody waits now.
    func notify() {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume()
        } else {
            pending = true
        }
    }

    /// Returns after `seconds` or on `notify()`.
    func wait(seconds: Double) async {
        if pending {
            pending = false
            return
        }
        guard seconds > 0 else { return }
        nextId += 1
        let id = nextId
        await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(min(seconds, 3600) * 1_000_000_000))
                await self?.timeout(id)
            }
        }
    }

    private func timeout(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume()
    }
}
