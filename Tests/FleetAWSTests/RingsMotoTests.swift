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
    }
}
