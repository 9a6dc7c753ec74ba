import ArgumentParser
import Engine
import FleetAWS
import Foundation
import Logging
import RolloutCore

/// `rollout rings …`: the static ring groups that let a stage of any size target a few thing groups.
struct RingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rings",
        abstract: "Provision and keep current the ring groups (<fleet>-ring-NN) that large stages target.",
        subcommands: [RingsSyncCommand.self])
}

struct RingsSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Split a fleet thing group into ring groups, or bring them up to date.",
        discussion: """
            Each device of the fleet group goes into the ring its name hashes to, <group>-ring-00 … -ring-NN. Run \
            again, it creates missing ring groups, adds devices that are in no ring and removes from the rings \
            devices that left the fleet group; it moves nothing. A device already in 10 thing groups (AWS's limit) \
            is skipped and named; the others are added. Adds are \
            paced by the account's request budget (--aws-quota AddThingToThingGroup=N); stopping it midway is safe: \
            the next run goes on. Once a fleet has rings, percent stages of plans on it target whole rings (a plan \
            opts out with fleet.targeting: groups). Needs iot:ListThingsInThingGroup, iot:ListThingGroups, \
            iot:CreateThingGroup, iot:AddThingToThingGroup, iot:RemoveThingFromThingGroup and \
            iot:ListThingGroupsForThing.
            Exit: 0 done (or nothing to do), 2 with --dry-run when devices would be added or removed, or when devices \
            were refused, 1 an error.
            """)

    @Option(help: "The fleet's thing group (the plan's fleet.thingGroup).")
    var group: String

    @Option(help: "Rings for a new ring set (1…100, default 100); an existing set keeps its number.")
    var rings: Int?

    @Flag(help: "Only report what would be created and added.")
    var dryRun = false

    @OptionGroup var aws: AWSConnectionOptions

    @OptionGroup var awsQuotas: AWSQuotaOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let rings, !(1...RingLayout.countMax).contains(rings) {
            throw ValidationError("--rings must be 1…\(RingLayout.countMax) (a job targets at most 100 groups)")
        }
    }

    func run() async throws {
        let report: RingSync.Report
        do {
            var configuration = try aws.resolve(quotas: try awsQuotas.quotas())
            configuration.logger.logLevel = .warning
            report = try await RingSync(configuration: configuration).run(fleetGroup: group, rings: rings, dryRun: dryRun)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        if output == .json {
            try Console.printJSON(report)
        } else {
            print("\(report.fleetGroup): \(report.devices) devices in \(report.rings) rings; "
                  + "\(report.devicesAdded) \(dryRun ? "to add" : "added"), \(report.devicesInRings) already in a ring"
                  + (report.devicesElsewhere > 0 ? " (\(report.devicesElsewhere) not where their hash places them: left there)" : "")
                  + (report.devicesRemoved > 0 ? "; \(report.devicesRemoved) that left the fleet \(dryRun ? "to remove" : "removed")" : "")
                  + (report.groupsCreated.isEmpty ? "" : "; \(report.groupsCreated.count) ring groups \(dryRun ? "to create" : "created")"))
            if report.devicesRefused > 0 {
                print("refused (\(report.devicesRefused), already in \(AWSQuotas.thingGroupsPerThingMax) thing groups; remove "
                      + "them from a group they no longer need, then run again): "
                      + report.refused.joined(separator: ", ") + (report.devicesRefused > report.refused.count ? ", ..." : ""))
            }
        }
        if report.devicesRefused > 0 { throw ExitCode(2) }
        if dryRun && (report.devicesAdded > 0 || report.devicesRemoved > 0 || !report.groupsCreated.isEmpty) {
            throw ExitCode(2)
        }
    }
}
