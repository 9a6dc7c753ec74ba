extension CohortPlanner {
    /// A split of the fleet in which `percent` stages take whole rings (`RingLayout`), in the order the rollout id
    /// gives them, and `devices`/`group` stages take devices as `assign` does. `stageRings[i]` are the ring
    /// indexes stage `i` targets (empty for a stage that targets devices or a named group).
    ///
    /// A ring stage's job reaches every member of its rings, so a device an earlier `devices`/`group` stage took may
    /// get the same firmware's job again; the cohort counts each device once, in the first stage that took it.
    package static func assignRings(rolloutId: String, eligible: DeviceIdList, stages: [StageSpec],
                                    groupMembers: [String: [String]], rings: RingMembership) throws(CohortError)
        -> (assignment: CohortAssignment, stageRings: [[Int]])
    {
        guard !eligible.isEmpty else {
            throw CohortError(message: "the fleet is empty: no device matches the plan's fleet selection")
        }
        precondition(rings.count >= 1, "a ring set has at least one ring")
        let ranked = rank(rolloutId: rolloutId, eligible: eligible)
        let order = RingLayout.order(rolloutId: rolloutId, count: rings.count)
        var assigned = [Bool](repeating: false, count: eligible.count)
        var ordered: [UInt32] = []  // positions in `eligible`, in stage order
        ordered.reserveCapacity(eligible.count)
        var sizes: [Int] = []
        var stageRings: [[Int]] = []
        var ringsTaken = 0

        func take(where belongs: (String) -> Bool, limit: Int = .max) -> Int {
            var taken = 0
            for index in ranked where !assigned[index] && taken < limit && belongs(eligible[index]) {
                assigned[index] = true
                ordered.append(UInt32(index))
                taken += 1
            }
            return taken
        }

        for stage in stages {
            switch stage.target {
            case .percent(let share):
                let upTo = max(ringsTaken, RingLayout.cumulativeRings(share: share, count: rings.count))
                let mine = Array(order[ringsTaken..<upTo])
                ringsTaken = upTo
                let set = Set(mine)
                sizes.append(take(where: { rings.ring(of: $0).map(set.contains) ?? false }))
                stageRings.append(mine)
            case .devices(let count):
                sizes.append(take(where: { _ in true }, limit: count))
                stageRings.append([])
            case .group(let name):
                guard let members = groupMembers[name] else {
                    throw CohortError(message: "\(stage.name): thing group `\(name)` was not found")
                }
                let memberSet = Set(members)
                sizes.append(take(where: memberSet.contains))
                stageRings.append([])
            }
        }
        let assignment = CohortAssignment(deviceIds: eligible.selecting(ordered), stageSizes: sizes,
                                          eligibleCount: eligible.count)
        return (assignment, stageRings)
    }
}
