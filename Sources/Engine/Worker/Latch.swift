import Foundation

/// A gate opened once: tasks that wait before it opens resume when it does, later ones pass at once.
final class Latch: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    var isOpen: Bool { lock.withLock { opened } }

    func open() {
        let waiting: [CheckedContinuation<Void, Never>] = lock.withLock {
            opened = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume() }
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { continuation in
            let passes: Bool = lock.withLock {
                if opened { return true }
                waiters.append(continuation)
                return false
            }
            if passes { continuation.resume() }
        }
    }
}
