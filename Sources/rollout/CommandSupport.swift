import ArgumentParser
import Engine
import Foundation
import RolloutCore
import RolloutText

/// Documented exit codes.
enum ExitStatus {
    static let completed: Int32 = 0
    static let otherError: Int32 = 1
    static let rolledBack: Int32 = 3
    static let pausedOrAborted: Int32 = 4
    /// A rollback ended with devices that did not take it (they may still run the new firmware).
    static let rollbackIncomplete: Int32 = 5
    /// BSD `EX_USAGE`: a bad option or an unusable setting (ArgumentParser's validation errors exit with it too).
    static let usage: Int32 = 64
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

/// `--poll-interval`, the same everywhere: a duration (`30s`, `1m`, `1h30m`) or a number of seconds (`30`, `0.5`).
enum PollInterval {
    static func seconds(_ text: String) -> Double? {
        if let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite { return number }
        return DurationText.parseSeconds(text).map(Double.init)
    }

    /// The seconds of `text`, or a usage error naming the option, the range and the accepted forms.
    static func validated(_ text: String, range: ClosedRange<Double>) throws -> Double {
        guard let seconds = seconds(text), range.contains(seconds) else {
            let bounds = "\(PreflightText.count(range.lowerBound))…\(PreflightText.count(range.upperBound)) seconds"
            throw ValidationError("--poll-interval must be a duration such as 30s or 1m, or a number of seconds, "
                                  + "within \(bounds); found `\(text)`")
        }
        return seconds
    }
}
