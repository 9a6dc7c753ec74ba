import ArgumentParser
import Engine
import FleetAWS
import Foundation
import Logging
import RolloutCore
import StorePostgres
import StoreSQLite

/// `rollout cleanup --db PATH`: lists, and removes, the temporary fleet resources (thing groups) of finished rollouts
/// that an older version of rollout left behind. Every terminal path cleans up by itself today; this repairs the past.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "List and remove what finished rollouts left on AWS: temporary thing groups, and (--older-than) their jobs.",
        discussion: """
            Reads the database (a worker may be running on it) and, for every finished AWS rollout, asks AWS which of \
            its temporary thing groups (`rollout-<job id>`) still exist, then deletes them. With --older-than D, the \
            jobs (DeleteJob, at most 10 deleting at once; force only for a job still in progress; its executions go \
            with it) and job-document copies (s3://<bucket>/jobs/<job id>.json) of rollouts that ended more than D ago \
            are deleted too, whatever their plan's aws.retention; firmware objects are kept. Unfinished rollouts are \
            left alone. With --dry-run nothing is deleted. Needs iot:DescribeThingGroup, iot:DeleteThingGroup, and \
            for --older-than iot:DescribeJob, iot:DeleteJob and s3:DeleteObject.
            Exit: 0 nothing left (or all removed), 2 --dry-run found something to remove, 1 an error.
            """
    )

    @Option(help: "SQLite database of the rollouts.")
    var db: String

    @Flag(help: "Only list what would be removed.")
    var dryRun = false

    @Option(help: "Also delete the jobs and job documents of rollouts that ended longer ago than this (e.g. 90d).")
    var olderThan: String?

    func validate() throws {
        if let olderThan, DurationText.parseSeconds(olderThan) == nil {
            throw ValidationError("--older-than takes a duration such as 90d or 12h, not `\(olderThan)`")
        }
    }


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
        let store: any RolloutStore
        do {
            if PostgresLocation.isPostgresURL(db) {
                let postgres = try PostgresRolloutStore(location: try PostgresLocation(url: db), migrate: false)
                store = postgres
            } else {
                let sqlite = try SQLiteRolloutStore(path: db, role: .reader)
                store = sqlite
            }
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        var leftovers: [Leftover] = []
        var failures = 0
        var fleets: [String: AWSFleet] = [:]
        func fleet(for rollout: StoredRollout) throws -> AWSFleet {
            let regionName = aws.region ?? rollout.plan.aws?.region ?? ""
            if let known = fleets[regionName] { return known }
            do {
                let fleet = AWSFleet(configuration: try aws.resolve(fallbackRegion: regionName.isEmpty ? nil : regionName))
                fleets[regionName] = fleet
                return fleet
            } catch {
                Console.error("error: \(error)")
                throw ExitCode(ExitStatus.otherError)
            }
        }
        for rollout in try store.rollouts(phases: nil, limit: 100_000)
        where rollout.fleetKind == "aws" && rollout.state.phase.isTerminal {
            let fleet = try fleet(for: rollout)
            for jobId in rollout.state.createdJobIds {
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
        if let olderThan, let seconds = DurationText.parseSeconds(olderThan) {
            let cutoff = Date().addingTimeInterval(-Double(seconds))
            for rollout in try store.rollouts(phases: nil, limit: 100_000)
            where rollout.fleetKind == "aws" && rollout.state.phase.isTerminal && rollout.state.purgedAt == nil
                && (rollout.state.endedAt ?? rollout.state.updatedAt) < cutoff {
                let fleet = try fleet(for: rollout)
                do {
                    leftovers += try await purge(rollout, fleet: fleet)
                } catch {
                    failures += 1
                    Console.error("error: \(rollout.id): \(error)")
                }
            }
        }
        try report(leftovers)
        if failures > 0 { throw ExitCode(ExitStatus.otherError) }
        if dryRun && !leftovers.isEmpty { throw ExitCode(2) }
    }

    /// The rollout's jobs that still exist and their documents: listed (--dry-run), or deleted, waiting (bounded)
    /// while AWS deletes them ten at a time.
    func purge(_ rollout: StoredRollout, fleet: AWSFleet) async throws -> [Leftover] {
        let existing = try await fleet.existingJobs(rollout.state.createdJobIds, aws: rollout.plan.aws)
        guard !existing.isEmpty else {
            // The jobs are gone: their document copies may not be (DeleteObject of an absent one succeeds).
            if !dryRun { _ = try await fleet.purgeJobs(rolloutId: rollout.id, jobIds: rollout.state.createdJobIds,
                                                       aws: rollout.plan.aws) }
            return []
        }
        let bucket = rollout.plan.aws?.bucket ?? "?"
        let found = existing.map {
            Leftover(rolloutId: rollout.id, phase: rollout.state.phase.rawValue, jobId: $0,
                     resource: "job \($0) and s3://\(bucket)/jobs/\($0).json", removed: !dryRun)
        }
        guard !dryRun else { return found }
        for _ in 0..<120 {
            if try await fleet.purgeJobs(rolloutId: rollout.id, jobIds: existing, aws: rollout.plan.aws) { return found }
            try await Task.sleep(nanoseconds: 2_000_000_000)  // AWS deletes asynchronously (DELETION_IN_PROGRESS)
        }
        throw ValidationError("AWS was still deleting jobs of \(rollout.id) after 4 minutes; run cleanup again")
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
