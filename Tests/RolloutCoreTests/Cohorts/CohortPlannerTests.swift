import Testing
@testable import RolloutCore

@Suite struct CohortPlannerTests {
    let devices = DeviceIdList((0..<1000).map { "device-\($0)" })

    func stages(_ targets: [StageTarget]) -> [StageSpec] {
        targets.enumerated().map { StageSpec(name: $0.offset == 0 ? "canary" : "wave-\($0.offset)", target: $0.element,
                                             bakeDurationSeconds: 0) }
    }

    @Test func sizesAreExactAndCumulative() throws {
        let assignment = try CohortPlanner.assign(rolloutId: "r1", eligible: devices,
                                                  stages: stages([.devices(7), .percent(10), .percent(55.5), .percent(100)]),
                                                  groupMembers: [:])
        #expect(assignment.stageSizes == [7, 93, 455, 445])
        #expect(Set(assignment.deviceIds).count == 1000)
    }

    @Test func stableAcrossRunsAndInputOrder() throws {
        let spec = stages([.percent(1), .percent(10), .percent(100)])
        let first = try CohortPlanner.assign(rolloutId: "r1", eligible: devices, stages: spec, groupMembers: [:])
        let again = try CohortPlanner.assign(rolloutId: "r1", eligible: DeviceIdList(devices.reversed()), stages: spec, groupMembers: [:])
        #expect(first == again)
        let other = try CohortPlanner.assign(rolloutId: "r2", eligible: devices, stages: spec, groupMembers: [:])
        #expect(Array(first.devices(ofStage: 0)) != Array(other.devices(ofStage: 0)))
    }

    @Test func addingADeviceMovesNoOtherDeviceAcrossStages() throws {
        // A device keeps its rank when others join: stages shift by at most the one newcomer.
        let spec = stages([.percent(50), .percent(100)])
        let before = try CohortPlanner.assign(rolloutId: "r", eligible: devices, stages: spec, groupMembers: [:])
        let after = try CohortPlanner.assign(rolloutId: "r", eligible: DeviceIdList(Array(devices) + ["newcomer"]), stages: spec, groupMembers: [:])
        let moved = Set(before.devices(ofStage: 0)).subtracting(after.devices(ofStage: 0))
        #expect(moved.count <= 1)
    }

    @Test func groupStageTakesEligibleMembersNotYetTargeted() throws {
        let members = ["device-1", "device-2", "device-3", "not-in-fleet"]
        let assignment = try CohortPlanner.assign(rolloutId: "r", eligible: devices,
                                                  stages: stages([.group("lab"), .percent(100)]),
                                                  groupMembers: ["lab": members])
        #expect(Set(assignment.devices(ofStage: 0)) == ["device-1", "device-2", "device-3"])
        #expect(assignment.stageSizes == [3, 997])
    }

    @Test func tinyFleetLeavesLaterStagesEmpty() throws {
        let assignment = try CohortPlanner.assign(rolloutId: "r", eligible: ["only"],
                                                  stages: stages([.devices(50), .percent(10), .percent(100)]),
                                                  groupMembers: [:])
        #expect(assignment.stageSizes == [1, 0, 0])
    }

    @Test func emptyFleetAndUnknownGroupAreErrors() {
        #expect(throws: CohortError.self) {
            try CohortPlanner.assign(rolloutId: "r", eligible: [], stages: stages([.percent(100)]), groupMembers: [:])
        }
        #expect(throws: CohortError.self) {
            try CohortPlanner.assign(rolloutId: "r", eligible: devices, stages: stages([.group("x")]), groupMembers: [:])
        }
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex(SHA256.hash(Array("".utf8)))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(SHA256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(SHA256.hash(million))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct CohortRankingTests {
    /// The definition: devices ordered by (stable hash of rollout id and device id, device id).
    func reference(rolloutId: String, ids: [String]) -> [Int] {
        ids.indices.sorted {
            let left = StableHash.hash(rolloutId, ids[$0]), right = StableHash.hash(rolloutId, ids[$1])
            return left != right ? left < right : ids[$0] < ids[$1]
        }
    }

    @Test(arguments: [1, 7, 5000, 70_000])
    func rankIsTheDefinition(count: Int) {
        // Past `RadixSort.countMin`, so the radix path is the one compared.
        let ids = (0..<count).map { "sim-" + String(String($0 * 3).reversed()) }
        let expected = reference(rolloutId: "fw-1-2-3-abcdef01", ids: ids)
        #expect(CohortPlanner.rank(rolloutId: "fw-1-2-3-abcdef01", eligible: DeviceIdList(ids)) == expected)
    }

    /// Numbered lists (the simulated fleet's) rank exactly as the same ids held as bytes.
    @Test func numberedListsRankAsTheirIds() {
        let numbered = DeviceIdList(numbering: .init(prefix: "sim-", width: 7), numbers: (0..<20_000).map { $0 * 7 })
        let expected = reference(rolloutId: "fw-1-2-3-abcdef01", ids: Array(numbered))
        #expect(CohortPlanner.rank(rolloutId: "fw-1-2-3-abcdef01", eligible: numbered) == expected)
        #expect(CohortPlanner.rank(rolloutId: "fw-1-2-3-abcdef01", eligible: DeviceIdList(Array(numbered))) == expected)
    }
}
