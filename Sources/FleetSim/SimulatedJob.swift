import Engine
import Foundation
import RolloutCore

/// One simulated job: when each target device picks it up and how and when it ends, drawn once at creation.
///
/// Progress at an instant is counted with binary searches over sorted instants, so a poll costs O(log n)
/// even for a stage of 600,000 devices.
final class SimulatedJob: @unchecked Sendable {
    enum Outcome: UInt8 {
        case succeeded, failed, timedOut, rejected, neverStarts
    }

    let jobId: String
    let rolloutId: String
    let version: String
    let isRollback: Bool
    let targets: [Int32]
    let targetFingerprint: UInt64
    let documentFingerprint: UInt64
    let createdAt: Date
    /// Seconds after `createdAt`, per target.
    private(set) var starts: [Float]
    private(set) var finishes: [Float]
    let outcomes: [Outcome]
    private(set) var cancelledAt: Date?
    private(set) var cancelForce = false
    /// Sorted instants for counting: starts of devices that start, finishes per outcome.
    private var sortedStarts: [Float] = []
    private var sortedFinishes: [[Float]] = []
    /// Successful finishes per hardware revision (for health metrics).
    private(set) var successFinishesByHardware: [[Float]] = []
    private var neverStartCount = 0

    init(request: JobRequest, targets: [Int32], population: SimulatedPopulation, scenario: SimulationScenario,
         draw: SeededDraw, createdAt: Date, targetFingerprint: UInt64, documentFingerprint: UInt64) {
        jobId = request.jobId
        rolloutId = request.rolloutId
        version = request.document.version
        isRollback = request.stage == "rollback"
        self.targets = targets
        self.targetFingerprint = targetFingerprint
        self.documentFingerprint = documentFingerprint
        self.createdAt = createdAt
        let purpose = SeededDraw.purpose(request.jobId)
        let settings = request.settings
        let timeout = Float(settings.inProgressTimeoutSeconds ?? 7 * 86400)
        let perMinute = settings.maxPerMinute.map(Float.init)
        var starts = [Float](repeating: 0, count: targets.count)
        var finishes = [Float](repeating: 0, count: targets.count)
        var outcomes = [Outcome](repeating: .succeeded, count: targets.count)
        let rules = population.hardwareNames.map { scenario.outcome(firmware: request.document.version, hardware: $0) }
        let installMin = Float(scenario.installSecondsMin)
        let installSpan = Float(scenario.installSecondsMax - scenario.installSecondsMin)
        let checkIn = Float(scenario.checkInDelayMaxSeconds)
        let scripted = Self.scriptedOutcomes(scenario.scripted, stage: request.stage, targets: targets)
        for (position, target) in targets.enumerated() {
            let device = Int(target)
            guard population.online[device] else {
                outcomes[position] = .neverStarts
                starts[position] = .infinity
                finishes[position] = .infinity
                continue
            }
            let item = UInt64(device)
            var start = Float(draw.unit(purpose &+ 1, item)) * checkIn
            if let perMinute {
                // The job's rollout rate: the k-th execution is released k/maxPerMinute minutes after creation.
                start = max(start, Float(position) / perMinute * 60)
            }
            var time = start
            var outcome = Outcome.succeeded
            let retriesAllowed = 1 + settings.retriesOnFailure + settings.retriesOnTimeout
            for attempt in 0..<retriesAllowed {
                let salt = UInt64(attempt) << 32
                let install = installMin + Float(draw.unit(purpose &+ 2, item ^ salt)) * installSpan
                outcome = .succeeded
                var duration = install
                if let rule = rules[Int(population.hardware[device])] {
                    let unit = draw.unit(purpose &+ 3, item ^ salt) * 100
                    if unit < rule.failPercent {
                        outcome = .failed
                        duration = install * Float(draw.unit(purpose &+ 4, item ^ salt))
                    } else if unit < rule.failPercent + rule.timeoutPercent {
                        outcome = .timedOut
                        duration = timeout
                    } else if unit < rule.failPercent + rule.timeoutPercent + rule.rejectPercent {
                        outcome = .rejected
                        duration = 5
                    }
                }
                if duration > timeout {
                    outcome = .timedOut
                    duration = timeout
                }
                time += duration
                let retriesLeftForKind = outcome == .failed ? settings.retriesOnFailure : settings.retriesOnTimeout
                if outcome == .succeeded || outcome == .rejected || attempt >= retriesLeftForKind { break }
            }
            if let script = scripted[position] {
                (outcome, time) = Self.play(script, start: start, install: installMin, timeout: timeout)
                if outcome == .neverStarts { start = .infinity }
            }
            starts[position] = start
            finishes[position] = time
            outcomes[position] = outcome
        }
        self.starts = starts
        self.finishes = finishes
        self.outcomes = outcomes
        rebuildIndexes(hardware: population.hardware, hardwareCount: population.hardwareNames.count)
    }

    /// Position in `targets` → scripted outcome, for the first devices by name of a job of `stage`.
    static func scriptedOutcomes(_ rules: [ScriptedOutcome], stage: String, targets: [Int32]) -> [Int: ScriptedOutcome.Outcome] {
        var result: [Int: ScriptedOutcome.Outcome] = [:]
        let matching = rules.filter { $0.stage == stage }
        guard !matching.isEmpty else { return result }
        // Device names are zero-padded numbers, so sorting by index sorts by name.
        let byName = targets.indices.sorted { targets[$0] < targets[$1] }
        for rule in matching {
            for position in byName.prefix(rule.first) where result[position] == nil { result[position] = rule.outcome }
        }
        return result
    }

    /// A scripted device: when it ends and how, once it has started at `start`.
    static func play(_ script: ScriptedOutcome.Outcome, start: Float, install: Float,
                     timeout: Float) -> (Outcome, Float) {
        switch script {
        case .succeeded: return (.succeeded, start + install)
        case .failed: return (.failed, start + install / 2)
        case .timedOut: return (.timedOut, start + timeout)
        case .rejected: return (.rejected, start + 5)
        case .neverStarts: return (.neverStarts, .infinity)
        }
    }

    private func rebuildIndexes(hardware: [UInt8], hardwareCount: Int) {
        var startList: [Float] = []
        startList.reserveCapacity(targets.count)
        var finishLists = [[Float]](repeating: [], count: 4)
        var successLists = [[Float]](repeating: [], count: hardwareCount)
        neverStartCount = 0
        for position in targets.indices {
            let outcome = outcomes[position]
            if outcome == .neverStarts || starts[position] == .infinity {
                neverStartCount += 1
                continue
            }
            startList.append(starts[position])
            if finishes[position] == .infinity { continue }
            finishLists[Int(outcome.rawValue)].append(finishes[position])
            if outcome == .succeeded {
                successLists[Int(hardware[Int(targets[position])])].append(finishes[position])
            }
        }
        // Radix sorts: linear in the stage's devices (the stdlib's merge sort of [Float] was a profile hot spot),
        // the same order as `sort()`.
        RadixSort.sort(&startList)
        for index in finishLists.indices { RadixSort.sort(&finishLists[index]) }
        for index in successLists.indices { RadixSort.sort(&successLists[index]) }
        sortedStarts = startList
        sortedFinishes = finishLists
        successFinishesByHardware = successLists
    }

    /// Cancels at `at`: executions not started yet are cancelled; with `force`, running ones too.
    func cancel(at: Date, force: Bool, population: SimulatedPopulation) {
        guard cancelledAt == nil else { return }
        cancelledAt = at
        cancelForce = force
        let cut = Float(at.timeIntervalSince(createdAt))
        for position in targets.indices {
            if starts[position] > cut {
                starts[position] = .infinity
                finishes[position] = .infinity
            } else if force && finishes[position] > cut {
                finishes[position] = .infinity  // stopped mid-install: counted as cancelled
            }
        }
        rebuildIndexes(hardware: population.hardware, hardwareCount: population.hardwareNames.count)
    }

    func progress(at date: Date) -> JobProgress {
        let t = Float(date.timeIntervalSince(createdAt))
        let started = countAtOrBelow(sortedStarts, t)
        let finished = (0..<4).map { countAtOrBelow(sortedFinishes[$0], t) }
        var progress = JobProgress()
        progress.succeeded = finished[0]
        progress.failed = finished[1]
        progress.timedOut = finished[2]
        progress.rejected = finished[3]
        let done = finished.reduce(0, +)
        if let cancelledAt, date >= cancelledAt {
            // Not started by the cancel: cancelled (offline devices included). Running: go on, or cancelled by force.
            let running = started - done
            progress.queued = 0
            progress.inProgress = cancelForce ? 0 : running
            progress.canceled = targets.count - sortedStarts.count + (cancelForce ? running : 0)
        } else {
            progress.queued = targets.count - started
            progress.inProgress = started - done
        }
        progress.jobDone = progress.queued == 0 && progress.inProgress == 0
        return progress
    }

    /// Current status of each target at `date`.
    func status(ofPosition position: Int, at date: Date) -> ExecutionStatus {
        let t = Float(date.timeIntervalSince(createdAt))
        let start = starts[position], finish = finishes[position]
        if start == .infinity {
            return cancelledAt != nil && date >= cancelledAt! ? .canceled : .queued
        }
        if t < start { return .queued }
        if finish == .infinity {
            return cancelledAt != nil && date >= cancelledAt! && cancelForce ? .canceled : .inProgress
        }
        if t < finish { return .inProgress }
        switch outcomes[position] {
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .timedOut: return .timedOut
        case .rejected: return .rejected
        case .neverStarts: return .queued
        }
    }

    /// True when the device at `position` may hold the job's firmware at `date`: it succeeded, is installing, timed
    /// out, or was stopped mid-install by a forced cancel (`Fleet.devicesThatMayHoldFirmware`).
    func mayHoldFirmware(position: Int, at date: Date) -> Bool {
        switch status(ofPosition: position, at: date) {
        case .succeeded, .inProgress, .timedOut: return true
        case .canceled: return starts[position] != .infinity
        case .queued, .failed, .rejected, .removed: return false
        }
    }

    /// Devices of `hardware` whose execution succeeded at or before `secondsAfterCreation`.
    func successes(hardware: Int, atOrBefore date: Date) -> Int {
        countAtOrBelow(successFinishesByHardware[hardware], Float(date.timeIntervalSince(createdAt)))
    }

    private func countAtOrBelow(_ sorted: [Float], _ value: Float) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
