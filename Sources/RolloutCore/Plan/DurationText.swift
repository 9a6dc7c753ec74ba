/// Durations as plans write them: `90s`, `30m`, `4h`, `2d`, or combined `1h30m`; `0` alone is zero.
package enum DurationText {
    /// The longest duration a plan may name (a year): longer is surely a typo.
    package static let secondsMax = 366 * 24 * 3600

    /// Seconds in `text`, or nil when it is not a duration.
    package static func parseSeconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return 0 }
        guard !trimmed.isEmpty, trimmed.count <= 32 else { return nil }
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in trimmed {
            if let digit = character.wholeNumberValue, character.isASCII {
                digits.append(String(digit))
                continue
            }
            let unitSeconds: Int
            switch character {
            case "s": unitSeconds = 1
            case "m": unitSeconds = 60
            case "h": unitSeconds = 3600
            case "d": unitSeconds = 86400
            default: return nil
            }
            guard let value = Int(digits), digits.count <= 9 else { return nil }
            total += value * unitSeconds
            guard total <= secondsMax else { return nil }
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else { return nil }
        return total
    }

    /// The shortest exact text for `seconds`, e.g. `1h30m`, `2d`, `45s`.
    package static func format(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var remaining = seconds
        var text = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where remaining >= size {
            text += "\(remaining / size)\(unit)"
            remaining %= size
        }
        return text
    }
}

import Foundation

/// Percentages as people read them: `10%`, `12.5%`.
package enum PercentText {
    package static func format(_ value: Double) -> String {
        if value == value.rounded() { return "\(Int(value))%" }
        return String(format: "%.2f", value).replacingOccurrences(of: "0+$", with: "", options: .regularExpression) + "%"
    }
}
