import Dispatch
import Foundation
import RolloutCore

/// A stored rollout as a database row holds it, read but not yet decoded: reading needs the connection (and its
/// lock), decoding does not, and many rows decode on every core. Shared by the SQLite and PostgreSQL stores.
package struct EncodedRollout: Sendable {
    /// Below this many rows, decoding on one thread is faster than sharing the work.
    static let parallelDecodeMin = 256

    package let id: String
    package let planJSON: Data
    package let planSource: String
    package let fleetKind: String
    package let stateJSON: Data
    package let eventCount: Int

    package init(id: String, planJSON: Data, planSource: String, fleetKind: String, stateJSON: Data, eventCount: Int) {
        self.id = id
        self.planJSON = planJSON
        self.planSource = planSource
        self.fleetKind = fleetKind
        self.stateJSON = stateJSON
        self.eventCount = eventCount
    }

    package func decode(_ json: StoreJSON) throws -> StoredRollout {
        let plan = try json.decode(RolloutPlan.self, from: planJSON, "plan of rollout \(id)")
        let state = try json.decode(RolloutState.self, from: stateJSON, "state of rollout \(id)")
        guard state.rolloutId == id, state.eventCount == eventCount else {
            throw StoreError.database("rollout \(id) is corrupt: its state is of rollout \(state.rolloutId) "
                                      + "after \(state.eventCount) events, its row says \(eventCount)")
        }
        return StoredRollout(id: id, plan: plan, planSource: planSource, fleetKind: fleetKind, state: state)
    }

    /// Every row decoded, in order; the first failure is thrown.
    package static func decodeAll(_ rows: [EncodedRollout]) throws -> [StoredRollout] {
        guard rows.count >= parallelDecodeMin else {
            let json = StoreJSON()
            return try rows.map { try $0.decode(json) }
        }
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
