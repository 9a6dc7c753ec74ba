/// Places where tests stop the engine as if the process died, to prove a restart loses and repeats nothing.
package enum CrashPoint: Sendable, Equatable, CustomStringConvertible {
    /// Right after a transaction committed.
    case afterCommit(rolloutId: String, eventKind: String)
    /// After an effect was performed on the fleet, before its completion is recorded.
    case afterEffect(rolloutId: String, key: String)
    /// Right before an effect's fleet call, after the lease was last checked (where a paused worker is most
    /// dangerous: it resumes straight into the call).
    case beforeEffect(rolloutId: String, key: String)
    /// Before an effect's last lease check (a worker paused here finds its lease lapsed when it continues, and makes
    /// no fleet call). A crash here is the same as at `beforeEffect`: the check has no side effect.
    case beforeLeaseCheck(rolloutId: String, key: String)

    package var description: String {
        switch self {
        case .afterCommit(let id, let kind): return "after commit of \(kind) (\(id))"
        case .afterEffect(let id, let key): return "after effect \(key), before recording it (\(id))"
        case .beforeEffect(let id, let key): return "before effect \(key), after the lease check (\(id))"
        case .beforeLeaseCheck(let id, let key): return "before effect \(key)'s lease check (\(id))"
        }
    }
}

/// Thrown by a crash hook; the engine lets it through untouched, like a process death.
package struct SimulatedCrash: Error, Sendable, CustomStringConvertible {
    package let point: CrashPoint

    package init(point: CrashPoint) {
        self.point = point
    }

    package var description: String { "simulated crash \(point)" }
}
