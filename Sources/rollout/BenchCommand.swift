import ArgumentParser
import FleetSim
import Foundation
import RolloutCore
import StorePostgres

/// One measured simulation: what `simulate --resources` reports, plus the process as measured from outside.
struct BenchSample: Codable {
    var devices: Int
    var outcome: String
    /// Inside the process, from the start of `simulate` to its report.
    var wallSeconds: Double
    var events: Int
    var eventsPerSecond: Double
    var virtualSeconds: Double
    var peakMemoryBytes: Int
    /// From spawn to exit (process start and exit included), as the floor is measured; nil inside `simulate`.
    var processSeconds: Double?

    init(report: SimulationReport, wallSeconds: Double) {
        devices = report.devices
        outcome = report.outcome
        self.wallSeconds = wallSeconds
        events = report.events
        eventsPerSecond = wallSeconds > 0 ? Double(report.events) / wallSeconds : 0
        virtualSeconds = report.virtualSeconds
        peakMemoryBytes = ResourceUsage.peakResidentBytes()
    }
}

/// The floor of one fleet size: `sim-floor.c` on the same number of devices, in the same run.
struct BenchFloorSample: Codable {
    var devices: Int
    var seconds: Double
    var peakMemoryBytes: Int
}

enum ResourceUsage {
    /// Peak resident set size of this process (Linux reports `ru_maxrss` in KiB).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure rehearsals, the HTTP API, a worker's start, commits, SigV4 (each beside its floor), gates, the AWS path and several workers on PostgreSQL.",
        discussion: """
            Every figure is printed beside a floor measured in the same run: a program doing only the irreducible work
            (sim-floor.c compiled with gcc, nginx serving the same bytes, a raw SQLite loop of the same transactions,
            sqlite3 reading the same rows, botocore signing the same request). A floor whose tool is missing is
            reported as not available. Simulations run in their own process each (peak memory is their own) on a
            temporary SQLite database, through the same engine as `simulate`. Build with `-c release`.
            """
    )

    @Option(help: "Comma-separated fleet sizes.")
    var sizes: String = "10000,100000,1000000"

    @Option(help: "Runs per measure; the report shows the best and the median.")
    var repeats: Int = 3

    @Option(help: "text or json (simulations only).")
    var output: OutputFormat = .text

    @Flag(help: "Measure the HTTP API (detail, list, metrics, status page) with wrk while a worker runs --rollouts rollouts.")
    var api = false

    @Flag(help: "Measure a worker's start (resume) with --rollouts unfinished rollouts in its database.")
    var resume = false

    @Flag(help: "Measure transitions committed per second by the engine on the worker's store (synchronous=FULL).")
    var commits = false

    @Flag(help: "Measure SigV4 signatures per second.")
    var sigv4 = false

    @Flag(help: "Measure the AWS path on moto (python3 with moto 5.2.1): API calls per stage and poll, on --things things.")
    var aws = false

    @Option(help: "Things for --aws (a second run uses a tenth of them, for the projection to 1,000,000).")
    var things: Int = 100_000

    @Option(help: "The tests' device layer, which --aws starts (moto plus fleet seeding and device outcomes).")
    var deviceLayer: String = "Tests/FleetAWSTests/Support/moto_device_layer.py"

    @Flag(help: "Measure the job-outcome gates' error rates (threshold and sequential) over --trials seeded canaries per rate.")
    var gates = false

    @Option(help: "Trials per true failure rate for --gates.")
    var trials: Int = 10_000

    @Option(help: ArgumentHelp(
        "Measure 1, 2 and 3 workers sharing this PostgreSQL server (postgres://user@host:port/db; its user creates and drops scratch databases) on --rollouts concurrent simulated rollouts, beside one worker on SQLite.",
        valueName: "url"))
    var postgres: String?

    @Option(help: "Seconds a lease lasts for --postgres (the time a survivor needs to take over a killed worker's rollouts follows it).")
    var leaseSeconds: Double = 5

    @Flag(help: "Everything but --aws and --postgres: simulations, --api, --resume, --commits, --sigv4 and --gates.")
    var all = false

    @Option(help: "Rollouts for --api (default 100), --resume (default 10000), --commits (default 100) or --postgres (default 10000).")
    var rollouts: Int?

    @Option(help: "Seconds of load per measure for --api, --commits and --sigv4.")
    var seconds: Int = 10

    @Option(help: "sim-floor.c, the floor of a rehearsal (compiled with gcc at bench time).")
    var simFloor: String = "../shared/perf/sim-floor.c"

    static let benchPlan = """
        name: bench-canary-3-waves
        release: {firmware: bench-fw, version: 2.0.0, artifact: firmware.bin}
        rollback: {version: 1.9.0, artifact: firmware.bin}
        fleet: {thingGroup: bench}
        canary: {percent: 1, bake: 1h}
        waves:
          - {percent: 10, bake: 2h}
          - {percent: 50, bake: 4h}
          - {percent: 100, bake: 4h}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 10}
          metrics:
            - {name: crash-rate, url: "sim://health", pointer: /release/crashRate, max: 0.01}
        """

    func validate() throws {
        guard repeats >= 1 && repeats <= 20 else { throw ValidationError("--repeats must be 1…20") }
        guard seconds >= 1 && seconds <= 600 else { throw ValidationError("--seconds must be 1…600") }
        if let rollouts, !(1...100_000).contains(rollouts) { throw ValidationError("--rollouts must be 1…100000") }
        guard (1000...1_000_000).contains(things) else { throw ValidationError("--things must be 1000…1000000") }
        guard (1...1_000_000).contains(trials) else { throw ValidationError("--trials must be 1…1000000") }
        guard (3...600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 3…600, as the worker's") }
        if let postgres, !PostgresLocation.isPostgresURL(postgres) {
            throw ValidationError("--postgres: expected postgres://user@host:port/database, got \(postgres)")
        }
        for size in sizes.split(separator: ",") {
            guard let count = Int(size), (1...SimulationScenario.devicesMax).contains(count) else {
                throw ValidationError("--sizes: `\(size)` is not a fleet size in 1…\(SimulationScenario.devicesMax)")
            }
        }
    }

    func run() async throws {
        let directory = NSTemporaryDirectory() + "rollout-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let planPath = directory + "/bench.yaml"
        try Self.benchPlan.write(toFile: planPath, atomically: true, encoding: .utf8)
        try Data(repeating: 0x5a, count: 4096).write(to: URL(fileURLWithPath: directory + "/firmware.bin"))
        let executable = Bundle.main.executablePath ?? URL(fileURLWithPath: CommandLine.arguments[0]).path
        let only = api || resume || commits || sigv4 || aws || gates || postgres != nil
        if all || !only { try benchSimulations(executable: executable, plan: planPath, directory: directory) }
        if all || api {
            try await benchAPI(executable: executable, directory: directory, rollouts: rollouts ?? 100, seconds: seconds)
        }
        if all || resume { try await benchResume(executable: executable, directory: directory, rollouts: rollouts ?? 10_000) }
        if all || commits { try await benchCommits(directory: directory, rollouts: rollouts ?? 100, seconds: seconds) }
        if all || sigv4 { try benchSigV4(directory: directory, seconds: seconds) }
        if all || gates { try await benchGates(trials: trials) }
        if aws { try await benchAWS(directory: directory, things: things, deviceLayerScript: deviceLayer) }
        if let postgres {
            try await benchPostgres(url: postgres, executable: executable, directory: directory,
                                    rollouts: rollouts ?? 10_000, seconds: seconds, leaseSeconds: leaseSeconds)
        }
    }

    // MARK: simulations

    func benchSimulations(executable: String, plan: String, directory: String) throws {
        let floorProgram: Result<String, BenchFloor.Unavailable>
        do {
            floorProgram = .success(try BenchFloor.compileSimFloor(source: simFloor, directory: directory))
        } catch {
            floorProgram = .failure(error)
        }
        var results: [[BenchSample]] = []
        var floors: [[BenchFloorSample]] = []
        for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
            var samples: [BenchSample] = []
            var floorSamples: [BenchFloorSample] = []
            // Interleaved, so both see the same load on a shared machine.
            for _ in 0..<repeats {
                samples.append(try runSample(executable: executable, plan: plan, devices: size, directory: directory))
                if case .success(let program) = floorProgram {
                    let run = try MeasuredProcess.run(program, ["\(size)", "exact"], scratchDirectory: directory)
                    floorSamples.append(BenchFloorSample(devices: size, seconds: run.wallSeconds,
                                                         peakMemoryBytes: run.peakResidentBytes))
                }
            }
            results.append(samples)
            floors.append(floorSamples)
            if output == .text { printSimulation(size: size, samples: samples, floors: floorSamples, floorProgram: floorProgram) }
        }
        if output == .json {
            struct Report: Encodable {
                var samples: [[BenchSample]]
                var floors: [[BenchFloorSample]]
                var floorUnavailable: String?
            }
            var unavailable: String?
            if case .failure(let error) = floorProgram { unavailable = error.description }
            try Console.printJSON(Report(samples: results, floors: floors, floorUnavailable: unavailable))
        }
    }

    func printSimulation(size: Int, samples: [BenchSample], floors: [BenchFloorSample],
                         floorProgram: Result<String, BenchFloor.Unavailable>) {
        let sorted = samples.sorted { ($0.processSeconds ?? 0) < ($1.processSeconds ?? 0) }
        let best = sorted[0], median = sorted[sorted.count / 2]
        let process = best.processSeconds ?? best.wallSeconds
        var line = "rehearsal \(String(size).padding(toLength: 8, withPad: " ", startingAt: 0)) devices: "
            + "\(BenchText.seconds(process)) (median \(BenchText.seconds(median.processSeconds ?? median.wallSeconds)); "
            + "\(BenchText.seconds(best.wallSeconds)) inside), peak \(BenchText.mebibytes(best.peakMemoryBytes)), "
            + "\(best.events) events, \(DurationWords.format(best.virtualSeconds)) virtual, \(best.outcome)"
        switch floorProgram {
        case .success:
            let floor = floors.sorted { $0.seconds < $1.seconds }
            if let fastest = floor.first {
                line += "\n    floor sim-floor.c: \(BenchText.seconds(fastest.seconds)) "
                    + "(median \(BenchText.seconds(floor[floor.count / 2].seconds))), "
                    + "peak \(BenchText.mebibytes(fastest.peakMemoryBytes)) → \(BenchText.ratio(process / fastest.seconds)) the floor"
            }
        case .failure(let reason):
            line += "\n    floor sim-floor.c: not available (\(reason))"
        }
        print(line)
    }

    func runSample(executable: String, plan: String, devices: Int, directory: String) throws -> BenchSample {
        // No --db: each run rehearses as `simulate` does by default, on a temporary database of its own that it
        // removes with everything beside it. (A database kept between repeats, without its `.simfleet` journal
        // removed, made later repeats replay the first one's jobs.)
        let run = try MeasuredProcess.run(executable, [
            "simulate", plan, "--devices", "\(devices)", "--seed", "1", "--start", "2026-01-05T00:00:00Z",
            "--output", "json", "--resources",
        ], scratchDirectory: directory)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard var sample = try? decoder.decode(BenchSample.self, from: run.output) else {
            throw ValidationError("simulation of \(devices) devices failed (exit \(run.status))")
        }
        sample.processSeconds = run.wallSeconds
        sample.peakMemoryBytes = run.peakResidentBytes
        return sample
    }
}

/// Numbers as the bench prints them.
enum BenchText {
    static func seconds(_ value: Double) -> String {
        value < 1 ? String(format: "%.0f ms", value * 1000) : String(format: "%.2f s", value)
    }

    static func mebibytes(_ bytes: Int) -> String {
        "\(bytes / 1_048_576) MiB"
    }

    static func rate(_ value: Double) -> String {
        value >= 10_000 ? String(format: "%.1fk", value / 1000) : String(format: "%.0f", value)
    }

    static func ratio(_ value: Double) -> String {
        String(format: "%.2f×", value)
    }
}
