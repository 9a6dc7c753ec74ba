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
    /// `failed`, `timedOut`, `rejected`, `executed`, `completed`, `reporting`, or `metric:<name>`.
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
    /// A metric gate in dry run: its verdict is recorded and shown, never acted on.
    package var dryRun: Bool?

    package init(gate: String, verdict: Verdict, observed: Double?, limit: Double?, reason: String,
                probabilityAbove: Double? = nil, confidence: Double? = nil, outcomesNeeded: Int? = nil,
                dryRun: Bool? = nil) {
        self.dryRun = dryRun
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

    /// The results that decided the verdict, for one-line summaries (dry-run gates decide nothing).
    package var deciding: [GateResult] { results.filter { $0.verdict == verdict && $0.dryRun != true } }

    package var summary: String {
        let reasons = deciding.map(\.reason)
        return reasons.isEmpty ? verdict.rawValue : "\(verdict.rawValue): \(reasons.joined(separator: "; "))"
    }
}

/// What the gates look at when judging a stage.
package struct GateEvidence: Equatable, Sendable {
    package var progress: JobProgress
    package var stageDevices: Int
    /// Metric gate name → its measurements in this stage. A missing entry means not measured yet.
    package var measurements: [String: MetricTally]
    /// `schedule.minimumDevicesReporting`: devices that must have reported (an outcome or an execution under way).
    package var reportingMin: Int?
    /// The previous firmware's outcomes on this fleet (`baseline: previous`), as taken at preparation.
    package var baseline: OutcomeBaseline?
    package var bakeOver: Bool
    /// True once the bake plus `schedule.evidenceTimeout` has passed.
    package var evidenceExpired: Bool

    package init(progress: JobProgress, stageDevices: Int, measurements: [String: MetricTally] = [:],
                reportingMin: Int? = nil, baseline: OutcomeBaseline? = nil, bakeOver: Bool, evidenceExpired: Bool) {
        self.reportingMin = reportingMin
        self.baseline = baseline
        self.progress = progress
        self.stageDevices = stageDevices
        self.measurements = measurements
        self.bakeOver = bakeOver
        self.evidenceExpired = evidenceExpired
    }
}

/// Pure gate evaluation.
///
/// Rules: a broken limit fails at once, even during the bake (as soon as `executedMin` outcomes exist);
/// a pass needs the bake over, enough outcomes and every metric's measurements passing (`assessMetric`); a wait
/// past the evidence deadline becomes inconclusive. Combined: any fail → fail, else any wait/inconclusive, else
/// pass. Dry-run metric gates are judged and recorded like the others but take no part in the combination.
package enum GateEvaluator {
    package static func assess(_ gates: GateSet, evidence: GateEvidence) -> GateEvaluation {
        var results = assessOutcomes(gates.jobOutcomes, evidence: evidence)
        if let reporting = assessReporting(evidence) { results.append(reporting) }
        for metric in gates.metrics {
            results.append(assessMetric(metric, evidence: evidence))
        }
        let verdicts = Set(results.filter { $0.dryRun != true }.map(\.verdict))
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
                if result.verdict == .wait && result.dryRun != true {
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
            // The previous firmware's rate (when compared with it and known) raises the tolerated failed share.
            var limit = limit
            var compared = ""
            if name == "failed", gate.baseline != nil {
                if let baseline = evidence.baseline, let rate = baseline.failedPercent,
                   let tolerated = baseline.failedLimitPercent(marginPercent: gate.failedMaxPercent) {
                    limit = tolerated
                    compared = "; previous firmware \(baseline.version): \(format(rate))%"
                        + (baseline.measuredPercent != nil ? " measured" : " of \(baseline.executed)")
                } else if let problem = evidence.baseline?.measurement?.error {
                    compared = "; the previous firmware's rate is unreadable (\(problem)): judged against "
                        + "failedMaxPercent alone"
                } else {
                    compared = "; no outcomes of the previous firmware \(evidence.baseline?.version ?? "") on this fleet "
                        + "on record: judged against failedMaxPercent alone"
                }
            }
            if name == "failed", gate.method == .sequential {
                var result = assessSequentially(gate, executed: executed, failed: count, inProgress: progress.inProgress,
                                                stageDevices: evidence.stageDevices, bakeOver: evidence.bakeOver,
                                                baseline: gate.baseline != nil ? evidence.baseline : nil)
                result.reason += compared
                results.append(result)
                continue
            }
            let share = 100 * Double(count) / Double(executed)
            let broken = share > limit
            results.append(GateResult(
                gate: name, verdict: broken ? .fail : (evidence.bakeOver ? .pass : .wait), observed: share,
                limit: limit,
                reason: "\(name) \(format(share))% of \(executed) executed (max \(format(limit))%\(compared))"
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

    /// `minimumDevicesReporting`: waits until that many of the stage's devices (at most all) have reported.
    static func assessReporting(_ evidence: GateEvidence) -> GateResult? {
        guard let wanted = evidence.reportingMin else { return nil }
        let needed = min(wanted, evidence.stageDevices)
        let reported = evidence.progress.executed + evidence.progress.inProgress
        let enough = reported >= needed
        return GateResult(gate: "reporting", verdict: enough ? (evidence.bakeOver ? .pass : .wait) : .wait,
                          observed: Double(reported), limit: Double(needed),
                          reason: "\(reported) of \(evidence.stageDevices) devices reported (minimumDevicesReporting "
                            + "\(needed))" + (enough && !evidence.bakeOver ? ", baking" : ""))
    }

    /// The failed share by `SequentialOutcomeTest`: fails when the evidence says the rate is above the limit with
    /// the confidence, passes (once the bake is over) when it says it is below, waits otherwise, naming how many more
    /// outcomes without a failure would pass.
    static func assessSequentially(_ gate: OutcomeGate, executed: Int, failed: Int, inProgress: Int, stageDevices: Int,
                                   bakeOver: Bool, baseline: OutcomeBaseline? = nil) -> GateResult {
        let confidence = (gate.confidencePercent ?? OutcomeGate.confidencePercentDefault) / 100
        let judgement: SequentialOutcomeTest.Judgement
        let tolerated: String
        var limit = gate.failedMaxPercent
        if let baseline, baseline.measuredPercent != nil,
           let baselineLimit = baseline.failedLimitPercent(marginPercent: gate.failedMaxPercent) {
            // A measured rate has no counts: taken as known, the test is the plain one against rate + margin.
            limit = baselineLimit
            judgement = SequentialOutcomeTest.judge(executed: executed, failed: failed, inProgress: inProgress,
                                                    limit: Swift.min(baselineLimit / 100, 0.9999), confidence: confidence)
            tolerated = "\(baseline.version)'s measured rate + \(format(gate.failedMaxPercent))%"
        } else if let baseline, let baselineLimit = baseline.failedLimitPercent(marginPercent: gate.failedMaxPercent) {
            limit = baselineLimit
            judgement = SequentialOutcomeTest.judge(executed: executed, failed: failed, inProgress: inProgress,
                                                    baselineExecuted: baseline.executed, baselineFailed: baseline.failed,
                                                    margin: gate.failedMaxPercent / 100, confidence: confidence)
            tolerated = "\(baseline.version)'s rate + \(format(gate.failedMaxPercent))%"
        } else {
            judgement = SequentialOutcomeTest.judge(executed: executed, failed: failed, inProgress: inProgress,
                                                    limit: gate.failedMaxPercent / 100, confidence: confidence)
            tolerated = "\(format(gate.failedMaxPercent))%"
        }
        let share = 100 * Double(failed) / Double(executed)
        let evidence = "failed \(failed) of \(executed) executed (\(format(share))%)"
            + (inProgress > 0 ? ", \(inProgress) in progress" : "") + ": P(failure rate > "
            + "\(tolerated)) = \(format(judgement.probabilityAbove * 100))%, "
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
        return GateResult(gate: "failed", verdict: verdict, observed: share, limit: limit,
                          reason: reason, probabilityAbove: judgement.probabilityAbove, confidence: confidence,
                          outcomesNeeded: judgement.outcomesNeeded)
    }

    /// A metric gate by its measurements (`MeasurementPolicy`): more failed measurements than `failureLimit` fail
    /// it at once; more errors in a row than `consecutiveErrorLimit` make it inconclusive; it passes once the bake is
    /// over (or `count` measurements are taken) with its last measurement successful and, if asked, enough
    /// successes in a row. A dry-run gate's result says so and decides nothing.
    static func assessMetric(_ metric: MetricGate, evidence: GateEvidence) -> GateResult {
        var result = judgeMetric(metric, tally: evidence.measurements[metric.name], bakeOver: evidence.bakeOver)
        if metric.isDryRun {
            result.dryRun = true
            result.reason = "dry run, not acted on: " + result.reason
        }
        return result
    }

    static func judgeMetric(_ metric: MetricGate, tally: MetricTally?, bakeOver: Bool) -> GateResult {
        let gate = "metric:\(metric.name)"
        let limit = metric.max ?? metric.min
        let policy = metric.policy
        guard let tally, tally.taken > 0, let last = tally.last else {
            let delay = policy.initialDelaySeconds > 0
                ? " (first measurement \(DurationText.format(policy.initialDelaySeconds)) after the job starts)" : ""
            return GateResult(gate: gate, verdict: .wait, observed: nil, limit: limit,
                              reason: "\(metric.name) not measured yet\(delay)")
        }
        let counts = "\(tally.failures) of \(tally.taken) measurements failed"
        if tally.failures > policy.failureLimit {
            let value = (tally.recent.last { $0.outcome == .failure } ?? last).value ?? 0
            var bound: (text: String, limit: Double?) = ("out of bounds", limit)
            if let max = metric.max, value > max {
                bound = ("above max \(format(max))", max)
            } else if let min = metric.min, value < min {
                bound = ("below min \(format(min))", min)
            }
            let tolerated = policy.failureLimit > 0 ? " (\(counts), failureLimit \(policy.failureLimit))" : ""
            return GateResult(gate: gate, verdict: .fail, observed: value, limit: bound.limit,
                              reason: "\(metric.name) \(format(value)) \(bound.text)\(tolerated)")
        }
        if tally.consecutiveErrors > policy.consecutiveErrorLimit {
            return GateResult(gate: gate, verdict: .inconclusive, observed: nil, limit: limit,
                              reason: "\(metric.name) unreadable \(tally.consecutiveErrors) times in a row "
                                + "(consecutiveErrorLimit \(policy.consecutiveErrorLimit)): \(last.error ?? "no value")")
        }
        // As Argo: once `count` measurements are taken (or, without a count, once the bake is over) the gate passes
        // if its failures stayed within the limit, unless it asks for a run of successes it did not get.
        let countReached = policy.count.map { tally.takenTowardsCount >= $0 } ?? false
        let runMet = policy.consecutiveSuccessLimit.map { tally.consecutiveSuccesses >= $0 } ?? true
        let observed = tally.recent.last { $0.value != nil }?.value
        var reason: String
        switch last.outcome {
        case .error: reason = "\(metric.name) unreadable: \(last.error ?? "no value")"
        case .failure: reason = "\(metric.name) \(format(last.value ?? 0)) out of bounds, tolerated"
        case .success: reason = "\(metric.name) \(format(last.value ?? 0)) within bounds"
        }
        if tally.failures > 0 { reason += " (\(counts), failureLimit \(policy.failureLimit))" }
        if countReached && !runMet {
            return GateResult(gate: gate, verdict: .inconclusive, observed: observed, limit: limit,
                              reason: "\(metric.name): \(policy.count ?? tally.taken) measurements taken without "
                                + "\(policy.consecutiveSuccessLimit ?? 0) successful ones in a row (\(counts))")
        }
        let decidable = countReached || bakeOver
        if decidable && runMet && tally.successes > 0 {
            return GateResult(gate: gate, verdict: .pass, observed: observed, limit: limit, reason: reason)
        }
        if countReached {
            // Every measurement of the count was unreadable: nothing shows the metric is fine.
            return GateResult(gate: gate, verdict: .inconclusive, observed: observed, limit: limit,
                              reason: "\(metric.name): \(policy.count ?? tally.taken) measurements taken, none readable")
        }
        if let wanted = policy.consecutiveSuccessLimit, tally.consecutiveSuccesses < wanted {
            reason += ", \(tally.consecutiveSuccesses) of \(wanted) successes in a row"
        } else if !bakeOver {
            reason += ", baking"
        }
        return GateResult(gate: gate, verdict: .wait, observed: observed, limit: limit, reason: reason)
    }

    package static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e12 { return String(Int(value)) }
        let text = String(format: "%.4g", value)
        return text
    }
}
