import ArgumentParser
import Foundation
import RolloutCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show rollouts of a running worker: all of them, or one in detail, with progress bars on a terminal.",
        discussion: """
            With --watch the view refreshes every --interval seconds until the rollout ends (or Ctrl-C), then exits \
            like `rollout run`: 0 completed, 3 rolled back, 5 rollback incomplete, 4 aborted; with --until-person also \
            4 as soon as the rollout waits for a person (an approval, a pause), so a pipeline step can gate on it. \
            --timeout ends the watch with 1 (the rollout goes on).
            """
    )

    @Argument(help: "A rollout id; omit to list every rollout.")
    var id: String?

    @Flag(help: "Refresh until the rollout ends.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 2

    @Flag(help: "With --watch: stop (exit 4) as soon as the rollout waits for a person (approval, pause).")
    var untilPerson = false

    @Option(help: "With --watch: give up after this long (a duration such as 30m or 2h; exit 1).")
    var timeout: String?

    @Option(help: "Only rollouts in this phase (list).")
    var phase: String?

    @Flag(help: "With a rollout id: also the verdict history (every change of a stage's verdict, with its numbers; the last 50).")
    var verdicts = false

    @OptionGroup var serverOptions: ServerOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard interval >= 0.2 && interval <= 3600 else { throw ValidationError("--interval must be 0.2…3600 seconds") }
        if let timeout, DurationText.parseSeconds(timeout) == nil {
            throw ValidationError("--timeout must be a duration such as 30m or 2h")
        }
        if verdicts && id == nil { throw ValidationError("--verdicts goes with a rollout id") }
        if (untilPerson || timeout != nil) && (!watch || id == nil) {
            throw ValidationError("--until-person and --timeout go with --watch and a rollout id")
        }
        if let phase, RolloutPhase(rawValue: phase) == nil {
            throw ValidationError("--phase must be one of \(RolloutPhase.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let client = try serverOptions.client()
        let deadline = Date().addingTimeInterval(Double(timeout.flatMap(DurationText.parseSeconds) ?? 30 * 86400))
        // Bounded: a watch ends when the rollout does, at --timeout, or after 30 days of refreshes.
        let refreshesMax = watch ? Int(30 * 86400 / interval) : 1
        for refresh in 0..<refreshesMax {
            let answer: Any
            do {
                answer = try await show(client: client, clear: watch && refresh > 0 && Console.stdoutIsTerminal)
            } catch let failure as WorkerClient.Failure {
                Console.error("error: \(failure)")
                throw failure.exitCode
            }
            guard watch, id != nil else { return }
            if let status = Self.watchExit(answer as? [String: Any] ?? [:], untilPerson: untilPerson) {
                if status != ExitStatus.completed { throw ExitCode(status) }
                return
            }
            if Date() >= deadline {
                Console.error("stopped watching after --timeout \(timeout ?? ""); the rollout goes on")
                throw ExitCode(ExitStatus.otherError)
            }
            try await Task.sleep(nanoseconds: UInt64(min(interval, max(0.2, deadline.timeIntervalSinceNow)) * 1_000_000_000))
        }
    }

    /// When a watch ends, with its exit status: a terminal phase as `rollout run` exits; with `untilPerson`, a
    /// rollout waiting for a person (paused, awaiting approval) ends it with 4. Nil: keep watching.
    static func watchExit(_ detail: [String: Any], untilPerson: Bool) -> Int32? {
        guard let phase = (detail["phase"] as? String).flatMap(RolloutPhase.init(rawValue:)) else { return nil }
        if phase.isTerminal { return ExitStatus.forPhase(phase) }
        if untilPerson && (phase == .paused || phase == .awaitingApproval) { return ExitStatus.pausedOrAborted }
        return nil
    }

    /// Prints one view; returns what the worker answered.
    func show(client: WorkerClient, clear: Bool) async throws -> Any {
        let path = id.map { "/v1/rollouts/\($0)" } ?? "/v1/rollouts" + (phase.map { "?phase=\($0)" } ?? "")
        let answer = try await client.send("GET", path)
        if output == .json {
            let data = try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            if clear { print("\u{1B}[2J\u{1B}[H", terminator: "") }
            let rollouts = id == nil ? (answer as? [String: Any])?["rollouts"] as? [[String: Any]] ?? []
                : [answer as? [String: Any] ?? [:]]
            if rollouts.isEmpty { print("no rollouts") }
            for rollout in rollouts { print(LocalTime.rewrite(StatusText.render(rollout))) }
            if verdicts, let detail = rollouts.first {
                print(LocalTime.rewrite(StatusText.verdictHistory(detail["verdicts"] as? [[String: Any]] ?? [])
                    .joined(separator: "\n")))
            }
        }
        return answer
    }
}

/// Text rendering of a rollout summary (list) or detail (one rollout) from the API: a header with what it waits for
/// and until when, a stage table (bar, ok, failed, in progress, queued, devices, the gates' last verdict), the
/// rollback row, and what a person can do next. Colours on a terminal unless NO_COLOR is set.
enum StatusText {
    static func render(_ rollout: [String: Any], now: Date = Date(), colours: Bool = Colours.enabled) -> String {
        let paint = Colours(enabled: colours)
        var lines: [String] = []
        let id = rollout["id"] as? String ?? "?"
        let phase = rollout["phase"] as? String ?? "?"
        var header = "\(id)  \(paint.phase(phase))"
        if let waiting = rollout["waitingFor"] as? String {
            header += "  · waiting for \(waiting)"
            if let due = (rollout["dueAt"] as? String).flatMap(Self.date), due > now {
                header += " (in \(DurationWords.format(due.timeIntervalSince(now))))"
            }
        }
        lines.append(header)
        if let message = rollout["message"] as? String { lines.append("  \(message)") }
        if let failure = rollout["pollFailure"] as? [String: Any] {
            // No evidence is arriving: said before the bars, which would otherwise look merely slow.
            lines.append(paint.red("  polls failing since \(failure["since"] as? String ?? "?") "
                                   + "(\(failure["attempts"] as? Int ?? 0) in a row): \(failure["lastError"] as? String ?? "")"))
        }
        let gates = Dictionary((rollout["gates"] as? [[String: Any]] ?? []).compactMap { gate in
            (gate["stage"] as? String).map { ($0, gate) }
        }, uniquingKeysWith: { _, last in last })
        var rows: [[String]] = []
        for stage in rollout["stages"] as? [[String: Any]] ?? [] {
            let name = stage["name"] as? String ?? ""
            let devices = stage["devices"] as? Int ?? 0
            let succeeded = stage["succeeded"] as? Int ?? 0
            let failed = (stage["failed"] as? Int ?? 0) + (stage["timedOut"] as? Int ?? 0) + (stage["rejected"] as? Int ?? 0)
            var verdict = ""
            if let gate = gates[name], let kind = gate["verdict"] as? String {
                // As `GateEvaluation.deciding`: a dry-run gate never decides.
                let deciding = (gate["results"] as? [[String: Any]] ?? []).filter {
                    $0["verdict"] as? String == kind && $0["dryRun"] as? Bool != true
                }
                let reason = deciding.first?["reason"] as? String ?? ""
                verdict = kind + (reason.isEmpty || kind == "pass" ? "" : ": " + Self.cut(reason, 70))
            }
            rows.append([name, stage["status"] as? String ?? "", progressBar(done: succeeded, failed: failed, total: devices, width: 24),
                         "\(succeeded)", "\(failed)", "\(stage["inProgress"] as? Int ?? 0)", "\(stage["queued"] as? Int ?? 0)",
                         "\(devices)", verdict])
        }
        if let rollback = rollout["rollback"] as? [String: Any] {
            let progress = rollback["progress"] as? [String: Any] ?? [:]
            let devices = rollback["devices"] as? Int ?? 0
            let succeeded = progress["succeeded"] as? Int ?? 0
            let failed = (progress["failed"] as? Int ?? 0) + (progress["timedOut"] as? Int ?? 0) + (progress["rejected"] as? Int ?? 0)
            rows.append(["rollback", rollback["endedAt"] == nil || rollback["endedAt"] is NSNull ? "running" : "done",
                         progressBar(done: succeeded, failed: failed, total: devices, width: 24), "\(succeeded)", "\(failed)",
                         "\(progress["inProgress"] as? Int ?? 0)", "\(progress["queued"] as? Int ?? 0)", "\(devices)",
                         Self.cut(rollback["reason"] as? String ?? "", 70)])
        }
        if !rows.isEmpty {
            var header = ["stage", "status", "progress", "ok", "failed", "in progress", "queued", "devices", "gates"]
            if rows.allSatisfy({ $0.last?.isEmpty ?? true }) {
                // A list entry carries no gates: no empty column.
                header.removeLast()
                rows = rows.map { Array($0.dropLast()) }
            }
            let table = TextTable.render(header: header, rows: rows)
            lines += table.split(separator: "\n").map { "  " + paint.failures(String($0)) }
        }
        lines += metricLines(rollout["gates"] as? [[String: Any]] ?? [])
        if let rollback = rollout["rollback"] as? [String: Any], let count = rollback["notRolledBackCount"] as? Int,
           count > 0 {
            lines.append(DeviceListText.render(rollback["notRolledBack"] as? [String] ?? [], count: count,
                                               more: "--output json lists up to 1,000", indent: "  "))
        }
        lines += exclusionLines((rollout["state"] as? [String: Any])?["exclusions"] as? [[String: Any]] ?? [])
        if let next = nextAction(phase: phase, id: id) { lines.append("  next: \(next)") }
        return lines.joined(separator: "\n")
    }

    /// Devices people took out (`rollout device`): the first 5, with who and why, and how many more.
    static func exclusionLines(_ exclusions: [[String: Any]]) -> [String] {
        guard !exclusions.isEmpty else { return [] }
        var lines = ["  taken out by hand: \(exclusions.count) device\(exclusions.count == 1 ? "" : "s")"]
        for exclusion in exclusions.prefix(5) {
            let cancelled = exclusion["cancelled"] as? Bool == true
            lines.append("    \(exclusion["thing"] as? String ?? "?")"
                         + ((exclusion["stage"] as? String).map { " (\($0))" } ?? "")
                         + (cancelled ? " cancel requested" : " excluded") + " by \(exclusion["by"] as? String ?? "?")"
                         + ((exclusion["reason"] as? String).map { ": \(cut($0, 60))" } ?? ""))
        }
        if exclusions.count > 5 { lines.append("    … and \(exclusions.count - 5) more (--output json lists them)") }
        return lines
    }

    /// The metric gates' measurements of the latest stage that has any: one line per gate (counts, the last
    /// value or error, what was asked), at most the plan's 8 gates.
    static func metricLines(_ gates: [[String: Any]]) -> [String] {
        guard let stage = gates.last(where: { !($0["measurements"] as? [[String: Any]] ?? []).isEmpty }) else { return [] }
        var lines = ["  metrics of \(stage["stage"] as? String ?? "?"):"]
        for metric in (stage["measurements"] as? [[String: Any]] ?? []).prefix(8) {
            let name = metric["name"] as? String ?? "?"
            let provider = metric["provider"] as? String ?? ""
            let last = (metric["recent"] as? [[String: Any]] ?? []).last ?? [:]
            var latest = "not measured"
            if let value = last["value"] as? Double {
                latest = "\(GateEvaluator.format(value)) (\(last["outcome"] as? String ?? ""))"
            } else if let error = last["error"] as? String {
                latest = "unreadable: " + cut(error, 60)
            }
            let counts = "\(metric["taken"] as? Int ?? 0) measured, \(metric["failures"] as? Int ?? 0) failed, "
                + "\(metric["errors"] as? Int ?? 0) unreadable"
            let dryRun = metric["dryRun"] as? Bool == true ? ", dry run" : ""
            var line = "    \(name) (\(provider)\(dryRun)): \(latest) · \(counts)"
            if let input = last["input"] as? String { line += " · " + cut(input, 80) }
            lines.append(line)
        }
        return lines
    }

    /// The verdict history, newest last: one line per change (time, stage, verdict, what decided it), then the
    /// numbers of each criterion. Bounded: the last `verdictsShownMax` changes, saying how many came before.
    static func verdictHistory(_ entries: [[String: Any]]) -> [String] {
        guard !entries.isEmpty else { return ["  verdicts: none yet"] }
        var lines = ["  verdicts:"]
        if entries.count > verdictsShownMax {
            lines.append("    (\(entries.count - verdictsShownMax) earlier; --output json has them all)")
        }
        for entry in entries.suffix(verdictsShownMax) {
            let at = entry["at"] as? String ?? "?"
            let stage = entry["stage"] as? String ?? "?"
            let verdict = entry["verdict"] as? String ?? "?"
            lines.append("    \(at)  \(stage)  \(verdict)")
            for result in (entry["results"] as? [[String: Any]] ?? []).prefix(16) {
                let gate = result["gate"] as? String ?? "?"
                let dryRun = result["dryRun"] as? Bool == true ? " (dry run)" : ""
                lines.append("      \(result["verdict"] as? String ?? "?")\(dryRun)  \(gate): "
                             + cut(result["reason"] as? String ?? "", 110))
            }
        }
        return lines
    }

    static let verdictsShownMax = 50

    /// What a person can do now, as the command to type.
    static func nextAction(phase: String, id: String) -> String? {
        switch phase {
        case "awaitingApproval": return "approve with `rollout approve \(id) --reason …` (or pause, abort, rollback)"
        case "paused": return "resume with `rollout resume \(id) --reason …` (or abort, rollback)"
        case "baking":
            return "`rollout promote \(id) --reason …` ends the bake now (the gates still judge); "
                + "`rollout pause|abort|rollback \(id) --reason …` if it must not go on"
        case "scheduled", "preparing", "deploying", "waitingForWindow":
            return "`rollout pause|abort|rollback \(id) --reason …` if it must not go on"
        default: return nil
        }
    }

    static func date(_ text: String) -> Date? {
        ISO8601DateFormatter().date(from: text)
    }

    static func cut(_ text: String, _ length: Int) -> String {
        text.count > length ? String(text.prefix(length - 1)) + "…" : text
    }

    static func progressBar(done: Int, failed: Int, total: Int, width: Int) -> String {
        guard total > 0 else { return "[" + String(repeating: " ", count: width) + "]" }
        let doneCells = min(width, done * width / total)
        let failedCells = min(width - doneCells, (failed * width + total - 1) / total)
        return "[" + String(repeating: "#", count: doneCells) + String(repeating: "x", count: failedCells)
            + String(repeating: ".", count: width - doneCells - failedCells) + "]"
    }
}

/// ANSI colours for a terminal: off when stdout is not one, or NO_COLOR is set (https://no-color.org).
struct Colours {
    let enabled: Bool

    static var enabled: Bool {
        Console.stdoutIsTerminal && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    func paint(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func red(_ text: String) -> String { paint(text, "31") }

    /// Green for completed, red for rolled back or failed, yellow for what waits for a person, bold otherwise.
    func phase(_ phase: String) -> String {
        switch phase {
        case "completed": return paint(phase, "32")
        case "rolledBack", "rollbackIncomplete", "failed", "aborted": return paint(phase, "31")
        case "paused", "awaitingApproval", "inconclusive": return paint(phase, "33")
        default: return paint(phase, "1")
        }
    }

    /// The failed cells (`x`) of a progress bar in red.
    func failures(_ line: String) -> String {
        guard enabled, let bar = line.range(of: #"\[#*x+\.*\]"#, options: .regularExpression) else { return line }
        let cells = String(line[bar])
        guard let failed = cells.range(of: "x+", options: .regularExpression) else { return line }
        let coloured = cells.replacingCharacters(in: failed, with: "\u{1B}[31m\(cells[failed])\u{1B}[0m")
        return line.replacingCharacters(in: bar, with: coloured)
    }
}
