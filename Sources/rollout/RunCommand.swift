import ArgumentParser
import Engine
import FleetAWS
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// `rollout run PLAN --db PATH`: drives one plan on AWS IoT Jobs + S3 to its end, in the foreground, on the real clock.
///
/// The rollout id derives from the plan text, and every step is persisted before the next, so running the same
/// command again after a crash, a SIGKILL or Ctrl-C resumes the same rollout where it stopped; no job is created twice.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drive one plan on AWS IoT Jobs and S3 to its end, in the foreground; run it again to resume.",
        discussion: """
            Needs the plan's `aws:` section (at least `bucket`). Credentials come from the standard AWS chain \
            (environment, ~/.aws/credentials and ~/.aws/config with --profile or AWS_PROFILE, container credentials, \
            EC2 instance metadata); endpoints from --endpoint-url, AWS_ENDPOINT_URL_IOT / AWS_ENDPOINT_URL_S3, \
            AWS_ENDPOINT_URL (e.g. moto: --endpoint-url http://127.0.0.1:5000).

            Every step is saved in the --db database before the next one. The same plan text is always the same \
            rollout: after a crash, a kill or Ctrl-C, run the same command again and it resumes where it stopped. \
            When the rollout needs a person (an approval, or a pause) the command says what it waits for and exits \
            with 4: approve or resume it (`rollout approve` / `rollout resume`, through a worker serving the same \
            database), then run this \
            command again.

            Exit: 0 completed, 3 rolled back, 4 aborted or waiting for a person (approval, pause), 65 invalid plan \
            or no `aws:` section, 130 interrupted (resume by running the same command), 1 any other error \
            (including --timeout).
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Option(help: "SQLite database holding the rollout (created if missing); one worker per database.")
    var db: String

    @Option(help: "AWS region; default the plan's aws.region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's.")
    var region: String?

    @Option(help: "Endpoint URL for both IoT and S3 (e.g. moto at http://127.0.0.1:5000).")
    var endpointURL: String?

    @Option(help: "Profile of ~/.aws/config and ~/.aws/credentials; default AWS_PROFILE, else `default`.")
    var profile: String?

    @Option(help: "How often a running job's progress and the metric gates are read: a duration such as 5s or 30s.")
    var pollInterval: String = "30s"

    @Option(help: "Stop (exit 1, the rollout stays where it is) after this long: a duration such as 2h or 30d.")
    var timeout: String = "30d"

    @Option(help: "text or json (one JSON object per line).")
    var output: OutputFormat = .text

    @Flag(help: "Log every state change and fleet call at info level on stderr (default: warnings only).")
    var verbose = false

    static let interruptedStatus: Int32 = 130
    static let pollIntervalSecondsRange = 1...3600

    func validate() throws {
        guard let poll = DurationText.parseSeconds(pollInterval), RunCommand.pollIntervalSecondsRange.contains(poll) else {
            throw ValidationError("--poll-interval must be a duration from 1s to 1h, such as 5s or 30s")
        }
        guard let limit = DurationText.parseSeconds(timeout), limit >= 1 else {
            throw ValidationError("--timeout must be a duration such as 2h or 30d")
        }
    }

    func run() async throws {
        let loaded = try LoadedPlan.load(plan)
        guard let awsSettings = loaded.plan.aws else {
            Console.error("error: \(plan): `rollout run` drives the plan on AWS and needs its `aws:` section, "
                          + "at least `aws: {bucket: <bucket for firmware and job documents>}`")
            throw ExitCode(ExitStatus.invalidInput)
        }
        let pollSeconds = Double(DurationText.parseSeconds(pollInterval) ?? 30)
        let timeoutSeconds = Double(DurationText.parseSeconds(timeout) ?? 30 * 86400)
        var logger = Logger(label: "rollout", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .info : .warning

        let reporter = RunReporter(format: output)
        let stop = StopRequest()
        stop.install(onSignal: { signalName in
            Console.error("\n\(signalName): stopping. The rollout's state is saved: resume by running the same command.")
        })

        let store: SQLiteRolloutStore
        let engine: RolloutEngine
        do {
            store = try SQLiteRolloutStore(path: db, role: .worker)
            var configuration = try AWSConfiguration.resolve(region: region ?? awsSettings.region,
                                                             endpointURL: endpointURL, profile: profile)
            configuration.logger = logger
            engine = RolloutEngine(store: store, fleet: AWSFleet(configuration: configuration),
                                   metricSource: HTTPMetricSource(), notifier: WebhookNotifier(), clock: SystemClock(),
                                   configuration: EngineConfiguration(pollIntervalSeconds: pollSeconds), logger: logger)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }

        let rolloutId: String
        do {
            let id = RolloutIdentity.rolloutId(planName: loaded.plan.name, planSource: loaded.source)
            if let existing = try store.rollout(id: id), existing.fleetKind != "aws" {
                Console.error("error: \(db) holds rollout \(id) on the \(existing.fleetKind) fleet; "
                              + "`rollout run` drives AWS rollouts only: use another --db")
                throw ExitCode(ExitStatus.otherError)
            }
            let submitted = try await engine.submit(plan: loaded.plan, planSource: loaded.source)
            rolloutId = submitted.rolloutId
            reporter.started(rolloutId: rolloutId, created: submitted.created, state: submitted.state, database: db)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }

        let status = await drive(engine: engine, rolloutId: rolloutId, pollSeconds: pollSeconds,
                                 timeoutSeconds: timeoutSeconds, reporter: reporter, stop: stop)
        if status != ExitStatus.completed { throw ExitCode(status) }
    }

    /// Steps the rollout until it ends, needs a person, is interrupted or runs out of time; returns the exit status.
    func drive(engine: RolloutEngine, rolloutId: String, pollSeconds: Double, timeoutSeconds: Double,
               reporter: RunReporter, stop: StopRequest) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        // Bounded: every pass either sleeps until the next due instant (at most one poll interval) or did work;
        // the deadline ends it in any case.
        while true {
            if stop.isRequested {
                reporter.interrupted(rolloutId: rolloutId, database: db)
                return RunCommand.interruptedStatus
            }
            let wake: Date?
            let state: RolloutState
            do {
                wake = try await engine.step(rolloutId: rolloutId)
                guard let current = try await engine.state(of: rolloutId) else {
                    Console.error("error: rollout \(rolloutId) vanished from \(db)")
                    return ExitStatus.otherError
                }
                state = current
            } catch {
                Console.error("error: \(error)\nThe rollout's state is saved up to the last step: "
                              + "resume by running the same command.")
                return ExitStatus.otherError
            }
            reporter.observe(state)
            if state.phase.isTerminal && wake == nil {
                reporter.finished(state)
                return ExitStatus.forPhase(state.phase)
            }
            if !state.phase.isTerminal {
                if let pause = state.pause {
                    reporter.needsPerson(state, what: "paused (\(pause.kind.rawValue)): \(pause.reason)",
                                         how: "resume it (`rollout resume \(rolloutId)` through a worker serving \(db)), "
                                            + "then run this command again")
                    return ExitStatus.pausedOrAborted
                }
                if state.phase == .awaitingApproval {
                    let stage = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage].name : "the next stage"
                    reporter.needsPerson(state, what: state.waitingFor ?? "approval of \(stage)",
                                         how: "approve it (`rollout approve \(rolloutId)` through a worker serving \(db)), "
                                            + "then run this command again")
                    return ExitStatus.pausedOrAborted
                }
                if wake == nil {
                    reporter.needsPerson(state, what: state.waitingFor ?? "a person (nothing is scheduled)",
                                         how: "act on it, then run this command again")
                    return ExitStatus.pausedOrAborted
                }
            }
            let now = Date()
            if now >= deadline {
                reporter.timedOut(state, after: timeout)
                return ExitStatus.otherError
            }
            let next = min(wake ?? now.addingTimeInterval(pollSeconds), now.addingTimeInterval(pollSeconds), deadline)
            await stop.sleep(until: next)
        }
    }
}

/// Ctrl-C / SIGTERM: the first signal asks the loop to stop after the step in progress (every step is persisted,
/// so stopping anywhere is safe); if that takes more than a few seconds, or on a second signal, the process exits.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var sources: [DispatchSourceSignal] = []
    static let graceSeconds = 5.0

    var isRequested: Bool { lock.withLock { requested } }

    func install(onSignal: @escaping @Sendable (String) -> Void) {
        for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let first = lock.withLock { () -> Bool in
                    defer { requested = true }
                    return !requested
                }
                guard first else { exit(RunCommand.interruptedStatus) }
                onSignal(name)
                DispatchQueue.global().asyncAfter(deadline: .now() + StopRequest.graceSeconds) {
                    exit(RunCommand.interruptedStatus)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Sleeps until `date` on the real clock, waking within 0.2 s of a stop request.
    func sleep(until date: Date) async {
        while !isRequested {
            let remaining = date.timeIntervalSinceNow
            if remaining <= 0 { return }
            try? await Task.sleep(nanoseconds: UInt64(min(remaining, 0.2) * 1_000_000_000))
        }
    }
}

/// Progress for people (one line per change, UTC timestamps) or scripts (one JSON object per line).
final class RunReporter: @unchecked Sendable {
    let format: OutputFormat
    private var lastKey: String?
    private var lastRollbackReason: String?

    init(format: OutputFormat) {
        self.format = format
    }

    struct Line: Encodable {
        var at: Date
        var event: String
        var rolloutId: String
        var phase: String
        var stage: String?
        var stageStatus: String?
        var devices: Int?
        var queued: Int?
        var inProgress: Int?
        var succeeded: Int?
        var failed: Int?
        var timedOut: Int?
        var rejected: Int?
        var canceled: Int?
        var message: String?
        var exitCode: Int32?
    }

    func started(rolloutId: String, created: Bool, state: RolloutState, database: String) {
        let text = created
            ? "rollout \(rolloutId) submitted (state in \(database))"
            : "resuming rollout \(rolloutId) from \(state.displayPhase.rawValue) (state in \(database))"
        emit(line(created ? "submitted" : "resumed", state, message: text), text: text)
    }

    func observe(_ state: RolloutState) {
        let line = line("progress", state, message: state.message)
        let key = [line.phase, line.stage ?? "", line.stageStatus ?? "", "\(line.queued ?? 0)", "\(line.inProgress ?? 0)",
                   "\(line.succeeded ?? 0)", "\(line.failed ?? 0)", "\(line.timedOut ?? 0)", "\(line.rejected ?? 0)",
                   "\(line.canceled ?? 0)", line.message ?? ""].joined(separator: "|")
        guard key != lastKey else { return }
        lastKey = key
        if let rollback = state.rollback, rollback.reason != lastRollbackReason {
            lastRollbackReason = rollback.reason
            emit(self.line("rollingBack", state, message: rollback.reason), text: "rolling back: \(rollback.reason)")
        }
        var text = "\(line.phase.padding(toLength: 16, withPad: " ", startingAt: 0)) \(line.stage ?? "-")"
        if let devices = line.devices {
            let done = (line.succeeded ?? 0) + (line.failed ?? 0) + (line.timedOut ?? 0) + (line.rejected ?? 0)
            let parts = [(line.succeeded, "ok"), (line.failed, "failed"), (line.timedOut, "timed out"),
                         (line.rejected, "rejected"), (line.inProgress, "in progress"), (line.canceled, "canceled")]
                .compactMap { count, word in (count ?? 0) > 0 ? "\(count!) \(word)" : nil }
            text += " \(done)/\(devices) done" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
        }
        if let message = line.message { text += " — \(message)" }
        emit(line, text: text)
    }

    func needsPerson(_ state: RolloutState, what: String, how: String) {
        let text = "waiting for \(what): \(how)"
        var line = line("waiting", state, message: text)
        line.exitCode = ExitStatus.pausedOrAborted
        emit(line, text: text)
    }

    func finished(_ state: RolloutState) {
        let text = "rollout \(state.rolloutId) \(state.phase.rawValue)" + (state.message.map { ": \($0)" } ?? "")
        var line = line("finished", state, message: state.message)
        line.exitCode = ExitStatus.forPhase(state.phase)
        emit(line, text: text)
    }

    func interrupted(rolloutId: String, database: String) {
        let text = "stopped; rollout \(rolloutId) is saved in \(database): resume by running the same command"
        let line = Line(at: Date(), event: "interrupted", rolloutId: rolloutId, phase: "-", message: text,
                        exitCode: RunCommand.interruptedStatus)
        emit(line, text: text)
    }

    func timedOut(_ state: RolloutState, after timeout: String) {
        let text = "stopped after --timeout \(timeout) in \(state.displayPhase.rawValue); "
            + "the rollout stays where it is: run the same command to go on"
        var line = line("timeout", state, message: text)
        line.exitCode = ExitStatus.otherError
        emit(line, text: text)
    }

    private func line(_ event: String, _ state: RolloutState, message: String?) -> Line {
        var line = Line(at: Date(), event: event, rolloutId: state.rolloutId, phase: state.displayPhase.rawValue,
                        message: message)
        if state.phase == .rollingBack || state.phase == .rolledBack, let rollback = state.rollback {
            line.stage = "rollback"
            line.devices = rollback.devices
            fill(&line, rollback.progress)
        } else if state.stages.indices.contains(state.currentStage) {
            let stage = state.stages[state.currentStage]
            line.stage = stage.name
            line.stageStatus = stage.status.rawValue
            line.devices = stage.devices
            if stage.jobCreatedAt != nil { fill(&line, stage.progress) }
        }
        return line
    }

    private func fill(_ line: inout Line, _ progress: JobProgress) {
        line.queued = progress.queued
        line.inProgress = progress.inProgress
        line.succeeded = progress.succeeded
        line.failed = progress.failed
        line.timedOut = progress.timedOut
        line.rejected = progress.rejected
        line.canceled = progress.canceled
    }

    private func emit(_ line: Line, text: String) {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            if let data = try? encoder.encode(line) { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
        case .text:
            // Unbuffered, so a tail of the output (or a log collector) sees each change at once.
            FileHandle.standardOutput.write(Data("\(TimeText.format(line.at))  \(text)\n".utf8))
        }
    }
}
