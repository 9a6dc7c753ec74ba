import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// `job.templateArn` / `job.rollbackTemplateArn`: which template each job the engine asks for is made from.
@Suite struct JobTemplateEngineTests {
    final class RecordingFleet: ForwardingFleet, @unchecked Sendable {
        private let lock = NSLock()
        private var requests: [JobRequest] = []
        var created: [JobRequest] { lock.withLock { requests } }

        override func createJob(_ request: JobRequest) async throws {
            lock.withLock { requests.append(request) }
            try await inner.createJob(request)
        }
    }

    @Test("stage jobs come from templateArn, the rollback job from rollbackTemplateArn (else our document)")
    func templates() async throws {
        let arn = "arn:aws:iot:eu-west-1:123456789012:jobtemplate/sensor-ota"
        for rollbackTemplate in [true, false] {
            let text = rollbackPlanText.replacingOccurrences(
                of: "job: {inProgressTimeout: 30m}",
                with: "job: {inProgressTimeout: 30m, templateArn: \"\(arn)\""
                    + (rollbackTemplate ? ", rollbackTemplateArn: \"\(arn)-back\"}" : "}"))
            let world = try SimulatedWorld(devices: 200, seed: 11, scenario: brokenScenario, planText: text)
            defer { world.remove() }
            let fleet = RecordingFleet(world.fleet)
            let store = try SimulatedWorld.openStore(world.databasePath)
            let engine = RolloutEngine(store: store, fleet: fleet,
                                       metricSource: SimulatedMetricSource(fleet: world.fleet, clock: world.clock),
                                       notifier: RecordingNotifier(), clock: world.clock,
                                       configuration: EngineConfiguration(pollIntervalSeconds: 60), logger: silentLogger)
            let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
            _ = try await SimulationRunner(engine: engine, clock: world.clock).run(rolloutId: id)
            let byStage = Dictionary(fleet.created.map { ($0.stage, $0.templateArn) }, uniquingKeysWith: { first, _ in first })
            #expect(byStage["canary"] == .some(arn) && byStage["wave-1"] == .some(arn))
            #expect(byStage["rollback"] == .some(rollbackTemplate ? arn + "-back" : nil), "seed 11: \(byStage)")
        }
    }
}
