import Engine
import FleetSim
import Foundation
import RolloutCore
import StoreSQLite
import Testing

@Suite struct RolloutEngineTests {
    func run(_ world: SimulatedWorld, approvalDelay: Int? = 1800) async throws -> (String, SimulationRunner.Ending, RolloutEngine) {
        let engine = try world.makeEngine()
        let submitted = try await engine.submit(plan: world.plan, planSource: world.planSource)
        let runner = SimulationRunner(engine: engine, clock: world.clock,
                                      options: SimulationRunner.Options(approvalDelaySeconds: approvalDelay))
        let ending = try await runner.run(rolloutId: submitted.rolloutId)
        return (submitted.rolloutId, ending, engine)
    }

    @Test func healthyFleetCompletes() async throws {
        let world = try SimulatedWorld(devices: 1000, seed: 1, scenario: SimulationScenario())
        defer { world.remove() }
        let (_, ending, _) = try await run(world)
        #expect(ending == .finished)
        let result = try world.readBack()
        #expect(result.state.phase == .completed)
        #expect(result.state.stages.map(\.devices) == [5, 295, 700])
        #expect(result.state.stages.map(\.progress.succeeded) == [5, 295, 700])
        #expect(world.fleet.jobsCreated.count == 3)
        #expect(world.fleet.cleanedUpJobs.count == 3)
    }

    @Test func brokenWaveRollsBackExactlyTheDevicesThatTookTheRelease() async throws {
        let world = try SimulatedWorld(devices: 1000, seed: 9, scenario: brokenScenario)
        defer { world.remove() }
        let (rolloutId, _, _) = try await run(world)
        let result = try world.readBack()
        #expect(result.state.phase == .rolledBack)
        #expect(result.state.stages[1].status == .failed)
        let rollbackTargets = Set(world.fleet.targets(ofJob: "\(rolloutId)-rollback") ?? [])
        // Independently: which devices were running or had succeeded when the rollback job was made?
        let releaseTargets = Set((world.fleet.targets(ofJob: "\(rolloutId)-canary") ?? [])
            + (world.fleet.targets(ofJob: "\(rolloutId)-wave-1") ?? []))
        #expect(!rollbackTargets.isEmpty)
        #expect(rollbackTargets.isSubset(of: releaseTargets))
        #expect(world.fleet.targets(ofJob: "\(rolloutId)-wave-2") == nil, "wave-2 never started")
        #expect(result.state.rollback?.devices == rollbackTargets.count)
    }

    /// Offline devices of a passed stage are still queued in its job when a later wave fails: that job is cancelled
    /// too before the rollback, or they would install the new firmware when they come back, after the rollback.
    @Test func aRollbackCancelsThePassedStagesQueuedExecutions() async throws {
        var scenario = brokenScenario
        scenario.offlinePercent = 20
        // A fifth of the fleet never comes online: the gates ask for 70% of outcomes, so the canary passes.
        let text = rollbackPlanText.replacingOccurrences(of: "devices: 5\n", with: "percent: 10\n")
            .replacingOccurrences(of: "failedMaxPercent: 100}", with: "failedMaxPercent: 100, completedMinPercent: 70}")
            .replacingOccurrences(of: "executedMin: 10}", with: "executedMin: 10, completedMinPercent: 70}")
        let world = try SimulatedWorld(devices: 1000, seed: 9, scenario: scenario, planText: text)
        defer { world.remove() }
        let (rolloutId, _, _) = try await run(world)
        #expect(try world.readBack().state.phase == .rolledBack)
        let summaries = world.fleet.jobSummaries()
        let canary = try #require(summaries.first { $0.jobId == "\(rolloutId)-canary" })
        #expect(canary.progress.canceled > 0, "the canary passed with offline devices queued: \(canary.progress)")
        for summary in summaries where summary.jobId != "\(rolloutId)-rollback" {
            #expect(summary.progress.queued == 0, "\(summary.jobId) still holds queued executions of the new firmware")
        }
    }

    /// A stage's job queued just before a pause came into force (the worker stopped between the two) is held in
    /// the outbox: no job is created while paused; resume creates it.
    @Test func aQueuedJobIsNotCreatedWhilePaused() async throws {
        let world = try SimulatedWorld(devices: 200, seed: 3, scenario: SimulationScenario())
        defer { world.remove() }
        let crashing = try world.makeEngine(crashHook: { point in
            if case .afterCommit(_, "prepared") = point { throw SimulatedCrash(point: point) }
        })
        let submitted = try await crashing.submit(plan: world.plan, planSource: world.planSource)
        let id = submitted.rolloutId
        await #expect(throws: SimulatedCrash.self) {
            for _ in 0..<10 { _ = try await crashing.step(rolloutId: id) }
        }
        (crashing.store as? SQLiteRolloutStore)?.close()

        let engine = try world.makeEngine()
        #expect(try await engine.state(of: id)?.phase == .deploying, "the canary's job is queued, not yet created")
        try await engine.command(.pauseRequested(by: "ops", reason: "hold on"), rolloutId: id)
        let held = try await engine.step(rolloutId: id)
        guard case .needsPerson = held else {
            Issue.record("a paused rollout with only a held job waits for a person, not \(held)")
            return
        }
        #expect(world.fleet.jobsCreated.isEmpty, "no job may be created while a pause is in force")

        try await engine.command(.resumeRequested(by: "ops"), rolloutId: id)
        _ = try await engine.step(rolloutId: id)
        #expect(world.fleet.jobsCreated == ["\(id)-canary"])
        #expect(try await engine.state(of: id)?.phase == .baking)
    }

    @Test func sameSeedGivesTheSameEventLog() async throws {
        var logs: [[String]] = []
        for _ in 0..<2 {
            let world = try SimulatedWorld(devices: 500, seed: 77, scenario: brokenScenario)
            defer { world.remove() }
            _ = try await run(world)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            logs.append(try world.readBack().events.map { String(decoding: try encoder.encode($0), as: UTF8.self) })
        }
        #expect(logs[0] == logs[1], "seed 77 must replay identically")
    }

    @Test func persistedLogReplaysToThePersistedState() async throws {
        let world = try SimulatedWorld(devices: 400, seed: 5, scenario: brokenScenario)
        defer { world.remove() }
        let (rolloutId, _, _) = try await run(world)
        let result = try world.readBack()
        let replayed = RolloutStateMachine.replay(rolloutId: rolloutId, plan: world.plan, events: result.events)
        #expect(replayed == result.state)
    }

    @Test func throttlingStormIsSurvived() async throws {
        var scenario = SimulationScenario()
        scenario.throttlePercent = 40
        scenario.serverErrorPercent = 5
        let world = try SimulatedWorld(devices: 500, seed: 3, scenario: scenario)
        defer { world.remove() }
        let (_, ending, engine) = try await run(world)
        #expect(ending == .finished)
        #expect(try world.readBack().state.phase == .completed)
        #expect(world.fleet.callsThrottled > 10)
        #expect(await engine.statistics.effectErrors > 0)
        #expect(Set(world.fleet.jobsCreated).count == 3)
    }

    @Test func approvalStopsARunWithoutAutoApproval() async throws {
        let text = rollbackPlanText.replacingOccurrences(of: "- {percent: 100, bake: 1h}",
                                                         with: "- {percent: 100, bake: 1h, approval: required}")
        let world = try SimulatedWorld(devices: 200, seed: 2, scenario: SimulationScenario(), planText: text)
        defer { world.remove() }
        let (rolloutId, ending, engine) = try await run(world, approvalDelay: nil)
        #expect(ending == .awaitingApproval)
        let state = try await engine.state(of: rolloutId)
        #expect(state?.phase == .awaitingApproval)
        await #expect(throws: CommandRejected.self) {
            try await engine.command(.resumeRequested(by: "x"), rolloutId: rolloutId)
        }
        try await engine.command(.approved(by: "release-manager"), rolloutId: rolloutId)
        let runner = SimulationRunner(engine: engine, clock: world.clock)
        #expect(try await runner.run(rolloutId: rolloutId) == .finished)
        #expect(try world.readBack().state.stages[2].approvedBy == "release-manager")
    }

    @Test func abortCancelsTheRunningJobAndSkipsPendingCreates() async throws {
        let world = try SimulatedWorld(devices: 300, seed: 4, scenario: SimulationScenario())
        defer { world.remove() }
        let engine = try world.makeEngine()
        let submitted = try await engine.submit(plan: world.plan, planSource: world.planSource)
        // Run until the canary bakes, then abort.
        for _ in 0..<20 {
            _ = try await engine.step(rolloutId: submitted.rolloutId)
            if try await engine.state(of: submitted.rolloutId)?.phase == .baking { break }
        }
        try await engine.command(.abortRequested(by: "ops", reason: "bad build"), rolloutId: submitted.rolloutId)
        let outcome = try await engine.step(rolloutId: submitted.rolloutId)
        #expect(outcome == .finished)
        let state = try world.readBack().state
        #expect(state.phase == .aborted)
        #expect(world.fleet.jobSummaries().first?.progress.canceled ?? 0 > 0)
        #expect(world.fleet.jobsCreated.count == 1)
        #expect(world.fleet.cleanedUpJobs == ["\(submitted.rolloutId)-canary"], "an abort cleans up too")
    }

    @Test func unknownGroupPausesWithAReadableReason() async throws {
        let text = rollbackPlanText.replacingOccurrences(of: "devices: 5\n", with: "group: lab-benches\n")
        let world = try SimulatedWorld(devices: 100, seed: 1, scenario: SimulationScenario(), planText: text)
        defer { world.remove() }
        let (_, ending, _) = try await run(world)
        #expect(ending == .paused)
        let state = try world.readBack().state
        #expect(state.pause?.kind == .effectFailed)
        #expect(state.pause?.failedEffectError?.contains("lab-benches") == true)
    }

    /// Clean-up runs on every terminal path: rolled back, aborted, and a rollback that did not reach every device.
    @Test func everyTerminalPathCleansUp() async throws {
        let rolledBack = try SimulatedWorld(devices: 600, seed: 9, scenario: brokenScenario)
        defer { rolledBack.remove() }
        let (rolledBackId, _, _) = try await run(rolledBack)
        #expect(try rolledBack.readBack().state.phase == .rolledBack)
        #expect(rolledBack.fleet.cleanedUpJobs == Set(["canary", "wave-1", "rollback"].map { "\(rolledBackId)-\($0)" }))

        var incompleteScenario = brokenScenario
        incompleteScenario.outcomes.append(OutcomeRule(firmware: "2.0.3", hardware: "B", failPercent: 50))
        let incomplete = try SimulatedWorld(devices: 600, seed: 9, scenario: incompleteScenario)
        defer { incomplete.remove() }
        let (incompleteId, _, _) = try await run(incomplete)
        let state = try incomplete.readBack().state
        #expect(state.phase == .rollbackIncomplete)
        let stragglers = try #require(state.rollback?.notRolledBack)
        #expect(stragglers.count == state.rollback?.notRolledBackCount)
        #expect(stragglers.count == (state.rollback?.devices ?? 0) - (state.rollback?.progress.succeeded ?? 0))
        let rollbackTargets = Set(incomplete.fleet.targets(ofJob: "\(incompleteId)-rollback") ?? [])
        #expect(Set(stragglers).isSubset(of: rollbackTargets))
        #expect(incomplete.fleet.cleanedUpJobs.contains("\(incompleteId)-rollback"))
        #expect(incomplete.fleet.cleanedUpJobs.contains("\(incompleteId)-canary"))
    }
}

/// A fleet with a ring set: percent stages target whole ring groups (one per 1% with 100 rings), each rollout in
/// its own ring order; jobs reach exactly their rings' members.
@Suite struct RingTargetingTests {
    static let plan = """
        name: rings
        release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
        rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
        fleet: {thingGroup: fleet}
        canary: {percent: 1, bake: 30m}
        waves:
          - {percent: 10, bake: 1h}
          - {percent: 100, bake: 1h}
        gates: {jobOutcomes: {executedMin: 5}}
        """

    @Test func percentStagesTargetRingGroups() async throws {
        var scenario = SimulationScenario(offlinePercent: 0)
        scenario.rings = 100
        let world = try SimulatedWorld(devices: 5000, seed: 4, scenario: scenario, planText: Self.plan)
        defer { world.remove() }
        let engine = try world.makeEngine()
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        _ = try await SimulationRunner(engine: engine, clock: world.clock).run(rolloutId: id)
        let state = try world.readBack().state
        #expect(state.phase == .completed)
        #expect(state.stages.map { $0.ringGroups?.count ?? 0 } == [1, 9, 90])
        #expect(Set(state.stages.flatMap { $0.ringGroups ?? [] }).count == 100)
        for stage in state.stages {
            let rings = Set((stage.ringGroups ?? []).compactMap { Int($0.split(separator: "-").last!) })
            let targets = world.fleet.targets(ofJob: stage.jobId) ?? []
            #expect(targets.count == stage.devices, "\(stage.name): the job reaches its rings' members")
            #expect(targets.allSatisfy { rings.contains(RingLayout.ring(of: $0, count: 100)) })
        }
        #expect(state.stages.reduce(0) { $0 + $1.progress.succeeded } == 5000)
    }

    @Test func withoutRingsOrWhenOptedOutStagesTargetDevices() async throws {
        var scenario = SimulationScenario(offlinePercent: 0)
        scenario.rings = 100
        let optedOut = Self.plan.replacingOccurrences(of: "fleet: {thingGroup: fleet}",
                                                      with: "fleet: {thingGroup: fleet, targeting: groups}")
        let world = try SimulatedWorld(devices: 2000, seed: 4, scenario: scenario, planText: optedOut)
        defer { world.remove() }
        let engine = try world.makeEngine()
        let id = try await engine.submit(plan: world.plan, planSource: world.planSource).rolloutId
        _ = try await SimulationRunner(engine: engine, clock: world.clock).run(rolloutId: id)
        let state = try world.readBack().state
        #expect(state.phase == .completed)
        #expect(state.stages.allSatisfy { $0.ringGroups == nil })
        #expect(state.stages.map(\.devices) == [20, 180, 1800], "exact sizes, not ring-granular")
    }
}
