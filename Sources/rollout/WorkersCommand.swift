import ArgumentParser
import Engine
import Foundation
import StorePostgres

/// `rollout workers --db postgres://…`: the workers sharing a PostgreSQL database and the leases each holds.
struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers sharing a PostgreSQL database, with the leases each holds.",
        discussion: """
            A worker is alive while it renews its heartbeat within one of its leases (the --lease-seconds it was \
            started with, or the one given here); --all also lists workers that stopped or died. LEASES counts the unexpired leases it \
            holds now; TAKEOVERS the rollouts it took over from workers whose leases expired; FENCED the steps it \
            gave up because its lease was gone. DRIVES is `share` for a worker (it takes its share of every \
            rollout) or the one rollout a `rollout run --db postgres://…` drives.
            """
    )

    @Option(help: "postgres://user@host:port/database (the password from PGPASSWORD, ?password_file= or ~/.pgpass).")
    var db: String

    @Option(help: "A worker silent for longer than this is not alive (default: each worker's own --lease-seconds).")
    var leaseSeconds: Double?

    @Flag(help: "Also list workers that stopped or died.")
    var all = false

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard PostgresLocation.isPostgresURL(db) else {
            throw ValidationError("--db: workers share a PostgreSQL database (postgres://user@host:port/database); an "
                                  + "SQLite database has one worker")
        }
        _ = try PostgresLocation(url: db)
        if let leaseSeconds, leaseSeconds <= 0 { throw ValidationError("--lease-seconds must be positive") }
    }

    func run() throws {
        let workers: [PostgresWorkerRecord]
        do {
            let store = try PostgresRolloutStore(location: try PostgresLocation(url: db), migrate: false)
            defer { store.close() }
            workers = try store.workers(leaseSeconds: leaseSeconds, includeGone: all)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(workers), as: UTF8.self))
        case .text:
            guard !workers.isEmpty else {
                print(all ? "no worker has used this database" : "no worker alive (--all lists those that were)")
                return
            }
            let formatter = ISO8601DateFormatter()
            let rows = [["WORKER", "STATE", "DRIVES", "LEASES", "TAKEOVERS", "FENCED", "LISTEN", "HEARTBEAT"]] + workers.map { worker in
                [worker.id, worker.alive ? "alive" : (worker.stoppedAt == nil ? "silent" : "stopped"),
                 worker.drives ?? "share", "\(worker.leases)",
                 "\(worker.takeovers)", "\(worker.fencingRejections)", worker.listen ?? "-",
                 LocalTime.rewrite(formatter.string(from: worker.heartbeatAt))]
            }
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }
}
