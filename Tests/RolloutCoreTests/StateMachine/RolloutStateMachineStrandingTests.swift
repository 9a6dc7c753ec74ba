import Foundation
import Testing
@testable import RolloutCore

/// "Never strand a device" as properties of the state machine: every job that may still start a device on the new
/// firmware is cancelled before a rollback reads its device set, an abort stops every job, and a failed gate whose
/// job could not be cancelled never lets the next wave start on one `resume`.
struct RolloutStateMachineStrandingTests {

    /// The rollout after the canary and wave-1 passed, with wave-2 baking.
    static func thirdStageBaking() throws -> MachineDriver {
        var driver = MachineDriver(plan: try parsePlan(planText(
            waves: "waves:\n  - {percent: 50, bake: 1h}\n  - {percent: 100, bake: 1h}")))
        driver.prepare(sizes: [10, 490, 500])
        driver.passCurrentStage()
        driver.passCurrentStage()
        driver.send(.jobCreated(stage: 2))
        #expect(driver.state.stages.map(\.status) == [.passed, .passed, .baking])
        return driver
    }

    @Test func aRollbackCancelsThePassedStagesJobsAndWaitsForEveryCancel() throws {
        var driver = try Self.thirdStageBaking()
        driver.send(.rollbackRequested(by: "ops", reason: "field reports"))
        let cancelled = driver.effects.compactMap { record -> Int? in
            if case .cancelJob(let stage?, _, _) = record.effect { return stage }
            return nil
        }
        #expect(cancelled == [0, 1, 2])
        #expect(driver.state.stages.map(\.status) == [.passed, .passed, .cancelled], "history stays: the waves passed")
        for stage in [2, 0] {
            driver.send(.jobCancelled(stage: stage))
            #expect(!driver.effects.contains { $0.effect == .createRollbackJob })
        }
        driver.send(.jobCancelled(stage: 1))
        #expect(driver.effects.last?.effect == .createRollbackJob)
    }

    @Test func anAbortCancelsEveryStartedJobAndCleansUpTheRollbackJob() throws {
        var driver = try Self.thirdStageBaking()
        driver.send(.abortRequested(by: "ops", reason: "stop"))
        let aborted = driver.effects.map(\.effect)
        for (index, name) in ["canary", "wave-1", "wave-2"].enumerated() {
            #expect(aborted.contains(.cancelJob(stage: index, jobId: "test-plan-0000abcd-\(name)", reason: "aborted by ops")))
        }

        // Aborting a rollback whose job is being created: the job is cancelled and its temporary group removed.
        var rolling = try Self.thirdStageBaking()
        rolling.send(.rollbackRequested(by: "ops", reason: ""))
        for stage in 0..<3 { rolling.send(.jobCancelled(stage: stage)) }
        #expect(rolling.state.rollback?.devices == nil)
        rolling.send(.abortRequested(by: "ops", reason: "enough"))
        #expect(rolling.state.phase == .aborted)
        let rollbackJob = "test-plan-0000abcd-rollback"
        #expect(rolling.effects.contains { $0.effect == .cancelJob(stage: nil, jobId: rollbackJob, reason: "aborted by ops") })
        #expect(rolling.effects.contains { $0.effect == .cleanUp(jobId: rollbackJob) })
    }

    @Test func resumingAFailedGateWhoseCancelFailedRetriesTheCancelBeforeAnyWave() throws {
        var driver = MachineDriver(plan: try parsePlan(planText(extra: "onFailure: pause")))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 5, failed: 5), metrics: [:]))
        #expect(driver.state.pause?.kind == .gateFailed)
        let cancel = try #require(driver.effects.last { $0.effect.kind == "cancelJob" })
        driver.send(.effectFailed(effect: cancel, message: "ThrottlingException"))
        #expect(driver.state.pause?.failedEffect == cancel)

        var before = driver.effects.count
        driver.send(.resumeRequested(by: "ops"))
        #expect(driver.effects[before...].map(\.effect) == [cancel.effect], "only the cancel is retried")
        #expect(driver.state.pause?.kind == .gateFailed, "still held: the bad wave may still be installing")
        #expect(driver.state.pause?.failedEffect == nil)
        #expect(driver.state.stages[1].status == .pending)

        before = driver.effects.count
        driver.send(.resumeRequested(by: "ops"))
        #expect(driver.state.pause == nil)
        #expect(driver.effects[before...].contains { $0.effect == .createJob(stage: 1) }, "the second resume overrides")
    }

    /// Property: over random sequences of commands, timers, progress and effect results, whenever a rollout enters
    /// `rollingBack` or `aborted`, every stage that started gets a cancel in that same transition, and the rollback
    /// job is asked for only after every one of those cancels was confirmed.
    @Test func noRollbackSetIsReadWhileAStageJobMayStillStartDevices() throws {
        let plan = try parsePlan(planText(extra: "schedule: {evidenceTimeout: 2h}"))
        var generator = SplitMix(seed: 20261129)
        var rollbacksStarted = 0
        var rollbackJobsAsked = 0
        for walk in 0..<400 {
            var driver = MachineDriver(plan: plan)
            var unconfirmed: Set<Int> = []
            for step in 0..<80 {
                driver.advance(Double(generator.next() % 3600))
                let stage = driver.state.currentStage
                let devices = driver.state.stages[stage].devices ?? 10
                let failed = Int(generator.next() % 2) * Int(generator.next() % 4)
                let events: [RolloutEvent] = [
                    .timerFired,
                    .prepared(PreparedRollout(eligibleDevices: 1000, stageSizes: [10, 490, 500],
                                              release: driver.artifact("2.0.0"), rollback: driver.artifact("1.0.0"))),
                    .jobCreated(stage: stage), .jobCreated(stage: stage),
                    .progressObserved(stage: stage, progress: JobProgress(succeeded: devices - failed, failed: failed),
                                      metrics: [:]),
                    .progressObserved(stage: stage, progress: JobProgress(succeeded: devices, jobDone: true),
                                      metrics: [:]),
                    .pauseRequested(by: "x", reason: ""), .resumeRequested(by: "x"),
                    .abortRequested(by: "x", reason: ""), .rollbackRequested(by: "x", reason: ""),
                    .jobCancelled(stage: Int(generator.next() % 3)), .jobCancelled(stage: Int(generator.next() % 3)),
                    .rollbackJobCreated(devices: Int(generator.next() % 5)),
                    .effectFailed(effect: driver.record(.cancelJob(stage: 0, jobId: "test-plan-0000abcd-canary",
                                                                   reason: "x")), message: "boom"),
                ]
                let event = events[Int(generator.next() % UInt64(events.count))]
                let before = driver.state
                let transition = driver.send(event)
                let after = transition.state
                let started = Set(after.stages.indices.filter { after.stages[$0].startedAt != nil })
                let cancels = Set(transition.effects.compactMap { record -> Int? in
                    if case .cancelJob(let stage?, _, _) = record.effect { return stage }
                    return nil
                })
                let context = "walk \(walk) step \(step) (\(event.kind))"
                let entered = after.phase != before.phase && (after.phase == .rollingBack || after.phase == .aborted)
                if entered {
                    #expect(started.isSubset(of: cancels), "\(context): \(started.subtracting(cancels)) not cancelled")
                }
                if after.phase == .rollingBack && before.phase != .rollingBack {
                    rollbacksStarted += 1
                    unconfirmed = started
                }
                if case .jobCancelled(let confirmed) = event { unconfirmed.remove(confirmed) }
                if transition.effects.contains(where: { $0.effect == .createRollbackJob }) {
                    rollbackJobsAsked += 1
                    #expect(unconfirmed.isEmpty, "\(context): rollback job asked for before \(unconfirmed) was cancelled")
                }
            }
        }
        #expect(rollbacksStarted > 100 && rollbackJobsAsked > 50,
                "the walks exercise rollbacks (\(rollbacksStarted) started, \(rollbackJobsAsked) rollback jobs asked)")
    }
}
