import Dispatch
import Engine
import Foundation
import RolloutCore

/// A row of `SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count`, read but not yet decoded:
/// reading needs the connection (and its lock), decoding does not, and many rows decode on every core.
struct RolloutRow: Sendable {
    /// Below this many rows, decoding on one thread is faster than sharing the work.
    static let parallelDecodeMin = 256

    let id: String
    let planJSON: Data
    let planSource: String
    let fleetKind: String
    let stateJSON: Data
    let eventCount: Int

    init(_ statement: SQLiteStatement) {
        id = statement.text(0)
        planJSON = statement.data(1)
        planSource = statement.text(2)
        fleetKind = statement.text(3)
        stateJSON = statement.data(4)
        eventCount = statement.int(5)
    }

    func decode(_ json: StoreJSON) throws -> StoredRollout {
        let plan = try json.decode(RolloutPlan.self, from: planJSON, "plan of rollout \(id)")
        let state = try json.decode(RolloutState.self, from: stateJSON, "state of rollout \(id)")
        guard state.rolloutId == id, state.eventCount == eventCount else {
            throw StoreError.database("rollout \(id) is corrupt: its state is of rollout \(state.rolloutId) "
                                      + "after \(state.eventCount) events, its row says \(eventCount)")
        }
        return StoredRollout(id: id, plan: plan, planSource: planSource, fleetKind: fleetKind, state: state)
    }

    /// Every row decoded, in order; the first failure is thrown.
    static func decodeAll(_ rows: [RolloutRow], json: StoreJSON) throws -> [StoredRollout] {
        guard rows.count >= parallelDecodeMin else { return try rows.map { try $0.decode(json) } }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let results = Locked<[Result<StoredRollout, any Error>?]>(Array(repeating: nil, count: rows.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            // A decoder of its own per worker (`StoreJSON` is not shared between threads). Interleaved (worker,
            // worker + n, …): every worker gets old and new rollouts alike.
            let json = StoreJSON()
            let decoded = stride(from: worker, to: rows.count, by: workers).map { index in
                (index, Result { try rows[index].decode(json) })
            }
            results.withLock { results in
                for (index, result) in decoded { results[index] = result }
            }
        }
        return try results.current.map { try $0!.get() }
    }
}
