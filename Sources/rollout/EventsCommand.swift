import ArgumentParser
import Foundation

/// `rollout events ID [--follow]`: a rollout's event log from a worker, one line per event, oldest first.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a rollout's event log (who did what, when; what the fleet reported); --follow waits for more.",
        discussion: """
            One line per event: sequence, time (UTC), kind and its data. With --follow the log is read again every \
            --interval seconds until the rollout ends (exit as `rollout status --watch`: 0 completed, 3 rolled back, \
            4 aborted, 5 rollback incomplete) or Ctrl-C. --output json prints the events as the API gives them, one \
            JSON object per line.
            """
    )

    @Argument(help: "The rollout id.")
    var id: String

    @Flag(help: "Keep reading new events until the rollout ends.")
    var follow = false

    @Option(help: "Seconds between reads with --follow.")
    var interval: Double = 2

    @Option(help: "Only events after this sequence number.")
    var after: Int = 0

    @OptionGroup var serverOptions: ServerOptions

    @Option(help: "text or json (one object per line).")
    var output: OutputFormat = .text

    func validate() throws {
        guard interval >= 0.2 && interval <= 3600 else { throw ValidationError("--interval must be 0.2…3600 seconds") }
        guard after >= 0 else { throw ValidationError("--after must be 0 or more") }
    }

    func run() async throws {
        let client = try serverOptions.client()
        var after = self.after
        // Bounded: at most 30 days of reads when following, and 10,000 pages of 1,000 events per read.
        let readsMax = follow ? Int(30 * 86400 / interval) : 1
        for read in 0..<readsMax {
            // The phase is read before the events: a rollout seen finished has every event of its end in the log.
            var finished: Int32?
            if follow {
                let detail = try await fetch("/v1/rollouts/\(id)", client: client)
                finished = StatusCommand.watchExit(detail, untilPerson: false)
            }
            for _ in 0..<10_000 {
                let page = try await fetch("/v1/rollouts/\(id)/events?after=\(after)&limit=1000", client: client)
                let events = page["events"] as? [[String: Any]] ?? []
                for event in events {
                    let line = try Self.render(event, format: output)
                    print(output == .json ? line : LocalTime.rewrite(line))
                }
                after = events.last?["sequence"] as? Int ?? after
                if page["next"] as? Int == nil { break }
            }
            guard follow else { return }
            if let finished {
                if finished != ExitStatus.completed { throw ExitCode(finished) }
                return
            }
            if read + 1 < readsMax { try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000)) }
        }
    }

    func fetch(_ path: String, client: WorkerClient) async throws -> [String: Any] {
        do {
            return try await client.send("GET", path) as? [String: Any] ?? [:]
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure.message)")
            throw failure.exitCode
        }
    }

    /// `#12  2026-11-30T01:00:00Z  approved  by=alice reason="CAB-1234"`: the kind's scalar fields as key=value,
    /// nested data as compact JSON (cut at 200 characters).
    static func render(_ event: [String: Any], format: OutputFormat) throws -> String {
        if format == .json {
            return String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
        }
        let sequence = event["sequence"] as? Int ?? 0
        let at = event["at"] as? String ?? "?"
        let kind = event["type"] as? String ?? "?"
        let data = (event["event"] as? [String: Any])?[kind] as? [String: Any] ?? [:]
        var fields: [String] = []
        for key in data.keys.sorted() {
            let value = data[key]!
            switch value {
            case let text as String:
                fields.append(text.contains(" ") || text.isEmpty ? "\(key)=\"\(text)\"" : "\(key)=\(text)")
            case let number as NSNumber:
                fields.append("\(key)=\(number)")
            default:
                let json = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
                fields.append("\(key)=" + (json.count > 200 ? String(json.prefix(199)) + "…" : json))
            }
        }
        return (["#\(sequence)", at, kind] + fields).joined(separator: "  ")
    }
}
