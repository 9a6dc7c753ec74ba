import Engine
import FleetAWS
import Foundation
import HTTPAdapters
import Logging
import RolloutCore
import RolloutText
import StoreSQLite

/// `bench --aws`: the AWS path at fleet scale, on moto with the tests' device layer. A fleet of `--things` things
/// (and one of a tenth of it, at least 100) is seeded, split into rings by the real `RingSync`, and a rollout of canary 1% +
/// 10/50/100% runs through the real engine and AWS fleet under AWS's default request budget. Reported per phase:
/// calls per API (polls apart), polls and DescribeJob calls per poll, when each job was created; group additions
/// repeated (the device layer counts every pair); and, fitted per API over the two sizes, the calls and API time
/// of the same rollout on 1,000,000 things at AWS's default quotas.
extension BenchCommand {
    static let awsBenchPlan = """
        name: bench-aws
        release: {firmware: bench-fw, version: 2.0.0, artifact: firmware.bin}
        rollback: {version: 1.9.0, artifact: firmware.bin}
        fleet: {thingGroup: bench-fleet}
        canary: {percent: 1, bake: 2s}
        waves:
          - {percent: 10, bake: 2s}
          - {percent: 50, bake: 2s}
          - {percent: 100, bake: 2s}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 1}
        aws: {bucket: bench-firmware}
        """

    /// One rollout measured on one fleet size.
    struct AWSRun {
        var things: Int
        var ringSyncSeconds: Double
        var ringSyncAdds: Int
        var phases: [AWSCallLedger.Phase]
        var lastJobCreatedSeconds: Double
        var outcome: String
    }

    func benchAWS(directory: String, things: Int, deviceLayerScript: String) async throws {
        print("AWS path: moto + device layer on loopback, rings of 100, AWS's default request budget")
        let layer: BenchDeviceLayer
        do {
            layer = try BenchDeviceLayer(script: deviceLayerScript)
        } catch {
            print("  not available: \(error)")
            return
        }
        defer { layer.stop() }
        var runs: [AWSRun] = []
        for size in [max(100, things / 10), things] {
            let run = try await measureAWSRollout(layer: layer, things: size, directory: directory)
            runs.append(run)
            print(BenchText.awsRun(run))
        }
        let adds = try await layer.control("adds", [:])
        print("  group additions: \(adds["calls"] as? Int ?? -1) AddThingToThingGroup calls, "
              + "\(adds["repeated"] as? Int ?? -1) of them adding a device to a group it was already in")
        if runs.count == 2, runs[0].things < runs[1].things {
            print(BenchText.awsProjection(runs[0], runs[1], to: 1_000_000))
        }
    }

    func measureAWSRollout(layer: BenchDeviceLayer, things: Int, directory: String) async throws -> AWSRun {
        // A fleet group per size: both runs share one moto.
        let group = "bench-fleet-\(things)"
        let region = "us-east-1"
        try await layer.control("seed", ["region": region, "group": group, "prefix": "bench-\(things)",
                                         "count": things, "bucket": "bench-firmware"])
        // Rings are provisioned once per fleet, not per rollout: synced here at moto's speed (AWS's 100/s would
        // take 17 minutes for 100,000 things), then synced again to show nothing moves.
        var syncQuotas = AWSQuotas.defaults
        try syncQuotas.apply(name: "AddThingToThingGroup", value: 100_000)
        try syncQuotas.apply(name: "ListThingsInThingGroup", value: 100_000)
        var syncConfiguration = try awsConfiguration(endpoint: layer.endpoint, region: region, quotas: syncQuotas)
        syncConfiguration.groupAddConcurrency = 16
        let syncStarted = Date()
        let sync = try await RingSync(configuration: syncConfiguration).run(fleetGroup: group, rings: 100, dryRun: false)
        let syncSeconds = Date().timeIntervalSince(syncStarted)
        let again = try await RingSync(configuration: syncConfiguration).run(fleetGroup: group, rings: 100, dryRun: false)
        guard again.devicesAdded == 0, sync.devices == things else {
            throw BenchDeviceLayer.Unavailable(description: "rings sync: \(sync.devicesAdded) added, then \(again.devicesAdded)")
        }

        // The rollout, under AWS's default budget, on its own database; a fresh seed per size (new rollout id).
        let planDirectory = directory + "/aws-\(things)"
        try FileManager.default.createDirectory(atPath: planDirectory, withIntermediateDirectories: true)
        let planText = Self.awsBenchPlan.replacingOccurrences(of: "name: bench-aws", with: "name: bench-aws-\(things)")
            .replacingOccurrences(of: "thingGroup: bench-fleet", with: "thingGroup: \(group)")
        try planText.write(toFile: planDirectory + "/plan.yaml", atomically: true, encoding: .utf8)
        try Data(repeating: 0x5a, count: 4096).write(to: URL(fileURLWithPath: planDirectory + "/firmware.bin"))
        let loaded = try LoadedPlan.load(planDirectory + "/plan.yaml")
        let configuration = try awsConfiguration(endpoint: layer.endpoint, region: region, quotas: .defaults)
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let clock = SystemClock()
        let engine = RolloutEngine(
            store: try SQLiteRolloutStore(path: planDirectory + "/rollout.db", role: .worker),
            fleet: AWSFleet(configuration: configuration), metricSource: ProductionMetricSources.make(aws: configuration),
            notifier: WebhookNotifier(), clock: clock, configuration: EngineConfiguration(pollIntervalSeconds: 1),
            logger: logger)
        let submittedAt = Date()
        let rolloutId = try await engine.submit(plan: loaded.plan, planSource: loaded.source).rolloutId
        let ledger = AWSCallLedger()
        let budgets = configuration.rateBudgets
        let driver = RolloutDriver(
            engine: engine, clock: clock,
            configuration: RolloutDriver.Configuration(stepsInFlightMax: 1, stepErrorEndsDrive: true),
            policy: { id, outcome, driver in
                guard let state = driver.engine.readModel.entry(id)?.rollout.state else { return .release }
                ledger.observe(state, usage: budgets.usage(), polls: driver.engine.statistics.polls)
                // The devices: every execution of a job that just appeared succeeds.
                for stage in state.stages where stage.jobCreatedAt != nil && !ledger.played(stage.jobId) {
                    do {
                        try await layer.control("outcomes", ["region": region, "jobId": stage.jobId, "default": "SUCCEEDED"])
                        ledger.markPlayed(stage.jobId)
                    } catch {
                        // Devices that never act would leave the bench waiting out the evidence timeout: stop here.
                        ledger.fail("device outcomes for \(stage.jobId): \(error)")
                        return .release
                    }
                }
                return await RolloutDriver.untilFinishedOrPerson(id, outcome, driver)
            }, logger: logger)
        _ = try await driver.drive(rolloutId)
        if let failure = ledger.failure { throw BenchDeviceLayer.Unavailable(description: failure) }
        guard let state = engine.readModel.entry(rolloutId)?.rollout.state else {
            throw BenchDeviceLayer.Unavailable(description: "rollout \(rolloutId) vanished")
        }
        ledger.observe(state, usage: budgets.usage(), polls: engine.statistics.polls, final: true)
        let lastJob = state.stages.compactMap(\.jobCreatedAt).max() ?? submittedAt
        return AWSRun(things: things, ringSyncSeconds: syncSeconds, ringSyncAdds: sync.devicesAdded,
                      phases: ledger.phases, lastJobCreatedSeconds: lastJob.timeIntervalSince(submittedAt),
                      outcome: state.displayPhase.rawValue)
    }

    func awsConfiguration(endpoint: String, region: String, quotas: AWSQuotas) throws -> AWSConfiguration {
        var configuration = try AWSConfiguration.resolve(
            endpointURL: endpoint,
            environment: ["AWS_REGION": region, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                          "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"],
            quotas: quotas)
        configuration.groupAddRatePerSecond = nil
        configuration.logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        return configuration
    }
}

/// Calls per API in each phase of one rollout, a phase ending when the next job exists (`to canary's job`, then
/// `canary, to wave-1's job`, …, `wave-3, to the end`), from the budgets' counters read after every step: a step
/// that starts a stage also creates its job, so job creations are the boundaries a step never straddles.
final class AWSCallLedger: @unchecked Sendable {
    struct Phase {
        var name: String
        /// The devices of the stage whose bake the phase covers (nil before the first job).
        var devices: Int?
        var calls: [String: Int]
        var polls: Int
        /// Seconds after submission when the phase's next job was created (nil for the last phase).
        var nextJobCreatedAfterSeconds: Double?
    }

    private let lock = NSLock()
    private var current = -1
    private var baseline: [String: Int] = [:]
    private var baselinePolls = 0
    private var closed: [Phase] = []
    private var playedJobs: Set<String> = []
    private var failed: String?
    private let started = Date()

    var phases: [Phase] { lock.withLock { closed } }

    /// True once the job's devices were played.
    func played(_ jobId: String) -> Bool {
        lock.withLock { playedJobs.contains(jobId) }
    }

    func markPlayed(_ jobId: String) {
        _ = lock.withLock { playedJobs.insert(jobId) }
    }

    /// Why the bench's devices could not be played (the run then stops), or nil.
    var failure: String? { lock.withLock { failed } }

    func fail(_ reason: String) {
        lock.withLock { failed = failed ?? reason }
    }

    func observe(_ state: RolloutState, usage: [FleetAPIUsage], polls: Int, final: Bool = false) {
        let newest = state.stages.lastIndex { $0.jobCreatedAt != nil } ?? -1
        let counts = Dictionary(usage.map { ($0.api, $0.calls) }, uniquingKeysWith: +)
        lock.withLock {
            guard newest != current || final else { return }
            var delta: [String: Int] = [:]
            for (api, calls) in counts where calls - (baseline[api] ?? 0) > 0 { delta[api] = calls - (baseline[api] ?? 0) }
            let baked = current >= 0 ? state.stages[current] : nil
            let next = final ? nil : state.stages[newest]
            let name = (baked.map { "\($0.name), " } ?? "") + (next.map { "to \($0.name)'s job" } ?? "to the end")
            closed.append(Phase(name: name, devices: baked?.devices, calls: delta, polls: polls - baselinePolls,
                                nextJobCreatedAfterSeconds: next?.jobCreatedAt.map { $0.timeIntervalSince(self.started) }))
            current = newest
            baseline = counts
            baselinePolls = polls
        }
    }
}

extension BenchText {
    /// One size: the ring sync, then per phase the calls by API (polls apart) and when its job was created.
    static func awsRun(_ run: BenchCommand.AWSRun) -> String {
        var lines = ["  \(PreflightText.count(run.things)) things: rollout \(run.outcome); rings sync added "
                     + "\(PreflightText.count(run.ringSyncAdds)) devices in \(String(format: "%.1f", run.ringSyncSeconds)) s "
                     + "(once per fleet; a second sync added none)"]
        for phase in run.phases {
            let pollCalls = phase.calls["DescribeJob"] ?? 0
            let other = phase.calls.filter { $0.key != "DescribeJob" }
            let listed = other.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let size = phase.devices.map { " (\(PreflightText.count($0)) devices)" } ?? ""
            let job = phase.nextJobCreatedAfterSeconds.map { String(format: "; the job at +%.1f s", $0) } ?? ""
            lines.append("    \(phase.name)\(size): \(other.values.reduce(0, +)) calls besides DescribeJob [\(listed)]; "
                         + "\(phase.polls) polls, \(pollCalls) DescribeJob\(job)")
        }
        lines.append("    (DescribeJob: one per poll, and one before each CreateJob to find a job a lost answer hid)")
        lines.append(String(format: "    submission → last job created: %.1f s (three bakes of 2 s and the polls between)",
                            run.lastJobCreatedSeconds))
        return lines.joined(separator: "\n")
    }

    /// Calls per phase and API fitted as a + b·things over the two sizes, then taken to `things`; the API time is
    /// what those calls take at AWS's default rates when made one after another.
    static func awsProjection(_ small: BenchCommand.AWSRun, _ large: BenchCommand.AWSRun, to things: Int) -> String {
        var lines = ["  projected for \(PreflightText.count(things)) things (per API, linear in the fleet's size "
                     + "between the two runs; at AWS's default rates):"]
        let rates = AWSQuotas.defaults.ratesPerSecond
        for (index, phase) in large.phases.enumerated() where index < small.phases.count {
            let before = small.phases[index].calls
            var projected: [String: Int] = [:]
            for api in Set(before.keys).union(phase.calls.keys) {
                let a = Double(before[api] ?? 0), b = Double(phase.calls[api] ?? 0)
                let slope = (b - a) / Double(large.things - small.things)
                // Never below what both runs made: a count that fell (an artifact already uploaded) is no trend.
                projected[api] = max(Int(min(a, b)), Int((b + slope * Double(things - large.things)).rounded()))
            }
            let seconds = projected.reduce(0.0) { $0 + Double($1.value) / (rates[$1.key] ?? rates["S3"] ?? 1) }
            let other = projected.filter { $0.key != "DescribeJob" }
            let listed = other.sorted { $0.key < $1.key }.map { "\($0.key) \(PreflightText.count($0.value))" }
            lines.append("    \(phase.name): \(PreflightText.count(other.values.reduce(0, +))) calls besides DescribeJob "
                         + "[\(listed.joined(separator: ", "))]; ~\(PreflightText.duration(seconds)) of API time")
        }
        return lines.joined(separator: "\n")
    }
}
