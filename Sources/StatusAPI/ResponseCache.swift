import Foundation
import Hummingbird

/// Encoded JSON bodies of rollout details, reused while the rollout has not changed.
///
/// Encoding a detail (plan, state, verdicts) costs far more than serving it; a status page or dashboard polls the
/// same rollouts again and again between two changes. Keyed by rollout id, valid for one `version`; bounded.
final class ResponseCache: @unchecked Sendable {
    static let entriesMax = 10_000
    private let lock = NSLock()
    private var entries: [String: (version: String, body: Data)] = [:]

    func body(for id: String, version: String, encode: () -> Data?) -> Data? {
        if let hit = lock.withLock({ entries[id] }), hit.version == version { return hit.body }
        guard let body = encode() else { return nil }
        lock.withLock {
            if entries.count >= Self.entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[id] = (version, body)
        }
        return body
    }
}
