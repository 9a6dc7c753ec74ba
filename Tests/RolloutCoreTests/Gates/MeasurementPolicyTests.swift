import Foundation
import Testing
@testable import RolloutCore

/// The Argo-style semantics of metric gates: when a measurement is due, and how measurements decide.
@Suite struct MeasurementPolicyTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func gate(_ policy: MeasurementPolicy, dryRun: Bool = false) -> MetricGate {
        var gate = MetricGate(name: "crash-rate", url: "sim://health", pointer: "/x", max: 0.01)
        gate.measurement = policy
        gate.dryRun = dryRun ? true : nil
        return gate
    }

    func tally(_ gate: MetricGate, _ values: [Double?]) -> MetricTally {
        var tally = MetricTally()
        for (index, value) in values.enumerated() {
            let reading = value.map { MetricReading(value: $0, input: "q") } ?? MetricReading(error: "timed out", input: "q")
            tally.record(reading, gate: gate, at: start.addingTimeInterval(60 * Double(index)))
        }
        return tally
    }

    func verdict(_ gate: MetricGate, _ values: [Double?], bakeOver: Bool = true) -> GateResult {
        GateEvaluator.assessMetric(gate, evidence: GateEvidence(
            progress: JobProgress(succeeded: 10), stageDevices: 10, measurements: [gate.name: tally(gate, values)],
            bakeOver: bakeOver, evidenceExpired: false))
    }

    @Test("initialDelay holds the first measurement; interval spaces them; count stops them")
    func due() {
        let policy = MeasurementPolicy(intervalSeconds: 300, count: 2, initialDelaySeconds: 600)
        #expect(!policy.isDue(tally: nil, bakeStartedAt: start, now: start.addingTimeInterval(599)))
        #expect(policy.isDue(tally: nil, bakeStartedAt: start, now: start.addingTimeInterval(600)))
        var tally = MetricTally()
        tally.record(MetricReading(value: 0), gate: gate(policy), at: start.addingTimeInterval(600))
        #expect(!policy.isDue(tally: tally, bakeStartedAt: start, now: start.addingTimeInterval(899)))
        #expect(policy.isDue(tally: tally, bakeStartedAt: start, now: start.addingTimeInterval(900)))
        tally.record(MetricReading(value: 0), gate: gate(policy), at: start.addingTimeInterval(900))
        #expect(!policy.isDue(tally: tally, bakeStartedAt: start, now: start.addingTimeInterval(99_999)), "count reached")
        let every = MeasurementPolicy()
        let measured = start.addingTimeInterval(900)
        #expect(!every.isDue(tally: tally, bakeStartedAt: start, now: measured, defaultIntervalSeconds: 60),
                "no interval: once per poll interval, never twice at one instant (a restarted worker)")
        #expect(every.isDue(tally: tally, bakeStartedAt: start, now: measured.addingTimeInterval(60), defaultIntervalSeconds: 60))
    }

    @Test("failureLimit tolerates that many failed measurements; one more fails the gate, even while baking")
    func failureLimit() {
        let tolerant = gate(MeasurementPolicy(failureLimit: 1))
        #expect(verdict(tolerant, [0.02, 0.001], bakeOver: false).verdict == .wait)
        let failed = verdict(tolerant, [0.02, 0.001, 0.03], bakeOver: false)
        #expect(failed.verdict == .fail)
        #expect(failed.observed == 0.03)
        #expect(failed.reason == "crash-rate 0.03 above max 0.01 (2 of 3 measurements failed, failureLimit 1)")
        #expect(verdict(gate(MeasurementPolicy()), [0.02]).verdict == .fail, "the default limit 0: the first fails")
    }

    @Test("errors are not failures: more than consecutiveErrorLimit in a row is inconclusive; a success resets them")
    func consecutiveErrors() {
        let policy = gate(MeasurementPolicy(consecutiveErrorLimit: 2))
        #expect(verdict(policy, [nil, nil]).verdict == .wait)
        #expect(verdict(policy, [nil, nil, 0.001, nil, nil], bakeOver: false).verdict == .wait,
                "the success in between resets the run")
        let stuck = verdict(policy, [0.001, nil, nil, nil])
        #expect(stuck.verdict == .inconclusive)
        #expect(stuck.reason == "crash-rate unreadable 3 times in a row (consecutiveErrorLimit 2): timed out")
        #expect(verdict(gate(MeasurementPolicy()), [nil, nil, nil, nil]).verdict == .wait, "Argo's default limit is 4")
        #expect(verdict(gate(MeasurementPolicy()), [nil, nil, nil, nil, nil]).verdict == .inconclusive)
    }

    @Test("count: the gate passes once its measurements are taken, before the bake ends; else it waits for the bake")
    func count() {
        let counted = gate(MeasurementPolicy(count: 3))
        #expect(verdict(counted, [0.001, 0.002], bakeOver: false).verdict == .wait)
        #expect(verdict(counted, [0.001, 0.002, 0.001], bakeOver: false).verdict == .pass)
        #expect(verdict(gate(MeasurementPolicy()), [0.001, 0.002, 0.001], bakeOver: false).verdict == .wait)
        #expect(verdict(gate(MeasurementPolicy()), [0.001], bakeOver: true).verdict == .pass)
        #expect(verdict(gate(MeasurementPolicy()), [0.001, nil], bakeOver: true).verdict == .pass,
                "as Argo: an error within the limit does not hold a pass")
        #expect(verdict(gate(MeasurementPolicy()), [nil, nil], bakeOver: true).verdict == .wait,
                "no readable measurement yet: nothing shows the metric is fine")
        let tolerant = gate(MeasurementPolicy(count: 3, failureLimit: 1))
        let tolerated = verdict(tolerant, [0.001, 0.001, 0.02], bakeOver: false)
        #expect(tolerated.verdict == .pass, "count reached with failures within the limit")
        #expect(tolerated.reason == "crash-rate 0.02 out of bounds, tolerated (1 of 3 measurements failed, failureLimit 1)")
        #expect(verdict(gate(MeasurementPolicy(count: 2)), [nil, nil]).verdict == .inconclusive,
                "a count of unreadable measurements shows nothing")
    }

    @Test("consecutiveSuccessLimit: a pass needs that many successes in a row; a count spent without them is inconclusive")
    func consecutiveSuccesses() {
        let streak = gate(MeasurementPolicy(failureLimit: 2, consecutiveSuccessLimit: 3))
        let waiting = verdict(streak, [0.001, 0.02, 0.001, 0.001])
        #expect(waiting.verdict == .wait)
        #expect(waiting.reason.hasSuffix("2 of 3 successes in a row"))
        #expect(verdict(streak, [0.001, 0.02, 0.001, 0.001, 0.001]).verdict == .pass)
        let spent = gate(MeasurementPolicy(count: 4, failureLimit: 2, consecutiveSuccessLimit: 3))
        let inconclusive = verdict(spent, [0.001, 0.001, 0.02, 0.001])
        #expect(inconclusive.verdict == .inconclusive)
        #expect(inconclusive.reason.contains("4 measurements taken without 3 successful ones in a row"))
    }

    @Test("a dry-run gate is judged and shown but decides nothing")
    func dryRun() {
        var gates = GateSet(jobOutcomes: OutcomeGate(executedMin: 1))
        let trial = gate(MeasurementPolicy(), dryRun: true)
        gates.metrics = [trial]
        let evaluation = GateEvaluator.assess(gates, evidence: GateEvidence(
            progress: JobProgress(succeeded: 10), stageDevices: 10, measurements: [trial.name: tally(trial, [0.5])],
            bakeOver: true, evidenceExpired: true))
        #expect(evaluation.verdict == .pass)
        let result = evaluation.results.first { $0.gate == "metric:crash-rate" }
        #expect(result?.verdict == .fail)
        #expect(result?.dryRun == true)
        #expect(result?.reason == "dry run, not acted on: crash-rate 0.5 above max 0.01")
        #expect(evaluation.deciding.allSatisfy { $0.dryRun != true })
        let unmeasured = GateEvaluator.assess(gates, evidence: GateEvidence(
            progress: JobProgress(succeeded: 10), stageDevices: 10, bakeOver: true, evidenceExpired: true))
        #expect(unmeasured.verdict == .pass, "a dry-run gate never holds a stage either")
    }

    @Test("a tally keeps its counts and only the last measurements, each with its input")
    func tallyIsBounded() {
        let plain = gate(MeasurementPolicy())
        let long = tally(plain, (0..<25).map { $0 % 5 == 0 ? nil : 0.001 * Double($0) })
        #expect(long.taken == 25)
        #expect(long.errors == 5)
        #expect(long.recent.count == MetricTally.recentKept)
        #expect(long.recent.last?.input == "q")
        #expect(long.recent.last?.at == start.addingTimeInterval(60 * 24))
        let fresh = long.restarted()
        #expect(fresh.taken == 25 && fresh.takenTowardsCount == 0 && fresh.consecutiveErrors == 0)
        #expect(fresh.failures == long.failures && fresh.recent == long.recent, "resuming forgives no failure")
    }
}

@Suite struct OutcomeBaselineTests {
    @Test("history counts only finished rollouts of the rollback version, same firmware and fleet, not itself")
    func fromHistory() throws {
        let plan = try parsePlan(planText(extra: "gates: {jobOutcomes: {baseline: previous}}"))
        #expect(OutcomeBaseline.isWanted(by: plan))
        func earlier(_ version: String, group: String = "fleet", phase: RolloutPhase = .completed, id: String,
                     failed: Int) throws -> (plan: RolloutPlan, state: RolloutState) {
            let text = planText().replacingOccurrences(of: "version: 2.0.0", with: "version: \(version)")
                .replacingOccurrences(of: "fw/2.0.0.bin", with: "fw/\(version).bin")
                .replacingOccurrences(of: "thingGroup: fleet", with: "thingGroup: \(group)")
                .replacingOccurrences(of: "rollback: {version: 1.0.0", with: "rollback: {version: 0.9.0")
            var state = RolloutState(rolloutId: id, stageNames: ["canary"], createdAt: Date())
            state.phase = phase
            state.stages[0].progress = JobProgress(succeeded: 100 - failed, failed: failed)
            return (try parsePlan(text), state)
        }
        let history = [
            try earlier("1.0.0", id: "a", failed: 3), try earlier("1.0.0", id: "b", failed: 5),
            try earlier("1.0.0", group: "other-fleet", id: "c", failed: 50),
            try earlier("1.0.0", phase: .baking, id: "d", failed: 50), try earlier("1.1.0", id: "e", failed: 50),
        ]
        #expect(OutcomeBaseline.from(history: history, for: plan, excluding: "b")
                == OutcomeBaseline(version: "1.0.0", executed: 100, failed: 3, rolloutIds: ["a"]))
        #expect(OutcomeBaseline.from(history: history, for: plan, excluding: "x")?.executed == 200)
    }
}
