import Foundation

/// A gate evaluation's outcome.
package enum Verdict: String, Codable, Sendable, Equatable {
    /// The stage met every criterion; the next one may start.
    case pass
    /// A criterion is broken: cancel, then roll back or pause (plan's `onFailure`).
    case fail
    /// Not enough evidence yet, or the bake is not over.
    case wait
    /// Evidence did not arrive in time (`schedule.evidenceTimeout`): pause for a human.
    case inconclusive
}

/// One criterion's verdict and the numbers it saw, persisted so a human can see why.
package struct GateResult: Codable, Equatable, Sendable {
    /// `failed`, `timedOut`, `rejected`, `executed`, `completed`, or `metric:<name>`.
    package var gate: String
    package var verdict: Verdict
    package var observed: Double?
    package var limit: Double?
    package var reason: String
    /// The sequential test's numbers (`method: sequential`): posterior probability that the failure rate is above the
    /// limit, the confidence it was judged with (both 0…1), and outcomes without a failure still needed to pass.
    package var probabilityAbove: Double?
    package var confidence: Double?
    package var outcomesNeeded: Int?

    package init(gate: String, verdict: Verdict, observed: Double?, limit: Double?, reason: String,
                probabilityAbove: Double? = nil, confidence: Double? = nil, outcomesNeeded: Int? = nil) {
        self.gate = gate
        self.verdict = verdict
        self.observed = observed
        self.limit = limit
        self.reason = reason
        self.probabilityAbove = probabilityAbove
        self.confidence = confidence
        self.outcomesNeeded = outcomesNeeded
    }
}

/// The verdict of a stage's gates as a whole, with each criterion's result.
package struct GateEvaluation: Codable, Equatable, Sendable {
    package var verdict: Verdict
    package var results: [GateResult]

    package init(verdict: Verdict, results: [GateResult]) {
        self.verdict = verdict
        self.results = results
    }

    /// The results that decided the verdict, for one-line summaries.
    package var deciding: [GateResult] { results.filter { $0.verdict == verdict } }

    package var summary: String {
        let reasons = deciding.map(\.reason)
        return reasons.isEmpty ? verdict.rawValue : "\(verdict.rawValue): \(reasons.joined(separator: "; "))"
    }
}

/// What the gates look at when judging a stage.
package struct GateEvidence: Equatable, Sendable {
    package var progress: JobProgress
    package var stageDevices: Int
    /// Metric gate name → value read, or why it could not be read. A missing entry means not read yet.
    package var metrics: [String: Result<Double, MetricReadError>]
    package var bakeOver: Bool
    /// True once the bake plus `schedule.evidenceTimeout` has passed.
    package var evidenceExpired: Bool

    package init(progress: JobProgress, stageDevices: Int, metrics: [String: Result<Double, MetricReadError>],
                bakeOver: Bool, evidenceExpired: Bool) {
        self.progress = progress
        self.stageDevices = stageDevices
        self.metrics = metrics
        self.bakeOver = bakeOver
        self.evidenceExpired = evidenceExpired
    }
}

/// Pure gate evaluation.
///
/// Rules: a broken limit fails at once, even during the bake (as soon as `executedMin` outcomes exist);
/// a pass needs the bake over, enough outcomes and every metric within bounds; a wait past the
/// evidence deadline becomes inconclusive. Combined: any fail → fail, else any wait/inconclusive, else pass.
package enum GateEvaluator {
    package static func assess(_ gates: GateSet, evidence: GateEvidence) -> GateEvaluation {
        var results = assessOutcomes(gates.jobOutcomes, evidence: evidence)
        for metric in gates.metrics {
            results.append(assessMetric(metric, evidence: evidence))
        }
        let verdicts = Set(results.map(\.verdict))
        var verdict: Verdict
        if verdicts.contains(.fail) {
            verdict = .fail
        } else if verdicts.contains(.inconclusive) {
            verdict = .inconclusive
        } else if verdicts.contains(.wait) {
            verdict = evidence.evidenceExpired ? .inconclusive : .wait
        } else {
            verdict = .pass
        }
        if verdict == .inconclusive {
            // Mark the criteria that were still waiting, so the summary says what was missing.
            results = results.map { result in
                var result = result
                if result.verdict == .wait {
                    result.verdict = .inconclusive
                    result.reason += " (no evidence before the deadline)"
                }
                return result
            }
        }
        return GateEvaluation(verdict: verdict, results: results)
    }

    static func assessOutcomes(_ gate: OutcomeGate, evidence: GateEvidence) -> [GateResult] {
        let progress = evidence.progress
        let executed = progress.executed
        let executedNeeded = min(gate.executedMin, evidence.stageDevices)
        var results: [GateResult] = []
        if executed < executedNeeded || executed == 0 {
            let reason = "\(executed) of \(executedNeeded) executions needed before judging"
            results.append(GateResult(gate: "executed", verdict: evidence.stageDevices == 0 ? .pass : .wait,
                                      observed: Double(executed), limit: Double(executedNeeded), reason: reason))
            return results
        }
        let shares: [(String, Int, Double)] = [
            ("failed", progress.failed, gate.failedMaxPercent),
            ("timedOut", progress.timedOut, gate.timedOutMaxPercent),
            ("rejected", progress.rejected, gate.rejectedMaxPercent),
        ]
        for (name, count, limit) in shares {
            if name == "failed", gate.method == .sequential {
                results.append(assessSequentially(gate, executed: executed, failed: count, inProgress: progress.inProgress,
                                                  stageDevices: evidence.stageDevices, bakeOver: evidence.bakeOver))
                continue
            }
            let share = 100 * Double(count) / Double(executed)
            let broken = share > limit
            results.append(GateResult(
                gate: name, verdict: broken ? .fail : (evidence.bakeOver ? .pass : .wait), observed: share,
                limit: limit,
                reason: "\(name) \(format(share))% of \(executed) executed (max \(format(limit))%)"
                    + (broken || evidence.bakeOver ? "" : ", baking")))
        }
        let completedShare = evidence.stageDevices == 0 ? 100 : 100 * Double(executed) / Double(evidence.stageDevices)
        let completedEnough = completedShare + 1e-9 >= gate.completedMinPercent
        results.append(GateResult(
            gate: "completed", verdict: completedEnough ? (evidence.bakeOver ? .pass : .wait) : .wait,
            observed: completedShare, limit: gate.completedMinPercent,
            reason: "\(format(completedShare))% of \(evidence.stageDevices) devices have an outcome "
                + "(min \(format(gate.completedMinPercent))%)"))
        return results
    }

    /// The failed share by `SequentialOutcomeTest`: fails when the evidence says the rate is above the limit with
    /// the confidence, passes (once the bake is over) when it says it is below, waits otherwise, naming how many more
    /// outcomes without a failure would pass.
    static func assessSequentially(_ gate: OutcomeGate, executed: Int, failed: Int, inProgress: Int, stageDevices: Int,
                                   bakeOver: Bool) -> GateResult {
        let confidence = (gate.confidencePercent ?? OutcomeGate.confidencePercentDefault) / 100
        let judgement = SequentialOutcomeTest.judge(executed: executed, failed: failed, inProgress: inProgress,
                                                    limit: gate.failedMaxPercent / 100, confidence: confidence)
        let share = 100 * Double(failed) / Double(executed)
        let evidence = "failed \(failed) of \(executed) executed (\(format(share))%)"
            + (inProgress > 0 ? ", \(inProgress) in progress" : "") + ": P(failure rate > "
            + "\(format(gate.failedMaxPercent))%) = \(format(judgement.probabilityAbove * 100))%, "
            + "judged at \(format(confidence * 100))% confidence"
        let verdict: Verdict
        var reason = evidence
        switch judgement.decision {
        case .fail:
            verdict = .fail
        case .pass:
            verdict = bakeOver ? .pass : .wait
            if !bakeOver { reason += ", baking" }
        case .undecided:
            verdict = .wait
            let left = max(0, stageDevices - executed - inProgress)
            if let needed = judgement.outcomesNeeded, needed <= left {
                reason += ", \(needed) more successes needed to pass"
            } else {
                // Said plainly: waiting cannot help; the stage ends inconclusive, for a person.
                reason += ", \(judgement.outcomesNeeded.map(String.init) ?? "too many") more successes needed to pass: "
                    + "more than this stage's \(stageDevices) devices can give (a larger stage, a lower confidence or "
                    + "a higher failedMaxPercent decides)"
            }
        }
        return GateResult(gate: "failed", verdict: verdict, observed: share, limit: gate.failedMaxPercent,
                          reason: reason, probabilityAbove: judgement.probabilityAbove, confidence: confidence,
                          outcomesNeeded: judgement.outcomesNeeded)
    }

    static func assessMetric(_ metric: MetricGate, evidence: GateEvidence) -> GateResult {
        let gate = "metric:\(metric.name)"
        guard let reading = evidence.metrics[metric.name] else {
            return GateResult(gate: gate, verdict: .wait, observed: nil, limit: metric.max ?? metric.min,
                              reason: "\(metric.name) not read yet")
        }
        switch reading {
        case .failure(let error):
            return GateResult(gate: gate, verdict: .wait, observed: nil, limit: metric.max ?? metric.min,
                              reason: "\(metric.name) unreadable: \(error.message)")
        case .success(let value):
            if let max = metric.max, value > max {
                return GateResult(gate: gate, verdict: .fail, observed: value, limit: max,
                                  reason: "\(metric.name) \(format(value)) above max \(format(max))")
            }
            if let min = metric.min, value < min {
                return GateResult(gate: gate, verdict: .fail, observed: value, limit: min,
                                  reason: "\(metric.name) \(format(value)) below min \(format(min))")
            }
            return GateResult(gate: gate, verdict: evidence.bakeOver ? .pass : .wait, observed: value,
                              limit: metric.max ?? metric.min,
                              reason: "\(metric.name) \(format(value)) within bounds" + (evidence.bakeOver ? "" : ", baking"))
        }
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e12 { return String(Int(value)) }
        let text = String(format: "%.4g", value)
        return text
    }
}
