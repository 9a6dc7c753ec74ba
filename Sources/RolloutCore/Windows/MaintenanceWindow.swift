import Foundation

/// A recurring maintenance window: a stage may only START inside one of its occurrences.
///
/// Occurrence starts are the cron matches, read as wall-clock time in `timeZone`; each occurrence lasts
/// `durationSeconds` of elapsed real time, so a 4 h window starting 00:00 on a 23 h spring-forward day ends
/// at 05:00 local.
///
/// Daylight-saving rules (those of Vixie cron, which runs jobs whose time was skipped right after the jump,
/// and runs a repeated time once):
/// - A start whose wall-clock time is skipped by a spring-forward gap (02:30 on the spring day in
///   Europe/Berlin, where clocks jump from 02:00 to 03:00) opens at the first instant after the gap, the
///   transition itself (03:00 local). Dropping it instead would silently lose a whole day of windows for a
///   fleet scheduled inside the gap.
/// - A start whose wall-clock time repeats after a fall-back (01:30 on the autumn day in America/New_York)
///   opens once, at the first instance.
package struct MaintenanceWindow: Equatable, Sendable, Codable {
    package let cron: CronExpression
    /// Elapsed real seconds each occurrence stays open. Decoding accepts 1 second to 366 days; a window
    /// made with a non-positive duration never opens.
    package let durationSeconds: Int
    /// Encoded as its IANA identifier, e.g. `Europe/Berlin`.
    package let timeZone: TimeZone
    private let wallClock: WallClock

    /// A window longer than a year is a typo, not a maintenance window; it also bounds how far
    /// `occurrence(containing:)` looks back.
    static let durationSecondsMax = 366 * secondsPerDay
    /// Any cron that ever matches does so within one 400-year Gregorian cycle.
    static let searchLimitDaysMax = 146_097
    /// Years 1 through 9999 (seconds since 1970): windows are evaluated only there, which keeps the day
    /// arithmetic far from overflow whatever date a caller passes.
    static let supportedSeconds: ClosedRange<Double> = -62_135_596_800 ... 253_402_300_799

    package init(cron: CronExpression, durationSeconds: Int, timeZone: TimeZone) {
        self.cron = cron
        self.durationSeconds = durationSeconds
        self.timeZone = timeZone
        self.wallClock = WallClock(timeZone: timeZone)
    }

    /// The occurrence [start, start + duration) containing `date`, if any. Occurrences may overlap (a window
    /// longer than the gap between its starts): then the one that ends last, the latest start.
    package func occurrence(containing date: Date) -> DateInterval? {
        let at = date.timeIntervalSince1970
        guard durationSeconds > 0, Self.supportedSeconds.contains(at) else { return nil }
        let reading = wallClock.reading(of: date)
        // Just after a fall-back the clock repeats readings it showed before: a start up to that much later
        // than the current reading may already have happened (at its first instance).
        let atSecond = Int(at.rounded(.down))
        let repeatedSeconds = max(0, wallClock.offset(atInstant: atSecond - secondsPerDay) - wallClock.offset(atInstant: atSecond))
        let readingMax = reading + Double(repeatedSeconds)
        // Only starts within the duration can still be open; a day more covers the offset between the wall
        // clock and real time.
        let lookBackSeconds = max(min(durationSeconds, Self.durationSecondsMax), secondsPerDay) + secondsPerDay
        let dayMin = WallClock.dayNumber(ofReading: reading - Double(lookBackSeconds))
        var day = WallClock.dayNumber(ofReading: readingMax)
        while day >= dayMin {
            if let start = latestStart(onDay: day, readingMax: readingMax, notAfter: at) {
                // The latest start at or before `date` ends last; if even it has closed, every earlier one has.
                let end = Double(start) + Double(durationSeconds)
                guard end > at else { return nil }
                return DateInterval(start: Date(timeIntervalSince1970: Double(start)), end: Date(timeIntervalSince1970: end))
            }
            day -= 1
        }
        return nil
    }

    /// The first occurrence start strictly after `date`, searching at most `searchLimitDays` local days ahead
    /// (0: the rest of today; the limit is capped at a 400-year Gregorian cycle); nil if there is none (a cron
    /// that never matches, such as Feb 30, ends the search at the limit).
    package func nextStart(after date: Date, searchLimitDays: Int = 366 * 5) -> Date? {
        let after = date.timeIntervalSince1970
        guard searchLimitDays >= 0, Self.supportedSeconds.contains(after) else { return nil }
        let reading = wallClock.reading(of: date)
        let firstDay = WallClock.dayNumber(ofReading: reading)
        let lastDay = firstDay + min(searchLimitDays, Self.searchLimitDaysMax)
        var day = firstDay
        while day <= lastDay {
            let fields = wallClock.dateFields(ofDay: day)
            guard cron.matchesMonth(fields.month) else {
                day = wallClock.firstDayOfNextMonth(after: day)
                continue
            }
            if cron.matchesDay(dayOfMonth: fields.dayOfMonth, month: fields.month, weekday: fields.weekday) {
                for hour in cron.matchingHours {
                    let hourReading = day * secondsPerDay + hour * 3600
                    // Readings at or before the current one resolve to instants at or before `date`.
                    if Double(hourReading + 59 * 60) <= reading { continue }
                    for minute in cron.matchingMinutes {
                        let startReading = hourReading + minute * 60
                        if Double(startReading) <= reading { continue }
                        // Still checked: during a repeated hour a later reading's first instance lies in the past.
                        let start = wallClock.instant(ofReading: startReading)
                        if Double(start) > after {
                            return Date(timeIntervalSince1970: Double(start))
                        }
                    }
                }
            }
            day += 1
        }
        return nil
    }

    /// The latest start on local day `day` at or before instant `at`, skipping readings past `readingMax`,
    /// which cannot have started yet. Instants grow with readings, so the first hit walking backwards wins.
    private func latestStart(onDay day: Int, readingMax: Double, notAfter at: Double) -> Int? {
        let fields = wallClock.dateFields(ofDay: day)
        guard cron.matchesDay(dayOfMonth: fields.dayOfMonth, month: fields.month, weekday: fields.weekday),
              let firstMinute = cron.matchingMinutes.first
        else { return nil }
        for hour in cron.matchingHours.reversed() {
            let hourReading = day * secondsPerDay + hour * 3600
            let firstReading = hourReading + firstMinute * 60
            // The hour's first start decides whether any start in this hour has happened yet.
            guard Double(firstReading) <= readingMax,
                  Double(wallClock.instant(ofReading: firstReading)) <= at
            else { continue }
            for minute in cron.matchingMinutes.reversed() {
                let startReading = hourReading + minute * 60
                if Double(startReading) > readingMax { continue }
                let start = wallClock.instant(ofReading: startReading)
                if Double(start) <= at { return start }
            }
        }
        return nil
    }

    package static func == (left: MaintenanceWindow, right: MaintenanceWindow) -> Bool {
        left.cron == right.cron && left.durationSeconds == right.durationSeconds && left.timeZone == right.timeZone
    }

    // MARK: - Codable

    private enum CodingKeys: String, CodingKey {
        case cron, durationSeconds, timeZone
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let cron = try container.decode(CronExpression.self, forKey: .cron)
        let durationSeconds = try container.decode(Int.self, forKey: .durationSeconds)
        guard (1...Self.durationSecondsMax).contains(durationSeconds) else {
            throw DecodingError.dataCorruptedError(
                forKey: .durationSeconds, in: container,
                debugDescription: "durationSeconds \(durationSeconds): expected 1-\(Self.durationSecondsMax) (at most 366 days)")
        }
        let identifier = try container.decode(String.self, forKey: .timeZone)
        guard let timeZone = TimeZone(identifier: identifier) else {
            throw DecodingError.dataCorruptedError(
                forKey: .timeZone, in: container,
                debugDescription: "timeZone '\(identifier)': expected an IANA time zone such as 'Europe/Berlin'")
        }
        self.init(cron: cron, durationSeconds: durationSeconds, timeZone: timeZone)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cron, forKey: .cron)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(timeZone.identifier, forKey: .timeZone)
    }
}

private let secondsPerDay = 86_400

/// Wall-clock arithmetic in one time zone.
///
/// A *reading* is what a wall clock in the zone shows, counted in seconds since 1970-01-01 00:00 on that
/// clock, as if the zone were UTC: `reading / 86400` numbers local days and the remainder is the time of
/// day. Reading an instant adds the zone's offset at that instant, exactly what
/// `Calendar(identifier: .gregorian)` with the zone does, without building `DateComponents` for every probe.
/// A gregorian calendar in UTC turns day numbers into year, month, day and weekday.
///
/// Turning a reading back into an instant is where DST rules live (see `MaintenanceWindow`); Foundation's
/// `Calendar.date(from:)` moves a skipped time forward by the gap's length (02:30 → 03:30), not to the end
/// of the gap, so it is not used for that.
///
/// Assumes a zone's offset changes at most once in any 24 hours, true of every zone for decades.
private struct WallClock: Sendable {
    let timeZone: TimeZone
    private let dayCalendar: Calendar

    struct DateFields {
        let month: Int
        let dayOfMonth: Int
        /// 0 = Sunday, as in cron.
        let weekday: Int
    }

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        dayCalendar = calendar
    }

    static func dayNumber(ofReading reading: Double) -> Int {
        Int((reading / Double(secondsPerDay)).rounded(.down))
    }

    func offset(atInstant seconds: Int) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    }

    func reading(of date: Date) -> Double {
        date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))
    }

    func dateFields(ofDay day: Int) -> DateFields {
        let midnight = Date(timeIntervalSince1970: Double(day * secondsPerDay))
        return DateFields(
            month: dayCalendar.component(.month, from: midnight),
            dayOfMonth: dayCalendar.component(.day, from: midnight),
            weekday: dayCalendar.component(.weekday, from: midnight) - 1)
    }

    /// The day number of the first day of the month after the one containing `day`.
    func firstDayOfNextMonth(after day: Int) -> Int {
        let midnight = Date(timeIntervalSince1970: Double(day * secondsPerDay))
        guard let month = dayCalendar.dateInterval(of: .month, for: midnight) else { return day + 1 }
        return max(day + 1, Self.dayNumber(ofReading: month.end.timeIntervalSince1970))
    }

    /// The instant (whole seconds since 1970) at which the clock first shows `reading`; for a reading skipped
    /// by a forward jump, the instant of the jump.
    func instant(ofReading reading: Int) -> Int {
        let offsetBefore = offset(atInstant: reading - secondsPerDay)
        let offsetAfter = offset(atInstant: reading + secondsPerDay)
        // Common case: no transition nearby, one instant shows this reading.
        if offsetBefore == offsetAfter {
            let candidate = reading - offsetBefore
            if offset(atInstant: candidate) == offsetBefore { return candidate }
        }
        // A transition is near. An instant shows the reading when the offset in effect there is the one
        // assumed; after a fall-back two do, and the earlier (under the larger offset) wins.
        let offsets = [offsetBefore, offset(atInstant: reading), offsetAfter]
        var earliest: Int?
        for assumedOffset in offsets {
            let candidate = reading - assumedOffset
            if offset(atInstant: candidate) == assumedOffset, candidate < (earliest ?? Int.max) {
                earliest = candidate
            }
        }
        if let earliest { return earliest }
        // No instant shows it: a forward jump skipped it. The jump lies between the instant the reading would
        // be under the larger offset (before the jump) and under the smaller one (after it); bisect to the second.
        var low = reading - (offsets.max() ?? offsetAfter)
        var high = reading - (offsets.min() ?? offsetBefore)
        let offsetLow = offset(atInstant: low)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(atInstant: middle) == offsetLow {
                low = middle
            } else {
                high = middle
            }
        }
        return high
    }
}
