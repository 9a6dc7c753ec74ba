import Foundation
import RolloutCore

/// One device of a rollout (`rollout device`): what the rollout and the fleet know of it, and taking it out.
extension RolloutEngine {
    /// Takes `thing` out of the rollout: later stages leave it out; with `cancel` its execution in the stage that
    /// holds it is cancelled. The device's stage is looked up here (the cohorts are the engine's) and recorded in
    /// the event as a fact. Throws `DeviceLookupError` for a device that is not the rollout's, `CommandRejected`
    /// when the command makes no sense (an ended rollout, a device already taken out).
    @discardableResult
    package func excludeDevice(rolloutId: String, thing: String, cancel: Bool, force: Bool, by: String,
                               reason: String?) throws -> RolloutState {
        guard DeviceExclusion.isValidThingName(thing) else { throw DeviceLookupError.invalidName(thing) }
        let stage = try assignedStage(of: thing, rolloutId: rolloutId)
        return try command(.deviceExcluded(thing: thing, stage: stage, cancel: cancel, force: force, by: by,
                                           reason: reason), rolloutId: rolloutId)
    }

    /// What the rollout and the fleet know of `thing`: its stage, whether it was taken out, and its executions of
    /// the stage's job and of the rollback job (DescribeJobExecution on AWS).
    package func deviceReport(rolloutId: String, thing: String) async throws -> DeviceReport {
        guard DeviceExclusion.isValidThingName(thing) else { throw DeviceLookupError.invalidName(thing) }
        let stage = try assignedStage(of: thing, rolloutId: rolloutId)
        let state = try loadRuntime(rolloutId).rollout.state
        var executions: [DeviceExecution] = []
        if let stage, state.stages[stage].jobCreatedAt != nil || state.stages[stage].startedAt != nil,
           let execution = try await fleet.execution(jobId: state.stages[stage].jobId, thing: thing) {
            executions.append(execution)
        }
        if let rollback = state.rollback, rollback.devices ?? 0 > 0,
           let execution = try await fleet.execution(jobId: rollback.jobId, thing: thing) {
            executions.append(execution)
        }
        var history: [DeviceReport.Moment] = []
        if let stage {
            let spec = state.stages[stage]
            if let at = spec.jobCreatedAt { history.append(.init(at: at, fact: .stageJobCreated(stage: spec.name))) }
            if let at = spec.endedAt { history.append(.init(at: at, fact: .stageEnded(stage: spec.name, status: spec.status))) }
        }
        let exclusion = state.exclusions?.first { $0.thing == thing }
        if let exclusion {
            history.append(.init(at: exclusion.at, fact: .takenOut(by: exclusion.by, cancelled: exclusion.cancelled)))
        }
        if let rollback = state.rollback, let at = rollback.jobCreatedAt,
           try store.rollbackSet(rolloutId: rolloutId)?.contains(thing) == true {
            history.append(.init(at: at, fact: .rollbackJobCreated))
        }
        return DeviceReport(rolloutId: rolloutId, thing: thing, stage: stage.map { state.stages[$0].name },
                            exclusion: exclusion, executions: executions,
                            history: history.sorted { $0.at < $1.at })
    }

    /// The stage the rollout assigned `thing` to; nil before it assigned its devices. Throws when assigned devices
    /// do not include it.
    func assignedStage(of thing: String, rolloutId: String) throws -> Int? {
        var runtime = try loadRuntime(rolloutId)
        if runtime.cohorts == nil, runtime.rollout.state.release != nil {
            runtime.cohorts = try store.cohorts(rolloutId: rolloutId)
            keep(runtime)
        }
        guard let cohorts = runtime.cohorts else {
            if runtime.rollout.state.release != nil { throw DeviceLookupError.notInRollout(thing, rolloutId: rolloutId) }
            return nil
        }
        guard let position = cohorts.deviceIds.firstIndex(of: thing) else {
            throw DeviceLookupError.notInRollout(thing, rolloutId: rolloutId)
        }
        var end = 0
        for (index, size) in cohorts.stageSizes.enumerated() {
            end += size
            if position < end { return index }
        }
        return nil
    }
}

/// One device as `rollout device` shows it.
package struct DeviceReport: Codable, Equatable, Sendable {
    package var rolloutId: String
    package var thing: String
    /// The stage the rollout assigned it to (nil before devices are assigned).
    package var stage: String?
    /// Set when a person took it out.
    package var exclusion: DeviceExclusion?
    /// Its executions: the stage's job first, then the rollback job's, when they exist.
    package var executions: [DeviceExecution]
    /// What happened to it within the rollout, oldest first.
    package var history: [Moment]

    /// One fact of the device's history.
    package struct Moment: Codable, Equatable, Sendable {
        package var at: Date
        package var fact: Fact

        package init(at: Date, fact: Fact) {
            self.at = at
            self.fact = fact
        }
    }

    package enum Fact: Codable, Equatable, Sendable {
        case stageJobCreated(stage: String)
        case stageEnded(stage: String, status: StageStatus)
        case takenOut(by: String, cancelled: Bool)
        case rollbackJobCreated
    }
}

/// A device that `rollout device` cannot act on.
package enum DeviceLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName(String)
    case notInRollout(String, rolloutId: String)

    package var description: String {
        switch self {
        case .invalidName(let name):
            return "`\(name.prefix(140))` is not a thing name (1–128 of a–z, A–Z, 0–9, :, _, -)"
        case .notInRollout(let thing, let rolloutId):
            return "\(thing) is not one of rollout \(rolloutId)'s devices (outside its fleet selection, or left out by "
                + "the plan)"
        }
    }
}
