import ArgumentParser
import Engine
import Foundation
import RolloutCore

/// `rollout device`: one device of a rollout — what it does, and taking it out.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Show one device of a rollout, or take it out (exclude) and cancel its execution (cancel).",
        discussion: """
            `rollout device ROLLOUT THING` shows the device's stage, its job executions (status, the agent's \
            statusDetails, versionNumber, queued/started/updated times) and whether a person took it out. \
            `exclude` leaves it out of later stages; `cancel` also cancels its execution in the stage that holds it \
            (`--force`: even while it installs). Both are recorded in the rollout's event log with who and why.
            """,
        subcommands: [DeviceShowCommand.self, DeviceExcludeCommand.self, DeviceCancelCommand.self],
        defaultSubcommand: DeviceShowCommand.self)
}

/// The rollout and the device every `rollout device` verb names.
struct DeviceTarget: ParsableArguments {
    @Argument(help: "The rollout id.") var id: String
    @Argument(help: "The device's thing name.") var thing: String
    @OptionGroup var serverOptions: ServerOptions

    /// `/v1/rollouts/<id>/devices/<thing>`, both encoded as path segments.
    var path: String {
        func segment(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
                ?? text
        }
        return "/v1/rollouts/\(segment(id))/devices/\(segment(thing))"
    }

    func validate() throws {
        guard DeviceExclusion.isValidThingName(thing) else {
            throw ValidationError(DeviceLookupError.invalidName(thing).description)
        }
    }
}

struct DeviceShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one device of a rollout.")
    @OptionGroup var target: DeviceTarget
    @Option(help: "text or json.") var output: OutputFormat = .text

    func run() async throws {
        let answer: Any
        do {
            answer = try await target.serverOptions.client().send("GET", target.path)
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure.message)")
            throw failure.exitCode
        }
        let report = answer as? [String: Any] ?? [:]
        if output == .json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(LocalTime.rewrite(Self.text(report)))
    }

    /// The report as lines people read.
    static func text(_ report: [String: Any]) -> String {
        var lines = ["\(report["thing"] as? String ?? "?") in rollout \(report["rolloutId"] as? String ?? "?"): stage "
                     + (report["stage"] as? String ?? "not assigned yet")]
        if let exclusion = report["exclusion"] as? [String: Any] {
            let what = exclusion["cancelled"] as? Bool == true
                ? "taken out, cancel requested" + (exclusion["force"] as? Bool == true ? " (forced)" : "")
                : "taken out of later stages"
            lines.append("\(what) by \(exclusion["by"] as? String ?? "?") at \(exclusion["at"] as? String ?? "?")"
                         + ((exclusion["reason"] as? String).map { ": \($0)" } ?? ""))
        }
        let executions = report["executions"] as? [[String: Any]] ?? []
        if executions.isEmpty { lines.append("no job execution yet") }
        for execution in executions {
            var line = "job \(execution["jobId"] as? String ?? "?"): \(execution["status"] as? String ?? "?")"
            if let version = execution["versionNumber"] as? Int { line += ", version \(version)" }
            for (key, label) in [("queuedAt", "queued"), ("startedAt", "started"), ("lastUpdatedAt", "updated")] {
                if let at = execution[key] as? String { line += ", \(label) \(at)" }
            }
            lines.append(line)
            let details = (execution["statusDetails"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }
            if !details.isEmpty {
                lines.append("  statusDetails: " + details.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
            }
        }
        let history = report["history"] as? [[String: Any]] ?? []
        if !history.isEmpty { lines.append("history:") }
        for moment in history.prefix(20) {
            let fact = moment["fact"] as? [String: Any] ?? [:]
            let text: String
            if let created = fact["stageJobCreated"] as? [String: Any] {
                text = "\(created["stage"] as? String ?? "?") job created"
            } else if let ended = fact["stageEnded"] as? [String: Any] {
                text = "\(ended["stage"] as? String ?? "?") ended \(ended["status"] as? String ?? "?")"
            } else if let out = fact["takenOut"] as? [String: Any] {
                text = "taken out by \(out["by"] as? String ?? "?")" + (out["cancelled"] as? Bool == true ? ", cancel requested" : "")
            } else if fact["rollbackJobCreated"] != nil {
                text = "in the rollback job"
            } else {
                text = fact.keys.sorted().joined(separator: ", ")
            }
            lines.append("  \(moment["at"] as? String ?? "?")  \(text)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `exclude` and `cancel`: the same request, `cancel` with its execution cancelled.
protocol DeviceVerbCommand: AsyncParsableCommand {
    static var verb: String { get }
    var target: DeviceTarget { get }
    var reason: String? { get }
    var by: String? { get }
    var force: Bool { get }
}

extension DeviceVerbCommand {
    func validate() throws {
        try target.validate()
        let who = by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli"
        if let problem = ControlVerb.problem(by: who, reason: reason ?? "") { throw ValidationError(problem) }
    }

    func run() async throws {
        var body: [String: Any] = ["by": by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli"]
        if let reason { body["reason"] = reason }
        if Self.verb == "cancel" { body["force"] = force }
        do {
            let answer = try await target.serverOptions.client().send(
                "POST", target.path + "/" + Self.verb, body: try JSONSerialization.data(withJSONObject: body))
            let object = answer as? [String: Any] ?? [:]
            print("\(Self.verb) recorded for \(target.thing) in \(target.id): " + (object["message"] as? String ?? "")
                  + " (rollout \(object["phase"] as? String ?? "?"))")
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure.message)")
            throw failure.exitCode
        }
    }
}

struct DeviceExcludeCommand: DeviceVerbCommand {
    static let verb = "exclude"
    static let configuration = CommandConfiguration(
        commandName: "exclude", abstract: "Leave a device out of the rollout's later stages (its running execution goes on).")
    @OptionGroup var target: DeviceTarget
    @Option(help: "Why, kept in the rollout's event log.") var reason: String?
    @Option(help: "Who asks, for the event log (default: $USER).") var by: String?
    var force: Bool { false }
}

struct DeviceCancelCommand: DeviceVerbCommand {
    static let verb = "cancel"
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a device's execution (CancelJobExecution) and leave it out of later stages.")
    @OptionGroup var target: DeviceTarget
    @Option(help: "Why, kept in the rollout's event log.") var reason: String?
    @Option(help: "Who asks, for the event log (default: $USER).") var by: String?
    @Flag(help: "Also cancel an execution the device is installing (it may be left with a half-written image).")
    var force = false
}
