import ArgumentParser
import FleetSim
import Foundation
import RolloutCore

/// One measured simulation (what `simulate --resources` prints for `bench`).
struct BenchSample: Codable {
    var devices: Int
    var outcome: String
    var wallSeconds: Double
    var events: Int
    var eventsPerSecond: Double
    var virtualSeconds: Double
    var peakMemoryBytes: Int

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
        abstract: "Measure full simulations (canary + 3 waves with bakes) at several fleet sizes.",
        discussion: """
            Each size runs in its own process (so peak memory is its own) on a temporary SQLite database, through the
            same engine as `simulate`. Build with `-c release` for meaningful numbers.
            """
    )

    @Option(help: "Comma-separated fleet sizes.")
    var sizes: String = "10000,100000,1000000"

    @Option(help: "Runs per size; the report shows the fastest and the median.")
    var repeats: Int = 1

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Flag(help: "Measure GET /v1/rollouts/{id} with wrk while a worker runs --rollouts simulated rollouts.")
    var api = false

    @Flag(help: "Measure a worker's start (resume) with --rollouts unfinished rollouts in its database.")
    var resume = false

    @Option(help: "Rollouts for --api (default 100) or --resume (default 10000).")
    var rollouts: Int?

    @Option(help: "Seconds of load for --api.")
    var seconds: Int = 10

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
        if api {
            try await benchAPI(executable: executable, directory: directory, rollouts: rollouts ?? 100, seconds: seconds)
            return
        }
        if resume {
            try await benchResume(executable: executable, directory: directory, rollouts: rollouts ?? 10_000)
            return
        }
        var results: [[BenchSample]] = []
        for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
            var samples: [BenchSample] = []
            for _ in 0..<repeats {
                samples.append(try runSample(executable: executable, plan: planPath, devices: size, directory: directory))
            }
            results.append(samples)
            if output == .text {
                let sorted = samples.sorted { $0.wallSeconds < $1.wallSeconds }
                let best = sorted[0], median = sorted[sorted.count / 2]
                print("\(String(size).padding(toLength: 8, withPad: " ", startingAt: 0)) devices: "
                      + "\(String(format: "%.3f", best.wallSeconds)) s wall (median \(String(format: "%.3f", median.wallSeconds)) s), "
                      + "\(best.events) events, \(Int(best.eventsPerSecond)) events/s, "
                      + "peak \(best.peakMemoryBytes / 1_048_576) MiB, \(DurationWords.format(best.virtualSeconds)) virtual, "
                      + "\(best.outcome)")
            }
        }
        if output == .json { try Console.printJSON(results) }
    }

    func runSample(executable: String, plan: String, devices: Int, directory: String) throws -> BenchSample {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["simulate", plan, "--devices", "\(devices)", "--seed", "1", "--start", "2026-01-05T00:00:00Z",
                             "--output", "json", "--resources", "--db", directory + "/bench-\(devices).db"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        for suffix in ["", "-wal", "-shm", ".lock"] {
            try? FileManager.default.removeItem(atPath: directory + "/bench-\(devices).db" + suffix)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let sample = try? decoder.decode(BenchSample.self, from: data) else {
            throw ValidationError("simulation of \(devices) devices failed (exit \(process.terminationStatus))")
        }
        return sample
    }
}
