import Foundation
import Testing
@testable import RolloutCore

/// Applies events to one rollout, keeping its log, as the engine would.
struct MachineDriver {
    let plan: RolloutPlan
    var state: RolloutState
    var now: Date
    var log: [RolloutEventRecord] = []
    var effects: [EffectRecord] = []
    var verdicts: [VerdictRecord] = []

    init(plan: RolloutPlan, now: Date = date("2026-03-02T00:00:00Z")) {
        self.plan = plan
        self.now = now
        state = RolloutStateMachine.initialState(rolloutId: "test-plan-0000abcd", plan: plan, at: now)
        send(.submitted)
    }

    @discardableResult
    mutating func send(_ event: RolloutEvent) -> Transition {
        let transition = RolloutStateMachine.apply(event, to: state, plan: plan, at: now)
        if transition.changed {
            log.append(RolloutEventRecord(sequence: log.count + 1, at: now, event: event))
        }
        state = transition.state
        effects += transition.effects
        verdicts += transition.verdicts
        return transition
    }

    /// An effect with the key the state machine gives it.
    func record(_ effect: Effect) -> EffectRecord {
        EffectRecord(key: effect.key(stageNames: state.stages.map(\.name)), effect: effect)
    }

    mutating func advance(_ seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
    }

    func artifact(_ version: String) -> StagedArtifact {
        StagedArtifact(version: version, url: "sim://\(version)", sha256Hex: "00", sizeBytes: 1)
    }

    mutating func prepare(sizes: [Int]) {
        send(.prepared(PreparedRollout(eligibleDevices: sizes.reduce(0, +), stageSizes: sizes, release: artifact("2.0.0"),
                                       rollback: artifact("1.0.0"))))
    }

    /// Reports the current stage fully succeeded after its bake.
    mutating func passCurrentStage() {
        let index = state.currentStage
        send(.jobCreated(stage: index))
        advance(TimeInterval(plan.stages[index].bakeDurationSeconds))
        let devices = state.stages[index].devices ?? 0
        send(.progressObserved(stage: index, progress: JobProgress(succeeded: devices, jobDone: true), metrics: [:]))
    }
}

@Suite struct RolloutStateMachineTests {
    @Test func happyPathCompletes() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        #expect(driver.state.phase == .preparing)
        #expect(driver.effects.map(\.key) == ["prepare"])
        driver.prepare(sizes: [10, 490, 500])
        #expect(driver.state.phase == .deploying)
        #expect(driver.effects.last?.effect == .createJob(stage: 0))
        driver.send(.jobCreated(stage: 0))
        #expect(driver.state.phase == .baking)
        #expect(driver.state.dueAt == driver.now.addingTimeInterval(1800))
        driver.advance(600)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 10, jobDone: true), metrics: [:]))
        #expect(driver.state.phase == .baking, "bake not over")
        #expect(driver.state.stages[0].lastEvaluation?.verdict == .wait)
        driver.advance(1200)
        driver.send(.timerFired)
        #expect(driver.state.stages[0].status == .passed)
        #expect(driver.state.phase == .deploying)
        #expect(driver.state.currentStage == 1)
        driver.passCurrentStage()
        driver.passCurrentStage()
        #expect(driver.state.phase == .completed)
        #expect(driver.effects.filter { if case .cleanUp = $0.effect { return true }; return false }.count == 3)
        #expect(Set(driver.effects.map(\.key)).count == driver.effects.count, "effect keys are unique")
        #expect(driver.verdicts.map(\.evaluation.verdict) == [.wait, .pass, .pass, .pass])
    }

    @Test func failedGateCancelsAndRollsBack() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.passCurrentStage()
        driver.send(.jobCreated(stage: 1))
        driver.advance(300)
        driver.send(.progressObserved(stage: 1, progress: JobProgress(queued: 400, succeeded: 60, failed: 30), metrics: [:]))
        #expect(driver.state.phase == .rollingBack)
        #expect(driver.state.stages[1].status == .failed)
        guard case .gateFailed(let stage, let deciding)? = driver.state.rollback?.cause else {
            Issue.record("the rollback's cause is the failed gate: \(String(describing: driver.state.rollback?.cause))")
            return
        }
        #expect(stage == "wave-1" && deciding.map(\.gate) == ["failed"] && deciding.first?.observed ?? 0 > 33)
        // Every started stage's job is cancelled, the passed canary's too (its queued executions would install the
        // new firmware after the rollback); the rollback job waits for every cancel.
        let reason = Step.cancelReason(gateFailedIn: "wave-1", GateEvaluation(verdict: .fail, results: deciding))
        let cancels = driver.effects.compactMap { record -> Int? in
            if case .cancelJob(let stage?, _, let why) = record.effect, why == reason { return stage }
            return nil
        }
        #expect(cancels == [0, 1])
        #expect(driver.state.rollback?.cancelsPending == [0, 1])
        driver.send(.jobCancelled(stage: 1))
        #expect(!driver.effects.contains { $0.effect == .createRollbackJob }, "the canary's job is not cancelled yet")
        driver.send(.jobCancelled(stage: 1))
        #expect(!driver.effects.contains { $0.effect == .createRollbackJob }, "a repeated confirmation counts once")
        driver.send(.jobCancelled(stage: 0))
        #expect(driver.effects.last?.effect == .createRollbackJob)
        #expect(driver.state.rollback?.cancelsPending == [])
        driver.send(.rollbackJobCreated(devices: 70))
        driver.send(.rollbackProgressObserved(progress: JobProgress(inProgress: 10, succeeded: 60)))
        #expect(driver.state.phase == .rollingBack)
        driver.send(.rollbackProgressObserved(progress: JobProgress(succeeded: 70, jobDone: true)))
        #expect(driver.state.phase == .rolledBack)
        #expect(driver.state.note == .rolledBack(version: "1.0.0", devices: 70))
    }

    @Test func failedGateWithPausePolicyWaitsForAHuman() throws {
        var driver = MachineDriver(plan: try parsePlan(planText(extra: "onFailure: pause")))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 5, failed: 5), metrics: [:]))
        #expect(driver.state.displayPhase == .paused)
        #expect(driver.state.pause?.kind == .gateFailed)
        #expect(RolloutStateMachine.rejection(of: .approved(by: "x"), in: driver.state, plan: driver.plan) != nil)
        driver.send(.resumeRequested(by: "alice"))
        #expect(driver.state.phase == .deploying)
        #expect(driver.state.currentStage == 1)
        #expect(driver.state.stages[0].overridden)
    }

    @Test func approvalAndWindowHoldAStage() throws {
        let plan = try parsePlan(planText(
            waves: "waves:\n  - {percent: 100, bake: 1h, approval: required}",
            extra: "schedule:\n  windows:\n    - {cron: \"0 2 * * *\", duration: 2h, timeZone: UTC}"))
        var driver = MachineDriver(plan: plan, now: date("2026-03-02T03:00:00Z"))
        driver.prepare(sizes: [10, 990])
        #expect(driver.state.phase == .deploying, "03:00 is inside 02:00–04:00")
        driver.send(.jobCreated(stage: 0))
        driver.advance(1800)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 10, jobDone: true), metrics: [:]))
        #expect(driver.state.phase == .awaitingApproval)
        #expect(driver.state.waiting == .approval(stage: "wave-1"))
        #expect(driver.state.dueAt == nil)
        driver.advance(3600)  // 04:30: window closed
        driver.send(.approved(by: "bob"))
        #expect(driver.state.phase == .waitingForWindow)
        #expect(driver.state.dueAt == date("2026-03-03T02:00:00Z"))
        #expect(driver.state.waiting == .window(stage: "wave-1", opensAt: date("2026-03-03T02:00:00Z")))
        driver.now = date("2026-03-03T02:00:00Z")
        driver.send(.timerFired)
        #expect(driver.state.phase == .deploying)
        #expect(driver.state.stages[1].approvedBy == "bob")
    }

    @Test("bakeIn: windows counts only time inside the windows: a 3h bake in a nightly 2h window ends the next night")
    func bakeInWindowsCountsOnlyOpenTime() throws {
        let plan = try parsePlan(planText(
            canary: "canary: {devices: 10, bake: 3h}", waves: "waves:\n  - {percent: 100, bake: 1h}",
            extra: "schedule:\n  bakeIn: windows\n  windows:\n    - {cron: \"0 2 * * *\", duration: 2h, timeZone: UTC}"))
        var driver = MachineDriver(plan: plan, now: date("2026-03-02T02:00:00Z"))
        driver.prepare(sizes: [10, 990])
        driver.send(.jobCreated(stage: 0))
        let bakeEnd = date("2026-03-03T03:00:00Z")
        #expect(driver.state.waiting == .bake(stage: "canary", until: bakeEnd))
        driver.now = date("2026-03-02T12:00:00Z")  // 10h later: a plain bake would be long over
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 10, jobDone: true), metrics: [:]))
        #expect(driver.state.phase == .baking)
        driver.now = bakeEnd
        driver.send(.timerFired)
        #expect(driver.state.stages[0].status == .passed)
    }

    @Test("minimumDevicesReporting holds a pass until that many devices (at most the stage) have reported")
    func minimumDevicesReportingHoldsThePass() throws {
        let plan = try parsePlan(planText(
            canary: "canary: {devices: 10, bake: 1h, gates: {jobOutcomes: {executedMin: 1, completedMinPercent: 0}}}",
            waves: "waves:\n  - {percent: 100, bake: 1h}", extra: "schedule:\n  minimumDevicesReporting: 5"))
        var driver = MachineDriver(plan: plan)
        driver.prepare(sizes: [10, 990])
        driver.send(.jobCreated(stage: 0))
        driver.advance(3600)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(queued: 7, inProgress: 1, succeeded: 2), metrics: [:]))
        #expect(driver.state.phase == .baking)
        let reporting = driver.state.stages[0].lastEvaluation?.results.first { $0.gate == "reporting" }
        #expect(reporting?.reason == "3 of 10 devices reported (minimumDevicesReporting 5)")
        driver.send(.progressObserved(stage: 0, progress: JobProgress(queued: 5, inProgress: 2, succeeded: 3), metrics: [:]))
        #expect(driver.state.stages[0].status == .passed)
    }

    @Test("a dry-run gate's change of verdict is recorded in the verdict history, though it decides nothing")
    func dryRunVerdictsAreRecorded() throws {
        let plan = try parsePlan(planText(
            canary: "canary: {devices: 10, bake: 1h}", waves: "waves:\n  - {percent: 100, bake: 1h}",
            extra: "gates:\n  metrics:\n    - {name: crash, url: \"sim://health\", pointer: /x, max: 0.01, dryRun: true}"))
        var driver = MachineDriver(plan: plan)
        driver.prepare(sizes: [10, 990])
        driver.send(.jobCreated(stage: 0))
        driver.advance(60)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(queued: 10), metrics: ["crash": MetricReading(value: 0)]))
        let before = driver.verdicts.count
        driver.advance(60)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(queued: 10), metrics: ["crash": MetricReading(value: 1)]))
        #expect(driver.state.phase == .baking, "a dry-run failure decides nothing")
        #expect(driver.verdicts.count == before + 1)
        #expect(driver.verdicts.last?.evaluation.results.first { $0.gate == "metric:crash" }?.verdict == .fail)
    }

    @Test func notBeforeSchedulesTheStart() throws {
        let plan = try parsePlan(planText(extra: "schedule: {notBefore: 2026-03-05T08:00:00Z}"))
        var driver = MachineDriver(plan: plan)
        #expect(driver.state.phase == .scheduled)
        #expect(driver.state.dueAt == date("2026-03-05T08:00:00Z"))
        driver.send(.timerFired)
        #expect(driver.state.phase == .scheduled)
        driver.now = date("2026-03-05T08:00:00Z")
        driver.send(.timerFired)
        #expect(driver.state.phase == .preparing)
    }

    @Test func pauseHoldsAPassButNotAFailure() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.send(.pauseRequested(by: "carol", reason: "holiday"))
        #expect(driver.state.displayPhase == .paused)
        driver.advance(1800)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 10, jobDone: true), metrics: [:]))
        #expect(driver.state.stages[0].status == .baking, "a pass is held while paused")
        driver.send(.resumeRequested(by: "carol"))
        #expect(driver.state.stages[0].status == .passed)
        #expect(driver.state.phase == .deploying)
        driver.send(.jobCreated(stage: 1))
        driver.send(.pauseRequested(by: "carol", reason: ""))
        driver.send(.progressObserved(stage: 1, progress: JobProgress(succeeded: 10, failed: 10), metrics: [:]))
        #expect(driver.state.phase == .rollingBack, "a failing gate acts even during a pause")
    }

    @Test func inconclusiveEvidencePausesAndResumeJudgesAgain() throws {
        var driver = MachineDriver(plan: try parsePlan(planText(extra: "schedule: {evidenceTimeout: 1h}")))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.advance(1800 + 3600)
        driver.send(.timerFired)
        #expect(driver.state.pause?.kind == .inconclusive)
        driver.send(.resumeRequested(by: "dave"))
        #expect(driver.state.pause == nil)
        #expect(driver.state.dueAt == driver.now.addingTimeInterval(3600))
    }

    @Test func abortCancelsTheRunningJobAndEnds() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.abortRequested(by: "erin", reason: "wrong build"))
        #expect(driver.state.phase == .aborted)
        #expect(driver.effects.contains { $0.effect == .cancelJob(stage: 0, jobId: "test-plan-0000abcd-canary", reason: "aborted by erin") })
        #expect(RolloutStateMachine.isObsolete(.createJob(stage: 0), in: driver.state))
    }

    @Test func emptyStagesAreSkipped() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [1, 0, 0])
        driver.passCurrentStage()
        #expect(driver.state.phase == .completed)
        #expect(driver.state.stages.map(\.status) == [.passed, .skipped, .skipped])
    }

    @Test func effectFailurePausesAndResumeRetriesIt() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.effectFailed(effect: driver.record(.createJob(stage: 0)),
                                  message: "AccessDeniedException: no iot:CreateJob"))
        #expect(driver.state.pause?.kind == .effectFailed)
        let before = driver.effects.count
        driver.send(.resumeRequested(by: "ops"))
        #expect(driver.effects[before...].map(\.effect) == [.createJob(stage: 0)])
    }

    /// Effect keys are the outbox's identity: they must not change between versions (a pending effect written by an
    /// older version is matched by key when queued again).
    @Test func effectKeysAreStable() {
        let names = ["canary", "wave-1"]
        #expect(Effect.prepare.key(stageNames: names) == "prepare")
        #expect(Effect.createJob(stage: 1).key(stageNames: names) == "create-job:wave-1")
        #expect(Effect.cancelJob(stage: 0, jobId: "j", reason: "r").key(stageNames: names) == "cancel-job:canary")
        #expect(Effect.cancelJob(stage: nil, jobId: "j", reason: "r").key(stageNames: names) == "cancel-job:rollback")
        #expect(Effect.createRollbackJob.key(stageNames: names) == "rollback-job")
        #expect(Effect.listRollbackStragglers(jobId: "j").key(stageNames: names) == "list-rollback-stragglers")
        #expect(Effect.cleanUp(jobId: "r-canary").key(stageNames: names) == "cleanup:r-canary")
        #expect(Effect.notificationKey(event: 7, index: 2) == "notify:7:2")
    }

    @Test func commandsAreRejectedWithReasons() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        #expect(RolloutStateMachine.rejection(of: .resumeRequested(by: "x"), in: driver.state, plan: driver.plan) != nil)
        #expect(RolloutStateMachine.rejection(of: .pauseRequested(by: "x", reason: ""), in: driver.state, plan: driver.plan) == nil)
        driver.send(.abortRequested(by: "x", reason: ""))
        let reason = RolloutStateMachine.rejection(of: .pauseRequested(by: "x", reason: ""), in: driver.state, plan: driver.plan)
        #expect(reason?.contains("aborted") == true)
    }

    @Test("promote ends the bake now: the gates judge at once and must still pass; only a baking, unpaused stage")
    func promoteEndsTheBakeButNotTheGates() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        let promote = RolloutEvent.promoteRequested(by: "alice", reason: "canary metrics reviewed")
        #expect(RolloutStateMachine.rejection(of: promote, in: driver.state, plan: driver.plan)?.contains("nothing bakes") == true)
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.advance(600)
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 10, jobDone: true), metrics: [:]))
        #expect(driver.state.phase == .baking, "20 of the 30 minutes left")
        #expect(RolloutStateMachine.rejection(of: promote, in: driver.state, plan: driver.plan) == nil)
        driver.send(promote)
        #expect(driver.state.stages[0].status == .passed, "good evidence passes at once")
        #expect(driver.state.stages[0].bakeEndedEarlyAt == driver.now)
        #expect(driver.state.currentStage == 1 && driver.state.phase == .deploying)

        // Bad evidence is not passed by a promote: the gate fails as it would have.
        driver.send(.jobCreated(stage: 1))
        driver.advance(60)
        driver.send(.progressObserved(stage: 1, progress: JobProgress(inProgress: 480, succeeded: 10), metrics: [:]))
        driver.send(.promoteRequested(by: "alice"))
        #expect(driver.state.stages[1].status == .baking, "too few outcomes yet: the gates wait, promoted or not")
        #expect(driver.state.stages[1].lastEvaluation?.verdict == .wait)
        #expect(RolloutStateMachine.rejection(of: promote, in: driver.state, plan: driver.plan)?.contains("already") == true)
        driver.send(.pauseRequested(by: "carol", reason: ""))
        #expect(RolloutStateMachine.rejection(of: promote, in: driver.state, plan: driver.plan)?.contains("paused") == true)

        // The log replays to the same state, the promote included.
        #expect(RolloutStateMachine.replay(rolloutId: driver.state.rolloutId, plan: driver.plan, events: driver.log) == driver.state)
    }

    @Test("promote skips a wait for a window or the start time, for that stage only; never an approval; --stage guards")
    func promoteSkipsAWait() throws {
        let plan = try parsePlan(planText(
            waves: "waves:\n  - {percent: 50, bake: 1h, approval: required}\n  - {percent: 100, bake: 1h}",
            extra: "schedule:\n  notBefore: 2026-03-05T00:00:00Z\n  windows:\n    - {cron: \"0 2 * * *\", duration: 2h, timeZone: UTC}"))
        var driver = MachineDriver(plan: plan, now: date("2026-03-02T10:00:00Z"))
        #expect(driver.state.phase == .scheduled)
        let early = RolloutEvent.promoteRequested(by: "alice", reason: "hotfix", stage: "wave-1")
        #expect(RolloutStateMachine.rejection(of: early, in: driver.state, plan: plan)?
            .hasPrefix("the rollout has not started; its first stage is canary") == true)
        driver.send(.promoteRequested(by: "alice", reason: "hotfix"))
        #expect(driver.state.phase == .preparing && driver.state.startWaivedBy == "alice")
        #expect(driver.state.note == .promotedPastWait(stage: nil, by: "alice"))

        driver.prepare(sizes: [10, 490, 500])
        #expect(driver.state.phase == .waitingForWindow, "10:00 is outside 02:00–04:00")
        #expect(RolloutStateMachine.rejection(of: .promoteRequested(by: "a", stage: "wave-1"), in: driver.state, plan: plan)
                == "the current stage is canary, not wave-1")
        driver.send(.promoteRequested(by: "alice", reason: "lab verified", stage: "canary"))
        #expect(driver.state.phase == .deploying && driver.state.stages[0].windowWaivedBy == "alice")
        driver.passCurrentStage()
        #expect(driver.state.phase == .awaitingApproval)
        #expect(RolloutStateMachine.rejection(of: .promoteRequested(by: "a"), in: driver.state, plan: plan)?
            .hasPrefix("wave-1 awaits approval: approve it") == true)
        driver.send(.approved(by: "bob"))
        #expect(driver.state.phase == .waitingForWindow, "the waiver was the canary's alone")
        #expect(RolloutStateMachine.replay(rolloutId: driver.state.rolloutId, plan: plan, events: driver.log) == driver.state)
    }

    @Test func anApprovalGivenWhilePausedIsActedOnAtResume() throws {
        let plan = try parsePlan(planText(canary: "canary: {devices: 10, bake: 30m, approval: required}"))
        var driver = MachineDriver(plan: plan)
        driver.prepare(sizes: [10, 490, 500])
        #expect(driver.state.phase == .awaitingApproval)
        driver.send(.pauseRequested(by: "ops", reason: "freeze"))
        #expect(RolloutStateMachine.rejection(of: .approved(by: "rm"), in: driver.state, plan: plan) == nil)
        let transition = driver.send(.approved(by: "rm"))
        #expect(transition.changed, "the approval is recorded")
        #expect(driver.state.stages[0].approvedBy == "rm")
        #expect(driver.state.phase == .awaitingApproval)
        #expect(!driver.effects.contains { $0.effect.kind == "createJob" }, "no job while paused")
        driver.send(.timerFired)
        #expect(!driver.effects.contains { $0.effect.kind == "createJob" })
        driver.send(.resumeRequested(by: "ops"))
        #expect(driver.state.phase == .deploying)
        #expect(driver.effects.last { $0.effect.kind == "createJob" }?.effect == .createJob(stage: 0))
    }

    @Test func aPauseHoldsTheFirstStageWhenPreparingEndsDuringIt() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.send(.pauseRequested(by: "ops", reason: ""))
        driver.prepare(sizes: [10, 490, 500])
        #expect(driver.state.phase == .waitingForWindow)
        #expect(driver.state.displayPhase == .paused)
        #expect(!driver.effects.contains { $0.effect.kind == "createJob" })
        driver.send(.resumeRequested(by: "ops"))
        #expect(driver.state.phase == .deploying)
        #expect(driver.effects.last?.effect == .createJob(stage: 0))
    }

    /// Starts a rollback of the canary: gate failed on the canary's job, cancelled.
    static func rollingBack() throws -> MachineDriver {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        driver.send(.progressObserved(stage: 0, progress: JobProgress(succeeded: 5, failed: 5), metrics: [:]))
        #expect(driver.state.phase == .rollingBack)
        driver.send(.jobCancelled(stage: 0))
        return driver
    }

    @Test func aRollbackWhoseFleetCallFailsWaitsForAPersonAndRetries() throws {
        var driver = try Self.rollingBack()
        let failed = driver.record(.createRollbackJob)
        driver.send(.effectFailed(effect: failed, message: "AccessDeniedException: no iot:CreateJob"))
        #expect(driver.state.phase == .rollingBack, "never terminal while devices may hold the new firmware")
        #expect(driver.state.pause?.failedEffect == failed)
        #expect(driver.state.pause?.failedEffectError == "AccessDeniedException: no iot:CreateJob")
        #expect(driver.state.waiting == .resume)
        #expect(driver.state.note == .effectFailed(effectKey: "rollback-job", error: "AccessDeniedException: no iot:CreateJob"))
        #expect(RolloutStateMachine.rejection(of: .rollbackRequested(by: "ops", reason: ""), in: driver.state,
                                              plan: driver.plan) == nil)
        #expect(RolloutStateMachine.rejection(of: .resumeRequested(by: "ops"), in: driver.state, plan: driver.plan) == nil)
        let before = driver.effects.count
        driver.send(.rollbackRequested(by: "ops", reason: "retry"))
        #expect(driver.effects[before...].map(\.effect) == [.createRollbackJob])
        #expect(driver.state.pause == nil)
        #expect(driver.state.phase == .rollingBack)
        // Once it is running, asking again is refused.
        #expect(RolloutStateMachine.rejection(of: .rollbackRequested(by: "ops", reason: ""), in: driver.state,
                                              plan: driver.plan) != nil)
    }

    @Test func aRollbackThatLeavesDevicesBehindEndsIncompleteWithTheirNames() throws {
        var driver = try Self.rollingBack()
        driver.send(.rollbackJobCreated(devices: 10))
        driver.send(.rollbackProgressObserved(progress: JobProgress(succeeded: 7, failed: 2, timedOut: 1, jobDone: true)))
        #expect(driver.state.phase == .rollingBack, "not a success: the others are listed first")
        #expect(driver.effects.last?.effect == .listRollbackStragglers(jobId: "test-plan-0000abcd-rollback"))
        // Later observations change nothing while the list is made.
        let held = driver.send(.rollbackProgressObserved(progress: JobProgress(succeeded: 8, jobDone: true)))
        #expect(!held.changed)
        driver.send(.rollbackStragglersListed(devices: ["d-3", "d-5", "d-9"], count: 3))
        #expect(driver.state.phase == .rollbackIncomplete)
        #expect(driver.state.phase.isTerminal)
        #expect(driver.state.rollback?.notRolledBack == ["d-3", "d-5", "d-9"])
        #expect(driver.state.rollback?.notRolledBackCount == 3)
        #expect(driver.effects.contains { $0.effect == .cleanUp(jobId: "test-plan-0000abcd-rollback") })
        #expect(driver.effects.contains { $0.effect == .cleanUp(jobId: "test-plan-0000abcd-canary") })
    }

    @Test func aRollbackWhoseDevicesStaySilentEndsIncompleteAfterTheEvidenceTimeout() throws {
        var driver = try Self.rollingBack()
        driver.send(.rollbackJobCreated(devices: 10))
        driver.send(.rollbackProgressObserved(progress: JobProgress(queued: 4, succeeded: 6)))
        driver.advance(TimeInterval(driver.plan.schedule.evidenceTimeoutSeconds))
        driver.send(.timerFired)
        #expect(driver.effects.last?.effect == .listRollbackStragglers(jobId: "test-plan-0000abcd-rollback"))
        driver.send(.rollbackStragglersListed(devices: ["a", "b", "c", "d"], count: 4))
        #expect(driver.state.phase == .rollbackIncomplete)
    }

    @Test func aCompleteRollbackEndsRolledBack() throws {
        var driver = try Self.rollingBack()
        driver.send(.rollbackJobCreated(devices: 10))
        driver.send(.rollbackProgressObserved(progress: JobProgress(succeeded: 10, jobDone: true)))
        #expect(driver.state.phase == .rolledBack)
        #expect(!driver.effects.contains { $0.effect.kind == "listRollbackStragglers" })
    }

    /// Property: over random sequences of commands, timers, progress and effect results (on a plan with an
    /// approval and windows), no `createJob` is ever emitted while a pause is in force, and terminal phases stay terminal.
    @Test func aPauseHoldsEveryJobOverRandomWalks() throws {
        let plan = try parsePlan(planText(
            waves: "waves:\n  - {percent: 50, bake: 1h, approval: required}\n  - {percent: 100, bake: 1h}",
            extra: "schedule: {evidenceTimeout: 2h, windows: [{cron: \"0 */2 * * *\", duration: 1h}]}"))
        var generator = SplitMix(seed: 20261129)
        var pausedTransitions = 0
        for walk in 0..<400 {
            var driver = MachineDriver(plan: plan)
            var terminal: RolloutPhase?
            for step in 0..<80 {
                driver.advance(Double(generator.next() % 5400))
                let stage = driver.state.currentStage
                let devices = driver.state.stages[stage].devices ?? 10
                let failed = Int(generator.next() % 3)
                let effectsSeen: [EffectRecord] = [
                    driver.record(.prepare),
                    driver.record(.createJob(stage: stage)),
                    driver.record(.createRollbackJob),
                    driver.record(.cancelJob(stage: 0, jobId: "test-plan-0000abcd-canary", reason: "x")),
                    driver.record(.listRollbackStragglers(jobId: "test-plan-0000abcd-rollback")),
                ]
                let events: [RolloutEvent] = [
                    .timerFired, .timerFired,
                    .prepared(PreparedRollout(eligibleDevices: 1000, stageSizes: [10, 490, 500],
                                              release: driver.artifact("2.0.0"), rollback: driver.artifact("1.0.0"))),
                    .jobCreated(stage: stage),
                    .progressObserved(stage: stage, progress: JobProgress(succeeded: devices - failed, failed: failed),
                                      metrics: [:]),
                    .approved(by: "x"), .approved(by: "y"),
                    .pauseRequested(by: "x", reason: ""), .pauseRequested(by: "x", reason: ""),
                    .resumeRequested(by: "x"),
                    .abortRequested(by: "x", reason: ""), .rollbackRequested(by: "x", reason: ""),
                    .jobCancelled(stage: Int(generator.next() % 3)), .rollbackJobCreated(devices: Int(generator.next() % 5)),
                    .rollbackProgressObserved(progress: JobProgress(succeeded: Int(generator.next() % 5), failed: 1,
                                                                    jobDone: true)),
                    .rollbackStragglersListed(devices: ["d-1"], count: 1),
                    .effectFailed(effect: effectsSeen[Int(generator.next() % UInt64(effectsSeen.count))], message: "boom"),
                ]
                let event = events[Int(generator.next() % UInt64(events.count))]
                let before = driver.state
                let transition = driver.send(event)
                let jobs = transition.effects.filter { $0.effect.kind == "createJob" }
                let releasesPause: Bool = {
                    switch event {
                    case .resumeRequested, .rollbackRequested: return true
                    default: return false
                    }
                }()
                if (before.pause != nil && !releasesPause) || transition.state.pause != nil {
                    pausedTransitions += 1
                    #expect(jobs.isEmpty, "walk \(walk) step \(step): \(event.kind) created a job while paused")
                }
                if let terminal {
                    #expect(driver.state == before, "walk \(walk): \(terminal) left by \(event.kind)")
                }
                if driver.state.phase.isTerminal { terminal = driver.state.phase }
            }
        }
        #expect(pausedTransitions > 1000, "the walks spend time paused (\(pausedTransitions) transitions)")
    }

    /// Property: from any reachable state, random events never leave a terminal phase, and replaying the log
    /// of persisted events reproduces the state.
    @Test func randomWalksNeverLeaveTerminalStatesAndReplay() throws {
        let plan = try parsePlan(planText(extra: "schedule: {evidenceTimeout: 2h}"))
        var generator = SplitMix(seed: 20261124)
        for walk in 0..<300 {
            var driver = MachineDriver(plan: plan)
            var terminal: RolloutPhase?
            for _ in 0..<60 {
                driver.advance(Double(generator.next() % 3600))
                let stage = driver.state.currentStage
                let devices = driver.state.stages[stage].devices ?? 10
                let failed = Int(generator.next() % 3)
                let events: [RolloutEvent] = [
                    .timerFired,
                    .prepared(PreparedRollout(eligibleDevices: 1000, stageSizes: [10, 490, 500],
                                              release: driver.artifact("2.0.0"), rollback: driver.artifact("1.0.0"))),
                    .jobCreated(stage: stage),
                    .progressObserved(stage: stage, progress: JobProgress(succeeded: devices - failed, failed: failed),
                                      metrics: [:]),
                    .approved(by: "x"), .pauseRequested(by: "x", reason: ""), .resumeRequested(by: "x"),
                    .abortRequested(by: "x", reason: ""), .rollbackRequested(by: "x", reason: ""),
                    .jobCancelled(stage: Int(generator.next() % 3)), .rollbackJobCreated(devices: Int(generator.next() % 5)),
                    .rollbackProgressObserved(progress: JobProgress(succeeded: 4, jobDone: true)),
                    .effectFailed(effect: driver.record(.createJob(stage: 0)), message: "boom"),
                ]
                let event = events[Int(generator.next() % UInt64(events.count))]
                let before = driver.state
                driver.send(event)
                if let terminal {
                    #expect(driver.state == before, "walk \(walk): \(terminal) left by \(event.kind)")
                }
                if driver.state.phase.isTerminal { terminal = driver.state.phase }
            }
            let replayed = RolloutStateMachine.replay(rolloutId: driver.state.rolloutId, plan: plan, events: driver.log)
            #expect(replayed == driver.state, "walk \(walk): replay differs")
        }
    }
}

/// Deterministic generator for property tests.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return StableHash.mix(state)
    }
}
