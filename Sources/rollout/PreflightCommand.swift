import ArgumentParser
import FleetAWS
import Foundation
import Logging
import RolloutCore
import RolloutText

/// `rollout preflight PLAN`: read-only checks of a plan against the live AWS account, and its projected timeline.
struct PreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check a plan against the live AWS account before launch (read-only), and project its timeline.",
        discussion: """
            Nothing is created, changed or uploaded. Checks: the bucket exists (or the artifact is already there); \
            the fleet group exists, and its size; each stage group; the ring set (<fleet group>-ring-NN) is complete \
            and current; the presigning role exists; the caller may perform every call the rollout makes (IAM \
            SimulatePrincipalPolicy, for an IAM user or role; otherwise the calls not checked are listed); job slots \
            (concurrent and active jobs against the account's quotas); room in the devices' thing groups (10 per \
            thing, read for a sample); the job document's size.

            The timeline assumes every gate passes as soon as its bake ends and every approval is given at once: \
            per stage, when it can start (windows, bakes), how long its job takes to create (temporary groups fill \
            at the API budget's pace), and how long AWS takes to notify its devices at maxPerMinute.

            Permissions preflight itself needs: sts:GetCallerIdentity, iam:SimulatePrincipalPolicy, iam:GetRole, \
            s3:ListBucket, s3:GetObject, iot:DescribeThingGroup, iot:ListThingsInThingGroup, iot:ListThings, \
            iot:ListThingGroups, iot:ListThingGroupsForThing, iot:ListJobs. A check it may not make is reported as \
            "could not check", not guessed.

            Exit: 0 ready, 2 warnings (or checks that could not be made), 1 blocked (or preflight could not run), \
            65 invalid plan.
            """
    )

    @Argument(help: "The plan file.")
    var plan: String



    @OptionGroup var aws: AWSConnectionOptions

    @OptionGroup var awsQuotas: AWSQuotaOptions

    @Option(help: "Devices whose thing groups are read for the membership check (spread over the fleet).")
    var membershipSample: Int = 100

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard (1...10_000).contains(membershipSample) else { throw ValidationError("--membership-sample must be 1…10000") }
    }

    func run() async throws {
        let loaded = try LoadedPlan.load(plan)
        var logger = Logger(label: "rollout.preflight", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .error
        let configuration: AWSConfiguration
        do {
            configuration = try aws.resolve(fallbackRegion: loaded.plan.aws?.region, quotas: try awsQuotas.quotas())
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        var quiet = configuration
        quiet.logger = logger
        let preflight = AWSPreflight(configuration: quiet, options: AWSPreflight.Options(membershipSampleMax: membershipSample))
        let report = await preflight.run(plan: loaded.plan, planSource: loaded.source, now: Date())
        let rolloutId = RolloutIdentity.rolloutId(planName: loaded.plan.name, planSource: loaded.source)
        switch output {
        case .json:
            struct Output: Encodable {
                var rolloutId: String
                var region: String
                var exitCode: Int32
                var report: PreflightReport
            }
            try Console.printJSON(Output(rolloutId: rolloutId, region: loaded.plan.aws?.region ?? configuration.region,
                                         exitCode: report.exitStatus, report: report))
        case .text:
            print(PreflightReportText.render(report, rolloutId: rolloutId,
                                             region: loaded.plan.aws?.region ?? configuration.region,
                                             groupFillPerSecond: preflight.projectionRates.groupFillPerSecond))
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
}

/// The preflight report for people: the verdict, one line per check (what to run under those not ok), the timeline.
enum PreflightReportText {
    static func render(_ report: PreflightReport, rolloutId: String, region: String, groupFillPerSecond: Double) -> String {
        var lines = ["preflight of rollout \(rolloutId) in \(region): \(verdictWord(report.verdict))"]
        let checkWidth = report.findings.map(\.check.count).max() ?? 0
        for finding in report.findings {
            let status = statusWord(finding.status).padding(toLength: 15, withPad: " ", startingAt: 0)
            let check = finding.check.padding(toLength: checkWidth, withPad: " ", startingAt: 0)
            lines.append("  \(status) \(check)  \(finding.resource): \(finding.summary)")
            if let remedy = finding.remedy, finding.status != .ok {
                lines.append(String(repeating: " ", count: 19 + checkWidth) + "→ \(remedy)")
            }
        }
        if !report.stages.isEmpty {
            lines.append("timeline (if every gate passes as soon as its bake ends and approvals come at once):")
            for stage in report.stages {
                lines.append("  " + PreflightText.stage(stage, groupFillPerSecond: groupFillPerSecond))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func verdictWord(_ verdict: PreflightReport.Verdict) -> String {
        switch verdict {
        case .ready: return "ready"
        case .warnings: return "ready, with warnings"
        case .blocked: return "BLOCKED"
        }
    }

    static func statusWord(_ status: PreflightStatus) -> String {
        switch status {
        case .ok: return "ok"
        case .warning: return "WARNING"
        case .couldNotCheck: return "COULD NOT CHECK"
        case .blocked: return "BLOCKED"
        }
    }
}
