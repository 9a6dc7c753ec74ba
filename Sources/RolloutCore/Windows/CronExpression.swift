import Foundation

/// Why a cron expression was rejected. The message names the field, quotes it as written and says
/// what was expected, e.g. `hour field '25': expected 0-23`.
package struct CronError: Error, Equatable, Sendable, CustomStringConvertible {
    package let message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { message }
}

/// 5-field cron: minute hour day-of-month month day-of-week.
///
/// Supports `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n` and `a-b/n`, month names JAN-DEC and
/// weekday names SUN-SAT (case-insensitive); weekday 0 and 7 are Sunday, and a range may end at `SUN`
/// (`FRI-SUN`), read as 7.
///
/// Day matching follows Vixie cron exactly: when both day-of-month and day-of-week are restricted, a day
/// matches if EITHER matches; otherwise both must. Like Vixie cron, a field counts as unrestricted when it
/// starts with `*`, so `*/2` is unrestricted: `0 0 */2 * MON` means odd days that are Mondays.
///
/// Encoded as a single string, the source as written; decoding parses it again.
package struct CronExpression: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The expression exactly as written.
    package let source: String

    // Bit n set ⇔ value n matches. Weekday bit 0 is Sunday; a 7 in the text sets bit 0.
    let minuteMask: UInt64
    let hourMask: UInt64
    let dayOfMonthMask: UInt64
    let monthMask: UInt64
    let weekdayMask: UInt64
    let isDayOfMonthRestricted: Bool
    let isWeekdayRestricted: Bool
    /// Matching hours, ascending: window search walks these instead of all 24.
    let matchingHours: [Int]
    /// Matching minutes, ascending: window search walks these instead of all 60.
    let matchingMinutes: [Int]

    package init(parsing text: String) throws(CronError) {
        let fields = text.split(whereSeparator: { $0.isWhitespace })
        guard fields.count == 5 else {
            throw CronError(message: "expected 5 fields (minute hour day-of-month month day-of-week), "
                + "found \(fields.count) in '\(text)'")
        }
        let minutes = try Self.parse(fields[0], as: .minute)
        let hours = try Self.parse(fields[1], as: .hour)
        source = text
        minuteMask = minutes
        hourMask = hours
        dayOfMonthMask = try Self.parse(fields[2], as: .dayOfMonth)
        monthMask = try Self.parse(fields[3], as: .month)
        weekdayMask = try Self.parse(fields[4], as: .weekday)
        isDayOfMonthRestricted = fields[2].first != "*"
        isWeekdayRestricted = fields[4].first != "*"
        matchingHours = (0...23).filter { Self.mask(hours, contains: $0) }
        matchingMinutes = (0...59).filter { Self.mask(minutes, contains: $0) }
    }

    /// True when the wall-clock minute matches; `weekday` counts from 0 = Sunday (7 is accepted as Sunday too).
    package func matches(minute: Int, hour: Int, dayOfMonth: Int, month: Int, weekday: Int) -> Bool {
        Self.mask(minuteMask, contains: minute)
            && Self.mask(hourMask, contains: hour)
            && matchesDay(dayOfMonth: dayOfMonth, month: month, weekday: weekday)
    }

    /// True when some minute of this calendar day may match: month, and day-of-month / day-of-week under the Vixie rule.
    func matchesDay(dayOfMonth: Int, month: Int, weekday: Int) -> Bool {
        guard matchesMonth(month) else { return false }
        let dayOfMonthMatches = Self.mask(dayOfMonthMask, contains: dayOfMonth)
        let weekdayMatches = Self.mask(weekdayMask, contains: weekday == 7 ? 0 : weekday)
        if isDayOfMonthRestricted && isWeekdayRestricted {
            return dayOfMonthMatches || weekdayMatches
        }
        return dayOfMonthMatches && weekdayMatches
    }

    /// True when the month matches, so a search can skip whole months that do not.
    func matchesMonth(_ month: Int) -> Bool {
        Self.mask(monthMask, contains: month)
    }

    package var description: String { source }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "cron '\(text)': \(error.message)")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(source)
    }

    // MARK: - Parsing

    private enum Field {
        case minute, hour, dayOfMonth, month, weekday

        var name: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .weekday: "day-of-week"
            }
        }

        var bounds: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .weekday: 0...7
            }
        }

        /// Names and the numbers they stand for.
        var names: [String: Int] {
            switch self {
            case .month:
                ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                 "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
            case .weekday:
                ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
            case .minute, .hour, .dayOfMonth:
                [:]
            }
        }

        var expectation: String {
            let numbers = "\(bounds.lowerBound)-\(bounds.upperBound)"
            switch self {
            case .month: return numbers + " or JAN-DEC"
            case .weekday: return numbers + " or SUN-SAT"
            case .minute, .hour, .dayOfMonth: return numbers
            }
        }
    }

    private static func parse(_ text: Substring, as field: Field) throws(CronError) -> UInt64 {
        var result: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw problem(in: text, of: field, "empty list item")
            }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else {
                throw problem(in: text, of: field, "'\(item)' has more than one '/'")
            }
            let rangeText = stepParts[0]
            var step = 1
            if stepParts.count == 2 {
                let stepText = stepParts[1]
                guard isDecimal(stepText), let parsedStep = Int(stepText), parsedStep >= 1 else {
                    throw problem(in: text, of: field, "step '\(stepText)': expected a positive number")
                }
                step = parsedStep
            }
            let lower: Int
            let upper: Int
            if rangeText == "*" {
                lower = field.bounds.lowerBound
                upper = field.bounds.upperBound
            } else {
                let ends = rangeText.split(separator: "-", omittingEmptySubsequences: false)
                switch ends.count {
                case 1:
                    // Vixie reads `5/10` as just 5, others as 5-max/10: refuse rather than guess.
                    guard stepParts.count == 1 else {
                        throw problem(in: text, of: field, "a step needs '*' or a range before '/', as in '*/\(step)'")
                    }
                    lower = try value(of: ends[0], in: text, of: field)
                    upper = lower
                case 2:
                    lower = try value(of: ends[0], in: text, of: field)
                    let end = try value(of: ends[1], in: text, of: field)
                    // `FRI-SUN` reads naturally as Friday through Sunday: let a range end at Sunday-as-7.
                    upper = field == .weekday && end == 0 && lower > 0 ? 7 : end
                    guard lower <= upper else {
                        throw problem(in: text, of: field, "range '\(rangeText)' starts after it ends")
                    }
                default:
                    throw problem(in: text, of: field, "'\(rangeText)': expected a value or a range a-b")
                }
            }
            for value in stride(from: lower, through: upper, by: step) {
                let bit = field == .weekday && value == 7 ? 0 : value
                result |= 1 << UInt64(bit)
            }
        }
        return result
    }

    private static func value(of token: Substring, in text: Substring, of field: Field) throws(CronError) -> Int {
        let found = token == text ? "" : ", found '\(token)'"
        if isDecimal(token) {
            guard let number = Int(token), field.bounds.contains(number) else {
                throw problem(in: text, of: field, "expected \(field.expectation)\(found)")
            }
            return number
        }
        guard let named = field.names[token.uppercased()] else {
            throw problem(in: text, of: field, "expected \(field.expectation)\(found)")
        }
        return named
    }

    private static func isDecimal(_ token: Substring) -> Bool {
        !token.isEmpty && token.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func problem(in text: Substring, of field: Field, _ detail: String) -> CronError {
        CronError(message: "\(field.name) field '\(text)': \(detail)")
    }

    private static func mask(_ mask: UInt64, contains value: Int) -> Bool {
        (0..<64).contains(value) && mask & (1 << UInt64(value)) != 0
    }
}
