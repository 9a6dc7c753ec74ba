/// Rings: static thing groups `<fleet>-ring-00 … -ring-NN` that split a fleet once, by a stable hash of each device's
/// name, so that a large stage targets a few groups (O(1) API calls) instead of filling a temporary group device by
/// device. A rollout takes the rings in an order permuted by its id (each rollout picks a different canary), and a
/// `percent` stage takes whole rings: stage sizes are ring-granular (1% steps with 100 rings).
package enum RingLayout {
    /// Rings per fleet by default, and at most (a job targets at most 100 groups).
    package static let countDefault = 100
    package static let countMax = 100

    /// `<fleet>-ring-07` (two digits up to 100 rings).
    package static func groupName(fleetGroup: String, index: Int, count: Int) -> String {
        precondition(count >= 1 && count <= countMax && (0..<count).contains(index), "ring index out of range")
        let digits = String(max(count - 1, 1)).count
        let number = String(index)
        return "\(fleetGroup)-ring-" + String(repeating: "0", count: max(0, digits - number.count)) + number
    }

    /// The prefix every ring of a fleet shares (for listing them).
    package static func groupPrefix(fleetGroup: String) -> String {
        "\(fleetGroup)-ring-"
    }

    /// The ring index a group name stands for when it is one of `fleetGroup`'s rings (`<fleet>-ring-NN`), else nil.
    package static func ringIndex(ofGroup name: String, fleetGroup: String) -> Int? {
        let prefix = groupPrefix(fleetGroup: fleetGroup)
        guard name.hasPrefix(prefix) else { return nil }
        let suffix = name.dropFirst(prefix.count)
        guard !suffix.isEmpty, suffix.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(suffix)
    }

    /// The ring a device belongs in: a stable hash of its name (never of the rollout), so a ring set is made once.
    package static func ring(of deviceId: String, count: Int) -> Int {
        precondition(count >= 1, "at least one ring")
        return Int(StableHash.hash("ring", deviceId) % UInt64(count))
    }

    /// Ring indexes in the order a rollout takes them: permuted by the rollout id.
    package static func order(rolloutId: String, count: Int) -> [Int] {
        (0..<count).sorted { left, right in
            let (a, b) = (StableHash.hash(rolloutId, "ring-\(left)"), StableHash.hash(rolloutId, "ring-\(right)"))
            return a != b ? a < b : left < right
        }
    }

    /// Rings needed so that a `percent` stage brings the cumulative share to at least `share`% (ring-granular).
    package static func cumulativeRings(share: Double, count: Int) -> Int {
        min(count, Int((share * Double(count) / 100 - 1e-9).rounded(.up)))
    }
}

/// Which ring each device of a fleet is in, as the fleet reports it (the groups may lag the fleet: a device added
/// after the last `rollout rings sync` is in none).
package struct RingMembership: Equatable, Sendable {
    /// Ring group names, by ring index.
    package var groupNames: [String]
    /// Device → ring index, for every device found in a ring; nil when every device is in the ring its name
    /// hashes to (`RingLayout.ring(of:count:)`, as the simulated fleet keeps them).
    package var listed: [String: Int]?

    package init(groupNames: [String], listed: [String: Int]?) {
        precondition(!groupNames.isEmpty, "a ring set has at least one ring")
        self.groupNames = groupNames
        self.listed = listed
    }

    package var count: Int { groupNames.count }

    /// The ring a device is in, or nil.
    package func ring(of device: String) -> Int? {
        guard let listed else { return RingLayout.ring(of: device, count: count) }
        return listed[device]
    }

    /// Eligible devices that are in no ring (added to the fleet after the last `rollout rings sync`).
    package func devicesOutsideRings(_ eligible: some Sequence<String>) -> [String] {
        guard listed != nil else { return [] }
        return eligible.filter { ring(of: $0) == nil }
    }

    /// Ring members that are not eligible (they left the fleet group after the last `rollout rings sync`): a job on
    /// their ring would still reach them.
    package func membersOutsideFleet(_ eligible: some Sequence<String>) -> [String] {
        guard let listed else { return [] }
        let fleet = Set(eligible)
        return listed.keys.filter { !fleet.contains($0) }.sorted()
    }
}
