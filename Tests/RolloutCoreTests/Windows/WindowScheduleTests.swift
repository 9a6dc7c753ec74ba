import Foundation
import Testing
@testable import RolloutCore

@Suite struct WindowScheduleTests {
    private typealias Fixture = WindowFixtures

    @Test func noWindowsMeansAlwaysOpenAndNeverClosing() throws {
        let date = try Fixture.instant("2024-06-05T03:00:00Z")
        #expect(WindowSchedule.isOpen(at: date, windows: []))
        #expect(WindowSchedule.nextOpening(atOrAfter: date, windows: []) == date)
        #expect(WindowSchedule.closing(openAt: date, windows: []) == nil)
    }

    /// Weeknights in Berlin, weekend mornings in New York, a morning hour in Kolkata.
    private func severalWindows() throws -> [MaintenanceWindow] {
        [
            try Fixture.window("0 1 * * MON-FRI", minutes: 3 * 60, zone: "Europe/Berlin"),
            try Fixture.window("0 10 * * SAT,SUN", minutes: 2 * 60, zone: "America/New_York"),
            try Fixture.window("30 9 * * *", minutes: 60, zone: "Asia/Kolkata"),
        ]
    }

    @Test func openWhenAnyWindowIsOpen() throws {
        let windows = try severalWindows()
        // Wednesday 02:00 CEST: Berlin's 01:00–04:00.
        let berlinNight = try Fixture.instant("2024-06-05T00:00:00Z")
        #expect(WindowSchedule.isOpen(at: berlinNight, windows: windows))
        #expect(WindowSchedule.nextOpening(atOrAfter: berlinNight, windows: windows) == berlinNight)
        #expect(WindowSchedule.closing(openAt: berlinNight, windows: windows) == (try Fixture.instant("2024-06-05T04:00:00+02:00")))
        // 10:00 IST: Kolkata's 09:30–10:30.
        let kolkataMorning = try Fixture.instant("2024-06-05T04:30:00Z")
        #expect(WindowSchedule.isOpen(at: kolkataMorning, windows: windows))
        #expect(WindowSchedule.closing(openAt: kolkataMorning, windows: windows) == (try Fixture.instant("2024-06-05T10:30:00+05:30")))
        // Saturday 10:30 EDT: New York's 10:00–12:00.
        let newYorkSaturday = try Fixture.instant("2024-06-08T14:30:00Z")
        #expect(WindowSchedule.isOpen(at: newYorkSaturday, windows: windows))
        #expect(WindowSchedule.closing(openAt: newYorkSaturday, windows: windows) == (try Fixture.instant("2024-06-08T12:00:00-04:00")))
    }

    @Test func closedUntilTheEarliestNextStart() throws {
        let windows = try severalWindows()
        // Wednesday 03:00 UTC: Berlin closed at 02:00 UTC, Kolkata opens at 04:00 UTC.
        let wednesday = try Fixture.instant("2024-06-05T03:00:00Z")
        #expect(!WindowSchedule.isOpen(at: wednesday, windows: windows))
        #expect(WindowSchedule.closing(openAt: wednesday, windows: windows) == nil)
        #expect(WindowSchedule.nextOpening(atOrAfter: wednesday, windows: windows) == (try Fixture.instant("2024-06-05T09:30:00+05:30")))
        // Saturday 05:00 UTC: no Berlin night on weekends, New York opens before Kolkata's next morning.
        let saturday = try Fixture.instant("2024-06-08T05:00:00Z")
        #expect(!WindowSchedule.isOpen(at: saturday, windows: windows))
        #expect(WindowSchedule.nextOpening(atOrAfter: saturday, windows: windows) == (try Fixture.instant("2024-06-08T10:00:00-04:00")))
    }

    @Test func closingIsTheLatestEndAmongOpenWindows() throws {
        let early = try Fixture.window("0 1 * * *", minutes: 2 * 60, zone: "UTC")
        let late = try Fixture.window("30 1 * * *", minutes: 3 * 60, zone: "UTC")
        let bothOpen = try Fixture.instant("2024-06-05T01:45:00Z")
        #expect(WindowSchedule.closing(openAt: bothOpen, windows: [early, late]) == (try Fixture.instant("2024-06-05T04:30:00Z")))
        #expect(WindowSchedule.closing(openAt: bothOpen, windows: [late, early]) == (try Fixture.instant("2024-06-05T04:30:00Z")))
        // A window opening later is not chained in: at 01:45 only `early` is open.
        let following = try Fixture.window("30 2 * * *", minutes: 2 * 60, zone: "UTC")
        #expect(WindowSchedule.closing(openAt: bothOpen, windows: [early, following]) == (try Fixture.instant("2024-06-05T03:00:00Z")))
    }

    @Test func windowsThatNeverOpen() throws {
        let februaryThirtieth = try Fixture.window("0 0 30 2 *", minutes: 60, zone: "UTC")
        let noDuration = try Fixture.window("* * * * *", minutes: 0, zone: "UTC")
        let date = try Fixture.instant("2024-01-01T00:00:00Z")
        #expect(!WindowSchedule.isOpen(at: date, windows: [februaryThirtieth, noDuration]))
        #expect(WindowSchedule.nextOpening(atOrAfter: date, windows: [februaryThirtieth, noDuration]) == nil)
        #expect(WindowSchedule.closing(openAt: date, windows: [februaryThirtieth, noDuration]) == nil)
        let daily = try Fixture.window("0 6 * * *", minutes: 60, zone: "UTC")
        #expect(WindowSchedule.nextOpening(atOrAfter: date, windows: [februaryThirtieth, noDuration, daily])
            == (try Fixture.instant("2024-01-01T06:00:00Z")))
    }

    // MARK: - Property: nextOpening is the first open minute

    /// Windows chosen to hit DST gaps and repeats (Berlin 02:30, New York Sunday 01:00, Lord Howe 02:00–02:40),
    /// a half-hour zone and the day-of-month / weekday either-rule (Kolkata).
    private func propertyWindows() throws -> [MaintenanceWindow] {
        [
            try Fixture.window("30 2 * * *", minutes: 45, zone: "Europe/Berlin"),
            try Fixture.window("0 1 * * SUN", minutes: 3 * 60, zone: "America/New_York"),
            try Fixture.window("*/40 2 * * 1-5", minutes: 15, zone: "Australia/Lord_Howe"),
            try Fixture.window("15 9-17/4 1,15 * FRI", minutes: 30, zone: "Asia/Kolkata"),
        ]
    }

    /// DST transitions of the zones above, 2024–2025: half the samples fall within a day and a half of one.
    private static let transitions: [String] = [
        "2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z", "2025-03-30T01:00:00Z", "2025-10-26T01:00:00Z",
        "2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z", "2025-03-09T07:00:00Z", "2025-11-02T06:00:00Z",
        "2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z", "2025-04-05T15:00:00Z", "2025-10-04T15:30:00Z",
    ]

    @Test(arguments: [UInt64(20_240_331), 0x5EED_CAFE])
    func nextOpeningIsOpenAndNothingEarlierIs(seed: UInt64) throws {
        let windows = try propertyWindows()
        let transitions = try Self.transitions.map { try Fixture.instant($0) }
        let rangeStart = try Fixture.instant("2020-01-01T00:00:00Z").timeIntervalSince1970
        let rangeEnd = try Fixture.instant("2030-01-01T00:00:00Z").timeIntervalSince1970
        let steppedMinutesMax = 8 * 60
        var generator = SplitMix64(seed: seed)
        for sample in 0..<150 {
            let date: Date
            if sample.isMultiple(of: 2) {
                let transition = transitions[Int(generator.next() % UInt64(transitions.count))]
                let secondsAround = Double(generator.next() % (3 * 86_400)) - 1.5 * 86_400
                date = transition.addingTimeInterval(secondsAround)
            } else {
                date = Date(timeIntervalSince1970: rangeStart + Double(generator.next() % UInt64(rangeEnd - rangeStart)))
            }
            let context: Comment = "seed \(seed), sample \(sample), date \(date)"

            let opening = try #require(WindowSchedule.nextOpening(atOrAfter: date, windows: windows), context)
            #expect(opening >= date, context)
            #expect(WindowSchedule.isOpen(at: opening, windows: windows), context)
            let closing = try #require(WindowSchedule.closing(openAt: opening, windows: windows), context)
            #expect(closing > opening, context)
            guard opening > date else { continue }

            #expect(!WindowSchedule.isOpen(at: date, windows: windows), context)
            var probe = date.addingTimeInterval(60)
            var steppedMinutes = 0
            while probe < opening && steppedMinutes < steppedMinutesMax {
                #expect(!WindowSchedule.isOpen(at: probe, windows: windows), "\(context), open at \(probe)")
                probe.addTimeInterval(60)
                steppedMinutes += 1
            }
            #expect(Self.opensByCalendar(at: opening, windows: windows), context)
        }
    }

    /// Independent check of an opening with a gregorian `Calendar` in the window's zone: some window starts
    /// there, and its cron matches the local time, unless the clock jumped at that instant (a start skipped
    /// by a spring-forward gap opens at the end of the gap).
    private static func opensByCalendar(at opening: Date, windows: [MaintenanceWindow]) -> Bool {
        windows.contains { window in
            guard window.occurrence(containing: opening)?.start == opening else { return false }
            let zone = window.timeZone
            if zone.secondsFromGMT(for: opening.addingTimeInterval(-1)) != zone.secondsFromGMT(for: opening) {
                return true
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let parts = calendar.dateComponents([.month, .day, .hour, .minute, .weekday], from: opening)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour,
                  let minute = parts.minute, let weekday = parts.weekday
            else { return false }
            return window.cron.matches(minute: minute, hour: hour, dayOfMonth: day, month: month, weekday: weekday - 1)
        }
    }

    @Test("open time adds up across windows: 5h of a nightly 02:00–04:00 window end on the third night at 03:00")
    func endOfOpenTimeCountsOnlyInsideWindows() throws {
        let nightly = [try Fixture.window("0 2 * * *", minutes: 120, zone: "UTC")]
        let inside = try Fixture.instant("2024-06-05T03:00:00Z")
        // 1h left tonight, 2h tomorrow night, 2h the night after.
        #expect(WindowSchedule.endOfOpenTime(from: inside, seconds: 5 * 3600, windows: nightly)
                == (try Fixture.instant("2024-06-07T04:00:00Z")))
        let outside = try Fixture.instant("2024-06-05T12:00:00Z")
        #expect(WindowSchedule.endOfOpenTime(from: outside, seconds: 3600, windows: nightly)
                == (try Fixture.instant("2024-06-06T03:00:00Z")))
        #expect(WindowSchedule.endOfOpenTime(from: outside, seconds: 0, windows: nightly) == outside)
        #expect(WindowSchedule.endOfOpenTime(from: outside, seconds: 60, windows: []) == outside.addingTimeInterval(60))
        let never = [try Fixture.window("0 2 30 2 *", minutes: 60, zone: "UTC")]  // 30 February
        #expect(WindowSchedule.endOfOpenTime(from: outside, seconds: 60, windows: never) == nil)
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a failing sample reproduces from its seed.
private struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
