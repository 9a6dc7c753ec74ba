import Foundation
import Logging

/// One JSON object per line on stderr (when stderr is not a terminal): time, level, message, metadata.
/// Values are what the code logs; secrets are never logged (credentials redact themselves).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private static let lock = NSLock()

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var fields: [String: String] = [
            "time": TimeFormat.format(Date()), "level": level.rawValue, "message": message.description, "logger": label,
        ]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        JSONLogHandler.lock.withLock {
            FileHandle.standardError.write(data + Data("\n".utf8))
        }
    }
}

enum TimeFormat {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

enum LogSetup {
    /// JSON lines when stderr is not a terminal (journald, containers), readable text otherwise.
    static func bootstrap(level: Logger.Level) {
        let json = !Console.stderrIsTerminal
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
