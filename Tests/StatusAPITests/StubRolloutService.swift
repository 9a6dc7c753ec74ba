@testable import Engine
import Foundation
import RolloutCore

/// A fixed `RolloutService` for tests that need exact data (hostile text for the HTML page, not ready, failures).
actor StubRolloutService: RolloutService {
    var ready: Bool
    var stored: [StoredRollout]
    var verdicts: [VerdictRecord] = []
    var failure: (any Error)?
    /// Effects being retried, shown in every detail.
    var retrying: [EffectRetry] = []
    /// The fleet's API budget use reported by `/metrics`.
    var fleetAPIs: [FleetAPIUsage] = []
    /// The worker's leases reported by `/metrics` (nil: the only worker on its database).
    var coordination: CoordinationStatistics?

    func setCoordination(_ statistics: CoordinationStatistics?) { coordination = statistics }

    init(ready: Bool = true, rollouts: [StoredRollout] = []) {
        self.ready = ready
        self.stored = rollouts
    }

    func setFailure(_ error: (any Error)?) { failure = error }
    func setRetrying(_ retries: [EffectRetry]) { retrying = retries }
    func setFleetAPIs(_ usage: [FleetAPIUsage]) { fleetAPIs = usage }

    func submit(planSource: String, fileName: String) async throws -> SubmitResult {
        if let failure { throw failure }
        throw StoreError.database("the stub takes no plans")
    }

    func command(_ command: RolloutEvent, rolloutId: String) async throws -> RolloutState {
        if let failure { throw failure }
        guard let rollout = stored.first(where: { $0.id == rolloutId }) else { throw StoreError.notFound(rolloutId: rolloutId) }
        return rollout.state
    }

    /// The stub's rollouts have no devices of their own: every thing is "not in the rollout".
    func device(rolloutId: String, thing: String) async throws -> DeviceReport {
        if let failure { throw failure }
        guard stored.contains(where: { $0.id == rolloutId }) else { throw StoreError.notFound(rolloutId: rolloutId) }
        throw DeviceLookupError.notInRollout(thing, rolloutId: rolloutId)
    }

    func excludeDevice(rolloutId: String, thing: String, cancel: Bool, force: Bool, by: String,
                       reason: String?) async throws -> RolloutState {
        try await device(rolloutId: rolloutId, thing: thing).exclusion.map { _ in stored[0].state } ?? stored[0].state
    }

    func rollouts(phase: RolloutPhase?, limit: Int) async throws -> [StoredRollout] {
        if let failure { throw failure }
        return Array(stored.filter { phase == nil || $0.state.displayPhase == phase }.prefix(limit))
    }

    func rollout(id: String) async throws -> RolloutDetail? {
        if let failure { throw failure }
        guard let rollout = stored.first(where: { $0.id == id }) else { return nil }
        return RolloutDetail(rollout: rollout, verdicts: verdicts, pendingEffects: 2, nextWakeAt: nil,
                             retryingEffects: retrying)
    }

    func events(rolloutId: String, afterSequence: Int, limit: Int) async throws -> [RolloutEventRecord] {
        if let failure { throw failure }
        return []
    }

    func metrics() async -> WorkerMetrics {
        var counters = EngineCounters()
        counters.effectsAttempted = 5
        counters.polls = 7
        counters.pollErrors = 1
        return WorkerMetrics(rolloutsByPhase: [.baking: 2, .completed: 1], stagesByStatus: [.passed: 3, .baking: 1],
                      verdictsByKind: [.pass: 4, .wait: 9], engine: counters, effectQueueDepth: 1, stepErrors: 0,
                      startedAt: Date(timeIntervalSince1970: 1_700_000_000), fleetAPIs: fleetAPIs,
                      coordination: coordination)
    }

    func isReady() async -> Bool { ready }

    /// A baking rollout whose texts carry markup, to check the page escapes them.
    static func hostileRollout() throws -> StoredRollout {
        let source = TestPlans.quick(name: "hostile")
        let plan = try PlanParser.parse(source, file: "hostile.yaml")
        let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: source)
        var state = RolloutStateMachine.initialState(rolloutId: id, plan: plan, at: Date(timeIntervalSince1970: 1_800_000_000))
        state.phase = .baking
        state.note = .aborted(by: "<script>alert('x')</script> & \"more\"", reason: "")
        state.waiting = .approval(stage: "<b>canary</b>")
        state.stages[0].status = .baking
        state.stages[0].devices = 10
        state.stages[0].progress = JobProgress(queued: 2, inProgress: 3, succeeded: 4, failed: 1)
        state.stages[0].lastEvaluation = GateEvaluation(verdict: .wait, results: [
            GateResult(gate: "completed", verdict: .wait, observed: 50, limit: 95, reason: "50% <of> 10 devices"),
        ])
        return StoredRollout(id: id, plan: plan, planSource: source, fleetKind: "sim", state: state)
    }
}
