import Foundation

/// Bodies (or parts of bodies) the API made, reused while what they were made from has not changed.
///
/// Each is kept under a key (a rollout id, a list's filter) with the version of the data it was made from: a
/// read-model revision (`RolloutDetail.revision`, `RolloutService.readRevision()`), or the values themselves when they
/// are few (`WorkerMetrics`). A body is made again only when its version changed, so a rollout that did not change is
/// never encoded again, however often it is read. Bounded: when full, it starts over.
final class ResponseCache<Key: Hashable & Sendable, Version: Equatable & Sendable, Value: Sendable>: @unchecked Sendable {
    let entriesMax: Int
    private let lock = NSLock()
    private var entries: [Key: (version: Version, value: Value)] = [:]

    init(entriesMax: Int = 10_000) {
        precondition(entriesMax >= 1, "a cache holds at least one entry")
        self.entriesMax = entriesMax
    }

    /// The value kept for `key` if it was made from `version`.
    func cached(_ key: Key, version: Version) -> Value? {
        lock.withLock {
            guard let entry = entries[key], entry.version == version else { return nil }
            return entry.value
        }
    }

    /// The value kept for `key` at `version`, or else `make()`'s, kept for the next reader (a nil is not kept).
    func value(for key: Key, version: Version, make: () throws -> Value?) rethrows -> Value? {
        if let hit = cached(key, version: version) { return hit }
        guard let value = try make() else { return nil }
        keep(value, for: key, version: version)
        return value
    }

    /// The value kept for `key` at `version`, or else `make()`'s, kept for the next reader.
    func value(for key: Key, version: Version, make: () throws -> Value) rethrows -> Value {
        if let hit = cached(key, version: version) { return hit }
        let value = try make()
        keep(value, for: key, version: version)
        return value
    }

    func keep(_ value: Value, for key: Key, version: Version) {
        lock.withLock {
            if entries.count >= entriesMax && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = (version, value)
        }
    }
}
