import Testing
@testable import RolloutCore

/// Rings: names, stable placement, an order per rollout, ring-granular stages.
@Suite struct RingLayoutTests {
    @Test func namesAndPlacement() {
        #expect(RingLayout.groupName(fleetGroup: "sensors", index: 7, count: 100) == "sensors-ring-07")
        #expect(RingLayout.groupName(fleetGroup: "sensors", index: 3, count: 10) == "sensors-ring-3")
        #expect(RingLayout.groupName(fleetGroup: "sensors", index: 0, count: 1) == "sensors-ring-0")
        let rings = (0..<10_000).map { RingLayout.ring(of: "dev-\($0)", count: 100) }
        #expect(rings == (0..<10_000).map { RingLayout.ring(of: "dev-\($0)", count: 100) }, "placement is stable")
        var perRing = [Int](repeating: 0, count: 100)
        for ring in rings { perRing[ring] += 1 }
        #expect(perRing.min()! > 50 && perRing.max()! < 150, "rings are balanced: \(perRing.min()!)…\(perRing.max()!)")
    }

    @Test func eachRolloutTakesTheRingsInItsOwnOrder() {
        let first = RingLayout.order(rolloutId: "fw-2-1-0-aaaa0000", count: 100)
        let second = RingLayout.order(rolloutId: "fw-2-1-1-bbbb1111", count: 100)
        #expect(Set(first) == Set(0..<100) && first.count == 100)
        #expect(first != second, "different canaries")
        #expect(first == RingLayout.order(rolloutId: "fw-2-1-0-aaaa0000", count: 100))
    }

    @Test func percentStagesTakeWholeRingsAndDevicesStagesTakeDevices() throws {
        let devices = DeviceIdList((0..<5000).map { "dev-\($0)" })
        let rings = RingMembership(groupNames: (0..<100).map { RingLayout.groupName(fleetGroup: "fleet", index: $0, count: 100) },
                                   listed: nil)
        let plan = try parsePlan(planText(canary: "canary: {percent: 1, bake: 30m}",
                                          waves: "waves:\n  - {percent: 10, bake: 1h}\n  - {percent: 100, bake: 1h}"))
        let split = try CohortPlanner.assignRings(rolloutId: "r-1", eligible: devices, stages: plan.stages,
                                                  groupMembers: [:], rings: rings)
        #expect(split.stageRings.map(\.count) == [1, 9, 90])
        #expect(Set(split.stageRings.joined()).count == 100, "every ring once")
        #expect(split.assignment.stageSizes.reduce(0, +) == 5000)
        for (stage, ringsOfStage) in split.stageRings.enumerated() {
            let members = split.assignment.devices(ofStage: stage)
            #expect(members.allSatisfy { ringsOfStage.contains(RingLayout.ring(of: $0, count: 100)) })
        }
        // A canary of N devices keeps targeting devices; the waves still take whole rings.
        let small = try parsePlan(planText(canary: "canary: {devices: 10, bake: 30m}"))
        let mixed = try CohortPlanner.assignRings(rolloutId: "r-1", eligible: devices, stages: small.stages,
                                                  groupMembers: [:], rings: rings)
        #expect(mixed.stageRings[0].isEmpty && mixed.assignment.stageSizes[0] == 10)
        #expect(mixed.stageRings[1].count == 50 && mixed.stageRings[2].count == 50)
    }

    @Test func devicesOutsideListedRingsAreFound() {
        let rings = RingMembership(groupNames: ["f-ring-0", "f-ring-1"], listed: ["a": 0, "b": 1])
        #expect(rings.devicesOutsideRings(["a", "b", "c"]) == ["c"])
        #expect(rings.ring(of: "b") == 1 && rings.ring(of: "c") == nil)
    }

    @Test func plansMayOptOutAndSelectorsOrExclusionsFallBackToGroups() throws {
        #expect(try parsePlan(planText()).fleet.mayUseRings)
        #expect(!(try parsePlan(planText().replacingOccurrences(of: "fleet: {thingGroup: fleet}",
                                                                with: "fleet: {thingGroup: fleet, targeting: groups}"))).fleet.mayUseRings)
        #expect(!(try parsePlan(planText().replacingOccurrences(of: "fleet: {thingGroup: fleet}",
                                                                with: "fleet: {thingGroup: fleet, exclude: [d-1]}"))).fleet.mayUseRings)
        let issues = planErrors(planText().replacingOccurrences(of: "fleet: {thingGroup: fleet}",
                                                                with: "fleet: {thingGroup: fleet, targeting: rigns}"))
        #expect(issues.first?.field == "fleet.targeting" && issues.first?.message.contains("auto, groups") == true)
    }
}
