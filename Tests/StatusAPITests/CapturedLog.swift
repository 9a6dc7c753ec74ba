import Foundation
import Logging

/// Log lines kept in memory (message and metadata, as a handler would print them), to check what reaches logs.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    var lines: [String] { lock.withLock { storage } }

    func append(_ line: String) {
        lock.withLock { storage.append(line) }
    }

    /// A logger at trace level whose every line lands here.
    func logger(label: String) -> Logger {
        Logger(label: label, factory: { label in Handler(label: label, log: self) })
    }

    struct Handler: LogHandler {
        let label: String
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let error = event.error.map { " error=\($0)" } ?? ""
            log.append("\(event.level) \(label): \(event.message) \(fields.joined(separator: " "))\(error)")
        }
    }
}
