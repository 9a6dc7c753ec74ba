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
            for _ in 0..<10_000 {
                let page: [String: Any]
                do {
                    page = try await client.send("GET", "/v1/rollouts/\(id)/events?after=\(after)&limit=1000")
                        as? [String: Any] ?? [:]
                } catch let failure as WorkerClient.Failure {
                    Console.error("error: \(failure.message)")
                    throw failure.exitCode
                }
                let events = page["events"] as? [[String: Any]] ?? []
                for event in events { print(try Self.render(event, format: output)) }
                after = events.last?["sequence"] as? Int ?? after
                if page["next"] as? Int == nil { break }
            }
            guard follow else { return }
            let detail = try await client.send("GET", "/v1/rollouts/\(id)") as? [String: Any] ?? [:]
            if let status = StatusCommand.watchExit(detail, untilPerson: false) {
                if status != ExitStatus.completed { throw ExitCode(status) }
                return
            }
            if read + 1 < readsMax { try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000)) }
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
