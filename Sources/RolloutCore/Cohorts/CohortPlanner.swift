/// Which devices each stage targets: ordered device ids and where each stage's slice starts.
package struct CohortAssignment: Equatable, Sendable {
    /// Assigned devices in stage order: the canary's first, then wave 1's, and so on.
    package var deviceIds: DeviceIdList
    /// `stageSizes[i]` devices of `deviceIds` belong to stage `i`, after the ones of the stages before it.
    package var stageSizes: [Int]
    /// Devices that passed selector and exclusions.
    package var eligibleCount: Int

    package init(deviceIds: DeviceIdList, stageSizes: [Int], eligibleCount: Int) {
        precondition(stageSizes.reduce(0, +) == deviceIds.count, "stage sizes must add up to the assigned devices")
        self.deviceIds = deviceIds
        self.stageSizes = stageSizes
        self.eligibleCount = eligibleCount
    }

    /// The devices of stage `index`.
    package func devices(ofStage index: Int) -> DeviceIdList {
        precondition(stageSizes.indices.contains(index), "stage index out of range")
        let start = stageSizes[..<index].reduce(0, +)
        return deviceIds.ids(in: start..<(start + stageSizes[index]))
    }
}

/// Why a fleet cannot be split into the plan's stages.
package struct CohortError: Error, Equatable, Sendable, CustomStringConvertible {
    package var message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { message }
}

/// Splits the eligible fleet into stages, deterministically.
///
/// Devices are ordered by `StableHash(rolloutId, deviceId)`, so the same device lands in the same stage
/// for the same rollout on every run and every restart, while different rollouts pick different canaries.
/// Sizes are exact: a `percent` stage brings the cumulative share to ⌈P% × eligible⌉; a `devices` stage adds
/// that many (capped by what is left); a `group` stage takes its eligible members not yet targeted.
/// A stage left with no device is kept with size 0 (the engine skips it), so a plan rehearses on a tiny fleet.
package enum CohortPlanner {
    package static func assign(rolloutId: String, eligible: DeviceIdList, stages: [StageSpec],
                              groupMembers: [String: [String]]) throws(CohortError) -> CohortAssignment {
        guard !eligible.isEmpty else {
            throw CohortError(message: "the fleet is empty: no device matches the plan's fleet selection")
        }
        let total = eligible.count
        // Rank every eligible device once; a group stage takes its members in this same order.
        let ranked = rank(rolloutId: rolloutId, eligible: eligible)
        var assigned = [Bool](repeating: false, count: total)
        var assignedCount = 0
        var ordered: [UInt32] = []  // positions in `eligible`, in stage order: the ids are copied once, at the end
        ordered.reserveCapacity(total)
        var sizes: [Int] = []
        var cursor = 0  // position in `ranked` before which every device is assigned or skipped by a group stage

        func takeNext(_ count: Int) -> Int {
            var taken = 0
            while taken < count && cursor < ranked.count {
                let index = ranked[cursor]
                cursor += 1
                if assigned[index] { continue }
                assigned[index] = true
                ordered.append(UInt32(index))
                taken += 1
            }
            return taken
        }

        for stage in stages {
            var size = 0
            switch stage.target {
            case .devices(let count):
                size = takeNext(min(count, total - assignedCount))
            case .percent(let share):
                size = takeNext(max(0, cumulativeTarget(share: share, eligible: total) - assignedCount))
            case .group(let name):
                guard let members = groupMembers[name] else {
                    throw CohortError(message: "\(stage.name): thing group `\(name)` was not found")
                }
                let memberSet = Set(members)
                for index in ranked where !assigned[index] && memberSet.contains(eligible[index]) {
                    assigned[index] = true
                    ordered.append(UInt32(index))
                    size += 1
                }
            }
            assignedCount += size
            sizes.append(size)
        }
        return CohortAssignment(deviceIds: eligible.selecting(ordered), stageSizes: sizes, eligibleCount: total)
    }

    /// Devices targeted after a `percent` stage: ⌈share% × eligible⌉ (the epsilon keeps 10% of 1000 at 100).
    package static func cumulativeTarget(share: Double, eligible: Int) -> Int {
        min(eligible, Int((share * Double(eligible) / 100 - 1e-9).rounded(.up)))
    }

    /// Indices of `eligible` ordered by (stable hash, device id): independent of the input order.
    ///
    /// Each key packs the hash's top bits above the device's index, so ranking is a radix sort of plain integers
    /// (linear in the fleet, where the standard sort was the profile's top entry); devices whose packed hashes tie
    /// are then ordered exactly, by full hash and id. The rollout id's bytes are hashed once (`StableHash.seed`),
    /// each device id's bytes straight from the list (no `String` is made).
    static func rank(rolloutId: String, eligible: DeviceIdList) -> [Int] {
        let indexBits = max(1, UInt64(eligible.count).bitWidth - UInt64(eligible.count).leadingZeroBitCount)
        precondition(indexBits < 40, "fleet too large to rank")
        let indexMask: UInt64 = (1 << indexBits) - 1
        let seed = StableHash.seed(rolloutId)
        var keys = [UInt64](repeating: 0, count: eligible.count)
        keys.withUnsafeMutableBufferPointer { keys in
            eligible.forEachUTF8 { index, id in
                keys[index] = (StableHash.hash(seed, id) & ~indexMask) | UInt64(index)
            }
        }
        // Keys end with their own index, so they are already in order of those bits.
        RadixSort.sort(&keys, presortedLowBits: Int(indexBits))
        var order = keys.map { Int($0 & indexMask) }
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && (keys[end] & ~indexMask) == (keys[start] & ~indexMask) { end += 1 }
            if end - start > 1 {
                // Rare (packed hashes tie): order exactly, by full hash, then id.
                let tied: [Int] = Array(order[start..<end])
                let ids: [String] = tied.map { eligible[$0] }
                let hashes: [UInt64] = ids.map { StableHash.hash(rolloutId, $0) }
                let sorted: [Int] = tied.indices.sorted { (left: Int, right: Int) -> Bool in
                    hashes[left] != hashes[right] ? hashes[left] < hashes[right] : ids[left] < ids[right]
                }
                order.replaceSubrange(start..<end, with: sorted.map { tied[$0] })
            }
            start = end
        }
        return order
    }
}
