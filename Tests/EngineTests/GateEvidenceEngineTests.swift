import Engine
import FleetSim
import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// The gates' evidence as the engine gathers it: measurements per metric gate and policy, dry-run gates, and the
/// previous firmware's outcomes taken from the store's history (`baseline: previous`).
@Suite struct GateEvidenceEngineTests {
    func run(_ world: SimulatedWorld, planText: String? = nil) async throws -> (String, RolloutEngine) {
        let engine = try world.makeEngine()
        let text = planText ?? world.planSource
        let plan = try PlanParser.parse(text, file: "engine-test.yaml")
        let submitted = try await engine.submit(plan: plan, planSource: text)
        let runner = SimulationRunner(engine: engine, clock: world.clock,
                                      options: SimulationRunner.Options(approvalDelaySeconds: 1800))
        _ = try await runner.run(rolloutId: submitted.rolloutId)
        return (submitted.rolloutId, engine)
    }

    static let releasePlan = """
        name: baseline-test
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {percent: 40, bake: 30m}
        waves:
          - {percent: 100, bake: 1h}
        gates:
          jobOutcomes: {failedMaxPercent: 5, executedMin: 10, method: sequential, baseline: previous}
          metrics:
            - {name: crash-rate, provider: prometheus, url: "sim://prometheus", query: "max(crash_ratio)",
               max: 0.0001, dryRun: true, interval: 10m, count: 3}
        job: {inProgressTimeout: 30m}
        """

    @Test("a release is compared with the previous firmware's outcomes on the same fleet, taken from the history")
    func baselineFromHistory() async throws {
        // The previous firmware (2.0.3) fails on 10% of the fleet, the release on 4%; 2.0.3's own rollout is
        // tolerant enough to complete and becomes the history the release is compared with.
        let scenario = SimulationScenario(outcomes: [OutcomeRule(firmware: "2.0.3", failPercent: 10),
                                                     OutcomeRule(firmware: "2.1.0", failPercent: 4)])
        let previousPlan = Self.releasePlan
            .replacingOccurrences(of: "rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}",
                                  with: "rollback: {version: 2.0.2, artifact: s3://fw-bucket/fw/2.0.2.bin}")
            .replacingOccurrences(of: "2.1.0", with: "2.0.3")
            .replacingOccurrences(of: "failedMaxPercent: 5, executedMin: 10, method: sequential, baseline: previous",
                                  with: "failedMaxPercent: 50, executedMin: 10")
        let world = try SimulatedWorld(devices: 500, seed: 3, scenario: scenario, planText: previousPlan)
        defer { world.remove() }
        let (previousId, engine) = try await run(world)
        let previous = try #require(try engine.store.rollout(id: previousId))
        #expect(previous.state.phase == .completed)
        let previousFailed = previous.state.stages.reduce(0) { $0 + $1.progress.failed }
        let previousExecuted = previous.state.stages.reduce(0) { $0 + $1.progress.executed }
        #expect(previousFailed > 0)

        // The release fails less often than the previous firmware did (5% over its rate is tolerated): it passes,
        // where against failedMaxPercent alone (5%) 200 canaries at 4% could not show it.
        let engine2 = engine
        let plan = try PlanParser.parse(Self.releasePlan, file: "release.yaml")
        let releaseId = try await engine2.submit(plan: plan, planSource: Self.releasePlan).rolloutId
        _ = try await SimulationRunner(engine: engine2, clock: world.clock,
                                       options: SimulationRunner.Options(approvalDelaySeconds: 1800)).run(rolloutId: releaseId)
        let release = try #require(try engine2.store.rollout(id: releaseId))
        #expect(release.state.baseline == OutcomeBaseline(version: "2.0.3", executed: previousExecuted,
                                                          failed: previousFailed, rolloutIds: [previousId]))
        let stages = release.state.stages.map { "\($0.name) \($0.status) \($0.lastEvaluation?.summary ?? "")" }
        #expect(release.state.phase == .completed, "4% against 10% + 5%: \(stages)")
        let failed = release.state.stages[0].lastEvaluation?.results.first { $0.gate == "failed" }
        #expect(failed?.reason.contains("previous firmware 2.0.3: ") == true, "\(failed?.reason ?? "")")

        // The dry-run gate measured at its interval, up to its count, failed and decided nothing.
        let tally = try #require(release.state.stages[0].measurements?["crash-rate"])
        #expect(tally.taken == 3, "count: 3, one every 10m of a 30m bake")
        #expect(tally.failures >= 1, "the release's crash rate is above the dry-run gate's max once devices run it")
        #expect(tally.recent.last?.input == "max(crash_ratio) (rehearsed as /release/crashRate)")
        let result = release.state.stages[0].lastEvaluation?.results.first { $0.gate == "metric:crash-rate" }
        #expect(result?.dryRun == true && result?.verdict == .fail)
    }

    @Test("without history of the previous firmware the gate says so and judges against failedMaxPercent alone")
    func noHistory() async throws {
        let world = try SimulatedWorld(devices: 500, seed: 5, scenario: SimulationScenario(), planText: Self.releasePlan)
        defer { world.remove() }
        let (id, engine) = try await run(world)
        let rollout = try #require(try engine.store.rollout(id: id))
        #expect(rollout.state.baseline == OutcomeBaseline(version: "2.0.3", executed: 0, failed: 0, rolloutIds: []))
        #expect(rollout.state.phase == .completed)
        let failed = rollout.state.stages[0].lastEvaluation?.results.first { $0.gate == "failed" }
        #expect(failed?.reason.hasSuffix("on record: judged against failedMaxPercent alone") == true, "\(failed?.reason ?? "")")
    }

    @Test("a baseline from a metric is read once, when the rollout is prepared, with the rollback version")
    func baselineFromMetric() async throws {
        let scenario = SimulationScenario(outcomes: [OutcomeRule(firmware: "2.0.3", failPercent: 10),
                                                     OutcomeRule(firmware: "2.1.0", failPercent: 4)])
        let text = Self.releasePlan.replacingOccurrences(of: "baseline: previous", with: """
            baseline: {metric: {provider: prometheus, url: "sim://prometheus", query: "failed_percent{version=\\"${version}\\"}"}}
            """)
        let world = try SimulatedWorld(devices: 500, seed: 3, scenario: scenario, planText: text)
        defer { world.remove() }
        let (rolloutId, engine) = try await run(world)
        let release = try #require(try engine.store.rollout(id: rolloutId))
        #expect(release.state.baseline?.measuredPercent == 10)
        #expect(release.state.baseline?.measurement?.input
                == "prometheus failed_percent{version=\"2.0.3\"} (rehearsed as /previous/failedPercent)")
        let stages = release.state.stages.map { "\($0.name) \($0.status) \($0.lastEvaluation?.summary ?? "")" }
        #expect(release.state.phase == .completed, "4% against a measured 10% + 5%: \(stages)")
        let failed = release.state.stages[0].lastEvaluation?.results.first { $0.gate == "failed" }
        #expect(failed?.reason.contains("2.0.3's measured rate + 5%") == true, "\(failed?.reason ?? "")")
    }

    /// The simulated source, noting each read's window.
    final class WindowRecordingSource: MetricSource, @unchecked Sendable {
        let inner: SimulatedMetricSource
        private let lock = NSLock()
        private var windows: [Date?] = []

        init(_ inner: SimulatedMetricSource) {
            self.inner = inner
        }

        var recorded: [Date?] { lock.withLock { windows } }

        func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
            lock.withLock { windows.append(values.windowStart) }
            return await inner.read(gate, values: values)
        }
    }

    @Test("each measurement's window begins where the gate's previous one was taken, the first at the bake's start")
    func measurementWindows() async throws {
        let world = try SimulatedWorld(devices: 200, seed: 5, scenario: SimulationScenario(), planText: Self.releasePlan
            .replacingOccurrences(of: "method: sequential, baseline: previous", with: "method: threshold"))
        defer { world.remove() }
        let source = WindowRecordingSource(SimulatedMetricSource(fleet: world.fleet, clock: world.clock))
        let engine = try world.makeEngine(metricSource: source)
        let plan = try PlanParser.parse(world.planSource, file: "engine-test.yaml")
        let rolloutId = try await engine.submit(plan: plan, planSource: world.planSource).rolloutId
        _ = try await SimulationRunner(engine: engine, clock: world.clock,
                                       options: SimulationRunner.Options(approvalDelaySeconds: 1800)).run(rolloutId: rolloutId)
        let canary = try #require(try engine.store.rollout(id: rolloutId)).state.stages[0]
        let taken = try #require(canary.measurements?["crash-rate"]).recent.map(\.at)
        #expect(taken.count == 3)
        // The canary's three reads come first: the bake's start, then each previous measurement.
        #expect(Array(source.recorded.prefix(3)) == [canary.jobCreatedAt, taken[0], taken[1]], "\(source.recorded)")
    }
}
