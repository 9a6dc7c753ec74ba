import Foundation

/// Instants as people read them in logs and status: RFC 3339 in UTC.
package enum TimeText {
    package static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
