import Foundation

/// What `rollout preflight` found before launch: one finding per check, and the projected timeline.
/// Ready (exit 0) when every check passed, warnings (exit 2) when some did not pass or could not be made, blocked
/// (exit 1) when the rollout cannot work as things are.
package struct PreflightReport: Codable, Sendable, Equatable {
    package var findings: [PreflightFinding]
    package var stages: [LaunchProjection.Stage]

    package init(findings: [PreflightFinding], stages: [LaunchProjection.Stage]) {
        self.findings = findings
        self.stages = stages
    }

    package enum Verdict: String, Codable, Sendable {
        case ready, warnings, blocked
    }

    package var verdict: Verdict {
        let worst = findings.map(\.status).max() ?? .ok
        switch worst {
        case .ok: return .ready
        case .warning, .couldNotCheck: return .warnings
        case .blocked: return .blocked
        }
    }

    /// 0 ready, 2 warnings (or checks that could not be made), 1 blocked.
    package var exitStatus: Int32 {
        switch verdict {
        case .ready: return 0
        case .warnings: return 2
        case .blocked: return 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case verdict, findings, stages
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        findings = try container.decode([PreflightFinding].self, forKey: .findings)
        stages = try container.decode([LaunchProjection.Stage].self, forKey: .stages)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(findings, forKey: .findings)
        try container.encode(stages, forKey: .stages)
    }
}

/// How one check came out, worst last.
package enum PreflightStatus: String, Codable, Sendable, Comparable {
    case ok
    /// The rollout will work, but slower or with a risk a person should know of.
    case warning
    /// The check could not be made (no permission to look, a principal IAM cannot simulate): said, not guessed.
    case couldNotCheck
    /// The rollout cannot work as things are.
    case blocked

    static let order: [PreflightStatus] = [.ok, .warning, .couldNotCheck, .blocked]

    package static func < (left: PreflightStatus, right: PreflightStatus) -> Bool {
        order.firstIndex(of: left)! < order.firstIndex(of: right)!
    }
}

/// One check's result: what was looked at, what was found, and what to run when it is not ok.
package struct PreflightFinding: Codable, Sendable, Equatable {
    /// The check: `bucket`, `artifact`, `fleet group`, `rings`, `presigning role`, `permissions`, `job slots`,
    /// `group membership`, `job document`, `stage group`.
    package var check: String
    package var status: PreflightStatus
    /// The resource looked at (`s3://firmware-bucket`, `thing group fleet`, …).
    package var resource: String
    /// What was found, for people.
    package var summary: String
    /// What to run (or change) when the status is not ok.
    package var remedy: String?

    package init(check: String, status: PreflightStatus, resource: String, summary: String, remedy: String? = nil) {
        self.check = check
        self.status = status
        self.resource = resource
        self.summary = summary
        self.remedy = remedy
    }
}
