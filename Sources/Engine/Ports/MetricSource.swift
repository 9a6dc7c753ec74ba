import Foundation
import RolloutCore

/// Reads external metrics for metric gates: one source per provider in production (HTTP JSON, Prometheus,
/// CloudWatch; `MetricSourceRouter` picks by the gate's provider), the simulated fleet's health in simulation.
package protocol MetricSource: Sendable {
    /// One measurement: the gate's value, or the reason it could not be read, with what was asked (`input`). Never
    /// throws: an unreadable metric is evidence too. Bounded in time: a source gives up after its time-outs.
    /// `nonisolated(nonsending)`: see `Fleet` (the simulated source answers on the engine's thread).
    nonisolated(nonsending) func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading
}

/// The production `MetricSource`: each gate goes to the source of its provider; a provider without a source (a
/// worker without AWS for a CloudWatch gate) is a readable error, not a crash.
package struct MetricSourceRouter: MetricSource {
    let sources: [MetricProvider: any MetricSource]

    package init(_ sources: [MetricProvider: any MetricSource]) {
        self.sources = sources
    }

    package nonisolated(nonsending) func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        guard let source = sources[gate.kind] else {
            return MetricReading(error: "\(gate.name): this worker has no \(gate.kind.rawValue) source "
                                 + "(CloudWatch gates need the AWS fleet's credentials)")
        }
        return await source.read(gate, values: values)
    }
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
