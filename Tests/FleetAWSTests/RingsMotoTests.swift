import Engine
import Foundation
import RolloutCore
import StoreSQLite
import Testing

@testable import FleetAWS

/// Rings on moto + the device layer: `rollout rings sync` places each device in the ring its name hashes to,
/// idempotently, adding new devices and moving none; a rollout then targets whole ring groups, and a ring set that
/// misses devices makes the rollout wait, naming what to run.
@Suite("rings on moto", .serialized)
struct RingsMotoTests {
    static func members(_ world: RunEndToEndTests.World, _ group: String) async throws -> Set<String> {
        let answer = try await world.moto.boto3("iot", "list_things_in_thing_group", ["thingGroupName": group])
        return Set(answer["things"] as? [String] ?? [])
    }

    @Test func syncPlacesDevicesOnceAndMovesNothing() async throws {
        let world = try await RunEndToEndTests.World.make("rings-sync", things: 24)
        defer { world.remove() }
        let sync = RingSync(configuration: try world.moto.configuration())

        let planned = try await sync.run(fleetGroup: world.group, rings: 4, dryRun: true)
        #expect(planned.groupsCreated.count == 4 && planned.devicesAdded == 24 && planned.dryRun)
        #expect(try await world.moto.configuration().iotClient().listThingGroups(namePrefix: "\(world.group)-ring-").isEmpty,
                "a dry run creates nothing")

        let first = try await sync.run(fleetGroup: world.group, rings: 4, dryRun: false)
        #expect(first.rings == 4 && first.devicesAdded == 24 && first.devicesInRings == 0)
        for ring in 0..<4 {
            let name = RingLayout.groupName(fleetGroup: world.group, index: ring, count: 4)
            let expected = Set(world.things.filter { RingLayout.ring(of: $0, count: 4) == ring })
            #expect(try await Self.members(world, name) == expected, "\(name) holds the devices that hash to it")
        }

        let again = try await sync.run(fleetGroup: world.group, rings: nil, dryRun: false)
        #expect(again.devicesAdded == 0 && again.groupsCreated.isEmpty && again.devicesInRings == 24)

        // A device placed by hand in another ring stays there; a new device joins its ring.
        let iot = try world.moto.configuration().iotClient()
        let newcomer = "\(world.prefix)-dev-new"
        try await iot.createThing(newcomer)
        try await iot.addThingToThingGroup(thing: newcomer, group: world.group)
        let third = try await sync.run(fleetGroup: world.group, rings: nil, dryRun: false)
        #expect(third.devicesAdded == 1 && third.devicesInRings == 24)
        let ring = RingLayout.groupName(fleetGroup: world.group, index: RingLayout.ring(of: newcomer, count: 4), count: 4)
        #expect(try await Self.members(world, ring).contains(newcomer))

        await #expect(throws: FleetError.self) { _ = try await sync.run(fleetGroup: world.group, rings: 5, dryRun: false) }

        // A device that left the fleet group leaves its ring too (a ring's job would still reach it); nothing moves.
        let leaver = world.things[0]
        let leaverRing = RingLayout.groupName(fleetGroup: world.group, index: RingLayout.ring(of: leaver, count: 4), count: 4)
        try await iot.removeThingFromThingGroup(thing: leaver, group: world.group)
        let pruning = try await sync.run(fleetGroup: world.group, rings: nil, dryRun: true)
        #expect(pruning.devicesRemoved == 1 && pruning.devicesAdded == 0)
        #expect(try await Self.members(world, leaverRing).contains(leaver), "a dry run removes nothing")
        let pruned = try await sync.run(fleetGroup: world.group, rings: nil, dryRun: false)
        #expect(pruned.devicesRemoved == 1 && pruned.devicesAdded == 0 && pruned.devicesInRings == 24)
        #expect(try await !Self.members(world, leaverRing).contains(leaver))
        var everyRing: Set<String> = []
        for ring in 0..<4 { everyRing.formUnion(try await Self.members(world, RingLayout.groupName(
            fleetGroup: world.group, index: ring, count: 4))) }
        #expect(everyRing == Set(world.things.dropFirst() + [newcomer]))
    }

    /// A device already in 10 thing groups cannot join a ring: the sync adds the others and names it (moto does not
    /// enforce the limit: the tests' proxy answers as AWS does).
    @Test func syncSkipsACrowdedDeviceAndNamesIt() async throws {
        let world = try await RunEndToEndTests.World.make("rings-crowded", things: 2)
        defer { world.remove() }
        let direct = try world.moto.configuration().iotClient()
        let (crowded, placed) = (world.things[0], world.things[1])
        for index in 0..<9 {
            let group = "\(world.prefix)-extra-\(index)"
            try await direct.createThingGroup(group)
            try await direct.addThingToThingGroup(thing: crowded, group: group)
        }
        let ring = RingLayout.groupName(fleetGroup: world.group, index: 0, count: 1)
        try await direct.createThingGroup(ring)
        try await direct.addThingToThingGroup(thing: placed, group: ring)
        let refusal = LostAnswerProxy.Rule(operation: "AddThingToThingGroup", pathPattern: nil,
                                           action: .refuse(status: 400, code: "InvalidRequestException"))
        let proxy = try await LostAnswerProxy.start(upstream: world.moto, rules: [refusal])
        let sync = RingSync(configuration: try world.moto.configuration(endpoint: proxy.endpoint))
        let report = try await sync.run(fleetGroup: world.group, rings: nil, dryRun: false)
        #expect(report.rings == 1 && report.devicesInRings == 1)
        #expect(report.devicesRefused == 1 && report.refused == [crowded] && report.devicesAdded == 0)
        #expect(try await proxy.counts().armed.isEmpty)
        #expect(try await Self.members(world, ring) == [placed])
    }

    @Test func aRolloutTargetsWholeRingsAndAStaleRingSetWaits() async throws {
        let world = try await RunEndToEndTests.World.make("rings-run", things: 24)
        defer { world.remove() }
        _ = try await RingSync(configuration: try world.moto.configuration()).run(fleetGroup: world.group, rings: 4,
                                                                                  dryRun: false)
        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let text = world.planText()
            .replacingOccurrences(of: "canary: {devices: 3, bake: 2s}", with: "canary: {percent: 25, bake: 2s}")
            .replacingOccurrences(of: "- {percent: 40, bake: 1s}\n", with: "")
        let run = try await InProcessRollout.submit(world, planText: text,
                                                    configuration: try world.moto.configuration(retry: InProcessRollout.awsRetry()))
        let state = try await run.settle(secondsMax: 90)
        #expect(state.phase == .completed, "\(state.phase)")
        #expect(state.stages.map { $0.ringGroups?.count ?? 0 } == [1, 3])
        var targeted: [String] = []
        for stage in state.stages {
            let job = try await RunEndToEndTests.job(world.moto, stage.jobId)
            let targets = job["targets"] as? [String] ?? []
            #expect(targets.count == stage.ringGroups?.count, "\(stage.name) targets its ring groups")
            #expect(targets.allSatisfy { $0.contains(":thinggroup/\(world.group)-ring-") })
            targeted += try await RunEndToEndTests.executions(world.moto, stage.jobId).keys
        }
        #expect(targeted.count == 24 && Set(targeted) == Set(world.things), "every device once, through its ring")
        run.store.close()

        // A device joins the fleet but not a ring: the next rollout waits for a sync instead of missing it.
        let iot = try world.moto.configuration().iotClient()
        let newcomer = "\(world.prefix)-dev-late"
        try await iot.createThing(newcomer)
        try await iot.addThingToThingGroup(thing: newcomer, group: world.group)
        let stale = try await InProcessRollout.submit(world, planText: text.replacingOccurrences(of: "version: 2.1.0",
                                                                                                 with: "version: 2.1.1"),
                                                      configuration: try world.moto.configuration(retry: InProcessRollout.awsRetry()))
        let outcome = try await stale.engine.step(rolloutId: stale.rolloutId)
        #expect(outcome.nextDueAt != nil, "it waits and tries again")
        let detail = try #require(try stale.engine.readModel.detail(stale.rolloutId))
        let waiting = detail.retryingEffects.first { $0.key == "prepare" }
        #expect(waiting?.waitingFor?.contains("ring set for \(world.group)") == true, "\(String(describing: waiting))")
        #expect(waiting?.lastError.contains("rollout rings sync --group \(world.group)") == true)
        stale.store.close()

        // The sync adds it; then a device leaves the fleet but stays in its ring: a ring job would still reach it,
        // so the rollout waits again, naming it, until a sync removes it.
        _ = try await RingSync(configuration: try world.moto.configuration()).run(fleetGroup: world.group, rings: nil,
                                                                                  dryRun: false)
        let leaver = world.things[0]
        try await iot.removeThingFromThingGroup(thing: leaver, group: world.group)
        let departed = try await InProcessRollout.submit(world, planText: text.replacingOccurrences(
            of: "version: 2.1.0", with: "version: 2.1.2"),
            configuration: try world.moto.configuration(retry: InProcessRollout.awsRetry()))
        _ = try await departed.engine.step(rolloutId: departed.rolloutId)
        let held = try #require(try departed.engine.readModel.detail(departed.rolloutId))
            .retryingEffects.first { $0.key == "prepare" }
        #expect(held?.lastError.contains("no longer in \(world.group)") == true, "\(String(describing: held))")
        #expect(held?.lastError.contains(leaver) == true)
        departed.store.close()
    }
}
