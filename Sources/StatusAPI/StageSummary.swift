import Foundation
import RolloutCore

/// One stage's progress, counted from its job's executions.
struct StageSummary: Encodable, Sendable {
    var name: String
    var status: String
    /// Devices assigned to the stage (nil before the fleet is split into stages).
    var devices: Int?
    var succeeded: Int
    var failed: Int
    var timedOut: Int
    var rejected: Int
    var inProgress: Int
    var queued: Int
    /// The last gate verdict (`pass`, `fail`, `wait`, `inconclusive`), nil before the first evaluation.
    var verdict: String?

    init(_ stage: StageState) {
        name = stage.name
        status = stage.status.rawValue
        devices = stage.devices
        succeeded = stage.progress.succeeded
        failed = stage.progress.failed
        timedOut = stage.progress.timedOut
        rejected = stage.progress.rejected
        inProgress = stage.progress.inProgress
        queued = stage.progress.queued
        verdict = stage.lastEvaluation?.verdict.rawValue
    }

    /// Devices with an outcome (succeeded, failed, timed out or rejected).
    var executed: Int { succeeded + failed + timedOut + rejected }

    enum CodingKeys: String, CodingKey {
        case name, status, devices, succeeded, failed, timedOut, rejected, inProgress, queued, verdict
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(devices, forKey: .devices)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encode(timedOut, forKey: .timedOut)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(inProgress, forKey: .inProgress)
        try container.encode(queued, forKey: .queued)
        try container.encode(verdict, forKey: .verdict)
    }
}
