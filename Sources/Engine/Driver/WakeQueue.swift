import Foundation
import HeapModule

/// Rollouts ordered by when they next need a step: swift-collections' `Heap` with lazy deletion (a rescheduled
/// rollout leaves a stale entry behind, skipped when it surfaces), rebuilt when stale entries pile up.
struct WakeQueue {
    struct Entry: Comparable {
        var at: Date
        var id: String
        var generation: Int

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.at, lhs.generation) < (rhs.at, rhs.generation)
        }
    }

    private var heap = Heap<Entry>()
    private var current: [String: (at: Date, generation: Int)] = [:]
    private var generationCounter = 0

    /// Rollouts scheduled.
    var count: Int { current.count }

    /// Schedules `id` at `at`, replacing any earlier schedule; nil removes it.
    mutating func schedule(_ id: String, at: Date?) {
        guard let at else {
            current[id] = nil
            return
        }
        generationCounter += 1
        current[id] = (at, generationCounter)
        heap.insert(Entry(at: at, id: id, generation: generationCounter))
        // Bound stale entries: rebuild when the heap holds far more entries than rollouts.
        if heap.count > 4 * max(current.count, 64) {
            heap = Heap(current.map { Entry(at: $0.value.at, id: $0.key, generation: $0.value.generation) })
        }
    }

    func wakeAt(of id: String) -> Date? { current[id]?.at }

    /// The earliest scheduled instant.
    mutating func earliest() -> Date? {
        dropStale()
        return heap.min?.at
    }

    /// Removes and returns the earliest id due at or before `now`, if any.
    mutating func popDue(now: Date) -> String? {
        dropStale()
        guard let top = heap.min, top.at <= now else { return nil }
        heap.removeMin()
        current[top.id] = nil
        return top.id
    }

    private mutating func dropStale() {
        while let top = heap.min, current[top.id]?.generation != top.generation {
            heap.removeMin()
        }
    }
}
