import Engine
import Foundation
import RolloutCore
import Testing

@testable import FleetAWS

/// Whole plans run twice on moto + the device layer: straight, and through the tests' proxy, which lets AWS act on the
/// first request of each kind that arrives on a kept-alive connection and then drops its answer. curl resends it on a
/// fresh connection (the body rewound), AWS answers the resend as a duplicate (409 for CreateJob, a refusal for the
/// CancelJob of a cancelled job, success for AddThingToThingGroup and DeleteThingGroup), and the fleet adopts what the
/// first attempt did. Each rollout must end exactly as it did without the proxy.
@Suite("lost answers on AWS: a rollout ends exactly as if nothing was lost", .serialized)
struct LostAnswerTests {
    struct Runs {
        var straight: RolloutOutcome
        var lossy: RolloutOutcome
        var counts: LostAnswerProxy.Counts
        var lossyCreates: [String: (attempts: Int, created: Int, conflicts: Int)]
    }

    /// Runs the plan without and with the proxy, each in its own world, and checks what holds for every run: the
    /// event log replays, no effect failed, each job was recorded created once, every rule fired.
    static func runTwice(_ tag: String, things: Int, plan: @escaping (ScenarioRun.World) -> String,
                         play: [[String: Any]] = [], rules: [LostAnswerProxy.Rule]) async throws -> Runs {
        var outcomes: [RolloutOutcome] = []
        var counts: LostAnswerProxy.Counts?
        var creates: [String: (attempts: Int, created: Int, conflicts: Int)] = [:]
        for lossy in [false, true] {
            let run = try await ScenarioRun.start("\(tag)-\(lossy ? "lossy" : "straight")", things: things, plan: plan,
                                                  play: play, proxyRules: lossy ? rules : nil)
            do {
                let state = try await run.rollout.settle(secondsMax: 60)
                _ = try RunEndToEndTests.checkEventLog(run.rollout.store, rolloutId: run.rollout.rolloutId,
                                                       plan: run.rollout.plan, state: state)
                outcomes.append(try await run.outcome(state, try await run.snapshot(state)))
                if let proxy = run.proxy {
                    counts = try await proxy.counts()
                    creates = try await run.world.moto.createJobCalls(prefix: run.rollout.rolloutId)
                }
            } catch {
                await run.finish()
                throw error
            }
            await run.finish()
        }
        let proxyCounts = try #require(counts)
        #expect(proxyCounts.armed.isEmpty, "every answer meant to be lost was lost; fired: \(proxyCounts.fired)")
        return Runs(straight: outcomes[0], lossy: outcomes[1], counts: proxyCounts, lossyCreates: creates)
    }

    /// Each CreateJob whose answer was lost reached AWS twice: created once, the resend answered 409 and adopted.
    static func checkResentCreates(_ runs: Runs, lostAnswers: Int) {
        let resent = runs.counts.createJob.filter { $0.value > 1 }
        #expect(resent.count == lostAnswers, "CreateJob sent again after a lost answer: \(runs.counts.createJob)")
        #expect(runs.counts.createJob.values.allSatisfy { $0 <= 2 }, "\(runs.counts.createJob)")
        for (jobId, sent) in runs.counts.createJob {
            let record = runs.lossyCreates[jobId]
            #expect(record?.attempts == sent && record?.created == 1 && record?.conflicts == sent - 1,
                    "\(jobId): AWS saw \(sent) CreateJob, created it once (\(String(describing: record)))")
        }
    }

    @Test("a plan with a 117-device wave completes the same when PutObject, CreateJob, AddThingToThingGroup and DeleteThingGroup answers are lost")
    func completingPlanLosesAnswers() async throws {
        let runs = try await Self.runTwice("lost-ok", things: 120, plan: ScenarioRun.completingPlan, rules: [
            .dropAnswer("PutObject"), .dropAnswer("CreateJob"), .dropAnswer("AddThingToThingGroup"),
            .dropAnswer("DeleteThingGroup"),
        ])
        #expect(runs.straight.phase == .completed, "\(runs.straight)")
        #expect(runs.straight.stageTargets == ["things:3", "group:117"], "the wave went through a temporary group")
        #expect(runs.straight.createdOnAWS == ["canary": 1, "wave-1": 1])
        #expect(runs.straight.temporaryGroupsLeft == 0)
        #expect(runs.lossy == runs.straight, "lossy: \(runs.lossy)\nstraight: \(runs.straight)")
        Self.checkResentCreates(runs, lostAnswers: 1)
        for operation in ["PutObject", "AddThingToThingGroup", "DeleteThingGroup"] {
            #expect(runs.counts.fired.contains { $0.hasPrefix(operation + " ") }, "\(operation): an answer was lost")
        }
        // 117 members, one of them added twice (the resend of the lost answer); curl may resend another add whose
        // kept-alive connection the server closed (idempotent: the member is simply there), so at least 118.
        #expect(runs.counts.forwarded["AddThingToThingGroup"] ?? 0 >= 118, "\(runs.counts.forwarded)")
    }

    @Test("a plan whose gate breaks rolls back the same devices when PutObject, CreateJob, CancelJob and the rollback CreateJob answers are lost")
    func brokenGateLosesAnswers() async throws {
        let runs = try await Self.runTwice("lost-bad", things: 30, plan: { ScenarioRun.brokenGatePlan($0, cancelForce: false) },
                                           play: ScenarioRun.brokenGatePlay, rules: [
                                               .dropAnswer("PutObject"), .dropAnswer("CreateJob", path: "-rollback$"),
                                               .dropAnswer("CreateJob", path: "-(canary|wave-[0-9]+)$"),
                                               .dropAnswer("CancelJob"),
                                           ])
        #expect(runs.straight.phase == .rolledBack, "\(runs.straight)")
        #expect(runs.straight.stageStatuses == [.passed, .passed, .failed])
        #expect(runs.straight.createdOnAWS == ["canary": 1, "wave-1": 1, "wave-2": 1, "rollback": 1])
        let devices = runs.straight.stageDevices.compactMap { $0 }
        #expect(runs.straight.rollbackTargets == ScenarioRun.brokenGateRollbackSet(stageDevices: devices))
        #expect(runs.lossy == runs.straight, "lossy: \(runs.lossy)\nstraight: \(runs.straight)")
        Self.checkResentCreates(runs, lostAnswers: 2)
        #expect(runs.counts.createJob.contains { $0.key.hasSuffix("-rollback") && $0.value == 2 },
                "the rollback CreateJob was resent: \(runs.counts.createJob)")
        // The cancel reached AWS, its answer was lost, the resend was refused (the job was already CANCELED) and
        // counted as done.
        #expect(runs.counts.forwarded["CancelJob"] == 2, "\(runs.counts.forwarded)")
    }
}
