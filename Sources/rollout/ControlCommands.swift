import ArgumentParser
import Engine
import Foundation
import RolloutCore
import StorePostgres
import StoreSQLite

/// The control verbs: each records an intent that the worker's engine acts on.
protocol ControlVerbCommand: AsyncParsableCommand {
    static var verb: ControlVerb { get }
    var target: ControlTarget { get }
    /// promote's `--stage`; nil for the other verbs.
    var stage: String? { get }
}

/// What every control verb takes: the rollout, why, and where to record it (a worker, or a database with `--db`).
struct ControlTarget: ParsableArguments {
    @Argument(help: "The rollout id.") var id: String
    @Option(help: "Why (approve: a note), kept in the rollout's event log.") var reason: String?
    @Option(help: "Who asks, for the event log (default: $USER).") var by: String?
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var localOptions: LocalDatabaseOption
}

/// `--db PATH`: record the command directly in a database no worker holds (e.g. after `rollout run` exited 4).
struct LocalDatabaseOption: ParsableArguments {
    @Option(name: .customLong("db"),
            help: "Record the command in this database instead of sending it to a worker (an SQLite database no worker holds, or postgres://… beside running workers).")
    var database: String?
}

extension ControlVerbCommand {
    var id: String { target.id }
    var reason: String? { target.reason }
    var serverOptions: ServerOptions { target.serverOptions }
    var localOptions: LocalDatabaseOption { target.localOptions }
    var by: String { target.by ?? ProcessInfo.processInfo.environment["USER"] ?? "cli" }

    var stage: String? { nil }

    /// The event this verb records.
    var event: RolloutEvent { Self.verb.event(by: by, reason: reason ?? "", stage: stage) }

    func validate() throws {
        if let problem = ControlVerb.problem(by: by, reason: reason ?? "") { throw ValidationError(problem) }
    }

    func run() async throws {
        if let database = localOptions.database {
            try recordLocally(database: database)
            return
        }
        let client = try serverOptions.client()
        var body: [String: String] = ["by": by]
        if let reason { body["reason"] = reason }
        if let stage { body["stage"] = stage }
        do {
            let answer = try await client.send("POST", "/v1/rollouts/\(id)/\(Self.verb.rawValue)",
                                               body: try JSONSerialization.data(withJSONObject: body))
            let object = answer as? [String: Any] ?? [:]
            print("\(Self.verb.rawValue) recorded for \(id): now \(object["phase"] as? String ?? "?")")
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure.message)")
            throw failure.exitCode
        }
    }

    func recordLocally(database: String) throws {
        do {
            if PostgresLocation.isPostgresURL(database) {
                // Beside running workers: the command is one more event (checked against the event count), and the
                // rollout's owner hears of it at once (NOTIFY in the same transaction).
                let store = try PostgresRolloutStore(location: try PostgresLocation(url: database), migrate: false)
                defer { store.close() }
                let state = try CommandRecorder.record(event, rolloutId: id, store: store, wallNow: Date())
                print("\(Self.verb.rawValue) recorded for \(id): now \(state.displayPhase.rawValue); the worker leasing "
                      + "it acts on it")
                return
            }
            // The worker role takes the database's lock: refused while a worker (or `rollout run`) holds it.
            let store = try SQLiteRolloutStore(path: database, role: .worker)
            defer { store.close() }
            let state = try CommandRecorder.record(event, rolloutId: id, store: store, wallNow: Date())
            print("\(Self.verb.rawValue) recorded for \(id) in \(database): now \(state.displayPhase.rawValue); "
                  + "the next worker or `rollout run` on this database acts on it")
        } catch let rejected as CommandRejected {
            Console.error("error: \(rejected.reason)")
            throw ExitCode(ExitStatus.pausedOrAborted)
        } catch StoreError.locked(let message) {
            Console.error("error: \(message); send the command to that worker instead (--server)")
            throw ExitCode(ExitStatus.otherError)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
    }
}

struct PauseCommand: ControlVerbCommand {
    static let verb = ControlVerb.pause
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Hold a rollout: no new stage starts (a failing gate still acts).")
    @OptionGroup var target: ControlTarget
}

struct ResumeCommand: ControlVerbCommand {
    static let verb = ControlVerb.resume
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let a paused rollout go on (past a failed gate with onFailure: pause, this overrides the gate).")
    @OptionGroup var target: ControlTarget
}

struct AbortCommand: ControlVerbCommand {
    static let verb = ControlVerb.abort
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Stop a rollout for good: cancel the running job; devices already updated keep the new firmware.")
    @OptionGroup var target: ControlTarget
}

struct ApproveCommand: ControlVerbCommand {
    static let verb = ControlVerb.approve
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve the stage a rollout waits on (`approval: required`).")
    @OptionGroup var target: ControlTarget
}

struct RollbackCommand: ControlVerbCommand {
    static let verb = ControlVerb.rollback
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Cancel the running job and put the previous firmware back on every device that took the new one.")
    @OptionGroup var target: ControlTarget
}

struct PromoteCommand: ControlVerbCommand {
    static let verb = ControlVerb.promote
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "End the current stage's bake now (its gates judge at once and must still pass), or skip a wait for the "
            + "start time or a maintenance window; recorded with who and why.",
        discussion: """
            Never in place of an approval (approve does that) and never while paused. With --stage NAME it acts only \
            if NAME is the current stage, so a promote typed for the canary cannot end a wave's bake.
            """)
    @OptionGroup var target: ControlTarget
    @Option(help: "Act only if this is the current stage.") var stage: String?
}
