import Foundation
import Testing
@testable import RolloutCore

/// Builders and an independent wall-clock oracle (a gregorian `Calendar` in the zone) shared by the window tests.
enum WindowFixtures {
    /// An ISO 8601 instant with `Z` or an offset, e.g. `2024-03-31T03:00:00+02:00`.
    static func instant(_ text: String) throws -> Date {
        try Date.ISO8601FormatStyle().parse(text)
    }

    static func window(_ cron: String, minutes: Int, zone: String) throws -> MaintenanceWindow {
        let timeZone = try #require(TimeZone(identifier: zone))
        return MaintenanceWindow(cron: try CronExpression(parsing: cron), durationSeconds: minutes * 60, timeZone: timeZone)
    }

    static func calendar(zone: String) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? calendar.timeZone
        return calendar
    }

    /// What a wall clock in `zone` shows at `date`, as `yyyy-MM-dd HH:mm`.
    static func wallClock(_ date: Date?, in zone: String) -> String? {
        guard let date else { return nil }
        let parts = calendar(zone: zone).dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func twoDigits(_ value: Int?) -> String {
            let text = String(value ?? -1)
            return text.count < 2 ? "0" + text : text
        }
        return "\(parts.year ?? -1)-\(twoDigits(parts.month))-\(twoDigits(parts.day)) \(twoDigits(parts.hour)):\(twoDigits(parts.minute))"
    }
}

@Suite struct MaintenanceWindowTests {
    private typealias Fixture = WindowFixtures

    // MARK: - nextStart

    @Test func nextStartIsStrictlyAfter() throws {
        let window = try Fixture.window("0 2 * * *", minutes: 60, zone: "UTC")
        #expect(window.nextStart(after: try Fixture.instant("2024-05-01T01:00:00Z")) == (try Fixture.instant("2024-05-01T02:00:00Z")))
        #expect(window.nextStart(after: try Fixture.instant("2024-05-01T02:00:00Z")) == (try Fixture.instant("2024-05-02T02:00:00Z")))
        let justBefore = try Fixture.instant("2024-05-01T02:00:00Z").addingTimeInterval(-0.25)
        #expect(window.nextStart(after: justBefore) == (try Fixture.instant("2024-05-01T02:00:00Z")))
    }

    @Test func nextStartCrossesMonthAndYearBoundaries() throws {
        let firstOfMonth = try Fixture.window("0 0 1 * *", minutes: 60, zone: "UTC")
        #expect(firstOfMonth.nextStart(after: try Fixture.instant("2024-01-31T12:00:00Z")) == (try Fixture.instant("2024-02-01T00:00:00Z")))

        let newYear = try Fixture.window("0 0 1 1 *", minutes: 60, zone: "UTC")
        #expect(newYear.nextStart(after: try Fixture.instant("2024-12-31T23:59:00Z")) == (try Fixture.instant("2025-01-01T00:00:00Z")))

        let newYearsEve = try Fixture.window("30 23 31 12 *", minutes: 60, zone: "UTC")
        #expect(newYearsEve.nextStart(after: try Fixture.instant("2024-12-31T23:30:00Z")) == (try Fixture.instant("2025-12-31T23:30:00Z")))

        // February has no 31st, April none either.
        let thirtyFirst = try Fixture.window("0 0 31 * *", minutes: 60, zone: "UTC")
        #expect(thirtyFirst.nextStart(after: try Fixture.instant("2024-01-31T00:00:00Z")) == (try Fixture.instant("2024-03-31T00:00:00Z")))
        #expect(thirtyFirst.nextStart(after: try Fixture.instant("2024-03-31T00:00:00Z")) == (try Fixture.instant("2024-05-31T00:00:00Z")))
    }

    @Test func februaryTwentyNinthOnlyInLeapYears() throws {
        let leapDay = try Fixture.window("0 12 29 2 *", minutes: 60, zone: "UTC")
        #expect(leapDay.nextStart(after: try Fixture.instant("2024-02-28T12:00:00Z")) == (try Fixture.instant("2024-02-29T12:00:00Z")))
        #expect(leapDay.nextStart(after: try Fixture.instant("2024-03-01T00:00:00Z")) == (try Fixture.instant("2028-02-29T12:00:00Z")))
        #expect(leapDay.nextStart(after: try Fixture.instant("2024-03-01T00:00:00Z"), searchLimitDays: 365) == nil)
    }

    @Test func impossibleDatesNeverStart() throws {
        for cron in ["0 0 30 2 *", "0 0 31 4,6,9,11 *"] {
            let window = try Fixture.window(cron, minutes: 60, zone: "Europe/Berlin")
            #expect(window.nextStart(after: try Fixture.instant("2024-01-01T00:00:00Z")) == nil, "\(cron)")
            #expect(window.occurrence(containing: try Fixture.instant("2024-03-01T00:00:00Z")) == nil, "\(cron)")
        }
        // With a weekday as well, Vixie's either-rule makes it "every Monday in February".
        let februaryMondays = try Fixture.window("0 0 30 2 MON", minutes: 60, zone: "UTC")
        #expect(februaryMondays.nextStart(after: try Fixture.instant("2024-02-01T00:00:00Z")) == (try Fixture.instant("2024-02-05T00:00:00Z")))
        #expect(februaryMondays.nextStart(after: try Fixture.instant("2024-02-27T00:00:00Z")) == (try Fixture.instant("2025-02-03T00:00:00Z")))
    }

    @Test func negativeSearchLimitFindsNothing() throws {
        let window = try Fixture.window("* * * * *", minutes: 1, zone: "UTC")
        #expect(window.nextStart(after: try Fixture.instant("2024-01-01T00:00:00Z"), searchLimitDays: -1) == nil)
        #expect(window.nextStart(after: try Fixture.instant("2024-01-01T00:00:00Z"), searchLimitDays: 0) == (try Fixture.instant("2024-01-01T00:01:00Z")))
    }

    @Test func absurdInstantsNeverOpenInsteadOfTrapping() throws {
        let window = try Fixture.window("* * * * *", minutes: 60, zone: "Europe/Berlin")
        for seconds in [1e300, -1e300, Double.infinity, Double.nan] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(window.nextStart(after: date) == nil)
            #expect(window.occurrence(containing: date) == nil)
        }
        #expect(window.occurrence(containing: .distantFuture) != nil)
    }

    @Test func weekdayWindowInNewYorkFollowsItsOffset() throws {
        let window = try Fixture.window("0 9 * * MON-FRI", minutes: 120, zone: "America/New_York")
        // Friday 10:00 EDT → Monday 09:00 EDT (UTC-4).
        #expect(window.nextStart(after: try Fixture.instant("2024-07-05T14:00:00Z")) == (try Fixture.instant("2024-07-08T13:00:00Z")))
        // Friday 10:00 EST → Monday 09:00 EST (UTC-5).
        #expect(window.nextStart(after: try Fixture.instant("2024-01-05T15:00:00Z")) == (try Fixture.instant("2024-01-08T14:00:00Z")))
        #expect(window.occurrence(containing: try Fixture.instant("2024-07-05T14:00:00Z"))
            == DateInterval(start: try Fixture.instant("2024-07-05T13:00:00Z"), duration: 7200))
    }

    @Test func kolkataHalfHourOffset() throws {
        let window = try Fixture.window("30 2 * * *", minutes: 60, zone: "Asia/Kolkata")
        // 02:30 IST (UTC+5:30) is 21:00 UTC the day before.
        #expect(window.nextStart(after: try Fixture.instant("2024-06-01T00:00:00Z")) == (try Fixture.instant("2024-06-01T21:00:00Z")))
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-01T21:30:00Z"))
            == DateInterval(start: try Fixture.instant("2024-06-01T21:00:00Z"), duration: 3600))
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-01T22:00:00Z")) == nil)
    }

    // MARK: - Daylight saving: Europe/Berlin (spring 2024-03-31 02:00 → 03:00, autumn 2024-10-27 03:00 → 02:00)

    @Test func berlinStartSkippedBySpringForwardOpensWhenTheGapEnds() throws {
        let window = try Fixture.window("30 2 * * *", minutes: 60, zone: "Europe/Berlin")
        let dayBefore = try Fixture.instant("2024-03-30T02:30:00+01:00")
        #expect(window.nextStart(after: try Fixture.instant("2024-03-29T12:00:00Z")) == dayBefore)
        let opening = window.nextStart(after: dayBefore)
        #expect(opening == (try Fixture.instant("2024-03-31T01:00:00Z")))
        #expect(Fixture.wallClock(opening, in: "Europe/Berlin") == "2024-03-31 03:00")
        #expect(window.occurrence(containing: try Fixture.instant("2024-03-31T01:30:00Z"))
            == DateInterval(start: try Fixture.instant("2024-03-31T01:00:00Z"), duration: 3600))
        #expect(window.occurrence(containing: try Fixture.instant("2024-03-31T00:59:00Z")) == nil)
        #expect(window.nextStart(after: try Fixture.instant("2024-03-31T01:00:00Z")) == (try Fixture.instant("2024-04-01T02:30:00+02:00")))
    }

    @Test func berlinSkippedTimesShareTheOpeningAtTheEndOfTheGap() throws {
        let after = try Fixture.instant("2024-03-30T12:00:00Z")
        let gapEnd = try Fixture.instant("2024-03-31T03:00:00+02:00")
        for cron in ["0 2 * * *", "59 2 * * *", "0 3 * * *"] {
            let window = try Fixture.window(cron, minutes: 30, zone: "Europe/Berlin")
            #expect(window.nextStart(after: after) == gapEnd, "\(cron)")
        }
        let justAfterGap = try Fixture.window("1 3 * * *", minutes: 30, zone: "Europe/Berlin")
        #expect(justAfterGap.nextStart(after: after) == gapEnd.addingTimeInterval(60))
    }

    @Test func berlinRepeatedTimeOpensOnceAtTheFirstInstance() throws {
        let window = try Fixture.window("30 2 * * *", minutes: 30, zone: "Europe/Berlin")
        let firstInstance = try Fixture.instant("2024-10-27T02:30:00+02:00")
        #expect(firstInstance == (try Fixture.instant("2024-10-27T00:30:00Z")))
        #expect(window.nextStart(after: try Fixture.instant("2024-10-26T12:00:00Z")) == firstInstance)
        #expect(window.nextStart(after: firstInstance) == (try Fixture.instant("2024-10-28T02:30:00+01:00")))
        #expect(window.occurrence(containing: try Fixture.instant("2024-10-27T00:45:00Z"))
            == DateInterval(start: firstInstance, duration: 1800))
        // 02:40 again, now CET: the repeated 02:30 did not open a second time.
        #expect(window.occurrence(containing: try Fixture.instant("2024-10-27T02:40:00+01:00")) == nil)
    }

    @Test func berlinWindowOpenedBeforeFallBackStaysOpenWhileTheClockRepeats() throws {
        let window = try Fixture.window("30 2 * * *", minutes: 60, zone: "Europe/Berlin")
        // 02:10 CET reads earlier than the 02:30 start, yet falls 40 real minutes after it.
        #expect(window.occurrence(containing: try Fixture.instant("2024-10-27T02:10:00+01:00"))
            == DateInterval(start: try Fixture.instant("2024-10-27T02:30:00+02:00"), duration: 3600))
        #expect(window.occurrence(containing: try Fixture.instant("2024-10-27T02:30:00+01:00")) == nil)
    }

    @Test func berlinDurationIsElapsedTimeOnShortAndLongDays() throws {
        let window = try Fixture.window("0 0 * * *", minutes: 4 * 60, zone: "Europe/Berlin")
        // 23-hour day: midnight CET + 4 h = 05:00 CEST.
        let spring = try #require(window.occurrence(containing: try Fixture.instant("2024-03-31T02:30:00Z")))
        #expect(spring.start == (try Fixture.instant("2024-03-31T00:00:00+01:00")))
        #expect(Fixture.wallClock(spring.end, in: "Europe/Berlin") == "2024-03-31 05:00")
        // 25-hour day: midnight CEST + 4 h = 03:00 CET.
        let autumn = try #require(window.occurrence(containing: try Fixture.instant("2024-10-27T01:30:00Z")))
        #expect(autumn.start == (try Fixture.instant("2024-10-27T00:00:00+02:00")))
        #expect(Fixture.wallClock(autumn.end, in: "Europe/Berlin") == "2024-10-27 03:00")
        #expect(window.occurrence(containing: autumn.end) == nil)
    }

    // MARK: - Daylight saving: America/New_York (spring 2024-03-10 02:00 → 03:00, autumn 2024-11-03 02:00 → 01:00)

    @Test func newYorkStartSkippedBySpringForwardOpensWhenTheGapEnds() throws {
        let window = try Fixture.window("30 2 * * *", minutes: 60, zone: "America/New_York")
        #expect(window.nextStart(after: try Fixture.instant("2024-03-08T12:00:00Z")) == (try Fixture.instant("2024-03-09T02:30:00-05:00")))
        let opening = window.nextStart(after: try Fixture.instant("2024-03-09T12:00:00Z"))
        #expect(opening == (try Fixture.instant("2024-03-10T07:00:00Z")))
        #expect(Fixture.wallClock(opening, in: "America/New_York") == "2024-03-10 03:00")
        #expect(window.nextStart(after: try Fixture.instant("2024-03-10T07:00:00Z")) == (try Fixture.instant("2024-03-11T02:30:00-04:00")))
    }

    @Test func newYorkRepeatedTimeOpensOnceAtTheFirstInstance() throws {
        let window = try Fixture.window("30 1 * * *", minutes: 60, zone: "America/New_York")
        let firstInstance = try Fixture.instant("2024-11-03T01:30:00-04:00")
        #expect(window.nextStart(after: try Fixture.instant("2024-11-02T12:00:00Z")) == firstInstance)
        #expect(window.nextStart(after: firstInstance) == (try Fixture.instant("2024-11-04T01:30:00-05:00")))
        // 01:10 EST: read before the start, but 40 real minutes after it.
        #expect(window.occurrence(containing: try Fixture.instant("2024-11-03T01:10:00-05:00"))
            == DateInterval(start: firstInstance, duration: 3600))
        // 01:40 EST: the repeated 01:30 does not open again.
        #expect(window.occurrence(containing: try Fixture.instant("2024-11-03T01:40:00-05:00")) == nil)
    }

    // MARK: - Daylight saving: Australia/Lord_Howe, a 30-minute shift (+10:30 ↔ +11)

    @Test func lordHoweStartSkippedByHalfHourSpringForward() throws {
        // 2024-10-06 02:00 +10:30 → 02:30 +11 (2024-10-05T15:30Z).
        let inGap = try Fixture.window("15 2 * * *", minutes: 30, zone: "Australia/Lord_Howe")
        #expect(inGap.nextStart(after: try Fixture.instant("2024-10-04T12:00:00Z")) == (try Fixture.instant("2024-10-05T02:15:00+10:30")))
        let opening = inGap.nextStart(after: try Fixture.instant("2024-10-05T12:00:00Z"))
        #expect(opening == (try Fixture.instant("2024-10-05T15:30:00Z")))
        #expect(Fixture.wallClock(opening, in: "Australia/Lord_Howe") == "2024-10-06 02:30")
        let afterGap = try Fixture.window("45 2 * * *", minutes: 30, zone: "Australia/Lord_Howe")
        #expect(afterGap.nextStart(after: try Fixture.instant("2024-10-05T12:00:00Z")) == (try Fixture.instant("2024-10-06T02:45:00+11:00")))
    }

    @Test func lordHoweRepeatedHalfHourOpensOnce() throws {
        // 2024-04-07 02:00 +11 → 01:30 +10:30 (2024-04-06T15:00Z): 01:30–02:00 repeats.
        let window = try Fixture.window("45 1 * * *", minutes: 10, zone: "Australia/Lord_Howe")
        let firstInstance = try Fixture.instant("2024-04-07T01:45:00+11:00")
        #expect(window.nextStart(after: try Fixture.instant("2024-04-06T00:00:00Z")) == firstInstance)
        #expect(window.nextStart(after: firstInstance) == (try Fixture.instant("2024-04-08T01:45:00+10:30")))
        #expect(window.occurrence(containing: try Fixture.instant("2024-04-07T01:50:00+11:00"))
            == DateInterval(start: firstInstance, duration: 600))
        #expect(window.occurrence(containing: try Fixture.instant("2024-04-07T01:50:00+10:30")) == nil)
    }

    // MARK: - Against a minute-by-minute scan

    /// Around every DST transition of 2024–2025, the starts chained through `nextStart` and the occurrences
    /// seen by `occurrence(containing:)` equal those of a naive scan that reads each minute with a `Calendar`.
    @Test(arguments: ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
    func agreesWithAMinuteByMinuteCalendarScan(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let calendar = Fixture.calendar(zone: zone)
        let yearsEnd = try Fixture.instant("2026-01-01T00:00:00Z")
        var transitions: [Date] = []
        var cursor = try Fixture.instant("2024-01-01T00:00:00Z")
        while let transition = timeZone.nextDaylightSavingTimeTransition(after: cursor), transition < yearsEnd, transitions.count < 8 {
            transitions.append(transition)
            cursor = transition
        }
        if transitions.isEmpty {
            transitions = [try Fixture.instant("2024-06-01T00:00:00Z")]
        }
        let crons = ["*/15 0-3 * * *", "30 2 * * *", "45 1 * * *", "0 1 * * SUN", "0 0 * * *", "59 23 * * *"]
        for cronText in crons {
            let window = MaintenanceWindow(cron: try CronExpression(parsing: cronText), durationSeconds: 90 * 60, timeZone: timeZone)
            for transition in transitions {
                let scanStart = transition.addingTimeInterval(-2 * 86_400)
                let scanEnd = transition.addingTimeInterval(86_400)
                let context: Comment = "\(cronText) in \(zone) around \(transition)"
                let expected = Self.startsByScanning(window, calendar: calendar, from: scanStart, to: scanEnd)

                var chained: [Date] = []
                var after = scanStart.addingTimeInterval(-1)
                while let start = window.nextStart(after: after), start < scanEnd, chained.count <= expected.count {
                    chained.append(start)
                    after = start
                }
                #expect(chained == expected, context)

                var probe = transition.addingTimeInterval(-86_400)
                while probe < scanEnd {
                    let expectedStart = expected.last { $0 <= probe && probe.timeIntervalSince($0) < 90 * 60 }
                    #expect(window.occurrence(containing: probe) == expectedStart.map { DateInterval(start: $0, duration: 90 * 60) },
                            "\(context), at \(probe)")
                    probe.addTimeInterval(7 * 60)
                }
            }
        }
    }

    /// Starts by brute force: each real minute is read with the calendar; a reading opens the window the first
    /// time the clock shows it, and readings a forward jump skips open at the jump.
    private static func startsByScanning(_ window: MaintenanceWindow, calendar: Calendar, from start: Date, to end: Date) -> [Date] {
        var readingsShown = Set<DateComponents>()
        var starts: [Date] = []
        var minute = start
        while minute < end {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: minute)
            let isFirstShowing = readingsShown.insert(DateComponents(year: parts.year, month: parts.month, day: parts.day,
                                                                     hour: parts.hour, minute: parts.minute)).inserted
            if isFirstShowing, Self.cron(window.cron, matches: parts), starts.last != minute {
                starts.append(minute)
            }
            let next = minute.addingTimeInterval(60)
            let jumpSeconds = window.timeZone.secondsFromGMT(for: next) - window.timeZone.secondsFromGMT(for: minute)
            if jumpSeconds > 0 {
                // What the clock would have shown had it not jumped, read on a fixed-offset calendar.
                var unjumped = calendar
                unjumped.timeZone = TimeZone(secondsFromGMT: window.timeZone.secondsFromGMT(for: minute)) ?? calendar.timeZone
                let skippedMatches = (1...(jumpSeconds / 60)).contains { skipped in
                    let skippedParts = unjumped.dateComponents([.month, .day, .hour, .minute, .weekday],
                                                               from: minute.addingTimeInterval(Double(skipped * 60)))
                    return Self.cron(window.cron, matches: skippedParts)
                }
                if skippedMatches { starts.append(next) }
            }
            minute = next
        }
        return starts
    }

    private static func cron(_ cron: CronExpression, matches parts: DateComponents) -> Bool {
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
              let weekday = parts.weekday
        else { return false }
        return cron.matches(minute: minute, hour: hour, dayOfMonth: day, month: month, weekday: weekday - 1)
    }

    // MARK: - occurrence(containing:)

    @Test func windowSpanningMidnight() throws {
        let nightly = try Fixture.window("0 22 * * *", minutes: 4 * 60, zone: "Europe/Berlin")
        #expect(nightly.occurrence(containing: try Fixture.instant("2024-06-02T01:00:00+02:00"))
            == DateInterval(start: try Fixture.instant("2024-06-01T22:00:00+02:00"), end: try Fixture.instant("2024-06-02T02:00:00+02:00")))
        #expect(nightly.occurrence(containing: try Fixture.instant("2024-06-02T02:00:00+02:00")) == nil, "the end is exclusive")
        #expect(nightly.occurrence(containing: try Fixture.instant("2024-06-01T22:00:00+02:00"))?.start
            == (try Fixture.instant("2024-06-01T22:00:00+02:00")), "the start is inclusive")

        // Friday 23:00 for 6 h is open early on Saturday, which the cron itself does not match.
        let fridayNight = try Fixture.window("0 23 * * FRI", minutes: 6 * 60, zone: "Europe/Berlin")
        #expect(fridayNight.occurrence(containing: try Fixture.instant("2024-06-08T03:00:00+02:00"))?.start
            == (try Fixture.instant("2024-06-07T23:00:00+02:00")))
        #expect(fridayNight.occurrence(containing: try Fixture.instant("2024-06-09T03:00:00+02:00")) == nil)
    }

    @Test func overlappingOccurrencesReturnTheOneEndingLast() throws {
        let window = try Fixture.window("0 * * * *", minutes: 90, zone: "UTC")
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-01T10:20:00Z"))
            == DateInterval(start: try Fixture.instant("2024-06-01T10:00:00Z"), end: try Fixture.instant("2024-06-01T11:30:00Z")))
        let everyMinuteForADay = try Fixture.window("* * * * *", minutes: 24 * 60, zone: "Asia/Kolkata")
        #expect(everyMinuteForADay.occurrence(containing: try Fixture.instant("2024-06-01T10:20:30Z"))
            == DateInterval(start: try Fixture.instant("2024-06-01T10:20:00Z"), duration: 86_400))
    }

    @Test func longWindowLooksBackOverItsWholeDuration() throws {
        let window = try Fixture.window("0 0 1 * *", minutes: 3 * 24 * 60, zone: "UTC")
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-03T23:59:00Z"))?.start == (try Fixture.instant("2024-06-01T00:00:00Z")))
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-04T00:00:00Z")) == nil)
    }

    @Test func nonPositiveDurationNeverOpens() throws {
        let window = try Fixture.window("* * * * *", minutes: 0, zone: "UTC")
        #expect(window.occurrence(containing: try Fixture.instant("2024-06-01T10:00:00Z")) == nil)
    }

    // MARK: - Codable and equality

    @Test func encodesCronDurationAndZoneIdentifier() throws {
        let window = try Fixture.window("30 2 * * MON-FRI", minutes: 60, zone: "Europe/Berlin")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(window), as: UTF8.self)
        #expect(json == #"{"cron":"30 2 * * MON-FRI","durationSeconds":3600,"timeZone":"Europe/Berlin"}"#)
        let decoded = try JSONDecoder().decode(MaintenanceWindow.self, from: Data(json.utf8))
        #expect(decoded == window)
        #expect(decoded.nextStart(after: try Fixture.instant("2024-06-03T00:00:00Z")) == (try Fixture.instant("2024-06-03T02:30:00+02:00")))
    }

    @Test(arguments: [
        #"{"cron":"0 25 * * *","durationSeconds":3600,"timeZone":"UTC"}"#,
        #"{"cron":"0 2 * * *","durationSeconds":3600,"timeZone":"Mars/Olympus_Mons"}"#,
        #"{"cron":"0 2 * * *","durationSeconds":0,"timeZone":"UTC"}"#,
        #"{"cron":"0 2 * * *","durationSeconds":-60,"timeZone":"UTC"}"#,
        #"{"cron":"0 2 * * *","durationSeconds":31708800,"timeZone":"UTC"}"#,
        #"{"cron":"0 2 * * *","timeZone":"UTC"}"#,
    ])
    func decodingRejectsInvalidWindows(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(MaintenanceWindow.self, from: Data(json.utf8))
        }
    }

    @Test func equalityComparesCronDurationAndZone() throws {
        let window = try Fixture.window("0 2 * * *", minutes: 60, zone: "Europe/Berlin")
        #expect(window == (try Fixture.window("0 2 * * *", minutes: 60, zone: "Europe/Berlin")))
        #expect(window != (try Fixture.window("0 2 * * *", minutes: 60, zone: "America/New_York")))
        #expect(window != (try Fixture.window("0 2 * * *", minutes: 61, zone: "Europe/Berlin")))
        #expect(window != (try Fixture.window("0 3 * * *", minutes: 60, zone: "Europe/Berlin")))
    }
}
