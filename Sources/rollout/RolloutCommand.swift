import ArgumentParser

@main
struct RolloutCommand: AsyncParsableCommand {
    /// `rollout --version`. No release has been cut: the 0.x line says the interfaces may still change.
    static let version = "0.9.0"

    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Staged firmware rollouts on AWS IoT Jobs, or rehearsed on a simulated fleet.",
        discussion: """
            Exit codes: 0 success (rollout completed), 3 rolled back, 4 paused or aborted or waiting for a person,
            5 rollback incomplete (devices left on the new firmware), 64 bad command line or unusable setting (an option \
            out of range, a token file that cannot be read, a port already in use), 65 invalid plan or scenario, \
            1 any other error. `rollout preflight`: 0 ready, 2 warnings, 1 blocked.
            """,
        version: RolloutCommand.version,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, PreflightCommand.self, SimulateCommand.self, RunCommand.self, WorkerCommand.self, SubmitCommand.self,
            EnqueueCommand.self, StatusCommand.self, EventsCommand.self, PauseCommand.self, ResumeCommand.self, AbortCommand.self,
            ApproveCommand.self, RollbackCommand.self, PromoteCommand.self, DeviceCommand.self, CleanupCommand.self, WorkersCommand.self, RingsCommand.self, SignCommand.self, BenchCommand.self,
        ]
    )
}
