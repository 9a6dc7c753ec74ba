import Foundation

/// A value guarded by a lock, for state that any thread reads at once, without waiting for an actor that may be
/// busy (the engine's counters, a worker's readiness): `/metrics` and probes read them on every request.
package final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }

    /// A copy of the value.
    package var current: Value {
        lock.withLock { value }
    }
}
