import Foundation
import Testing
@testable import RolloutCore

@Suite struct GateEvaluatorTests {
    let gates = GateSet(jobOutcomes: OutcomeGate(failedMaxPercent: 5, timedOutMaxPercent: 5, rejectedMaxPercent: 5,
                                                 executedMin: 10, completedMinPercent: 90),
                        metrics: [MetricGate(name: "crash-rate", url: "sim://health", pointer: "/x", max: 0.01)])

    func evidence(succeeded: Int = 0, failed: Int = 0, timedOut: Int = 0, queued: Int = 0, devices: Int = 100,
                  metric: Double? = 0.001, bakeOver: Bool = true, expired: Bool = false) -> GateEvidence {
        GateEvidence(progress: JobProgress(queued: queued, succeeded: succeeded, failed: failed, timedOut: timedOut),
                     stageDevices: devices,
                     measurements: metric.map { ["crash-rate": Self.tally(gates.metrics[0], .init(value: $0))] } ?? [:],
                     bakeOver: bakeOver, evidenceExpired: expired)
    }

    /// The tally of `readings` measured one minute apart.
    static func tally(_ gate: MetricGate, _ readings: MetricReading...) -> MetricTally {
        var tally = MetricTally()
        for (index, reading) in readings.enumerated() {
            tally.record(reading, gate: gate, at: Date(timeIntervalSince1970: 60 * Double(index)))
        }
        return tally
    }

    @Test func waitsForMinimumExecutions() {
        let evaluation = GateEvaluator.assess(gates, evidence: evidence(succeeded: 5, queued: 95))
        #expect(evaluation.verdict == .wait)
        #expect(evaluation.results.first?.gate == "executed")
        #expect(evaluation.results.first?.observed == 5)
    }

    @Test func failsAtOnceEvenWhileBaking() {
        let evaluation = GateEvaluator.assess(gates, evidence: evidence(succeeded: 8, failed: 2, queued: 90, bakeOver: false))
        #expect(evaluation.verdict == .fail)
        let failed = evaluation.results.first { $0.gate == "failed" }
        #expect(failed?.observed == 20)
        #expect(failed?.limit == 5)
        #expect(evaluation.summary.contains("failed 20% of 10 executed"))
    }

    @Test func passesOnlyAfterBakeAndEnoughCompletion() {
        #expect(GateEvaluator.assess(gates, evidence: evidence(succeeded: 100, bakeOver: false)).verdict == .wait)
        #expect(GateEvaluator.assess(gates, evidence: evidence(succeeded: 80, queued: 20)).verdict == .wait)
        #expect(GateEvaluator.assess(gates, evidence: evidence(succeeded: 90, queued: 10)).verdict == .pass)
    }

    @Test func limitIsInclusive() {
        #expect(GateEvaluator.assess(gates, evidence: evidence(succeeded: 95, failed: 5)).verdict == .pass)
        #expect(GateEvaluator.assess(gates, evidence: evidence(succeeded: 94, failed: 6)).verdict == .fail)
    }

    @Test func metricAboveMaxFails() {
        let evaluation = GateEvaluator.assess(gates, evidence: evidence(succeeded: 100, metric: 0.05))
        #expect(evaluation.verdict == .fail)
        #expect(evaluation.deciding.map(\.gate) == ["metric:crash-rate"])
    }

    @Test func minThresholdFailsBelow() {
        let gates = GateSet(metrics: [MetricGate(name: "online", url: "sim://h", pointer: "/o", min: 95)])
        let low = GateEvidence(progress: JobProgress(succeeded: 20), stageDevices: 20, measurements: ["online": Self.tally(gates.metrics[0], .init(value: 90))],
                               bakeOver: true, evidenceExpired: false)
        #expect(GateEvaluator.assess(gates, evidence: low).verdict == .fail)
    }

    @Test func unreadableMetricWaitsThenTurnsInconclusive() {
        var unreadable = evidence(succeeded: 100, metric: nil)
        unreadable.measurements = ["crash-rate": Self.tally(gates.metrics[0], .init(error: "connection refused"))]
        #expect(GateEvaluator.assess(gates, evidence: unreadable).verdict == .wait)
        unreadable.evidenceExpired = true
        let evaluation = GateEvaluator.assess(gates, evidence: unreadable)
        #expect(evaluation.verdict == .inconclusive)
        #expect(evaluation.summary.contains("connection refused"))
    }

    @Test func smallStageNeedsOnlyItsOwnSize() {
        let evaluation = GateEvaluator.assess(gates, evidence: evidence(succeeded: 3, devices: 3))
        #expect(evaluation.verdict == .pass)
    }

    @Test func jsonPointerReadsNumbers() throws {
        let data = Data(#"{"a": {"b/c": [1, 2.5]}, "t": true, "s": "0.3"}"#.utf8)
        #expect(try JSONPointer.number(at: "/a/b~1c/1", inJSON: data).get() == 2.5)
        #expect(try JSONPointer.number(at: "/s", inJSON: data).get() == 0.3)
        #expect((try? JSONPointer.number(at: "/t", inJSON: data).get()) == nil)
        #expect((try? JSONPointer.number(at: "/missing", inJSON: data).get()) == nil)
        #expect(!JSONPointer.isValid("a/b"))
        #expect(!JSONPointer.isValid("/a~2"))
    }
}
