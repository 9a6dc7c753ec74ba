import Engine
import Foundation
import RolloutCore

/// `rollout rings sync`: splits a fleet thing group into static ring groups `<fleet>-ring-NN`, each device placed in
/// the ring its name hashes to (`RingLayout.ring`). Made once, then kept current: run again it creates missing ring
/// groups, adds devices that are in no ring, removes from the rings devices that left the fleet group (a ring job
/// would still reach them), and moves nothing (a device already in a ring stays, even where the hash would place it
/// elsewhere: it is counted as such). A device already in as many thing groups as AWS allows is skipped and reported;
/// the others are added. Resumable and idempotent: every run lists what is there first; adds are paced by the
/// account's request budget (`--aws-quota AddThingToThingGroup=N`).
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
        /// Devices removed from the rings by this run because they left the fleet group (with `dryRun`: that would be).
        package var devicesRemoved: Int
        /// Devices that could not be added: in as many thing groups as AWS allows (at most 100 named; `devicesRefused`
        /// counts them all). Rollouts on the fleet wait until they are in a ring.
        package var refused: [String]
        package var devicesRefused: Int
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
            RingLayout.ringIndex(ofGroup: $0, fleetGroup: fleetGroup) != nil
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
        var departed: [(device: String, ring: Int)] = []
        let fleetMembers = Set(members)
        for (index, name) in names.enumerated() where existingNames.contains(name) {
            for thing in try await iot.listThingsInThingGroup(name) {
                if fleetMembers.contains(thing) {
                    ringOfDevice[thing] = index
                } else {
                    departed.append((thing, index))
                }
            }
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
        var refused: [String] = []
        if !dryRun {
            for (device, ring) in departed {
                do {
                    try await iot.removeThingFromThingGroup(thing: device, group: names[ring])
                } catch let error where FleetErrorMapping.isNotFound(error) {
                    continue  // the thing was deleted meanwhile: gone from its groups with it
                }
            }
            let fleet = AWSFleet(configuration: configuration)
            for ring in toAdd.keys.sorted() {
                let skipped = try await fleet.addPaced(toAdd[ring]!, to: names[ring], iot: iot, skippingCrowded: true)
                for wait in skipped {
                    if case .thingGroupRoom(let thing) = wait.resource { refused.append(thing) }
                }
            }
        }
        let adding = toAdd.values.reduce(0) { $0 + $1.count } - refused.count
        configuration.logger.info("""
            rings of \(fleetGroup): \(count) rings, \(members.count) devices, \(adding) \(dryRun ? "to add" : "added"), \
            \(departed.count) \(dryRun ? "to remove" : "removed"), \(refused.count) refused, \(created.count) groups created
            """)
        return Report(fleetGroup: fleetGroup, rings: count, devices: members.count, groupsCreated: created,
                      devicesAdded: adding, devicesInRings: inRings, devicesElsewhere: elsewhere,
                      devicesRemoved: departed.count, refused: Array(refused.sorted().prefix(100)),
                      devicesRefused: refused.count, dryRun: dryRun)
    }
}
