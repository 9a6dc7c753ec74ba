import ArgumentParser
import Engine
import Foundation
import RolloutCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check plans: exit 0 when every plan is valid, 65 otherwise (problems on stderr).",
        discussion: """
            Each problem names the file, line, column and field, and says what was expected. With --output json, \
            stdout holds one object per file: {file, valid, rolloutId, stages, errors: [{file, line, column, \
            field, message}]}, and stderr stays empty.
            """
    )

    @Argument(help: "Plan files (YAML or JSON).")
    var plans: [String]

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    /// One file's result, as `--output json` prints it.
    struct Result: Encodable {
        var file: String
        var valid: Bool
        var rolloutId: String?
        var stages: Int?
        /// Every problem found, each with its place and field (empty when valid).
        var errors: [PlanIssue]
    }

    func run() throws {
        var results: [Result] = []
        for path in plans {
            do {
                let (source, plan) = try PlanFile.load(atPath: path)
                let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: source)
                results.append(Result(file: path, valid: true, rolloutId: id, stages: plan.stages.count, errors: []))
                if output == .text { print("\(path): valid (rollout id \(id), \(plan.stages.count) stages)") }
            } catch {
                results.append(Result(file: path, valid: false, errors: error.issues))
                if output == .text { Console.error(error.description) }
            }
        }
        if output == .json { try Console.printJSON(results) }
        if results.contains(where: { !$0.valid }) { throw ExitCode(ExitStatus.invalidInput) }
    }
}
