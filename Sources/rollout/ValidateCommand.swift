import ArgumentParser
import Engine
import Foundation
import RolloutCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check plans: exit 0 when every plan is valid, 65 otherwise (problems on stderr).",
        discussion: "Each problem names the file, line, column and field, and says what was expected."
    )

    @Argument(help: "Plan files (YAML or JSON).")
    var plans: [String]

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        var invalid = 0
        var results: [[String: String]] = []
        for path in plans {
            do {
                let (source, plan) = try PlanFile.load(atPath: path)
                let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: source)
                results.append(["file": path, "valid": "true", "rolloutId": id])
                if output == .text { print("\(path): valid (rollout id \(id), \(plan.stages.count) stages)") }
            } catch {
                invalid += 1
                results.append(["file": path, "valid": "false", "errors": error.description])
                Console.error(error.description)
            }
        }
        if output == .json { try Console.printJSON(results) }
        if invalid > 0 { throw ExitCode(ExitStatus.invalidInput) }
    }
}
