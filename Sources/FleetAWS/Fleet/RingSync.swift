import Engine
import Foundation
import RolloutCore

/// `rollout rings sync`: splits a fleet thing group into static ring groups `<fleet>-ring-NN`, each device placed in
/// the ring its name hashes to (`RingLayout.ring`). Made once, then kept current: run again it creates missing ring
/// groups and adds devices that are in no ring, and moves nothing (a device already in a ring stays, even where the
/// hash would place it elsewhere: it is counted as such). Resumable and idempotent: every run lists what is there
/// first; adds are paced by the account's request budget (`--aws-quota AddThingToThingGroup=N`).
package struct RingSync: Sendable {
    /// What a sync found and did.
    package struct Report: Encodable, Sendable, Equatable {
        package var fleetGroup: String
        package var rings: Int
        package var devices: Int
        /// Ring groups created by this run.
        package var groupsCreated: [String]
        /// Devices added to their ring by this run (with `dryRun`: that would be).
        package var devicesAdded: Int
        /// Devices already in a ring.
        package var devicesInRings: Int
        /// Of those, devices in another ring than their hash gives (left where they are).
        package var devicesElsewhere: Int
        package var dryRun: Bool
    }

    package let configuration: AWSConfiguration

    package init(configuration: AWSConfiguration) {
        self.configuration = configuration
    }

    /// - Parameter rings: ring count; nil keeps the fleet's existing count, or `RingLayout.countDefault` for a new set.
    package func run(fleetGroup: String, rings requested: Int?, dryRun: Bool) async throws -> Report {
        let iot = configuration.iotClient()
        let members = Array(Set(try await iot.listThingsInThingGroup(fleetGroup, recursive: true))).sorted()
        let prefix = RingLayout.groupPrefix(fleetGroup: fleetGroup)
        let existing = try await iot.listThingGroups(namePrefix: prefix).filter {
            $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil
        }
        if let requested, !existing.isEmpty, requested != existing.count {
            throw FleetError.permanent("\(fleetGroup) has \(existing.count) ring groups; a sync keeps their number "
                                       + "(it moves no device): run without --rings, or delete the ring groups first")
        }
        let count = existing.isEmpty ? (requested ?? RingLayout.countDefault) : existing.count
        guard (1...RingLayout.countMax).contains(count) else {
            throw FleetError.permanent("--rings must be 1…\(RingLayout.countMax) (a job targets at most 100 groups)")
        }
        let names = (0..<count).map { RingLayout.groupName(fleetGroup: fleetGroup, index: $0, count: count) }
        let existingNames = Set(existing)
        var created: [String] = []
        for (index, name) in names.enumerated() where !existingNames.contains(name) {
            if !dryRun {
                do {
                    try await iot.createThingGroup(name, description: "ring \(index) of \(count) of \(fleetGroup) "
                                                   + "(rollout rings sync)")
                } catch let error where FleetErrorMapping.isAlreadyExists(error) {
                    // Made by a run that stopped before listing it: fine.
                }
            }
            created.append(name)
        }
        var ringOfDevice: [String: Int] = [:]
        for (index, name) in names.enumerated() where existingNames.contains(name) {
            for thing in try await iot.listThingsInThingGroup(name) { ringOfDevice[thing] = index }
        }
        var toAdd: [Int: [String]] = [:]
        var inRings = 0
        var elsewhere = 0
        for device in members {
            let hashed = RingLayout.ring(of: device, count: count)
            if let ring = ringOfDevice[device] {
                inRings += 1
                if ring != hashed { elsewhere += 1 }
            } else {
                toAdd[hashed, default: []].append(device)
            }
        }
        let adding = toAdd.values.reduce(0) { $0 + $1.count }
        if !dryRun {
            let fleet = AWSFleet(configuration: configuration)
            for ring in toAdd.keys.sorted() {
                try await fleet.addPaced(toAdd[ring]!, to: names[ring], iot: iot)
            }
        }
        configuration.logger.info("""
            rings of \(fleetGroup): \(count) rings, \(members.count) devices, \(adding) \(dryRun ? "to add" : "added"), \
            \(created.count) groups created
            """)
        return Report(fleetGroup: fleetGroup, rings: count, devices: members.count, groupsCreated: created,
                      devicesAdded: adding, devicesInRings: inRings, devicesElsewhere: elsewhere, dryRun: dryRun)
    }
}
