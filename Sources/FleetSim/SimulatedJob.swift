import Engine
import Foundation
import RolloutCore

/// One simulated job: its targets, and the instants at which they start and end, counted.
///
/// Progress at an instant is counted with binary searches over sorted instants, so a poll costs O(log n) even for a
/// stage of 6,000,000 devices. What one device does is drawn from the seed (`SimulatedExecution`), so the job keeps
/// only its targets and the sorted instants (12 bytes a device); a device's status is drawn again when asked for.
final class SimulatedJob: @unchecked Sendable {
    let jobId: String
    let rolloutId: String
    let version: String
    let isRollback: Bool
    let targets: [Int32]
    let targetFingerprint: UInt64
    let documentFingerprint: UInt64
    let createdAt: Date
    /// When AWS has notified every target (the job's rollout rate): until then the job holds one of the account's
    /// concurrent-job slots, unless it was cancelled.
    let notifiedAllAt: Date
    private let model: SimulatedExecution.Model
    private let population: SimulatedPopulation
    /// Position in `targets` → scripted outcome (`SimulationScenario.scripted`): a few devices, empty without a script.
    private let scripted: [Int: ScriptedOutcome.Outcome]
    private(set) var cancelledAt: Date?
    private(set) var cancelForce = false
    /// Single executions cancelled by a person (`rollout device cancel`), by target position.
    private(set) var deviceCancels: [Int: (at: Date, force: Bool)] = [:]
    /// Sorted instants (seconds after `createdAt`) for counting: starts of devices that start; finishes of failed,
    /// timed-out and rejected executions; finishes of successful ones per hardware revision (also for health).
    private var sortedStarts: [Float] = []
    private var sortedFailures: [[Float]] = []
    private(set) var successFinishesByHardware: [[Float]] = []

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
        self.population = population
        model = SimulatedExecution.Model(request: request, population: population, scenario: scenario, draw: draw)
        notifiedAllAt = createdAt.addingTimeInterval(Double(targets.count) / Double(model.perMinute) * 60)
        scripted = Self.scriptedOutcomes(scenario.scripted, stage: request.stage, targets: targets)
        countInstants()
    }

    /// True while the job holds a concurrent-job slot at `date`: it is still notifying its targets and not cancelled.
    func holdsJobSlot(at date: Date) -> Bool {
        date < notifiedAllAt && (cancelledAt.map { date < $0 } ?? true)
    }

    /// Position in `targets` → scripted outcome, for the first devices by name of a job of `stage`.
    static func scriptedOutcomes(_ rules: [ScriptedOutcome], stage: String,
                                 targets: [Int32]) -> [Int: ScriptedOutcome.Outcome] {
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

    /// The execution of the target at `position`, as the job's cancel (if any) left it.
    func execution(ofPosition position: Int) -> SimulatedExecution {
        let device = Int(targets[position])
        let execution = model.execution(device: device, position: position, online: population.online[device],
                                         hardware: population.hardware[device],
                                         script: scripted.isEmpty ? nil : scripted[position])
        var cuts: [(at: Date, force: Bool)] = []
        if let device = deviceCancels[position] { cuts.append(device) }
        if let cancelledAt { cuts.append((cancelledAt, cancelForce)) }
        return cuts.sorted { $0.at < $1.at }.reduce(execution) {
            $0.cancelled(at: Float($1.at.timeIntervalSince(createdAt)), force: $1.force)
        }
    }

    /// The position of device index `device` among the targets, if the job targets it.
    func position(ofDevice device: Int) -> Int? {
        targets.firstIndex(of: Int32(device))
    }

    /// Cancels one target's execution at `at` (queued; with `force`, installing too). The first cancel stands.
    func cancelDevice(position: Int, at: Date, force: Bool) {
        guard deviceCancels[position] == nil else { return }
        deviceCancels[position] = (at, force)
        countInstants()
    }

    /// Whether the execution at `position` was cut by a cancel in force at `date` (`running`: it had started).
    private func isCancelled(position: Int, running: Bool, at date: Date) -> Bool {
        if let cancelledAt, date >= cancelledAt, !running || cancelForce { return true }
        if let device = deviceCancels[position], date >= device.at, !running || device.force { return true }
        return false
    }

    /// Draws every target's execution and sorts the instants counted by `progress` and `successes`.
    private func countInstants() {
        var starts: [Float] = []
        starts.reserveCapacity(targets.count)
        var failures = [[Float]](repeating: [], count: 3)  // failed, timed out, rejected
        var successes = [[Float]](repeating: [], count: population.hardwareNames.count)
        for position in targets.indices {
            let execution = execution(ofPosition: position)
            guard execution.outcome != .neverStarts, execution.start != .infinity else { continue }
            starts.append(execution.start)
            guard execution.finish != .infinity else { continue }
            switch execution.outcome {
            case .succeeded: successes[Int(population.hardware[Int(targets[position])])].append(execution.finish)
            case .failed: failures[0].append(execution.finish)
            case .timedOut: failures[1].append(execution.finish)
            case .rejected: failures[2].append(execution.finish)
            case .neverStarts: break
            }
        }
        // Radix sorts: linear in the stage's devices, the same order as `sort()`.
        RadixSort.sort(&starts)
        for index in failures.indices { RadixSort.sort(&failures[index]) }
        for index in successes.indices { RadixSort.sort(&successes[index]) }
        sortedStarts = starts
        sortedFailures = failures
        successFinishesByHardware = successes
    }

    /// Cancels at `at`: executions not started yet are cancelled; with `force`, running ones too.
    func cancel(at: Date, force: Bool) {
        guard cancelledAt == nil else { return }
        cancelledAt = at
        cancelForce = force
        countInstants()
    }

    func progress(at date: Date) -> JobProgress {
        let t = Float(date.timeIntervalSince(createdAt))
        let started = countAtOrBelow(sortedStarts, t)
        var progress = JobProgress()
        progress.succeeded = successFinishesByHardware.reduce(0) { $0 + countAtOrBelow($1, t) }
        progress.failed = countAtOrBelow(sortedFailures[0], t)
        progress.timedOut = countAtOrBelow(sortedFailures[1], t)
        progress.rejected = countAtOrBelow(sortedFailures[2], t)
        let done = progress.succeeded + progress.failed + progress.timedOut + progress.rejected
        // Executions cancelled one by one: out of queued (never started) or in progress (forced), into canceled.
        var cancelledQueued = 0, cancelledRunning = 0
        for (position, cancel) in deviceCancels where date >= cancel.at {
            let execution = execution(ofPosition: position)
            if execution.start == .infinity {
                if cancelledAt == nil || date < cancelledAt! { cancelledQueued += 1 }
            } else if execution.finish == .infinity, cancel.force, !(cancelledAt.map { date >= $0 && cancelForce } ?? false) {
                cancelledRunning += 1
            }
        }
        defer {
            progress.queued -= cancelledQueued
            progress.inProgress -= cancelledRunning
            progress.canceled += cancelledQueued + cancelledRunning
            progress.jobDone = progress.queued == 0 && progress.inProgress == 0
        }
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

    /// Current status of the target at `position` at `date`.
    func status(ofPosition position: Int, at date: Date) -> ExecutionStatus {
        status(of: execution(ofPosition: position), position: position, at: date)
    }

    private func status(of execution: SimulatedExecution, position: Int, at date: Date) -> ExecutionStatus {
        let t = Float(date.timeIntervalSince(createdAt))
        if execution.start == .infinity {
            return isCancelled(position: position, running: false, at: date) ? .canceled : .queued
        }
        if t < execution.start { return .queued }
        if execution.finish == .infinity {
            return isCancelled(position: position, running: true, at: date) ? .canceled : .inProgress
        }
        if t < execution.finish { return .inProgress }
        switch execution.outcome {
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
        let execution = execution(ofPosition: position)
        switch status(of: execution, position: position, at: date) {
        case .succeeded, .inProgress, .timedOut: return true
        case .canceled: return execution.start != .infinity
        case .queued, .failed, .rejected, .removed: return false
        }
    }

    /// Devices of `hardware` whose execution succeeded at or before `date`.
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
