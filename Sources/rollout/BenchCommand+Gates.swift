import Engine
import FleetSim
import Foundation
import RolloutCore

/// `bench --gates`: the job-outcome gate's error rates under continuous monitoring, measured on the simulated fleet.
/// Each trial is a canary of `canaryDevices` devices on its own seed whose true failure rate is known; the stage is
/// polled every minute of virtual time through its one-hour bake and both gates (threshold and sequential, same
/// limit) judge the same progress. Reported per true rate: how often each gate failed, passed or stayed undecided,
/// and the median outcomes it had seen when it decided.
extension BenchCommand {
    /// One gate's decisions over the trials of one true rate.
    struct GateTally {
        var failed = 0
        var passed = 0
        var undecided = 0
        var outcomesAtDecision: [Int] = []

        mutating func record(_ verdict: Verdict, executed: Int) {
            switch verdict {
            case .fail: failed += 1
            case .pass: passed += 1
            case .wait, .inconclusive: undecided += 1
            }
            if verdict == .fail || verdict == .pass { outcomesAtDecision.append(executed) }
        }

        var medianOutcomes: Int? {
            guard !outcomesAtDecision.isEmpty else { return nil }
            return outcomesAtDecision.sorted()[outcomesAtDecision.count / 2]
        }
    }

    static let gateLimitPercent = 5.0
    static let canaryDevices = 200
    static let gateBakeSeconds = 3600

    func benchGates(trials: Int) async throws {
        let threshold = GateSet(jobOutcomes: OutcomeGate(failedMaxPercent: Self.gateLimitPercent, timedOutMaxPercent: 100,
                                                         rejectedMaxPercent: 100))
        var sequential = threshold
        sequential.jobOutcomes.method = .sequential
        sequential.jobOutcomes.executedMin = 1
        print("Job-outcome gates, limit \(Self.gateLimitPercent)% failed, 95% confidence: \(trials) trials per true rate "
              + "on the simulated fleet (a canary of \(Self.canaryDevices) devices, polled every minute through a 1 h bake)")
        print("  true rate  gate        fails   passes  undecided  median outcomes to decide")
        for truePercent in [1.0, 2.5, 5.0, 10.0, 20.0] {
            var tallies = [GateTally(), GateTally()]
            for trial in 0..<trials {
                let verdicts = try await runGateTrial(seed: UInt64(trial) &+ 1, failPercent: truePercent,
                                                      gates: [threshold, sequential])
                for (index, verdict) in verdicts.enumerated() {
                    tallies[index].record(verdict.verdict, executed: verdict.executed)
                }
            }
            for (name, tally) in zip(["threshold", "sequential"], tallies) {
                func share(_ count: Int) -> String { String(format: "%6.2f%%", 100 * Double(count) / Double(trials)) }
                print("  " + String(format: "%8.1f%%", truePercent) + "  \(name.padding(toLength: 10, withPad: " ", startingAt: 0))"
                      + "  \(share(tally.failed))  \(share(tally.passed))  \(share(tally.undecided))   "
                      + (tally.medianOutcomes.map(String.init) ?? "-"))
            }
        }
    }

    /// One canary on its own seed: each gate's first decisive verdict (or its last verdict at the end of the
    /// bake once every device has an outcome) and the outcomes seen then.
    func runGateTrial(seed: UInt64, failPercent: Double,
                      gates: [GateSet]) async throws -> [(verdict: Verdict, executed: Int)] {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = VirtualClock(start: start)
        var scenario = SimulationScenario(hardware: [("A", 1)], outcomes: [OutcomeRule(failPercent: failPercent)])
        // No request budget and no temporary-group fill: the trial is about outcomes.
        scenario.quotas.ratesPerSecond = ["AddThingToThingGroup": 100_000]
        let fleet = SimulatedFleet(devices: Self.canaryDevices, seed: seed, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        let document = JobDocument(version: "2.0.0", previousVersion: "1.9.0", firmwareUrl: "sim://x", checksum: "x",
                                   size: 1, signature: nil, rolloutId: "gates", stage: "canary")
        try await fleet.createJob(JobRequest(rolloutId: "gates", jobId: "canary", stage: "canary",
                                             targets: .devices(devices), document: document, settings: JobSettings()))
        var decided: [(verdict: Verdict, executed: Int)?] = Array(repeating: nil, count: gates.count)
        var last: [(verdict: Verdict, executed: Int)] = Array(repeating: (.wait, 0), count: gates.count)
        // Bounded: a poll a minute for at most a day of virtual time.
        for minute in 1...1440 {
            clock.advance(to: start.addingTimeInterval(Double(minute * 60)))
            let progress = try await fleet.jobProgress(jobId: "canary")
            let bakeOver = minute * 60 >= Self.gateBakeSeconds
            for (index, gate) in gates.enumerated() where decided[index] == nil {
                let evaluation = GateEvaluator.assess(gate, evidence: GateEvidence(
                    progress: progress, stageDevices: Self.canaryDevices, bakeOver: bakeOver,
                    evidenceExpired: false))
                last[index] = (evaluation.verdict, progress.executed)
                if evaluation.verdict == .fail || evaluation.verdict == .pass {
                    decided[index] = (evaluation.verdict, progress.executed)
                }
            }
            if !decided.contains(where: { $0 == nil }) || (bakeOver && progress.jobDone) { break }
        }
        return decided.enumerated().map { $0.element ?? last[$0.offset] }
    }
}
