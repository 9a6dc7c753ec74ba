import ArgumentParser
import Foundation
import RolloutCore

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry run: the stages, their device counts and the earliest start of each, given bakes and windows.",
        discussion: """
            Earliest starts assume every gate passes as soon as its bake ends and every approval is given at once.
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Option(help: "Eligible devices in the fleet.")
    var devices: Int = 1000

    @Option(help: "When the rollout would be submitted (RFC 3339); default now.")
    var start: Date?

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard devices >= 1 && devices <= 10_000_000 else {
            throw ValidationError("--devices must be 1…10000000 (an empty fleet cannot be rolled out to)")
        }
    }

    func run() throws {
        let loaded = try LoadedPlan.load(plan)
        let now = start ?? Date()
        let entries = PlanTimeline.calculate(plan: loaded.plan, devices: devices, now: now)
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
        let header = ["stage", "target", "devices", "total", "bake", "earliest start", "waits for"]
        var rows: [[String]] = []
        for entry in entries {
            var waits: [String] = []
            if entry.approvalRequired { waits.append("approval") }
            if entry.windowWaitSeconds > 0 { waits.append("window \(DurationWords.format(Double(entry.windowWaitSeconds)))") }
            rows.append([
                entry.stage, entry.target, entry.devices.map(String.init) ?? "group",
                entry.cumulativeDevices.map(String.init) ?? "?", DurationText.format(entry.bakeSeconds),
                entry.earliestStart.map(TimeText.format) ?? "never (no window opens)", waits.joined(separator: ", "),
            ])
        }
        print(TextTable.render(header: header, rows: rows))
        if let last = entries.last, let end = last.earliestBakeEnd {
            print("earliest completion: \(TimeText.format(end)) (\(DurationWords.format(end.timeIntervalSince(now))) from start)")
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
