import ArgumentParser
import Foundation

/// The control verbs: each records an intent that the worker's engine acts on.
protocol ControlVerb: AsyncParsableCommand {
    static var verb: String { get }
    var id: String { get }
    var reason: String? { get }
    var serverOptions: ServerOptions { get }
}

extension ControlVerb {
    func run() async throws {
        let client = try serverOptions.client()
        var body: [String: String] = ["by": ProcessInfo.processInfo.environment["USER"] ?? "cli"]
        if let reason { body["reason"] = reason }
        do {
            let answer = try await client.send("POST", "/v1/rollouts/\(id)/\(Self.verb)",
                                               body: try JSONSerialization.data(withJSONObject: body))
            let object = answer as? [String: Any] ?? [:]
            print("\(Self.verb) recorded for \(id): now \(object["phase"] as? String ?? "?")")
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure.message)")
            throw failure.exitCode
        }
    }
}

struct PauseCommand: ControlVerb {
    static let verb = "pause"
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Hold a rollout: no new stage starts (a failing gate still acts).")
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "Why, for the log.") var reason: String?
    @OptionGroup var serverOptions: ServerOptions
}

struct ResumeCommand: ControlVerb {
    static let verb = "resume"
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let a paused rollout go on (past a failed gate with onFailure: pause, this overrides the gate).")
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "Why, for the log.") var reason: String?
    @OptionGroup var serverOptions: ServerOptions
}

struct AbortCommand: ControlVerb {
    static let verb = "abort"
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Stop a rollout for good: cancel the running job; devices already updated keep the new firmware.")
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "Why, for the log.") var reason: String?
    @OptionGroup var serverOptions: ServerOptions
}

struct ApproveCommand: ControlVerb {
    static let verb = "approve"
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve the stage a rollout waits on (`approval: required`).")
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "A note, for the log.") var reason: String?
    @OptionGroup var serverOptions: ServerOptions
}

struct RollbackCommand: ControlVerb {
    static let verb = "rollback"
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Cancel the running job and put the previous firmware back on every device that took the new one.")
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "Why, for the log.") var reason: String?
    @OptionGroup var serverOptions: ServerOptions
}
