import ArgumentParser
import Engine
import Foundation
import RolloutCore

/// Documented exit codes.
enum ExitStatus {
    static let completed: Int32 = 0
    static let otherError: Int32 = 1
    static let rolledBack: Int32 = 3
    static let pausedOrAborted: Int32 = 4
    /// A rollback ended with devices that did not take it (they may still run the new firmware).
    static let rollbackIncomplete: Int32 = 5
    /// BSD `EX_DATAERR`: the plan or scenario is invalid.
    static let invalidInput: Int32 = 65

    static func forPhase(_ phase: RolloutPhase) -> Int32 {
        switch phase {
        case .completed: return completed
        case .rolledBack: return rolledBack
        case .rollbackIncomplete: return rollbackIncomplete
        case .failed: return otherError
        default: return pausedOrAborted
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    static func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// A plan read from a file, with its text (the text's hash is part of the rollout id).
struct LoadedPlan {
    var plan: RolloutPlan
    var source: String
    var path: String

    /// Reads and validates a plan file; on failure prints every problem and exits with 65.
    static func load(_ path: String) throws -> LoadedPlan {
        do {
            let loaded = try PlanFile.load(atPath: path)
            return LoadedPlan(plan: loaded.plan, source: loaded.source, path: path)
        } catch {
            Console.error(error.description)
            throw ExitCode(ExitStatus.invalidInput)
        }
    }
}

extension Date: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let date = PlanParser.parseTimestamp(argument) else { return nil }
        self = date
    }
}

/// Human durations for reports: `2d 04h`, `35m 10s`.
enum DurationWords {
    static func format(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60, rest = total % 60
        if days > 0 { return "\(days)d \(String(format: "%02d", hours))h" }
        if hours > 0 { return "\(hours)h \(String(format: "%02d", minutes))m" }
        if minutes > 0 { return "\(minutes)m \(String(format: "%02d", rest))s" }
        return "\(rest)s"
    }

    static func offset(_ date: Date, from start: Date) -> String {
        "+" + format(date.timeIntervalSince(start))
    }
}

/// A bounded list of device names for people: the first ten, then how many more.
enum DeviceListText {
    static let shownMax = 10

    static func render(_ devices: [String], count: Int, more: String, indent: String = "         ") -> String {
        let shown = devices.prefix(shownMax).joined(separator: ", ")
        let rest = count - min(devices.count, shownMax)
        return "\(indent)not rolled back (\(count)): \(shown)" + (rest > 0 ? " … and \(rest) more (\(more))" : "")
    }
}
