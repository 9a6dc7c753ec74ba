/// Which devices each stage targets: ordered device ids and where each stage's slice starts.
public struct CohortAssignment: Equatable, Sendable {
    /// Assigned devices in stage order: the canary's first, then wave 1's, and so on.
    public var deviceIds: [String]
    /// `stageSizes[i]` devices of `deviceIds` belong to stage `i`, after the ones of the stages before it.
    public var stageSizes: [Int]
    /// Devices that passed selector and exclusions.
    public var eligibleCount: Int

    public init(deviceIds: [String], stageSizes: [Int], eligibleCount: Int) {
        precondition(stageSizes.reduce(0, +) == deviceIds.count, "stage sizes must add up to the assigned devices")
        self.deviceIds = deviceIds
        self.stageSizes = stageSizes
        self.eligibleCount = eligibleCount
    }

    /// The devices of stage `index`.
    public func devices(ofStage index: Int) -> ArraySlice<String> {
        precondition(stageSizes.indices.contains(index), "stage index out of range")
        let start = stageSizes[..<index].reduce(0, +)
        return deviceIds[start..<(start + stageSizes[index])]
    }
}

/// Why a fleet cannot be split into the plan's stages.
public struct CohortError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Splits the eligible fleet into stages, deterministically.
///
/// Devices are ordered by `StableHash(rolloutId, deviceId)`, so the same device lands in the same stage
/// for the same rollout on every run and every restart, while different rollouts pick different canaries.
/// Sizes are exact: a `percent` stage brings the cumulative share to ⌈P% × eligible⌉; a `devices` stage adds
/// that many (capped by what is left); a `group` stage takes its eligible members not yet targeted.
/// A stage left with no device is kept with size 0 (the engine skips it), so a plan rehearses on a tiny fleet.
public enum CohortPlanner {
    public static func assign(rolloutId: String, eligible: [String], stages: [StageSpec],
                              groupMembers: [String: [String]]) throws(CohortError) -> CohortAssignment {
        guard !eligible.isEmpty else {
            throw CohortError(message: "the fleet is empty: no device matches the plan's fleet selection")
        }
        let total = eligible.count
        // Rank every eligible device once; a group stage takes its members in this same order.
        var ranked = eligible.indices.map { (hash: StableHash.hash(rolloutId, eligible[$0]), index: Int32($0)) }
        ranked.sort { $0.hash != $1.hash ? $0.hash < $1.hash : eligible[Int($0.index)] < eligible[Int($1.index)] }
        var assigned = [Bool](repeating: false, count: total)
        var assignedCount = 0
        var ordered: [String] = []
        ordered.reserveCapacity(total)
        var sizes: [Int] = []
        var cursor = 0  // position in `ranked` before which every device is assigned or skipped by a group stage

        func takeNext(_ count: Int) -> Int {
            var taken = 0
            while taken < count && cursor < ranked.count {
                let index = Int(ranked[cursor].index)
                cursor += 1
                if assigned[index] { continue }
                assigned[index] = true
                ordered.append(eligible[index])
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
                let cumulative = min(total, Int((share * Double(total) / 100 - 1e-9).rounded(.up)))
                size = takeNext(max(0, cumulative - assignedCount))
            case .group(let name):
                guard let members = groupMembers[name] else {
                    throw CohortError(message: "\(stage.name): thing group `\(name)` was not found")
                }
                let memberSet = Set(members)
                for entry in ranked where memberSet.contains(eligible[Int(entry.index)]) {
                    let index = Int(entry.index)
                    if assigned[index] { continue }
                    assigned[index] = true
                    ordered.append(eligible[index])
                    size += 1
                }
            }
            assignedCount += size
            sizes.append(size)
        }
        return CohortAssignment(deviceIds: ordered, stageSizes: sizes, eligibleCount: total)
    }
}
