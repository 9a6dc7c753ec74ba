import ArgumentParser

@main
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Staged firmware rollouts on AWS IoT Jobs, or rehearsed on a simulated fleet.",
        discussion: """
            Exit codes: 0 success (rollout completed), 3 rolled back, 4 paused or aborted or waiting for a person,
            5 rollback incomplete (devices left on the new firmware), 65 invalid plan or scenario, 1 any other error.
            `rollout preflight`: 0 ready, 2 warnings, 1 blocked.
            """,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, PreflightCommand.self, SimulateCommand.self, RunCommand.self, WorkerCommand.self, SubmitCommand.self,
            EnqueueCommand.self, StatusCommand.self, PauseCommand.self, ResumeCommand.self, AbortCommand.self,
            ApproveCommand.self, RollbackCommand.self, CleanupCommand.self, RingsCommand.self, SignCommand.self, BenchCommand.self,
        ]
    )
}
