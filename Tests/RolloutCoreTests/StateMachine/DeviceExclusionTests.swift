import Foundation
import Testing
@testable import RolloutCore

/// A device taken out by a person (`rollout device exclude|cancel`), as the state machine records and acts on it.
@Suite struct DeviceExclusionTests {
    func excluded(_ thing: String, stage: Int?, cancel: Bool = false, force: Bool = false) -> RolloutEvent {
        .deviceExcluded(thing: thing, stage: stage, cancel: cancel, force: force, by: "alice", reason: "lab unit")
    }

    @Test("a device of a stage not started leaves its count and needs no call; one in a started stage only with cancel")
    func exclusionAndCancel() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.jobCreated(stage: 0))
        let before = driver.effects.count
        driver.send(excluded("sim-0000400", stage: 1))
        #expect(driver.state.stages[1].devices == 489)
        #expect(driver.effects.count == before, "its job is not created yet: it is left out of it")
        #expect(driver.state.exclusions?.first == DeviceExclusion(
            thing: "sim-0000400", stage: "wave-1", by: "alice", reason: "lab unit", at: driver.now, cancelled: false,
            force: false, inJob: false))
        #expect(driver.log.last?.event.kind == "deviceExcluded")

        // In the canary's job: excluded only, it keeps running and counting; cancelled, its execution is cancelled.
        driver.send(excluded("sim-0000003", stage: 0))
        #expect(driver.state.stages[0].devices == 10 && driver.effects.count == before)
        driver.send(excluded("sim-0000003", stage: 0, cancel: true, force: true))
        #expect(driver.effects.last?.effect == .cancelExecution(jobId: driver.state.stages[0].jobId, thing: "sim-0000003",
                                                                force: true))
        #expect(driver.effects.last?.key == "cancel-execution:\(driver.state.stages[0].jobId):sim-0000003")
        #expect(driver.state.stages[0].devices == 9)
        #expect(driver.state.exclusions?.count == 2 && driver.state.exclusions?[1].cancelled == true)
    }

    @Test("refused: the same device twice, more than the bound, an ended rollout")
    func refusals() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.prepare(sizes: [10, 490, 500])
        driver.send(excluded("sim-0000400", stage: 1, cancel: true))
        let state = driver.state
        let again = RolloutStateMachine.rejection(of: excluded("sim-0000400", stage: 1), in: state, plan: driver.plan)
        #expect(again?.hasPrefix("sim-0000400 was already cancelled by alice at") == true)
        var full = state
        full.exclusions = (0..<DeviceExclusion.perRolloutMax).map {
            DeviceExclusion(thing: "t\($0)", stage: nil, by: "a", reason: nil, at: driver.now, cancelled: false,
                            force: false, inJob: false)
        }
        #expect(RolloutStateMachine.rejection(of: excluded("sim-0000401", stage: 1), in: full, plan: driver.plan)?
            .hasPrefix("a rollout takes at most 1000 devices out by hand") == true)
        driver.send(.abortRequested(by: "bob", reason: "stop"))
        #expect(RolloutStateMachine.rejection(of: excluded("sim-0000402", stage: 1), in: driver.state, plan: driver.plan)?
            .contains("nothing more can happen to it") == true)
    }

    @Test("a ring stage's job targets whole rings: its excluded devices' executions are cancelled once it exists")
    func ringStage() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.send(.prepared(PreparedRollout(eligibleDevices: 1000, stageSizes: [10, 490, 500],
                                              release: driver.artifact("2.0.0"), rollback: driver.artifact("1.0.0"),
                                              stageRingGroups: [["fleet-ring-00"], ["fleet-ring-01"], ["fleet-ring-02"]])))
        driver.send(excluded("sim-0000400", stage: 1))
        driver.send(excluded("sim-0000900", stage: 2))
        driver.passCurrentStage()
        driver.advance(1)
        driver.send(.timerFired)
        #expect(driver.state.currentStage == 1 && driver.state.phase == .deploying, "\(driver.state.phase)")
        let before = driver.effects.count
        driver.send(.jobCreated(stage: 1))
        #expect(Array(driver.effects.dropFirst(before)).map(\.effect)
                == [.cancelExecution(jobId: driver.state.stages[1].jobId, thing: "sim-0000400", force: false)])
    }

    @Test("before devices are assigned the exclusion names no stage (the preparation leaves the device out)")
    func beforePreparation() throws {
        var driver = MachineDriver(plan: try parsePlan(planText()))
        driver.send(excluded("sim-0000400", stage: nil))
        #expect(driver.state.exclusions?.first?.stage == nil)
        #expect(driver.state.phase == .preparing)
    }
}
