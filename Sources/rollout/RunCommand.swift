import ArgumentParser
import Engine
import FleetAWS
import Foundation
import HTTPAdapters
import Logging
import RolloutCore
import RolloutText
import ServiceLifecycle
import StorePostgres
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

            AWS calls share one request budget per account and region (AWS's default rates, or --aws-quota). When \
            the account has no job slot free, the stage waits for one (shown as "waiting for a job slot") instead of \
            failing.

            With --db postgres://user@host:port/database the rollout lives in a database shared with workers: the \
            run takes the rollout's lease (--lease-seconds, renewed every third of it) and drives it alone, as a \
            worker would; commands recorded anywhere (`rollout abort … --db postgres://…`, a worker's API) reach it at \
            once. While a worker or another run holds that lease, the run does not start and says who drives the \
            rollout (exit 75). When it stops, it gives the lease back: a worker sharing the database, if any, goes on \
            with the rollout.

            Exit: 0 completed, 3 rolled back, 4 aborted or waiting for a person (approval, pause), 5 rollback \
            incomplete, 65 invalid plan or no `aws:` section, 75 the rollout is leased by a worker or another run \
            (PostgreSQL), 130 interrupted (resume by running the same command), 1 any other error (including \
            --timeout, or the lease lost to another holder).
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Option(help: "SQLite database holding the rollout (created if missing; one worker per database), or postgres://user@host:port/database shared with workers.")
    var db: String

    @Option(help: "With --db postgres://…: seconds the run's lease of its rollout lasts unless renewed (renewed every third of it).")
    var leaseSeconds: Double = 30

    @Option(help: "AWS region; default the plan's aws.region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's.")
    var region: String?

    @Option(help: "Endpoint URL for both IoT and S3 (e.g. moto at http://127.0.0.1:5000).")
    var endpointURL: String?

    @Option(help: "Profile of ~/.aws/config and ~/.aws/credentials; default AWS_PROFILE, else `default`.")
    var profile: String?

    @OptionGroup var awsQuotas: AWSQuotaOptions

    @Option(help: "How often a running job's progress and the metric gates are read: a duration such as 5s or 30s.")
    var pollInterval: String = "30s"

    @Option(help: "Stop (exit 1, the rollout stays where it is) after this long: a duration such as 2h or 30d.")
    var timeout: String = "30d"

    @Option(help: "text or json (one JSON object per line).")
    var output: OutputFormat = .text

    @Flag(help: "Log every state change and fleet call at info level on stderr (default: warnings only).")
    var verbose = false

    static let interruptedStatus: Int32 = 130
    /// BSD `EX_TEMPFAIL`: the rollout is leased by another holder (PostgreSQL); it is driven there.
    static let leasedElsewhereStatus: Int32 = 75
    /// Seconds a stop (Ctrl-C, SIGTERM) waits for the step in flight before the process exits anyway.
    static let graceSeconds: Int64 = 5
    static let pollIntervalSecondsRange: ClosedRange<Double> = 1...3600

    func validate() throws {
        _ = try PollInterval.validated(pollInterval, range: RunCommand.pollIntervalSecondsRange)
        guard let limit = DurationText.parseSeconds(timeout), limit >= 1 else {
            throw ValidationError("--timeout must be a duration such as 2h or 30d")
        }
        if PostgresLocation.isPostgresURL(db) {
            _ = try PostgresLocation(url: db)
            guard (3...600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 3…600") }
        }
    }

    func run() async throws {
        let loaded = try LoadedPlan.load(plan)
        guard let awsSettings = loaded.plan.aws else {
            Console.error("error: \(plan): `rollout run` drives the plan on AWS and needs its `aws:` section, "
                          + "at least `aws: {bucket: <bucket for firmware and job documents>}`")
            throw ExitCode(ExitStatus.invalidInput)
        }
        let pollSeconds = PollInterval.seconds(pollInterval) ?? 30
        let timeoutSeconds = Double(DurationText.parseSeconds(timeout) ?? 30 * 86400)
        var logger = Logger(label: "rollout", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .info : .warning

        let reporter = RunReporter(format: output)
        let clock = SystemClock()
        let id = RolloutIdentity.rolloutId(planName: loaded.plan.name, planSource: loaded.source)
        let store: any RolloutStore
        var lease: PostgresLeases?
        let engine: RolloutEngine
        do {
            if PostgresLocation.isPostgresURL(db) {
                let location = try PostgresLocation(url: db)
                store = try PostgresRolloutStore(location: location)
                lease = try PostgresLeases(location: location,
                                           configuration: PostgresLeases.Configuration(leaseSeconds: leaseSeconds,
                                                                                       scope: .oneRollout(id)),
                                           logger: logger)
            } else {
                store = try SQLiteRolloutStore(path: db, role: .worker)
            }
            var configuration = try AWSConfiguration.resolve(region: region ?? awsSettings.region,
                                                             endpointURL: endpointURL, profile: profile,
                                                             quotas: try awsQuotas.quotas())
            configuration.logger = logger
            engine = RolloutEngine(store: store, fleet: AWSFleet(configuration: configuration),
                                   metricSource: ProductionMetricSources.make(aws: configuration), notifier: WebhookNotifier(), clock: clock,
                                   configuration: EngineConfiguration(pollIntervalSeconds: pollSeconds),
                                   leases: lease ?? SoleWorker() as any RolloutLeases, logger: logger)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }

        // However the run ends, its lease goes back at once: a worker sharing the database may go on with the rollout.
        defer { lease?.stop() }
        let rolloutId: String
        let created: Bool
        do {
            if let existing = try store.rollout(id: id), existing.fleetKind != "aws" {
                Console.error("error: \(db) holds rollout \(id) on the \(existing.fleetKind) fleet; "
                              + "`rollout run` drives AWS rollouts only: use another --db")
                throw ExitCode(ExitStatus.otherError)
            }
            let submitted = try await engine.submit(plan: loaded.plan, planSource: loaded.source)
            rolloutId = submitted.rolloutId
            created = submitted.created
            reporter.started(rolloutId: rolloutId, created: submitted.created, state: submitted.state, database: db)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        let status = await drive(engine: engine, clock: clock, rolloutId: rolloutId, created: created, lease: lease,
                                 timeoutSeconds: timeoutSeconds, reporter: reporter, logger: logger)
        if status != ExitStatus.completed { throw ExitCode(status) }
    }

    /// Drives the rollout with the one driver until it ends, needs a person, is interrupted (SIGINT/SIGTERM through
    /// ServiceLifecycle: the step in flight finishes and is saved) or runs out of time; returns the exit status.
    /// With a `lease` (PostgreSQL), only while it holds the rollout's lease: taken first, renewed meanwhile.
    func drive(engine: RolloutEngine, clock: SystemClock, rolloutId: String, created: Bool, lease: PostgresLeases?,
               timeoutSeconds: Double, reporter: RunReporter, logger: Logger) async -> Int32 {
        let driver = RolloutDriver(
            engine: engine, clock: clock, configuration: RolloutDriver.Configuration(stepsInFlightMax: 1, stepErrorEndsDrive: true),
            policy: { id, outcome, driver in
                if let entry = driver.engine.readModel.entry(id) {
                    reporter.observe(entry.rollout.state, capacityWait: entry.retries.values.sorted { $0.key < $1.key }
                                        .first { $0.waitingFor != nil })
                }
                // Not leased (a renewal late, or the lease lost): the lease's rounds wake the rollout again or end the
                // run.
                if case .notLeased = outcome { return .proceed }
                return await RolloutDriver.untilFinishedOrPerson(id, outcome, driver)
            }, logger: logger)
        let keeping = lease.map {
            LeaseKeeping(coordination: $0, engine: engine, driver: driver, concerns: { $0 == rolloutId }, logger: logger)
        }
        if let lease, let keeping {
            if let refusal = await takeLease(lease, keeping: keeping, rolloutId: rolloutId, created: created,
                                             reporter: reporter) {
                return refusal
            }
        }
        let service = RunDriveService(driver: driver, rolloutId: rolloutId, keeping: keeping, timeoutSeconds: timeoutSeconds)
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                             failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A step blocked in a fleet call longer than this is abandoned: every step is saved before the next, so
        // exiting mid-step is as safe as a crash.
        configuration.maximumGracefulShutdownDuration = .seconds(RunCommand.graceSeconds)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            Console.error("error: \(error)")
        }
        guard let state = try? await engine.state(of: rolloutId) else {
            Console.error("error: rollout \(rolloutId) cannot be read from \(db)")
            return ExitStatus.otherError
        }
        switch await service.ending {
        case .released(let outcome):
            return report(outcome, state: state, shared: lease != nil, reporter: reporter)
        case .failed(let error):
            Console.error("error: \(error)\nThe rollout's state is saved up to the last step: "
                          + "resume by running the same command.")
            return ExitStatus.otherError
        case .timedOut:
            reporter.timedOut(state, after: timeout)
            return ExitStatus.otherError
        case .leaseLost:
            let holder = (try? lease?.holder(of: rolloutId)) ?? nil
            Console.error("error: lost the lease of rollout \(rolloutId) (this run could not renew it in time): "
                          + (holder.map { "\(Self.describe($0)) drives it now" } ?? "nobody drives it now")
                          + "; the rollout's state is saved")
            return ExitStatus.otherError
        case .interrupted, nil:
            Console.error("\nstopping. The rollout's state is saved: resume by running the same command"
                          + (lease == nil ? "." : " (a worker sharing the database, if any, goes on with it meanwhile)."))
            reporter.interrupted(rolloutId: rolloutId, database: db)
            return RunCommand.interruptedStatus
        }
    }

    /// The exit status for a released rollout, with what a person must do when one is needed. `shared`: the database
    /// is PostgreSQL, where a worker may go on with the rollout once the run gives its lease back.
    func report(_ outcome: StepOutcome, state: RolloutState, shared: Bool, reporter: RunReporter) -> Int32 {
        let id = state.rolloutId
        let then = shared ? "then run this command again (or let a worker sharing the database go on with it)"
                          : "then run this command again"
        switch outcome {
        case .finished, .due, .notLeased:
            reporter.finished(state)
            return ExitStatus.forPhase(state.phase)
        case .needsPerson(.resume(let kind), _):
            reporter.needsPerson(state, what: "paused (\(kind.rawValue)): "
                                    + (state.pause.map { RolloutText.pause($0, phase: state.phase) } ?? ""),
                                 how: "resume it (`rollout resume \(id) --db \(db)`), \(then)")
        case .needsPerson(.approval(let stage), _):
            reporter.needsPerson(state, what: "approval of \(stage)",
                                 how: "approve it (`rollout approve \(id) --db \(db)`), \(then)")
        case .needsPerson(.nothingScheduled, _):
            reporter.needsPerson(state, what: RolloutText.waiting(state) ?? "a person (nothing is scheduled)",
                                 how: "act on it, \(then)")
        }
        return ExitStatus.pausedOrAborted
    }
}

/// `rollout run`'s drive as a Service: graceful shutdown stops the driver after the step in flight.
actor RunDriveService: Service {
    enum Ending {
        case released(StepOutcome), failed(any Error), timedOut, interrupted, leaseLost
    }

    let driver: RolloutDriver
    let rolloutId: String
    /// The lease's rounds and notifications (PostgreSQL), kept while the drive runs.
    let keeping: LeaseKeeping?
    let timeoutSeconds: Double
    private(set) var ending: Ending?

    init(driver: RolloutDriver, rolloutId: String, keeping: LeaseKeeping?, timeoutSeconds: Double) {
        self.driver = driver
        self.rolloutId = rolloutId
        self.keeping = keeping
        self.timeoutSeconds = timeoutSeconds
    }

    func run() async throws {
        let driver = self.driver
        let timeoutSeconds = self.timeoutSeconds
        let outcome = await withGracefulShutdownHandler {
            await withTaskGroup(of: StepOutcome?.self) { group in
                group.addTask {
                    do {
                        return try await driver.drive(self.rolloutId)
                    } catch {
                        await self.end(.failed(error))
                        return nil
                    }
                }
                group.addTask {
                    try? await Task.sleep(nanoseconds: UInt64(min(timeoutSeconds, 1e9) * 1_000_000_000))
                    guard !Task.isCancelled else { return nil }
                    await self.end(.timedOut)
                    await driver.stop()
                    return nil
                }
                if let keeping = self.keeping {
                    let rolloutId = self.rolloutId
                    group.addTask {
                        await withTaskGroup(of: Void.self) { lease in
                            lease.addTask { await keeping.follow() }
                            lease.addTask {
                                // Returns when a round finds the lease not this run's in the database (lost, or a
                                // commit fenced and the lease held by another now), or when cancelled: the drive
                                // ended.
                                guard await keeping.keepRounds(until: { $0.lost.contains(rolloutId) }) != nil,
                                      !Task.isCancelled else { return }
                                await self.end(.leaseLost)
                                await driver.stop()
                            }
                            // Both run until cancelled (the drive ended) but the rounds, which end on a lost lease.
                            await lease.next()
                            lease.cancelAll()
                        }
                        return nil
                    }
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } onGracefulShutdown: {
            Task {
                await self.end(.interrupted)
                await driver.stop()
            }
        }
        if let outcome { end(.released(outcome)) }
    }

    private func end(_ ending: Ending) {
        if self.ending == nil { self.ending = ending }
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
        /// Who leases the rollout instead (PostgreSQL, event `leasedElsewhere`).
        var holder: String?
        var exitCode: Int32?
    }

    func started(rolloutId: String, created: Bool, state: RolloutState, database: String) {
        let text = created
            ? "rollout \(rolloutId) submitted (state in \(database))"
            : "resuming rollout \(rolloutId) from \(state.displayPhase.rawValue) (state in \(database))"
        emit(line(created ? "submitted" : "resumed", state, message: text), text: text)
    }

    /// One line per change of progress; a stage waiting for fleet capacity (a job slot) says so, with what to run.
    func observe(_ state: RolloutState, capacityWait: EffectRetry? = nil) {
        let message = capacityWait.map { CredentialRedaction.text($0.lastError) } ?? RolloutText.note(state)
        let line = line("progress", state, message: message)
        let key = [line.phase, line.stage ?? "", line.stageStatus ?? "", "\(line.queued ?? 0)", "\(line.inProgress ?? 0)",
                   "\(line.succeeded ?? 0)", "\(line.failed ?? 0)", "\(line.timedOut ?? 0)", "\(line.rejected ?? 0)",
                   "\(line.canceled ?? 0)", line.message ?? ""].joined(separator: "|")
        guard key != lastKey else { return }
        lastKey = key
        if let rollback = state.rollback, RolloutText.rollbackCause(rollback.cause) != lastRollbackReason {
            let reason = RolloutText.rollbackCause(rollback.cause)
            lastRollbackReason = reason
            emit(self.line("rollingBack", state, message: reason), text: "rolling back: \(reason)")
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
        let message = RolloutText.note(state)
        var text = "rollout \(state.rolloutId) \(state.phase.rawValue)" + (message.map { ": \($0)" } ?? "")
        if let rollback = state.rollback, let count = rollback.notRolledBackCount, count > 0 {
            text += "\n" + DeviceListText.render(rollback.notRolledBack ?? [], count: count,
                                                 more: "`rollout status` or the database lists up to 1,000",
                                                 indent: "  ")
        }
        var line = line("finished", state, message: message)
        line.exitCode = ExitStatus.forPhase(state.phase)
        emit(line, text: text)
    }

    func interrupted(rolloutId: String, database: String) {
        let text = "stopped; rollout \(rolloutId) is saved in \(database): resume by running the same command"
        let line = Line(at: Date(), event: "interrupted", rolloutId: rolloutId, phase: "-", message: text,
                        exitCode: RunCommand.interruptedStatus)
        emit(line, text: text)
    }

    /// The rollout is leased by another holder (PostgreSQL): the run does not start.
    func leasedElsewhere(rolloutId: String, holder: String, message: String) {
        let line = Line(at: Date(), event: "leasedElsewhere", rolloutId: rolloutId, phase: "-", message: message,
                        holder: holder, exitCode: RunCommand.leasedElsewhereStatus)
        emit(line, text: message)
    }

    /// The rollout's lease is held by a process that is gone: the run waits for it to expire.
    func waitingForLease(rolloutId: String, message: String) {
        emit(Line(at: Date(), event: "waitingForLease", rolloutId: rolloutId, phase: "-", message: message), text: message)
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
        if [.rollingBack, .rolledBack, .rollbackIncomplete].contains(state.phase), let rollback = state.rollback {
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
