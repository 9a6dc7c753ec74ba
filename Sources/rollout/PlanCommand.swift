import ArgumentParser
import Foundation
import RolloutCore
import RolloutText

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry run: the stages, their device counts and the earliest start of each, given bakes and windows.",
        discussion: """
            Earliest starts assume every gate passes as soon as its bake ends and every approval is given at once. \
            Each stage's job is projected as AWS would run it: up to 100 devices are targeted directly, larger \
            stages target the fleet's rings (--rings) or else a temporary thing group filled at the \
            AddThingToThingGroup quota first, and AWS notifies at most maxPerMinute (at most 1,000) devices a \
            minute. `rollout preflight` projects the same from the live account.
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Option(help: "Eligible devices in the fleet.")
    var devices: Int = 1000

    @Option(help: "When the rollout would be submitted (RFC 3339); default now.")
    var start: Date?

    @Option(help: "Rings the fleet group is split into (`rollout rings sync`); 0: none, large stages fill a temporary group.")
    var rings: Int = 0

    @OptionGroup var quotas: AWSQuotaOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Option(name: .customLong("show-document"),
            help: "Print the job document of this stage (or `rollback`) in the plan's job.document shape, and exit.")
    var showDocument: String?

    func validate() throws {
        guard devices >= 1 && devices <= 10_000_000 else {
            throw ValidationError("--devices must be 1…10000000 (an empty fleet cannot be rolled out to)")
        }
        guard (0...RingLayout.countMax).contains(rings) else {
            throw ValidationError("--rings must be 0…\(RingLayout.countMax)")
        }
    }

    func run() throws {
        let loaded = try LoadedPlan.load(plan)
        if let stage = showDocument {
            let id = RolloutIdentity.rolloutId(planName: loaded.plan.name, planSource: loaded.source)
            do {
                let preview = try DocumentPreview.render(plan: loaded.plan, rolloutId: id, stage: stage)
                for note in preview.notes { Console.error("note: \(note)") }
                if let document = preview.document { print(document) }
                return
            } catch {
                Console.error("rollout plan: \(error)")
                throw ExitCode(ExitStatus.invalidInput)
            }
        }
        let now = start ?? Date()
        let fillRate = try quotas.quotas().ratesPerSecond["AddThingToThingGroup"] ?? 100
        let rates = LaunchProjection.Rates(groupFillPerSecond: fillRate,
                                           notificationsPerMinuteMax: AWSQuotas.jobExecutionsPerMinuteMax)
        let entries = PlanTimeline.calculate(plan: loaded.plan, devices: devices, launch: (rings, rates), now: now)
        let id = RolloutIdentity.rolloutId(planName: loaded.plan.name, planSource: loaded.source)
        if output == .json {
            struct Output: Encodable {
                var rolloutId: String
                var devices: Int
                var start: Date
                var stages: [TimelineEntry]
            }
            try Console.printJSON(Output(rolloutId: id, devices: devices, start: now, stages: entries))
            return
        }
        let release = loaded.plan.release
        print("rollout \(id): \(release.firmware) \(release.version) on \(devices) devices, on failure: "
              + "\(loaded.plan.onFailure.rawValue)" + (loaded.plan.rollback.map { " to \($0.version)" } ?? ""))
        let header = ["stage", "target", "devices", "total", "job created in", "notified over", "bake", "earliest start",
                      "waits for"]
        var rows: [[String]] = []
        for entry in entries {
            var waits: [String] = []
            if entry.approvalRequired { waits.append("approval") }
            if entry.windowWaitSeconds > 0 { waits.append("window \(DurationWords.format(Double(entry.windowWaitSeconds)))") }
            var job = "-", notified = "-"
            if let launch = entry.launch, launch.targeting != .none {
                job = "~\(PreflightText.duration(launch.jobCreationSeconds)) ("
                    + PreflightText.targeting(launch.targeting, groupFillPerSecond: rates.groupFillPerSecond) + ")"
                notified = "≥ \(PreflightText.duration(launch.notificationSeconds))"
                    + (launch.notificationsOutlastBake ? " (outlasts the bake)" : "")
            }
            rows.append([
                entry.stage, entry.target, entry.devices.map(String.init) ?? "group",
                entry.cumulativeDevices.map(String.init) ?? "?", job, notified,
                DurationText.format(entry.bakeSeconds) + (loaded.plan.schedule.bakeIn == .windows ? " in windows" : ""),
                entry.earliestStart.map(TimeText.format) ?? "never (no window opens)", waits.joined(separator: ", "),
            ])
        }
        print(TextTable.render(header: header, rows: rows.map { $0.map { LocalTime.rewrite($0) } }))
        if let last = entries.last, let end = last.earliestBakeEnd {
            print(LocalTime.rewrite("earliest completion: \(TimeText.format(end)) "
                                    + "(\(DurationWords.format(end.timeIntervalSince(now))) from start)"))
        }
    }
}

/// Plain aligned columns for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
