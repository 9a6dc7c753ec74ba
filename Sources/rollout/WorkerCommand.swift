import ArgumentParser
import Engine
import FleetAWS
import FleetSim
import Foundation
import HTTPAdapters
import Logging
import RolloutCore
import ServiceLifecycle
import StatusAPI
import StorePostgres
import StoreSQLite

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run every submitted rollout, and serve the HTTP status and control API.",
        discussion: """
            At start the worker resumes every unfinished rollout in the database, then wakes on the next due timer,
            on a submitted plan or a control command, and on fleet polls. SIGTERM/SIGINT: the steps in flight finish
            and are persisted, then the process exits (within --shutdown-timeout). One worker per SQLite database.
            The API listens on 127.0.0.1 unless told otherwise, and refuses any other address without a token;
            beyond loopback, reads need a token too (the write token or --read-token-file's).
            Plans submitted over HTTP may name local artifacts and signing keys only under an --artifacts-dir
            (symlinks resolved); without one, only s3:// artifacts are accepted.
            With --fleet sim the worker runs on the real clock sped up --time-scale times (demos and tests).
            With --fleet aws every rollout shares one request budget per AWS account and region (AWS's default \
            rates, or --aws-quota); /metrics shows calls, throttled answers and budget use per API. A CreateJob \
            refused for lack of a job slot waits (the rollout shows "waiting for a job slot") instead of failing.
            With --db postgres://user@host:port/database several workers share one database: each leases its share \
            of the rollouts (--lease-seconds), takes over those of a worker that stopped renewing, and serves every \
            rollout's status and commands; the password comes from PGPASSWORD, ?password_file= or ~/.pgpass. \
            /metrics then shows each worker's leases, take-overs and fenced steps; `rollout workers` lists them.
            """
    )

    @Option(help: "SQLite database (created if missing), or postgres://user@host:port/database shared by several workers.")
    var db: String

    @Option(help: "With --db postgres://…: seconds a lease lasts unless renewed (renewed every third of it).")
    var leaseSeconds: Double = 30

    @Option(help: "Simulated fleet: its journal (default: the SQLite database's path + .simfleet; required with postgres://, and the same file for every worker).")
    var simJournal: String?

    @Option(help: "HOST:PORT for the HTTP API.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "File holding the bearer token required by state-changing calls (or ROLLOUT_TOKEN).")
    var tokenFile: String?

    @Option(help: "File holding a read-only bearer token, accepted on reads only (or ROLLOUT_READ_TOKEN).")
    var readTokenFile: String?

    @Option(name: .customLong("artifacts-dir"),
            help: "Directory whose files submitted plans may name as artifacts or signing keys; repeatable.")
    var artifactsDirectories: [String] = []

    @Option(help: "sim (the simulated fleet) or aws.")
    var fleet: FleetKind = .sim

    @Option(help: "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, config file).")
    var region: String?

    @Option(help: "Endpoint override for every AWS service (e.g. a moto server).")
    var endpointURL: String?

    @Option(help: "AWS profile (else AWS_PROFILE).")
    var profile: String?

    @OptionGroup var awsQuotas: AWSQuotaOptions

    @Option(help: "Simulated fleet: run the clock this many times faster than real time.")
    var timeScale: Double = 1

    @Option(help: "Simulated fleet: devices (default: the scenario's `devices:`, else 1000).")
    var devices: Int?

    @Option(help: "Simulated fleet: seed (printed when not given).")
    var seed: UInt64?

    @Option(help: "Simulated fleet: scenario file.")
    var scenario: String?

    @Option(help: "Time between two reads of a running job (clock time): a duration (30s, 1m) or seconds.")
    var pollInterval: String = "30s"

    @Option(name: .customLong("webhook"),
            help: "Webhook told about every rollout (JSON with a Slack-compatible `text`); repeatable.")
    var webhooks: [String] = []

    @Option(help: "Seconds to wait for steps in flight on SIGTERM.")
    var shutdownTimeout: Double = 20

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    enum FleetKind: String, ExpressibleByArgument {
        case sim, aws
    }

    func validate() throws {
        guard timeScale >= 1 && timeScale <= 1_000_000 else { throw ValidationError("--time-scale must be 1…1000000") }
        guard fleet == .sim || timeScale == 1 else { throw ValidationError("--time-scale only applies to --fleet sim") }
        _ = try PollInterval.validated(pollInterval, range: 0.1...3600)
        if let devices, !(1...SimulationScenario.devicesMax).contains(devices) {
            throw ValidationError("--devices must be 1…\(SimulationScenario.devicesMax)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level `\(logLevel)`") }
        _ = try ListenAddress(listen)
        if PostgresLocation.isPostgresURL(db) {
            _ = try PostgresLocation(url: db)
            guard (3...600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 3…600") }
            guard timeScale == 1 else {
                throw ValidationError("--time-scale: a sped-up clock is one process's own; workers sharing a PostgreSQL "
                                      + "database run on the real clock")
            }
            guard fleet == .aws || simJournal != nil else {
                throw ValidationError("--fleet sim with --db postgres://… needs --sim-journal PATH, the same file for "
                                      + "every worker (their shared simulated fleet)")
            }
        }
        for webhook in webhooks where !(webhook.hasPrefix("http://") || webhook.hasPrefix("https://")) {
            throw ValidationError("--webhook must be an http:// or https:// URL, found `\(webhook)`")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "rollout.worker")
        let address = try ListenAddress(listen)
        let environment = ProcessInfo.processInfo.environment
        let token = try WorkerToken.load(WorkerToken.write, file: tokenFile, environment: environment)
        let readToken = try WorkerToken.load(WorkerToken.read, file: readTokenFile, environment: environment)
        let serverConfiguration = StatusServerConfiguration(host: address.host, port: address.port, token: token,
                                                            readToken: readToken,
                                                            artifactDirectories: artifactsDirectories)
        do {
            try serverConfiguration.validate()
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        let store: any RolloutStore
        var coordination: PostgresLeases?
        do {
            if PostgresLocation.isPostgresURL(db) {
                let location = try PostgresLocation(url: db)
                store = try PostgresRolloutStore(location: location)
                coordination = try PostgresLeases(location: location,
                                                  configuration: PostgresLeases.Configuration(leaseSeconds: leaseSeconds),
                                                  listen: listen)
            } else {
                store = try SQLiteRolloutStore(path: db, role: .worker)
            }
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        // A sped-up clock restarts from the latest instant recorded, so time never runs backwards for a rollout.
        // (Only read when sped up: at scale 1 the clock is the wall clock, and the worker's start reads the rollouts.)
        let latest = timeScale == 1 ? nil : try store.latestInstant()
        let clock = SystemClock(scale: timeScale, startingAt: latest)
        let parts = try makeFleet(clock: clock, logger: logger)
        let engine = RolloutEngine(store: store, fleet: parts.fleet, metricSource: parts.metrics, notifier: parts.notifier,
                                   clock: clock,
                                   configuration: EngineConfiguration(pollIntervalSeconds: PollInterval.seconds(pollInterval) ?? 30),
                                   leases: coordination ?? SoleWorker() as any RolloutLeases,
                                   logger: Logger(label: "rollout.engine"),
                                   crashHook: FaultInjection.crashHook(environment: ProcessInfo.processInfo.environment,
                                                                       logger: logger))
        let worker = RolloutWorker(engine: engine, clock: clock,
                                   configuration: RolloutWorker.Configuration(webhooks: webhooks.map(WebhookTarget.init)),
                                   logger: logger)
        // The rollouts are resumed (and the worker says "worker ready") once the API listens: see WorkerLoopService.
        logger.info("worker starting", metadata: [
            "db": "\(db)", "worker": "\(coordination?.workerId ?? "sole")", "listen": "\(address.host):\(address.port)", "fleet": "\(fleet.rawValue)",
            "auth": "\(token == nil ? "none" : "bearer")",
            "readAuth": "\(serverConfiguration.readsRequireToken ? "bearer" : "none")",
            "artifactsDirs": "\(artifactsDirectories.isEmpty ? "none (s3:// only)" : artifactsDirectories.joined(separator: ", "))",
        ])
        let server = StatusServer(service: worker, configuration: serverConfiguration, logger: Logger(label: "rollout.http"))
        // The loop starts (and the worker says it is ready) only once the API listens: a port in use ends the
        // worker before it has done anything.
        let (listening, listeningSink) = AsyncStream.makeStream(of: Int.self)
        let application = try server.application(onRunning: { port in
            listeningSink.yield(port)
            listeningSink.finish()
        })
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: WorkerLoopService(worker: worker, listening: listening, listeningSink: listeningSink),
                      successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: application, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int(shutdownTimeout * 1000))
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch where StatusServer.isAddressInUse(error) {
            Console.error("error: --listen \(address.host):\(address.port): the address is already in use (another worker, "
                          + "or another program); choose another port or stop it")
            throw ExitCode(ExitStatus.usage)
        }
    }

    func makeFleet(clock: SystemClock, logger: Logger) throws -> (fleet: any Fleet, metrics: any MetricSource, notifier: any Notifier) {
        switch fleet {
        case .sim:
            let simulationScenario = try ScenarioLoading.load(scenario)
            // A restarted worker rebuilds the fleet it had: same population, same seed.
            let journal = simJournal ?? db + ".simfleet"
            let recorded = SimulatedFleet.journalHeader(path: journal)
            let seed = seed ?? recorded?.seed ?? SeededDraw.freshSeed()
            let devices = recorded?.devices ?? self.devices ?? simulationScenario.devices
            logger.info("simulated fleet", metadata: ["devices": "\(devices)", "seed": "\(seed)", "timeScale": "\(timeScale)"])
            let simulated = SimulatedFleet(devices: devices, seed: seed, scenario: simulationScenario, clock: clock)
            // The simulated fleet is the outside world: its jobs outlive a killed worker.
            do {
                try simulated.attachJournal(path: journal)
            } catch {
                Console.error("error: \(error)")
                throw ExitCode(ExitStatus.otherError)
            }
            return (simulated, SimulatedMetricSource(fleet: simulated, clock: clock), WebhookNotifier())
        case .aws:
            let configuration = try AWSConfiguration.resolve(region: region, endpointURL: endpointURL, profile: profile,
                                                             quotas: try awsQuotas.quotas())
            return (AWSFleet(configuration: configuration), ProductionMetricSources.make(aws: configuration), WebhookNotifier())
        }
    }
}

/// The worker loop as a Service, started once the API listens: graceful shutdown lets the steps in flight finish and
/// persist (or, before the API listened, ends it without a step).
struct WorkerLoopService: Service {
    let worker: RolloutWorker
    /// Yields the API's port once it listens; finished without a value if the group shuts down first.
    let listening: AsyncStream<Int>
    let listeningSink: AsyncStream<Int>.Continuation

    func run() async throws {
        try await withGracefulShutdownHandler {
            var ports = listening.makeAsyncIterator()
            guard await ports.next() != nil else { return }
            // A database that cannot be read ends the worker with an error (a supervisor restarts it), not 0.
            try await worker.resumeAll()
            await worker.run()
        } onGracefulShutdown: {
            listeningSink.finish()
            Task { await worker.stop() }
        }
    }
}

/// `HOST:PORT`, `[::1]:PORT` or `:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080, found `\(text)`")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }
}
