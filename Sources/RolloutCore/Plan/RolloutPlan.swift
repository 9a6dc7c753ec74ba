import Foundation

/// A validated rollout plan: what a release manager wrote, with every default filled in.
///
/// Built only by `PlanParser`, which checks every field; the engine trusts it.
package struct RolloutPlan: Codable, Equatable, Sendable {
    package var name: String
    package var release: Release
    package var rollback: RollbackTarget?
    package var fleet: FleetSelection
    package var canary: StageSpec
    package var waves: [StageSpec]
    /// Gates applied after every stage that does not override them.
    package var gates: GateSet
    package var schedule: Schedule
    package var onFailure: FailurePolicy
    package var job: JobSettings
    package var notifications: [WebhookTarget]
    /// Bucket and presigning settings for the AWS fleet.
    package var aws: AWSPlanSettings?

    package init(name: String, release: Release, rollback: RollbackTarget?, fleet: FleetSelection, canary: StageSpec,
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
    package var stages: [StageSpec] { [canary] + waves }

    /// The gates that judge `stage`: its own override, else the plan's.
    package func gates(for stage: StageSpec) -> GateSet { stage.gates ?? gates }
}

package struct Release: Codable, Equatable, Sendable {
    /// Firmware product name, e.g. `sensor-fw`; part of the content-addressed artifact key.
    package var firmware: String
    package var version: String
    package var artifact: ArtifactLocation
    /// Path of a PEM ECDSA P-256 private key; when set, job documents carry a signature of the firmware.
    package var signingKeyPath: String?

    package init(firmware: String, version: String, artifact: ArtifactLocation, signingKeyPath: String? = nil) {
        self.firmware = firmware
        self.version = version
        self.artifact = artifact
        self.signingKeyPath = signingKeyPath
    }
}

/// The firmware that a rollback puts back.
package struct RollbackTarget: Codable, Equatable, Sendable {
    package var version: String
    package var artifact: ArtifactLocation

    package init(version: String, artifact: ArtifactLocation) {
        self.version = version
        self.artifact = artifact
    }
}

/// Where a firmware image lives before the rollout uploads it. Encoded as the text a plan uses
/// (`path` or `s3://bucket/key`).
package enum ArtifactLocation: Codable, Equatable, Sendable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, key: String)

    package var description: String {
        switch self {
        case .file(let path): return path
        case .s3(let bucket, let key): return "s3://\(bucket)/\(key)"
        }
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text.hasPrefix("s3://"), let slash = text.dropFirst(5).firstIndex(of: "/") {
            self = .s3(bucket: String(text.dropFirst(5)[..<slash]), key: String(text[text.index(after: slash)...]))
        } else {
            self = .file(path: text)
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Which devices the rollout may touch.
package struct FleetSelection: Codable, Equatable, Sendable {
    /// The thing group holding the fleet (AWS); the simulated population stands in for it in simulation.
    package var thingGroup: String?
    /// Device attribute → accepted values; a device must match every attribute listed.
    package var selector: [String: [String]]
    /// Device ids never touched by this rollout.
    package var exclude: [String]
    /// How large stages are targeted (nil: `auto`).
    package var targeting: FleetTargeting?

    package init(thingGroup: String? = nil, selector: [String: [String]] = [:], exclude: [String] = [],
                 targeting: FleetTargeting? = nil) {
        self.thingGroup = thingGroup
        self.selector = selector
        self.exclude = exclude
        self.targeting = targeting
    }

    /// True when percent stages target rings, if the fleet has them: a whole-group fleet with no selector and no
    /// exclusions (a ring's job reaches every member: those would not be honoured), and not opted out.
    package var mayUseRings: Bool {
        thingGroup != nil && selector.isEmpty && exclude.isEmpty && (targeting ?? .auto) == .auto
    }
}

/// How a plan's large stages reach their devices.
package enum FleetTargeting: String, Codable, Sendable, CaseIterable {
    /// Ring groups when the fleet has a ring set (`rollout rings sync`), else temporary thing groups.
    case auto
    /// Never rings: up to 100 devices by thing ARN, more through a temporary thing group per stage.
    case groups
}

/// One deploying step of the plan: the canary or a wave.
package struct StageSpec: Codable, Equatable, Sendable {
    /// `canary`, `wave-1` … `wave-n`.
    package var name: String
    package var target: StageTarget
    package var bakeDurationSeconds: Int
    package var approvalRequired: Bool
    /// Overrides the plan's gates for this stage.
    package var gates: GateSet?

    package init(name: String, target: StageTarget, bakeDurationSeconds: Int, approvalRequired: Bool = false,
                gates: GateSet? = nil) {
        self.name = name
        self.target = target
        self.bakeDurationSeconds = bakeDurationSeconds
        self.approvalRequired = approvalRequired
        self.gates = gates
    }
}

/// How a stage's cohort is sized. Encoded as a plan writes it: `{"devices": 50}`, `{"percent": 10}`, `{"group": "lab"}`.
package enum StageTarget: Codable, Equatable, Sendable, CustomStringConvertible {
    /// This many more devices than the stages before it.
    case devices(Int)
    /// Cumulative: after this stage, this share of the eligible fleet has been targeted.
    case percent(Double)
    /// The eligible members of an existing thing group not targeted by an earlier stage.
    case group(String)

    package var description: String {
        switch self {
        case .devices(let count): return "\(count) devices"
        case .percent(let share): return "\(PercentText.format(share)) of fleet (cumulative)"
        case .group(let name): return "group \(name)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case devices, percent, group
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let count = try container.decodeIfPresent(Int.self, forKey: .devices) {
            self = .devices(count)
        } else if let share = try container.decodeIfPresent(Double.self, forKey: .percent) {
            self = .percent(share)
        } else {
            self = .group(try container.decode(String.self, forKey: .group))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .devices(let count): try container.encode(count, forKey: .devices)
        case .percent(let share): try container.encode(share, forKey: .percent)
        case .group(let name): try container.encode(name, forKey: .group)
        }
    }
}

package enum FailurePolicy: String, Codable, Equatable, Sendable {
    /// Cancel the stage's job and put the previous firmware back on every device that took the new one.
    case rollback
    /// Cancel the stage's job and wait for a human.
    case pause
}

package struct Schedule: Codable, Equatable, Sendable {
    /// No stage starts before this instant.
    package var notBefore: Date?
    /// A stage only starts inside one of these; empty means any time.
    package var windows: [MaintenanceWindow]
    /// How long a gate may keep answering `wait` after the bake before it turns `inconclusive` (pausing the rollout).
    package var evidenceTimeoutSeconds: Int
    /// What time a bake counts; nil is `always`.
    package var bakeIn: BakeClock?
    /// A stage may pass only once this many of its devices (at most all of them) have reported: an outcome, or
    /// an execution under way. Nil: no such floor.
    package var minimumDevicesReporting: Int?

    /// What time counts towards a stage's bake.
    package enum BakeClock: String, Codable, Sendable, Equatable {
        /// Every second after the stage's job exists.
        case always
        /// Only time inside the maintenance windows (devices that update or report at night say nothing by day).
        case windows
    }

    package init(notBefore: Date? = nil, windows: [MaintenanceWindow] = [], evidenceTimeoutSeconds: Int = 24 * 3600) {
        self.notBefore = notBefore
        self.windows = windows
        self.evidenceTimeoutSeconds = evidenceTimeoutSeconds
    }

    /// When a bake of `seconds` that started at `start` is over: `seconds` later, or with `bakeIn: windows` once
    /// that much open-window time has passed (`distantFuture` if the windows never give it).
    package func bakeEnd(start: Date, seconds: Int) -> Date {
        guard bakeIn == .windows else { return start.addingTimeInterval(TimeInterval(seconds)) }
        return WindowSchedule.endOfOpenTime(from: start, seconds: seconds, windows: windows) ?? .distantFuture
    }
}

/// Settings handed to the fleet with every job.
package struct JobSettings: Codable, Equatable, Sendable {
    /// A device's execution times out this long after it starts (AWS `timeoutConfig.inProgressTimeoutInMinutes`).
    package var inProgressTimeoutSeconds: Int?
    /// Rollout rate of the job (AWS `jobExecutionsRolloutConfig.maximumPerMinute`).
    package var maxPerMinute: Int?
    package var retriesOnFailure: Int
    package var retriesOnTimeout: Int
    /// Cancel with `force`, stopping executions already IN_PROGRESS.
    package var cancelForce: Bool
    /// The job document's shape (`job.document`); nil is `aws-ota`.
    package var document: JobDocumentShape?
    /// `job.templateArn`: stage jobs are created from this AWS IoT job template (its document, not one of ours).
    package var templateArn: String?
    /// `job.rollbackTemplateArn`: the rollback job's template; without it the rollback job carries our document
    /// (a template holds one firmware's document, and the rollback needs the previous firmware's).
    package var rollbackTemplateArn: String?

    /// `arn:aws:iot:<region>:<account>:jobtemplate/<id>` (any partition). Pure.
    package static func isJobTemplateArn(_ text: String) -> Bool {
        text.range(of: "^arn:aws[a-z-]*:iot:[a-z0-9-]+:[0-9]{12}:jobtemplate/[a-zA-Z0-9_-]{1,64}$",
                   options: .regularExpression) != nil
    }

    package init(inProgressTimeoutSeconds: Int? = 1800, maxPerMinute: Int? = nil, retriesOnFailure: Int = 0,
                retriesOnTimeout: Int = 0, cancelForce: Bool = false) {
        self.inProgressTimeoutSeconds = inProgressTimeoutSeconds
        self.maxPerMinute = maxPerMinute
        self.retriesOnFailure = retriesOnFailure
        self.retriesOnTimeout = retriesOnTimeout
        self.cancelForce = cancelForce
    }
}

/// A webhook that receives a JSON notification (with a Slack-compatible `text`) on every notable event.
package struct WebhookTarget: Codable, Equatable, Sendable {
    package var url: String

    package init(url: String) {
        self.url = url
    }
}

/// Where a plan's artifacts and job documents live on AWS (ignored by the simulated fleet).
package struct AWSPlanSettings: Codable, Equatable, Sendable {
    /// Bucket for firmware (`firmware/<name>/<version>/<sha256>.bin`) and job documents.
    package var bucket: String
    /// Role IoT assumes to presign firmware URLs (`presignedUrlConfig.roleArn`); without it the document carries a plain S3 URL.
    package var presignedUrlRoleArn: String?
    package var presignedUrlExpiresSeconds: Int
    /// Region for this plan; else the worker's `--region` / `AWS_REGION` / config file.
    package var region: String?
    /// `aws.retention`: this long after the rollout ends, its jobs and job-document copies are deleted; nil keeps them.
    package var retentionSeconds: Int?

    package init(bucket: String, presignedUrlRoleArn: String? = nil, presignedUrlExpiresSeconds: Int = 3600,
                region: String? = nil) {
        self.bucket = bucket
        self.presignedUrlRoleArn = presignedUrlRoleArn
        self.presignedUrlExpiresSeconds = presignedUrlExpiresSeconds
        self.region = region
    }
}
