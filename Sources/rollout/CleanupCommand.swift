import ArgumentParser
import Engine
import FleetAWS
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// `rollout cleanup --db PATH`: lists, and removes, the temporary fleet resources (thing groups) of finished rollouts
/// that an older version of rollout left behind. Every terminal path cleans up by itself today; this repairs the past.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "List and remove temporary thing groups that finished rollouts left behind (older versions).",
        discussion: """
            Reads the database (a worker may be running on it) and, for every finished AWS rollout, asks AWS which of \
            its temporary thing groups (`rollout-<job id>`) still exist, then deletes them. Unfinished rollouts are \
            left alone: they still use theirs. With --dry-run nothing is deleted. Needs the AWS permissions \
            iot:DescribeThingGroup and iot:DeleteThingGroup.
            Exit: 0 nothing left (or all removed), 2 --dry-run found something to remove, 1 an error.
            """
    )

    @Option(help: "SQLite database of the rollouts.")
    var db: String

    @Flag(help: "Only list what would be removed.")
    var dryRun = false



    @OptionGroup var aws: AWSConnectionOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    /// One temporary resource found.
    struct Leftover: Encodable {
        var rolloutId: String
        var phase: String
        var jobId: String
        var resource: String
        var removed: Bool
    }

    func run() async throws {
        let store: SQLiteRolloutStore
        do {
            store = try SQLiteRolloutStore(path: db, role: .reader)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        defer { store.close() }
        var leftovers: [Leftover] = []
        var failures = 0
        var fleets: [String: AWSFleet] = [:]
        for rollout in try store.rollouts(phases: nil, limit: 100_000)
        where rollout.fleetKind == "aws" && rollout.state.phase.isTerminal {
            let regionName = aws.region ?? rollout.plan.aws?.region ?? ""
            let fleet: AWSFleet
            if let known = fleets[regionName] {
                fleet = known
            } else {
                do {
                    fleet = AWSFleet(configuration: try aws.resolve(fallbackRegion: regionName.isEmpty ? nil : regionName))
                } catch {
                    Console.error("error: \(error)")
                    throw ExitCode(ExitStatus.otherError)
                }
                fleets[regionName] = fleet
            }
            for jobId in Self.jobIds(of: rollout.state) {
                do {
                    for resource in try await fleet.temporaryResources(rolloutId: rollout.id, jobId: jobId) {
                        if !dryRun { try await fleet.cleanUp(rolloutId: rollout.id, jobId: jobId) }
                        leftovers.append(Leftover(rolloutId: rollout.id, phase: rollout.state.phase.rawValue, jobId: jobId,
                                                  resource: resource, removed: !dryRun))
                    }
                } catch {
                    failures += 1
                    Console.error("error: \(rollout.id) \(jobId): \(error)")
                }
            }
        }
        try report(leftovers)
        if failures > 0 { throw ExitCode(ExitStatus.otherError) }
        if dryRun && !leftovers.isEmpty { throw ExitCode(2) }
    }

    /// Every job a rollout may have made: each stage that started, and the rollback job.
    static func jobIds(of state: RolloutState) -> [String] {
        state.stages.filter { $0.startedAt != nil || $0.jobCreatedAt != nil }.map(\.jobId)
            + (state.rollback?.devices ?? 0 > 0 ? [state.rollback!.jobId] : [])
    }

    func report(_ leftovers: [Leftover]) throws {
        if output == .json {
            try Console.printJSON(["leftovers": leftovers])
            return
        }
        if leftovers.isEmpty {
            print("nothing left behind by finished rollouts in \(db)")
            return
        }
        for leftover in leftovers {
            print("\(leftover.removed ? "removed" : "would remove") \(leftover.resource) "
                  + "(rollout \(leftover.rolloutId), \(leftover.phase), job \(leftover.jobId))")
        }
    }
}
