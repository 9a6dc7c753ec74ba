import Engine
import Foundation
@testable import HTTPAdapters
import Logging
import RolloutCore
import RolloutText
import StoreSQLite
import Testing

@testable import FleetAWS

/// One rollout run in-process on the wall clock against moto + the device layer: the real engine, `AWSFleet`,
/// `SQLiteRolloutStore`, `HTTPMetricSource` and `WebhookNotifier`. The engine is kept, so a test can send it commands
/// (resume, rollback) and settle the rollout again.
struct InProcessRollout {
    let engine: RolloutEngine
    let store: SQLiteRolloutStore
    let rolloutId: String
    let plan: RolloutPlan

    static let engineConfiguration = EngineConfiguration(pollIntervalSeconds: 0.3, effectBackoffBaseSeconds: 0.1,
                                                         effectBackoffMaxSeconds: 1)

    static func awsRetry() -> RetryPolicy {
        RetryPolicy(maxAttempts: 5, baseDelaySeconds: 0.02, maxDelaySeconds: 0.3, random: SeededRandom(seed: 11))
    }

    /// Writes the plan into the world's directory, opens the world's database and submits the plan.
    static func submit(_ world: RunEndToEndTests.World, planText: String,
                       configuration: AWSConfiguration) async throws -> InProcessRollout {
        let plan = try PlanFile.load(atPath: try world.writePlan(planText)).plan
        let store = try SQLiteRolloutStore(path: world.databasePath, role: .worker)
        let engine = RolloutEngine(store: store, fleet: AWSFleet(configuration: configuration),
                                   metricSource: HTTPMetricSource(), notifier: WebhookNotifier(), clock: SystemClock(),
                                   configuration: engineConfiguration,
                                   logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let submitted = try await engine.submit(plan: plan, planSource: planText)
        return InProcessRollout(engine: engine, store: store, rolloutId: submitted.rolloutId, plan: plan)
    }

    /// Drives the rollout with the one driver until it ends (terminal, outbox empty) or needs a person (a pause, an
    /// approval). Bounded by `secondsMax`.
    func settle(secondsMax: Double = 60) async throws -> RolloutState {
        let driver = RolloutDriver(engine: engine, clock: SystemClock(),
                                   configuration: RolloutDriver.Configuration(stepErrorEndsDrive: true),
                                   policy: RolloutDriver.untilFinishedOrPerson)
        let stopper = Task {
            try await Task.sleep(nanoseconds: UInt64(secondsMax * 1_000_000_000))
            await driver.stop()
        }
        defer { stopper.cancel() }
        guard try await driver.drive(rolloutId) != nil else {
            let state = try await engine.state(of: rolloutId)
            throw TestFailure("rollout did not settle in \(secondsMax) s: \(state?.displayPhase.rawValue ?? "-") "
                              + (state.flatMap { RolloutText.note($0) } ?? ""))
        }
        return try #require(try await engine.state(of: rolloutId))
    }
}
