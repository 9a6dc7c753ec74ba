import Foundation
import Testing
@testable import RolloutCore

/// The statistical job-outcome gate: the incomplete beta against closed forms and binomial sums, the documented
/// worked example, and the gate as the evaluator and the parser see it. Its error rates are measured by
/// `rollout bench --gates` (10,000 trials per rate), not here.
@Suite struct SequentialOutcomeTestTests {
    @Test("I_x(a, b) matches its closed forms and a binomial sum")
    func incompleteBetaIsRight() {
        let beta = SequentialOutcomeTest.regularizedIncompleteBeta
        #expect(abs(beta(0.5, 1, 1) - 0.5) < 1e-12)
        for x in [0.01, 0.05, 0.3, 0.9] {
            #expect(abs(beta(x, 1, 20) - (1 - pow(1 - x, 20))) < 1e-12, "I_x(1, b) = 1 − (1 − x)^b")
            #expect(abs(beta(x, 7, 1) - pow(x, 7)) < 1e-12, "I_x(a, 1) = x^a")
            #expect(abs(beta(x, 3, 9) + beta(1 - x, 9, 3) - 1) < 1e-12, "symmetry")
        }
        // I_p(k, n − k + 1) = P(Binomial(n, p) ≥ k): n = 11, p = 0.05, k = 2 → 1 − 0.95^11 − 11·0.05·0.95^10.
        let binomial = 1 - pow(0.95, 11) - 11 * 0.05 * pow(0.95, 10)
        #expect(abs(beta(0.05, 2, 10) - binomial) < 1e-12)
        #expect(beta(0, 2, 3) == 0 && beta(1, 2, 3) == 1)
        // Large counts converge (a fleet-sized stage).
        let large = beta(0.05, 5_001, 95_001)
        #expect(large > 0.4 && large < 0.6, "the posterior of 5% failed of 100,000 sits at the 5% limit: \(large)")
    }

    @Test("the README's worked example: limit 5%, 95% confidence")
    func workedExample() {
        let none = SequentialOutcomeTest.judge(executed: 10, failed: 0, limit: 0.05, confidence: 0.95)
        #expect(none.decision == .undecided)
        #expect(abs(none.probabilityAbove - pow(0.95, 11)) < 1e-12)
        #expect(none.outcomesNeeded == 48)
        let enough = SequentialOutcomeTest.judge(executed: 58, failed: 0, limit: 0.05, confidence: 0.95)
        #expect(enough.decision == .pass && enough.probabilityAbove < 0.05)
        #expect(SequentialOutcomeTest.judge(executed: 57, failed: 0, limit: 0.05, confidence: 0.95).decision == .undecided)
        let one = SequentialOutcomeTest.judge(executed: 10, failed: 1, limit: 0.05, confidence: 0.95)
        #expect(one.decision == .undecided && abs(one.probabilityAbove - 0.898) < 0.001)
        let two = SequentialOutcomeTest.judge(executed: 10, failed: 2, limit: 0.05, confidence: 0.95)
        #expect(two.decision == .fail && abs(two.probabilityAbove - 0.985) < 0.001)
    }

    @Test("no failure never fails, however small the limit (the prior alone sits above it)")
    func noFailureNeverFails() {
        for limit in [0.001, 0.005, 0.01] {
            for executed in [1, 4, 10, 50, 500] {
                let judgement = SequentialOutcomeTest.judge(executed: executed, failed: 0, limit: limit, confidence: 0.95)
                #expect(judgement.decision != .fail, "limit \(limit), 0 of \(executed)")
            }
            #expect(SequentialOutcomeTest.judge(executed: 10, failed: 1, limit: limit, confidence: 0.95).decision == .fail)
        }
    }

    @Test("a stage too small to pass says so instead of promising successes it cannot have")
    func tooSmallToPass() throws {
        let gates = try self.gates("{method: sequential, failedMaxPercent: 5, executedMin: 1, completedMinPercent: 0}")
        let evaluation = GateEvaluator.assess(gates, evidence: GateEvidence(
            progress: JobProgress(succeeded: 20), stageDevices: 20, bakeOver: true, evidenceExpired: false))
        #expect(evaluation.verdict == .wait)
        let failed = try #require(evaluation.results.first { $0.gate == "failed" })
        #expect(failed.reason.contains("more than this stage's 20 devices can give"), "\(failed.reason)")
    }

    @Test("devices in progress count as successes for failing and as failures for passing")
    func inProgressDevicesAreNeitherEvidenceOfFailureNorOfSuccess() {
        // 1 early failure among 5 finished: alone that would fail (P ≈ 97%); 45 more are still installing.
        let finishedOnly = SequentialOutcomeTest.judge(executed: 5, failed: 1, limit: 0.05, confidence: 0.95)
        #expect(finishedOnly.decision == .fail)
        let inFlight = SequentialOutcomeTest.judge(executed: 5, failed: 1, inProgress: 45, limit: 0.05, confidence: 0.95)
        #expect(inFlight.decision == .undecided)
        // 0 failures among 60 finished passes, unless 10 more are in progress and might all fail.
        #expect(SequentialOutcomeTest.judge(executed: 60, failed: 0, limit: 0.05, confidence: 0.95).decision == .pass)
        let unfinished = SequentialOutcomeTest.judge(executed: 60, failed: 0, inProgress: 10, limit: 0.05, confidence: 0.95)
        #expect(unfinished.decision == .undecided && (unfinished.outcomesNeeded ?? 0) > 0)
    }

    @Test("more failures never make the evidence look better; more successes never worse")
    func monotone() {
        for executed in stride(from: 1, through: 400, by: 13) {
            var previous = -1.0
            for failed in 0...executed {
                let above = SequentialOutcomeTest.probabilityAbove(executed: executed, failed: failed, limit: 0.02)
                #expect(above >= previous - 1e-12)
                #expect(above >= 0 && above <= 1)
                previous = above
            }
            let later = SequentialOutcomeTest.probabilityAbove(executed: executed + 1, failed: 0, limit: 0.02)
            #expect(later <= SequentialOutcomeTest.probabilityAbove(executed: executed, failed: 0, limit: 0.02))
        }
    }

    func gates(_ outcomes: String) throws -> GateSet {
        try parsePlan(planText(extra: "gates:\n  jobOutcomes: \(outcomes)")).gates
    }

    @Test("as a gate: fails at once on strong evidence, waits on thin evidence naming what it needs, passes after the bake")
    func asAGate() throws {
        let gates = try gates("{method: sequential, failedMaxPercent: 5, executedMin: 1, completedMinPercent: 0}")
        #expect(gates.jobOutcomes.method == .sequential)
        func assess(succeeded: Int, failed: Int, bakeOver: Bool) -> GateEvaluation {
            GateEvaluator.assess(gates, evidence: GateEvidence(
                progress: JobProgress(queued: 1000, succeeded: succeeded, failed: failed), stageDevices: 1000 + succeeded + failed,
                bakeOver: bakeOver, evidenceExpired: false))
        }
        let thin = assess(succeeded: 10, failed: 0, bakeOver: true)
        #expect(thin.verdict == .wait)
        let failed = try #require(thin.results.first { $0.gate == "failed" })
        #expect(failed.outcomesNeeded == 48 && failed.confidence == 0.95)
        #expect(failed.reason.contains("48 more successes needed to pass"), "\(failed.reason)")
        #expect(assess(succeeded: 8, failed: 2, bakeOver: false).verdict == .fail, "fails during the bake")
        #expect(assess(succeeded: 60, failed: 0, bakeOver: false).verdict == .wait, "passes only after the bake")
        #expect(assess(succeeded: 60, failed: 0, bakeOver: true).verdict == .pass)
        // The threshold gate on the same counts: 1 of 10 fails it, 0 of 10 passes it.
        let threshold = try self.gates("{failedMaxPercent: 5, executedMin: 1, completedMinPercent: 0}")
        #expect(threshold.jobOutcomes.method == nil)
        let once = GateEvaluator.assess(threshold, evidence: GateEvidence(
            progress: JobProgress(succeeded: 9, failed: 1), stageDevices: 10, bakeOver: true,
            evidenceExpired: false))
        #expect(once.verdict == .fail)
    }

    @Test("the plan refuses a confidence without the sequential method, an unknown method, and a 0% limit")
    func badInputIsNamed() throws {
        #expect(try gates("{method: sequential, confidence: 99}").jobOutcomes.confidencePercent == 99)
        for (outcomes, field, words) in [
            ("{confidence: 90}", "gates.jobOutcomes.confidence", "method: sequential"),
            ("{method: bayes}", "gates.jobOutcomes.method", "threshold (the default) or sequential"),
            ("{method: sequential, failedMaxPercent: 0}", "gates.jobOutcomes.failedMaxPercent", "above 0%"),
            ("{method: sequential, confidence: 40}", "gates.jobOutcomes.confidence", "50.1"),
        ] {
            do {
                _ = try gates(outcomes)
                Issue.record("expected an error for \(outcomes)")
            } catch let error as PlanError {
                #expect(error.issues.contains { $0.field == field && $0.message.contains(words) }, "\(error)")
            }
        }
    }
}

/// `baseline: previous`: the tolerated rate is the previous firmware's plus a margin, with its own uncertainty.
@Suite struct SequentialBaselineTests {
    @Test("a long history behaves like a known rate; a short one widens the doubt; the evaluator names the comparison")
    func baseline() {
        // 1% of a million: as good as knowing the previous rate is 1%; margin 1% ≈ a plain 2% limit.
        let known = SequentialOutcomeTest.probabilityAbove(executed: 200, failed: 6, baselineExecuted: 1_000_000,
                                                           baselineFailed: 10_000, margin: 0.01)
        let plain = SequentialOutcomeTest.probabilityAbove(executed: 200, failed: 6, limit: 0.02)
        #expect(abs(known - plain) < 0.01, "\(known) vs \(plain)")
        // 1 of 100 before: the previous rate itself is uncertain, so the same evidence is weaker.
        let short = SequentialOutcomeTest.probabilityAbove(executed: 200, failed: 6, baselineExecuted: 100,
                                                           baselineFailed: 1, margin: 0.01)
        #expect(short < known)
        // Clear cases decide.
        #expect(SequentialOutcomeTest.judge(executed: 200, failed: 40, baselineExecuted: 10_000, baselineFailed: 100,
                                            margin: 0.02, confidence: 0.95).decision == .fail)
        #expect(SequentialOutcomeTest.judge(executed: 500, failed: 5, baselineExecuted: 10_000, baselineFailed: 100,
                                            margin: 0.02, confidence: 0.95).decision == .pass)
        let undecided = SequentialOutcomeTest.judge(executed: 20, failed: 1, baselineExecuted: 10_000, baselineFailed: 100,
                                                    margin: 0.02, confidence: 0.95)
        #expect(undecided.decision == .undecided && (undecided.outcomesNeeded ?? 0) > 0)
    }

    @Test("threshold with a baseline: the limit is the previous rate plus failedMaxPercent")
    func thresholdWithBaseline() {
        var gate = OutcomeGate(failedMaxPercent: 2, executedMin: 10)
        gate.baseline = .previous
        let evidence = GateEvidence(progress: JobProgress(succeeded: 92, failed: 8), stageDevices: 100,
                                    baseline: OutcomeBaseline(version: "2.0.3", executed: 1000, failed: 70, rolloutIds: ["r"]),
                                    bakeOver: true, evidenceExpired: false)
        let failed = GateEvaluator.assess(GateSet(jobOutcomes: gate), evidence: evidence).results.first { $0.gate == "failed" }
        #expect(failed?.verdict == .pass, "8% ≤ 7% + 2%")
        #expect(failed?.limit == 9)
        #expect(failed?.reason == "failed 8% of 100 executed (max 9%; previous firmware 2.0.3: 7% of 1000)")
    }

    @Test("a measured baseline: the limit is the metric's rate plus the margin, taken as known; unreadable, the margin alone")
    func measuredBaseline() {
        var gate = OutcomeGate(failedMaxPercent: 2, executedMin: 10)
        gate.baseline = .metric
        func failed(_ baseline: OutcomeBaseline, _ progress: JobProgress) -> GateResult? {
            let evidence = GateEvidence(progress: progress, stageDevices: 100, baseline: baseline, bakeOver: true,
                                        evidenceExpired: false)
            return GateEvaluator.assess(GateSet(jobOutcomes: gate), evidence: evidence).results.first { $0.gate == "failed" }
        }
        let measured = OutcomeBaseline.measured(version: "2.0.3", reading: MetricReading(value: 7, input: "q"))
        let passing = failed(measured, JobProgress(succeeded: 92, failed: 8))
        #expect(passing?.verdict == .pass && passing?.limit == 9)
        #expect(passing?.reason == "failed 8% of 100 executed (max 9%; previous firmware 2.0.3: 7% measured)")

        let unreadable = OutcomeBaseline.measured(version: "2.0.3", reading: MetricReading(error: "no data", input: "q"))
        let strict = failed(unreadable, JobProgress(succeeded: 92, failed: 8))
        #expect(strict?.verdict == .fail && strict?.limit == 2)
        #expect(strict?.reason.hasSuffix("the previous firmware's rate is unreadable (no data): judged against "
                                         + "failedMaxPercent alone)") == true, "\(strict?.reason ?? "")")
        let notARate = OutcomeBaseline.measured(version: "2.0.3", reading: MetricReading(value: 250, input: "q"))
        #expect(notARate.measuredPercent == nil
                && notARate.measurement?.error == "jobOutcomes.baseline: 250.0 is not a failure rate in percent (0 to 100)")

        // Sequential against a measured rate: the plain test at rate + margin (here 9%), which 1 failure in 200 passes
        // and 40 in 200 fails; a rate near 100% never asks the test for a limit of 1.
        gate.method = .sequential
        #expect(failed(measured, JobProgress(succeeded: 199, failed: 1))?.verdict == .pass)
        #expect(failed(measured, JobProgress(succeeded: 160, failed: 40))?.verdict == .fail)
        let high = OutcomeBaseline.measured(version: "2.0.3", reading: MetricReading(value: 99.5, input: "q"))
        #expect(failed(high, JobProgress(succeeded: 50, failed: 50))?.verdict == .pass)
    }
}
