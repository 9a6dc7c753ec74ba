import Foundation
import RolloutCore

/// Reads external metrics for metric gates: HTTP JSON in production, the simulated fleet's health in simulation.
package protocol MetricSource: Sendable {
    /// The gate's value, or the reason it could not be read. Never throws: an unreadable metric is evidence too.
    /// `nonisolated(nonsending)`: see `Fleet` (the simulated source answers on the engine's thread).
    nonisolated(nonsending) func read(_ gate: MetricGate, rolloutId: String, stage: String) async -> MetricReading
}

/// Sends rollout notifications to webhooks.
package protocol Notifier: Sendable {
    func send(_ notification: RolloutNotification, to targets: [WebhookTarget]) async throws
}

/// A notifier that keeps what it was asked to send (simulation and tests).
package final class RecordingNotifier: Notifier, @unchecked Sendable {
    private let lock = NSLock()
    private var sentStorage: [RolloutNotification] = []

    package init() {}

    package var sent: [RolloutNotification] { lock.withLock { sentStorage } }

    package func send(_ notification: RolloutNotification, to targets: [WebhookTarget]) async throws {
        lock.withLock { sentStorage.append(notification) }
    }
}
