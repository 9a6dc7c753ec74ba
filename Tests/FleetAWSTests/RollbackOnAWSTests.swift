import Engine
import Foundation
import RolloutCore
import RolloutText
import Testing

@testable import FleetAWS

/// The rollback after a broken gate, on moto + the device layer: the same devices whether the cancel was forced, the
/// jobs' `abortConfig`, and a rollback job AWS refuses.
@Suite("rollback on AWS: forced cancels, abortConfig, a refused rollback job", .serialized)
struct RollbackOnAWSTests {
    @Test("after a broken gate a forced and a plain cancel roll back the same devices; stage jobs carry abortConfig from the gate, the rollback job none")
    func forcedCancelRollsBackTheSameDevices() async throws {
        var outcomes: [Bool: RolloutOutcome] = [:]
        for force in [false, true] {
            let run = try await ScenarioRun.start("force-\(force)", things: 30,
                                                  plan: { ScenarioRun.brokenGatePlan($0, cancelForce: force) },
                                                  play: ScenarioRun.brokenGatePlay)
            do {
                let state = try await run.rollout.settle(secondsMax: 60)
                #expect(state.phase == .rolledBack, "force \(force): \(RolloutText.note(state) ?? "")")
                let snapshot = try await run.snapshot(state)
                outcomes[force] = try await run.outcome(state, snapshot)
                try Self.checkCancelledWave(run, state: state, snapshot: snapshot, force: force)
                try Self.checkAbortConfig(state: state, snapshot: snapshot)
            } catch {
                await run.finish()
                throw error
            }
            await run.finish()
        }
        let plain = try #require(outcomes[false])
        let forced = try #require(outcomes[true])
        #expect(forced == plain, "forced: \(forced)\nplain: \(plain)")
        let devices = plain.stageDevices.compactMap { $0 }
        #expect(plain.rollbackTargets == ScenarioRun.brokenGateRollbackSet(stageDevices: devices),
                "rollback = every device that succeeded, and the two that had started in wave 2")
    }

    /// Wave 2 after the cancel: the two installing devices are CANCELED with a `startedAt` when forced, still
    /// IN_PROGRESS otherwise; the two failures stay FAILED; the devices that never started are CANCELED without one.
    static func checkCancelledWave(_ run: ScenarioRun, state: RolloutState, snapshot: AWSJobsSnapshot,
                                   force: Bool) throws {
        let wave = state.stages[2]
        #expect(wave.status == .failed)
        let job = try #require(snapshot.jobs[wave.jobId])
        #expect(job["status"] as? String == "CANCELED")
        #expect(job["forceCanceled"] as? Bool == force, "force \(force): \(job["forceCanceled"] ?? "absent")")
        let records = snapshot.executions[wave.jobId] ?? [:]
        #expect(records.count == wave.devices)
        for (thing, record) in records {
            let rank = try run.positions([thing], state: state)[0].rank
            let expected: AWSJobsSnapshot.Execution
            switch rank {
            case 0, 1: expected = .init(status: force ? "CANCELED" : "IN_PROGRESS", started: true)
            case 2, 3: expected = .init(status: "FAILED", started: true)
            default: expected = .init(status: "CANCELED", started: false)
            }
            #expect(record == expected, "force \(force), wave-2 #\(rank): \(record) instead of \(expected)")
        }
    }

    /// Every stage job carries the abort criteria of the stage's outcome gate (moto keeps `abortConfig`, so it is read
    /// back as AWS would show it); the rollback job has none (stopping a rollback would strand devices).
    static func checkAbortConfig(state: RolloutState, snapshot: AWSJobsSnapshot) throws {
        for stage in state.stages {
            #expect(snapshot.abortCriteria(stage.jobId) == ScenarioRun.expectedAbortCriteria, "\(stage.name)")
        }
        let rollback = try #require(state.rollback)
        #expect(snapshot.jobs[rollback.jobId] != nil && snapshot.abortCriteria(rollback.jobId).isEmpty,
                "the rollback job has no abortConfig")
    }

    @Test("a rollback job AWS refuses (403) holds the rollout in rollingBack naming the call and error; resume retries it and the rollback completes")
    func refusedRollbackJobWaitsForResume() async throws {
        let refuse = LostAnswerProxy.Rule(operation: "CreateJob", pathPattern: "-rollback$",
                                          action: .refuse(status: 403, code: "AccessDeniedException"))
        let run = try await ScenarioRun.start("refused", things: 30,
                                              plan: { ScenarioRun.brokenGatePlan($0, cancelForce: false) },
                                              play: ScenarioRun.brokenGatePlay, proxyRules: [refuse])
        do {
            let held = try await run.rollout.settle(secondsMax: 60)
            #expect(held.phase == .rollingBack && held.displayPhase == .paused, "\(held.phase) \(RolloutText.note(held) ?? "")")
            let pause = try #require(held.pause, "the rollback waits for a person")
            #expect(pause.kind == .effectFailed)
            #expect(pause.failedEffect?.effect == .createRollbackJob)
            #expect(pause.failedEffectError?.contains("AccessDeniedException") == true, "\(pause.failedEffectError ?? "")")
            #expect(pause.failedEffectError?.contains("AccessDeniedException") == true, "\(String(describing: pause))")
            let rollbackJobId = try #require(held.rollback?.jobId)
            #expect(try await run.world.moto.createJobCalls(prefix: rollbackJobId).isEmpty, "the refused call created nothing")

            try await run.rollout.engine.command(.resumeRequested(by: "test"), rolloutId: run.rollout.rolloutId)
            let finished = try await run.rollout.settle(secondsMax: 60)
            #expect(finished.phase == .rolledBack && finished.pause == nil, "\(RolloutText.note(finished) ?? "")")
            let snapshot = try await run.snapshot(finished)
            let outcome = try await run.outcome(finished, snapshot)
            #expect(outcome.createdOnAWS == ["canary": 1, "wave-1": 1, "wave-2": 1, "rollback": 1])
            let devices = outcome.stageDevices.compactMap { $0 }
            #expect(outcome.rollbackTargets == ScenarioRun.brokenGateRollbackSet(stageDevices: devices))
            let counts = try #require(try await run.proxy?.counts())
            #expect(counts.fired == ["CreateJob /jobs/\(rollbackJobId)"], "\(counts.fired)")
            #expect(counts.createJob[rollbackJobId] == 1, "refused once (not forwarded), then created by the resume")
            let rolledBack = snapshot.executions[rollbackJobId] ?? [:]
            #expect(rolledBack.values.allSatisfy { $0.status == "SUCCEEDED" } && rolledBack.count == outcome.rollbackTargets.count)
        } catch {
            await run.finish()
            throw error
        }
        await run.finish()
    }
}
