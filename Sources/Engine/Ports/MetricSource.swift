import Foundation
import RolloutCore

/// Reads external metrics for metric gates: one source per provider in production (HTTP JSON, Prometheus,
/// CloudWatch; `MetricSourceRouter` picks by the gate's provider), the simulated fleet's health in simulation.
package protocol MetricSource: Sendable {
    /// One measurement: the gate's value, or the reason it could not be read, with what was asked (`input`). Never
    /// throws: an unreadable metric is evidence too. Bounded in time: a source gives up after its time-outs.
    /// `nonisolated(nonsending)`: see `Fleet` (the simulated source answers on the engine's thread).
    nonisolated(nonsending) func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading

    /// Every gate of one poll, each with its own values (their windows differ), by name. The default reads them one
    /// after another (the simulated source answers on the engine's thread); sources of the outside world read them at
    /// once, so a poll takes as long as the slowest.
    nonisolated(nonsending) func readAll(_ requests: [MetricRequest]) async -> [String: MetricReading]
}

/// One gate to measure, with the values of its measurement.
package struct MetricRequest: Sendable {
    package var gate: MetricGate
    package var values: MetricQueryTemplate.Values

    package init(_ gate: MetricGate, values: MetricQueryTemplate.Values) {
        self.gate = gate
        self.values = values
    }
}

extension MetricSource {
    package nonisolated(nonsending) func readAll(_ requests: [MetricRequest]) async -> [String: MetricReading] {
        var readings: [String: MetricReading] = [:]
        for request in requests { readings[request.gate.name] = await read(request.gate, values: request.values) }
        return readings
    }
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
            let why = gate.kind == .cloudWatch || gate.kind == .cloudWatchAlarm
                ? " (CloudWatch gates read with the AWS fleet's credentials: a worker with --fleet aws)" : ""
            return MetricReading(error: "\(gate.name): this worker has no \(gate.kind.rawValue) source\(why)")
        }
        return await source.read(gate, values: values)
    }

    /// All at once (at most the plan's 8 metric gates): each source bounds its own time.
    package nonisolated(nonsending) func readAll(_ requests: [MetricRequest]) async -> [String: MetricReading] {
        await withTaskGroup(of: (String, MetricReading).self) { group in
            for request in requests {
                group.addTask { (request.gate.name, await self.readConcurrently(request.gate, values: request.values)) }
            }
            var readings: [String: MetricReading] = [:]
            for await (name, reading) in group { readings[name] = reading }
            return readings
        }
    }

    @concurrent
    func readConcurrently(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        await read(gate, values: values)
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
