import Foundation
import Logging

/// Keeps a driver's leases while it runs, for the worker (its share of every rollout) and for `rollout run` on
/// PostgreSQL (its one rollout): coordination rounds on a thread of their own, and other holders' commits as they are
/// announced, both reaching the engine's read model and waking the driver for what this holder leases.
package struct LeaseKeeping: Sendable {
    package let coordination: any WorkerCoordination
    package let engine: RolloutEngine
    package let driver: RolloutDriver
    /// Which announced rollouts concern this holder (a run follows its own rollout only, not a shared database's
    /// every commit).
    package let concerns: @Sendable (String) -> Bool
    let logger: Logger
    private let rounds = CoordinationRounds()

    package init(coordination: any WorkerCoordination, engine: RolloutEngine, driver: RolloutDriver,
                 concerns: @escaping @Sendable (String) -> Bool = { _ in true }, logger: Logger) {
        self.coordination = coordination
        self.engine = engine
        self.driver = driver
        self.concerns = concerns
        self.logger = logger
    }

    /// One round now (the first, before anything is driven).
    package func round() async throws -> LeaseRound {
        let round = try await rounds.round(coordination)
        _ = await engine.absorb(round)
        engine.fleet.shareAPIBudget(among: round.workersAlive)
        return round
    }

    /// Claims a rollout just submitted (a failure leaves it to the next round of some holder).
    package func claim(_ rolloutId: String) async {
        await rounds.claim(rolloutId, coordination)
    }

    /// A round every `roundIntervalSeconds` of wall-clock time until cancelled, or until `ends` says so of a round
    /// (returned then): newly leased rollouts are read again and stepped at once; other holders' changes reach the
    /// read model. A round that fails (the database is unreachable) is retried with a growing backoff, up to the
    /// round interval; the leases lapse on their own meanwhile, so nothing lost is acted on.
    package func keepRounds(until ends: @Sendable (LeaseRound) -> Bool = { _ in false }) async -> LeaseRound? {
        var failures = 0
        while !Task.isCancelled {
            let wait: Double
            do {
                let round = try await rounds.round(coordination)
                // Changed by others and leased here: a command recorded through another worker's API.
                let commanded = await engine.absorb(round).filter { coordination.fence(for: $0) != nil }
                if failures > 0 { logger.notice("database reachable again; leases renewed") }
                failures = 0
                engine.fleet.shareAPIBudget(among: round.workersAlive)
                await driver.wake(round.claimed + commanded)
                if ends(round) { return round }
                wait = coordination.roundIntervalSeconds
            } catch {
                failures += 1
                logger.error("coordination round failed; acting only on leases still valid", metadata: [
                    "error": "\(error)", "failures": "\(failures)",
                ])
                wait = min(coordination.roundIntervalSeconds, 0.25 * Double(1 << min(failures, 6)))
            }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
        return nil
    }

    /// Other holders' commits as they are announced, until cancelled: read into the read model; stepped when leased
    /// here (a command recorded by another worker's API). Announcements are gathered for `followBatchSeconds` and
    /// read in batches: at thousands of commits a second, one read per announcement would swamp the engine's thread.
    package func follow() async {
        let gathered = Locked<[RolloutChange]>([])
        let (engine, driver, coordination) = (self.engine, self.driver, self.coordination)
        for await change in coordination.notifications() {
            if Task.isCancelled { return }
            guard concerns(change.rolloutId), engine.isNews(change) else { continue }
            let first = gathered.withLock { gathered -> Bool in
                gathered.append(change)
                return gathered.count == 1
            }
            guard first else { continue }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(Self.followBatchSeconds * 1000)))
                let changes = gathered.withLock { gathered -> [RolloutChange] in
                    defer { gathered = [] }
                    return gathered
                }
                // Every announced rollout leased here is woken, read again or not (an earlier batch or the round may
                // have read it first): waking is idempotent, a missed command is not.
                _ = await engine.absorbChanges(changes)
                let leased = Set(changes.map(\.rolloutId)).filter { coordination.fence(for: $0) != nil }
                if !leased.isEmpty { await driver.wake(Array(leased)) }
            }
        }
    }

    /// How long announced changes are gathered before they are read (the delay a command recorded by another
    /// worker's API may take to reach the owner, on top of the notification's own).
    package static let followBatchSeconds = 0.05
}
