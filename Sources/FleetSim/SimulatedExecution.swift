import Engine
import Foundation
import RolloutCore

/// How one device runs one simulated job: when it picks the job up, how it ends and when, in seconds after the
/// job's creation. A pure function of the seed, the job and the device (and the scenario's script), so a job keeps
/// no per-device copy of it: what it needs again (a device's status for a rollback) is drawn again, identically.
struct SimulatedExecution: Equatable {
    enum Outcome: UInt8 {
        case succeeded, failed, timedOut, rejected, neverStarts
    }

    /// `.infinity`: never (offline, or cancelled before it started).
    var start: Float
    /// `.infinity`: not yet known to end (never started, or stopped mid-install by a forced cancel).
    var finish: Float
    var outcome: Outcome

    static let never = SimulatedExecution(start: .infinity, finish: .infinity, outcome: .neverStarts)

    /// Everything an execution depends on besides the device and its position among the job's targets.
    struct Model {
        let draw: SeededDraw
        /// The job's purpose code (`SeededDraw.purpose(jobId)`): its draws differ from every other job's.
        let purpose: UInt64
        let timeout: Float
        /// Executions AWS notifies per minute: the job's `maxPerMinute`, at most AWS's ceiling (also the rate without one).
        let perMinute: Float
        let installMin: Float
        let installSpan: Float
        let checkInDelayMax: Float
        let retriesOnFailure: Int
        let retriesOnTimeout: Int
        /// The scenario's outcome rule per hardware revision, for this job's firmware, as cumulative shares.
        let rules: [Shares?]

        /// An `OutcomeRule`'s percentages as thresholds for one draw in [0, 100) (no strings: read per device).
        struct Shares {
            let failed: Double
            let failedOrTimedOut: Double
            let failedTimedOutOrRejected: Double
        }

        init(request: JobRequest, population: SimulatedPopulation, scenario: SimulationScenario, draw: SeededDraw) {
            self.draw = draw
            purpose = SeededDraw.purpose(request.jobId)
            let settings = request.settings
            timeout = Float(settings.inProgressTimeoutSeconds ?? 7 * 86400)
            perMinute = Float(min(settings.maxPerMinute ?? AWSQuotas.jobExecutionsPerMinuteMax, AWSQuotas.jobExecutionsPerMinuteMax))
            installMin = Float(scenario.installSecondsMin)
            installSpan = Float(scenario.installSecondsMax - scenario.installSecondsMin)
            checkInDelayMax = Float(scenario.checkInDelayMaxSeconds)
            retriesOnFailure = settings.retriesOnFailure
            retriesOnTimeout = settings.retriesOnTimeout
            rules = population.hardwareNames.map { hardware in
                scenario.outcome(firmware: request.document.version, hardware: hardware).map { rule in
                    Shares(failed: rule.failPercent, failedOrTimedOut: rule.failPercent + rule.timeoutPercent,
                           failedTimedOutOrRejected: rule.failPercent + rule.timeoutPercent + rule.rejectPercent)
                }
            }
        }

        /// The execution of `device` (online or not, of hardware revision `hardware`), the job's `position`-th target.
        @inline(__always)
        func execution(device: Int, position: Int, online: Bool, hardware: UInt8,
                       script: ScriptedOutcome.Outcome? = nil) -> SimulatedExecution {
            guard online else { return .never }
            let item = UInt64(device)
            let mixedItem = StableHash.mix(item)
            var start = Float(draw.unit(purpose &+ 1, mixedItem: mixedItem)) * checkInDelayMax
            // The job's rollout rate: the k-th execution is released k/perMinute minutes after creation.
            start = max(start, Float(position) / perMinute * 60)
            var time = start
            var outcome = Outcome.succeeded
            let attempts = 1 + retriesOnFailure + retriesOnTimeout
            for attempt in 0..<attempts {
                let mixedSalted = attempt == 0 ? mixedItem : StableHash.mix(item ^ (UInt64(attempt) << 32))
                let install = installMin + Float(draw.unit(purpose &+ 2, mixedItem: mixedSalted)) * installSpan
                outcome = .succeeded
                var duration = install
                if let rule = rules[Int(hardware)] {
                    let unit = draw.unit(purpose &+ 3, mixedItem: mixedSalted) * 100
                    if unit < rule.failed {
                        outcome = .failed
                        duration = install * Float(draw.unit(purpose &+ 4, mixedItem: mixedSalted))
                    } else if unit < rule.failedOrTimedOut {
                        outcome = .timedOut
                        duration = timeout
                    } else if unit < rule.failedTimedOutOrRejected {
                        outcome = .rejected
                        duration = 5
                    }
                }
                if duration > timeout {
                    outcome = .timedOut
                    duration = timeout
                }
                time += duration
                let retriesLeftForKind = outcome == .failed ? retriesOnFailure : retriesOnTimeout
                if outcome == .succeeded || outcome == .rejected || attempt >= retriesLeftForKind { break }
            }
            if let script {
                // The start is still drawn: a script says how a device ends, not when it checks in.
                return SimulatedExecution.play(script, start: start, install: installMin, timeout: timeout)
            }
            return SimulatedExecution(start: start, finish: time, outcome: outcome)
        }
    }

    /// A scripted device that has started at `start` (`SimulationScenario.scripted`): how and when it ends, in place
    /// of the drawn outcome; the timing is the scenario's shortest install so that scripts read the same on AWS.
    static func play(_ script: ScriptedOutcome.Outcome, start: Float, install: Float,
                     timeout: Float) -> SimulatedExecution {
        switch script {
        case .succeeded: return SimulatedExecution(start: start, finish: start + install, outcome: .succeeded)
        case .failed: return SimulatedExecution(start: start, finish: start + install / 2, outcome: .failed)
        case .timedOut: return SimulatedExecution(start: start, finish: start + timeout, outcome: .timedOut)
        case .rejected: return SimulatedExecution(start: start, finish: start + 5, outcome: .rejected)
        case .neverStarts: return .never
        }
    }

    /// This execution as a cancel at `cut` seconds after creation leaves it: not started yet, it never starts; with
    /// `force`, one still installing is stopped (its finish unknown, counted as cancelled).
    func cancelled(at cut: Float, force: Bool) -> SimulatedExecution {
        var execution = self
        if start > cut {
            execution.start = .infinity
            execution.finish = .infinity
        } else if force && finish > cut {
            execution.finish = .infinity
        }
        return execution
    }
}
