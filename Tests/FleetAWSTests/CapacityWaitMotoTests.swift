import Engine
import Foundation
@testable import HTTPTransport
import RolloutCore
import Testing

@testable import FleetAWS

/// A used-up AWS quota makes a stage wait, visibly, instead of failing: CreateJob answered LimitExceededException
/// (no job slot) more often than an effect may fail, and AddThingToThingGroup refused for a device in 10 groups.
/// The refusals come from the tests' proxy in front of moto, which has no such quotas.
@Suite("quotas used up on AWS: the rollout waits", .serialized)
struct CapacityWaitMotoTests {
    @Test("CreateJob refused for lack of a job slot more times than an effect may fail: the stage waits, says so, completes")
    func jobSlot() async throws {
        let refusals = InProcessRollout.engineConfiguration.effectAttemptsMax + 1
        let rules = (0..<refusals).map { _ in
            LostAnswerProxy.Rule(operation: "CreateJob", pathPattern: "-wave-1$",
                                 action: .refuse(status: 410, code: "LimitExceededException"))
        }
        let run = try await ScenarioRun.start("slot", things: 20, plan: ScenarioRun.completingPlan, proxyRules: rules)
        do {
            let id = run.rollout.rolloutId
            let readModel = run.rollout.engine.readModel
            // Waits on the read model's changes (no polling): the first time the wave's job waits for a slot.
            let waiting = Task {
                await readModel.wait(for: id, timeoutSeconds: 60) { entry in
                    entry.retries.values.contains { $0.waitingFor == "a job slot" }
                }
            }
            let state = try await run.rollout.settle(secondsMax: 90)
            #expect(state.phase == .completed, "\(state.displayPhase)")
            let seen = try #require(await waiting.value, "the wait for a job slot was never visible")
            let retry = try #require(seen.retries.values.first { $0.waitingFor == "a job slot" })
            #expect(retry.key == "create-job:wave-1")
            #expect(retry.lastError.contains("waiting for a job slot: job \(id)-wave-1: LimitExceededException"))
            #expect(retry.lastError.contains("aws iot list-jobs --status IN_PROGRESS"), "\(retry.lastError)")
            let events = try run.rollout.store.events(rolloutId: id, afterSequence: 0, limit: 10_000)
            #expect(!events.contains { $0.event.kind == "effectFailed" }, "waiting for a slot is no failure")
            let counts = try #require(try await run.proxy?.counts())
            #expect(counts.armed.isEmpty && counts.fired.count == refusals, "\(counts.fired)")
            let creates = try await run.world.moto.createJobCalls(prefix: id)
            #expect(creates["\(id)-wave-1"]?.created == 1, "\(creates)")
            #expect(await run.rollout.engine.statistics.capacityWaits == refusals)
            let fleet = await run.rollout.engine.fleet
            #expect(fleet.apiUsage().contains { $0.api == "CreateJob" && $0.calls >= refusals + 2 },
                    "every refused CreateJob spent the budget too")
        } catch {
            await run.finish()
            throw error
        }
        await run.finish()
    }

    @Test("AddThingToThingGroup refused for a device in 10 groups waits for room, naming the device and what to run")
    func groupRoom() async throws {
        let world = try await RunEndToEndTests.World.make("room", things: 2)
        defer { world.remove() }
        let direct = try world.moto.configuration().iotClient()
        let (crowded, roomy) = (world.things[0], world.things[1])
        for index in 0..<9 {
            let group = "\(world.prefix)-extra-\(index)"
            try await direct.createThingGroup(group)
            try await direct.addThingToThingGroup(thing: crowded, group: group)
        }
        let temporary = "\(world.prefix)-tmp"
        try await direct.createThingGroup(temporary)
        let refusal = LostAnswerProxy.Rule(operation: "AddThingToThingGroup", pathPattern: nil,
                                           action: .refuse(status: 400, code: "InvalidRequestException"))
        let proxy = try await LostAnswerProxy.start(upstream: world.moto, rules: [refusal, refusal])
        let iot = try world.moto.configuration(endpoint: proxy.endpoint).iotClient()

        do {
            try await AWSFleet.addToGroup(crowded, group: temporary, iot: iot)
            Issue.record("a device in 10 groups was added")
        } catch FleetError.capacity(let wait) {
            #expect(wait.resource == .thingGroupRoom(thing: crowded))
            #expect(wait.waitingFor == "room in the thing groups of \(crowded)")
            #expect(wait.detail.contains("\(crowded) is in 10 thing groups, AWS allows 10"), "\(wait.detail)")
            #expect(wait.remedy.contains("aws iot remove-thing-from-thing-group --thing-name \(crowded)"))
        }
        // The same refusal for a device with room is not a quota: it stays the error it is.
        await #expect(throws: AWSError.self) {
            try await AWSFleet.addToGroup(roomy, group: temporary, iot: iot)
        }
        #expect(try await proxy.counts().armed.isEmpty)
    }
}
