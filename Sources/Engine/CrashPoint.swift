/// Places where tests stop the engine as if the process died, to prove a restart loses and repeats nothing.
public enum CrashPoint: Sendable, Equatable, CustomStringConvertible {
    /// Right after a transaction committed.
    case afterCommit(rolloutId: String, eventKind: String)
    /// After an effect was performed on the fleet, before its completion is recorded.
    case afterEffect(rolloutId: String, key: String)

    public var description: String {
        switch self {
        case .afterCommit(let id, let kind): return "after commit of \(kind) (\(id))"
        case .afterEffect(let id, let key): return "after effect \(key), before recording it (\(id))"
        }
    }
}

/// Thrown by a crash hook; the engine lets it through untouched, like a process death.
public struct SimulatedCrash: Error, Sendable, CustomStringConvertible {
    public let point: CrashPoint

    public init(point: CrashPoint) {
        self.point = point
    }

    public var description: String { "simulated crash \(point)" }
}
