import Foundation

/// A validated rollout plan: what a release manager wrote, with every default filled in.
///
/// Built only by `PlanParser`, which checks every field; the engine trusts it.
public struct RolloutPlan: Codable, Equatable, Sendable {
    public var name: String
    public var release: Release
    public var rollback: RollbackTarget?
    public var fleet: FleetSelection
    public var canary: StageSpec
    public var waves: [StageSpec]
    /// Gates applied after every stage that does not override them.
    public var gates: GateSet
    public var schedule: Schedule
    public var onFailure: FailurePolicy
    public var job: JobSettings
    public var notifications: [WebhookTarget]
    /// Bucket and presigning settings for the AWS fleet.
    public var aws: AWSPlanSettings?

    public init(name: String, release: Release, rollback: RollbackTarget?, fleet: FleetSelection, canary: StageSpec,
                waves: [StageSpec], gates: GateSet, schedule: Schedule, onFailure: FailurePolicy, job: JobSettings,
                notifications: [WebhookTarget], aws: AWSPlanSettings? = nil) {
        self.aws = aws
        self.name = name
        self.release = release
        self.rollback = rollback
        self.fleet = fleet
        self.canary = canary
        self.waves = waves
        self.gates = gates
        self.schedule = schedule
        self.onFailure = onFailure
        self.job = job
        self.notifications = notifications
    }

    /// Canary first, then the waves, in order.
    public var stages: [StageSpec] { [canary] + waves }

    /// The gates that judge `stage`: its own override, else the plan's.
    public func gates(for stage: StageSpec) -> GateSet { stage.gates ?? gates }
}

public struct Release: Codable, Equatable, Sendable {
    /// Firmware product name, e.g. `sensor-fw`; part of the content-addressed artifact key.
    public var firmware: String
    public var version: String
    public var artifact: ArtifactLocation
    /// Path of a PEM ECDSA P-256 private key; when set, job documents carry a signature of the firmware.
    public var signingKeyPath: String?

    public init(firmware: String, version: String, artifact: ArtifactLocation, signingKeyPath: String? = nil) {
        self.firmware = firmware
        self.version = version
        self.artifact = artifact
        self.signingKeyPath = signingKeyPath
    }
}

/// The firmware that a rollback puts back.
public struct RollbackTarget: Codable, Equatable, Sendable {
    public var version: String
    public var artifact: ArtifactLocation

    public init(version: String, artifact: ArtifactLocation) {
        self.version = version
        self.artifact = artifact
    }
}

/// Where a firmware image lives before the rollout uploads it. Encoded as the text a plan uses
/// (`path` or `s3://bucket/key`).
public enum ArtifactLocation: Codable, Equatable, Sendable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, key: String)

    public var description: String {
        switch self {
        case .file(let path): return path
        case .s3(let bucket, let key): return "s3://\(bucket)/\(key)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text.hasPrefix("s3://"), let slash = text.dropFirst(5).firstIndex(of: "/") {
            self = .s3(bucket: String(text.dropFirst(5)[..<slash]), key: String(text[text.index(after: slash)...]))
        } else {
            self = .file(path: text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Which devices the rollout may touch.
public struct FleetSelection: Codable, Equatable, Sendable {
    /// The thing group holding the fleet (AWS); the simulated population stands in for it in simulation.
    public var thingGroup: String?
    /// Device attribute → accepted values; a device must match every attribute listed.
    public var selector: [String: [String]]
    /// Device ids never touched by this rollout.
    public var exclude: [String]

    public init(thingGroup: String? = nil, selector: [String: [String]] = [:], exclude: [String] = []) {
        self.thingGroup = thingGroup
        self.selector = selector
        self.exclude = exclude
    }
}

/// One deploying step of the plan: the canary or a wave.
public struct StageSpec: Codable, Equatable, Sendable {
    /// `canary`, `wave-1` … `wave-n`.
    public var name: String
    public var target: StageTarget
    public var bakeDurationSeconds: Int
    public var approvalRequired: Bool
    /// Overrides the plan's gates for this stage.
    public var gates: GateSet?

    public init(name: String, target: StageTarget, bakeDurationSeconds: Int, approvalRequired: Bool = false,
                gates: GateSet? = nil) {
        self.name = name
        self.target = target
        self.bakeDurationSeconds = bakeDurationSeconds
        self.approvalRequired = approvalRequired
        self.gates = gates
    }
}

/// How a stage's cohort is sized. Encoded as a plan writes it: `{"devices": 50}`, `{"percent": 10}`, `{"group": "lab"}`.
public enum StageTarget: Codable, Equatable, Sendable, CustomStringConvertible {
    /// This many more devices than the stages before it.
    case devices(Int)
    /// Cumulative: after this stage, this share of the eligible fleet has been targeted.
    case percent(Double)
    /// The eligible members of an existing thing group not targeted by an earlier stage.
    case group(String)

    public var description: String {
        switch self {
        case .devices(let count): return "\(count) devices"
        case .percent(let share): return "\(PercentText.format(share)) of fleet (cumulative)"
        case .group(let name): return "group \(name)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case devices, percent, group
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let count = try container.decodeIfPresent(Int.self, forKey: .devices) {
            self = .devices(count)
        } else if let share = try container.decodeIfPresent(Double.self, forKey: .percent) {
            self = .percent(share)
        } else {
            self = .group(try container.decode(String.self, forKey: .group))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .devices(let count): try container.encode(count, forKey: .devices)
        case .percent(let share): try container.encode(share, forKey: .percent)
        case .group(let name): try container.encode(name, forKey: .group)
        }
    }
}

public enum FailurePolicy: String, Codable, Equatable, Sendable {
    /// Cancel the stage's job and put the previous firmware back on every device that took the new one.
    case rollback
    /// Cancel the stage's job and wait for a human.
    case pause
}

public struct Schedule: Codable, Equatable, Sendable {
    /// No stage starts before this instant.
    public var notBefore: Date?
    /// A stage only starts inside one of these; empty means any time.
    public var windows: [MaintenanceWindow]
    /// How long a gate may keep answering `wait` after the bake before it turns `inconclusive` (pausing the rollout).
    public var evidenceTimeoutSeconds: Int

    public init(notBefore: Date? = nil, windows: [MaintenanceWindow] = [], evidenceTimeoutSeconds: Int = 24 * 3600) {
        self.notBefore = notBefore
        self.windows = windows
        self.evidenceTimeoutSeconds = evidenceTimeoutSeconds
    }
}

/// Settings handed to the fleet with every job.
public struct JobSettings: Codable, Equatable, Sendable {
    /// A device's execution times out this long after it starts (AWS `timeoutConfig.inProgressTimeoutInMinutes`).
    public var inProgressTimeoutSeconds: Int?
    /// Rollout rate of the job (AWS `jobExecutionsRolloutConfig.maximumPerMinute`).
    public var maxPerMinute: Int?
    public var retriesOnFailure: Int
    public var retriesOnTimeout: Int
    /// Cancel with `force`, stopping executions already IN_PROGRESS.
    public var cancelForce: Bool

    public init(inProgressTimeoutSeconds: Int? = 1800, maxPerMinute: Int? = nil, retriesOnFailure: Int = 0,
                retriesOnTimeout: Int = 0, cancelForce: Bool = false) {
        self.inProgressTimeoutSeconds = inProgressTimeoutSeconds
        self.maxPerMinute = maxPerMinute
        self.retriesOnFailure = retriesOnFailure
        self.retriesOnTimeout = retriesOnTimeout
        self.cancelForce = cancelForce
    }
}

/// A webhook that receives a JSON notification (with a Slack-compatible `text`) on every notable event.
public struct WebhookTarget: Codable, Equatable, Sendable {
    public var url: String

    public init(url: String) {
        self.url = url
    }
}

/// Where a plan's artifacts and job documents live on AWS (ignored by the simulated fleet).
public struct AWSPlanSettings: Codable, Equatable, Sendable {
    /// Bucket for firmware (`firmware/<name>/<version>/<sha256>.bin`) and job documents.
    public var bucket: String
    /// Role IoT assumes to presign firmware URLs (`presignedUrlConfig.roleArn`); without it the document carries a plain S3 URL.
    public var presignedUrlRoleArn: String?
    public var presignedUrlExpiresSeconds: Int
    /// Region for this plan; else the worker's `--region` / `AWS_REGION` / config file.
    public var region: String?

    public init(bucket: String, presignedUrlRoleArn: String? = nil, presignedUrlExpiresSeconds: Int = 3600,
                region: String? = nil) {
        self.bucket = bucket
        self.presignedUrlRoleArn = presignedUrlRoleArn
        self.presignedUrlExpiresSeconds = presignedUrlExpiresSeconds
        self.region = region
    }
}
