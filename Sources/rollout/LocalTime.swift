import Foundation

/// Times as the operator reads them: the worker speaks UTC (RFC 3339, `…Z`); text output for people shows them in
/// the operator's zone (`TZ`, else the system's) as `2026-11-30 10:00:00 +01:00`. A UTC zone keeps the RFC 3339
/// form, and so does `ROLLOUT_UTC=1` (scripts that read the text). JSON output is never rewritten.
enum LocalTime {
    static let utcNames: Set<String> = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"]

    /// The zone of text output.
    static var operatorZone: TimeZone {
        ProcessInfo.processInfo.environment["ROLLOUT_UTC"].map { !$0.isEmpty && $0 != "0" } == true
            ? TimeZone(identifier: "UTC")! : TimeZone.current
    }

    private static let pattern = try! NSRegularExpression(
        pattern: #"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b"#)

    /// `text` with every UTC instant in it shown in `zone` (bounded: the first 200 instants).
    static func rewrite(_ text: String, zone: TimeZone = operatorZone) -> String {
        guard !utcNames.contains(zone.identifier) else { return text }
        let source = text as NSString
        let matches = pattern.matches(in: text, range: NSRange(location: 0, length: source.length)).prefix(200)
        guard !matches.isEmpty else { return text }
        let parser = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        var result = ""
        var cursor = 0
        for match in matches {
            let instant = source.substring(with: match.range)
            guard let date = parser.date(from: instant) ?? fractional.date(from: instant) else { continue }
            result += source.substring(with: NSRange(location: cursor, length: match.range.location - cursor))
            result += formatter.string(from: date)
            cursor = match.range.location + match.range.length
        }
        return result + source.substring(from: cursor)
    }
}
