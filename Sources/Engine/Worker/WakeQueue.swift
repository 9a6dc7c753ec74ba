import Foundation

/// Rollouts ordered by when they next need a step: a binary min-heap with lazy deletion
/// (a rescheduled rollout leaves a stale entry behind, skipped when popped).
struct WakeQueue {
    private var heap: [(at: Date, id: String, generation: Int)] = []
    private var current: [String: (at: Date, generation: Int)] = [:]
    private var generationCounter = 0

    var count: Int { current.count }

    /// Schedules `id` at `at`, replacing any earlier schedule; nil removes it.
    mutating func schedule(_ id: String, at: Date?) {
        guard let at else {
            current[id] = nil
            return
        }
        generationCounter += 1
        current[id] = (at, generationCounter)
        heap.append((at, id, generationCounter))
        siftUp(heap.count - 1)
        // Bound stale entries: rebuild when the heap holds far more entries than rollouts.
        if heap.count > 4 * max(current.count, 64) { rebuild() }
    }

    func wakeAt(of id: String) -> Date? { current[id]?.at }

    /// The earliest scheduled instant.
    mutating func earliest() -> Date? {
        dropStale()
        return heap.first?.at
    }

    /// Removes and returns up to `limit` ids due at or before `now`.
    mutating func popDue(now: Date, limit: Int) -> [String] {
        var due: [String] = []
        while due.count < limit {
            dropStale()
            guard let top = heap.first, top.at <= now else { break }
            removeTop()
            current[top.id] = nil
            due.append(top.id)
        }
        return due
    }

    private mutating func dropStale() {
        while let top = heap.first, current[top.id]?.generation != top.generation {
            removeTop()
        }
    }

    private mutating func rebuild() {
        heap = current.map { (at: $0.value.at, id: $0.key, generation: $0.value.generation) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func removeTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].at < heap[smallest].at { smallest = left }
            if right < heap.count && heap[right].at < heap[smallest].at { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
