import Engine
import Foundation
import Logging
import RolloutCore
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
        let plan = try PlanParser.parseFile(atPath: try world.writePlan(planText))
        let store = try SQLiteRolloutStore(path: world.databasePath, role: .worker)
        let engine = RolloutEngine(store: store, fleet: AWSFleet(configuration: configuration),
                                   metricSource: HTTPMetricSource(), notifier: WebhookNotifier(), clock: SystemClock(),
                                   configuration: engineConfiguration,
                                   logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let submitted = try await engine.submit(plan: plan, planSource: planText)
        return InProcessRollout(engine: engine, store: store, rolloutId: submitted.rolloutId, plan: plan)
    }

    /// Steps the rollout until it ends (terminal, outbox empty) or needs a person (a pause, an approval): step, then
    /// sleep until the engine's next wake, at most one poll interval. Bounded by `secondsMax`.
    func settle(secondsMax: Double = 60) async throws -> RolloutState {
        let deadline = Date().addingTimeInterval(secondsMax)
        while Date() < deadline {
            let wake = try await engine.step(rolloutId: rolloutId)
            let state = try #require(try await engine.state(of: rolloutId))
            if state.phase.isTerminal && wake == nil { return state }
            if !state.phase.isTerminal && (state.pause != nil || state.phase == .awaitingApproval || wake == nil) {
                return state
            }
            let now = Date()
            let next = min(wake ?? now.addingTimeInterval(0.3), now.addingTimeInterval(0.3))
            let wait = next.timeIntervalSince(now)
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000)) }
        }
        let state = try await engine.state(of: rolloutId)
        throw TestFailure("rollout did not settle in \(secondsMax) s: \(state?.displayPhase.rawValue ?? "-") \(state?.message ?? "")")
    }
}
