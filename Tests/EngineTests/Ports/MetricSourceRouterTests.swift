import Engine
import Foundation
import RolloutCore
import Testing

/// `MetricSourceRouter`: each gate to its provider's source, all of a poll's gates at once.
@Suite struct MetricSourceRouterTests {
    /// Answers only once `expected` reads are in flight together: reading one after another never gets there.
    actor Rendezvous {
        let expected: Int
        var arrived = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []

        init(expected: Int) { self.expected = expected }

        func arrive() async -> Bool {
            arrived += 1
            if arrived == expected {
                for continuation in waiting { continuation.resume(returning: true) }
                waiting = []
                return true
            }
            return await withCheckedContinuation { waiting.append($0) }
        }

        /// Releases whoever waits (the test's bounded deadline), reporting that the meeting never happened.
        func giveUp() {
            for continuation in waiting { continuation.resume(returning: false) }
            waiting = []
        }
    }

    struct MeetingSource: MetricSource {
        let rendezvous: Rendezvous
        let value: Double

        func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
            await rendezvous.arrive() ? MetricReading(value: value) : MetricReading(error: "read alone")
        }
    }

    @Test("a poll's gates are read at once, each by its provider's source; a provider without one is an error")
    func concurrentAndRouted() async throws {
        let rendezvous = Rendezvous(expected: 2)
        let router = MetricSourceRouter([.prometheus: MeetingSource(rendezvous: rendezvous, value: 1),
                                         .httpJSON: MeetingSource(rendezvous: rendezvous, value: 2)])
        var prometheus = MetricGate(name: "p", url: "https://p", pointer: "", max: 1)
        prometheus.provider = .prometheus
        var alarms = MetricGate(name: "a", url: "", pointer: "", max: 0)
        alarms.provider = .cloudWatchAlarm
        let json = MetricGate(name: "j", url: "https://j", pointer: "/x", max: 1)
        let deadline = Task {
            try await Task.sleep(nanoseconds: 20_000_000_000)
            await rendezvous.giveUp()
        }
        let values = MetricQueryTemplate.Values(stage: "canary", rolloutId: "r", version: "1")
        let readings = await router.readAll([prometheus, json, alarms].map { MetricRequest($0, values: values) })
        deadline.cancel()
        #expect(readings["p"] == MetricReading(value: 1))
        #expect(readings["j"] == MetricReading(value: 2))
        #expect(readings["a"]?.error?.contains("this worker has no cloudWatchAlarm source") == true)
    }
}
