import Foundation
import Testing
@testable import RolloutCore

@Suite struct CronExpressionTests {
    // MARK: - Valid expressions

    @Test func keepsTheSourceAsWritten() throws {
        let cron = try CronExpression(parsing: " 0  2 * *\tsun ")
        #expect(cron.source == " 0  2 * *\tsun ")
        #expect(cron.description == cron.source)
        #expect(cron.matches(minute: 0, hour: 2, dayOfMonth: 7, month: 1, weekday: 0))
    }

    @Test func wildcardMatchesEveryMinute() throws {
        let cron = try CronExpression(parsing: "* * * * *")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: 0))
        #expect(cron.matches(minute: 59, hour: 23, dayOfMonth: 31, month: 12, weekday: 6))
    }

    @Test func numbersRangesAndLists() throws {
        let cron = try CronExpression(parsing: "0,30 1-3,22 * * *")
        for hour in [1, 2, 3, 22] {
            #expect(cron.matches(minute: 0, hour: hour, dayOfMonth: 5, month: 5, weekday: 3))
            #expect(cron.matches(minute: 30, hour: hour, dayOfMonth: 5, month: 5, weekday: 3))
        }
        #expect(!cron.matches(minute: 15, hour: 1, dayOfMonth: 5, month: 5, weekday: 3))
        #expect(!cron.matches(minute: 0, hour: 4, dayOfMonth: 5, month: 5, weekday: 3))
        #expect(!cron.matches(minute: 0, hour: 21, dayOfMonth: 5, month: 5, weekday: 3))
    }

    @Test func stepsOverTheWholeFieldAndOverRanges() throws {
        let everySeventhMinute = try CronExpression(parsing: "*/7 * * * *")
        let minutes = (0...59).filter { everySeventhMinute.matches(minute: $0, hour: 0, dayOfMonth: 1, month: 1, weekday: 1) }
        #expect(minutes == [0, 7, 14, 21, 28, 35, 42, 49, 56])

        let rangeStep = try CronExpression(parsing: "10-50/20 9-17/4 * * *")
        let rangeMinutes = (0...59).filter { rangeStep.matches(minute: $0, hour: 9, dayOfMonth: 1, month: 1, weekday: 1) }
        #expect(rangeMinutes == [10, 30, 50])
        let hours = (0...23).filter { rangeStep.matches(minute: 10, hour: $0, dayOfMonth: 1, month: 1, weekday: 1) }
        #expect(hours == [9, 13, 17])

        let stepLargerThanRange = try CronExpression(parsing: "*/90 * * * *")
        let onlyZero = (0...59).filter { stepLargerThanRange.matches(minute: $0, hour: 0, dayOfMonth: 1, month: 1, weekday: 1) }
        #expect(onlyZero == [0])
    }

    @Test func monthNamesAreCaseInsensitiveAndFormRanges() throws {
        let cron = try CronExpression(parsing: "0 0 1 jan,Jul,MAR-may *")
        let months = (1...12).filter { cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: $0, weekday: 1) }
        #expect(months == [1, 3, 4, 5, 7])
    }

    @Test func weekdayNamesAreCaseInsensitiveAndFormRanges() throws {
        let cron = try CronExpression(parsing: "0 0 * * mon-Wed,fri")
        let weekdays = (0...6).filter { cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: $0) }
        #expect(weekdays == [1, 2, 3, 5])
    }

    @Test func sundayIsZeroAndSeven() throws {
        for text in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN"] {
            let cron = try CronExpression(parsing: text)
            let weekdays = (0...6).filter { cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: $0) }
            #expect(weekdays == [0], "\(text)")
            #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: 7), "weekday 7 is Sunday too")
        }
        for text in ["0 0 * * 5-7", "0 0 * * FRI-SUN", "0 0 * * fri-7"] {
            let cron = try CronExpression(parsing: text)
            let weekdays = (0...6).filter { cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: $0) }
            #expect(weekdays == [0, 5, 6], "\(text)")
        }
    }

    // MARK: - Day-of-month / day-of-week (Vixie)

    @Test func restrictedDayOfMonthAndWeekdayMatchEither() throws {
        // "the 13th, and every Friday"
        let cron = try CronExpression(parsing: "0 0 13 * FRI")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 13, month: 6, weekday: 4), "Thursday the 13th")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 6, month: 6, weekday: 5), "Friday the 6th")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 13, month: 6, weekday: 5), "Friday the 13th")
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 12, month: 6, weekday: 4))
    }

    @Test func wildcardDayFieldMeansTheOtherDecides() throws {
        let fridays = try CronExpression(parsing: "0 0 * * FRI")
        #expect(fridays.matches(minute: 0, hour: 0, dayOfMonth: 6, month: 6, weekday: 5))
        #expect(!fridays.matches(minute: 0, hour: 0, dayOfMonth: 13, month: 6, weekday: 4))

        let thirteenths = try CronExpression(parsing: "0 0 13 * *")
        #expect(thirteenths.matches(minute: 0, hour: 0, dayOfMonth: 13, month: 6, weekday: 4))
        #expect(!thirteenths.matches(minute: 0, hour: 0, dayOfMonth: 6, month: 6, weekday: 5))
    }

    @Test func fieldStartingWithStarCountsAsUnrestrictedLikeVixie() throws {
        // Vixie sets DOM_STAR from the first character, so `*/2` with a weekday means both must match.
        let cron = try CronExpression(parsing: "0 0 */2 * MON")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 3, month: 6, weekday: 1), "odd day, Monday")
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 10, month: 6, weekday: 1), "even day, Monday")
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 3, month: 6, weekday: 2), "odd day, Tuesday")
    }

    @Test func monthRestrictsEvenWhenDaysMatchEither() throws {
        let cron = try CronExpression(parsing: "0 0 1 JAN MON")
        #expect(cron.matches(minute: 0, hour: 0, dayOfMonth: 8, month: 1, weekday: 1))
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 2, weekday: 3))
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 5, month: 2, weekday: 1))
    }

    @Test func outOfRangeQueriesDoNotMatch() throws {
        let cron = try CronExpression(parsing: "* * * * *")
        #expect(!cron.matches(minute: 60, hour: 0, dayOfMonth: 1, month: 1, weekday: 0))
        #expect(!cron.matches(minute: -1, hour: 0, dayOfMonth: 1, month: 1, weekday: 0))
        #expect(!cron.matches(minute: 0, hour: 24, dayOfMonth: 1, month: 1, weekday: 0))
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 32, month: 1, weekday: 0))
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 13, weekday: 0))
        #expect(!cron.matches(minute: 0, hour: 0, dayOfMonth: 1, month: 1, weekday: 8))
    }

    // MARK: - Errors

    @Test func outOfRangeHourSaysFieldAndExpectation() {
        #expect(throws: CronError(message: "hour field '25': expected 0-23")) {
            try CronExpression(parsing: "0 25 * * *")
        }
    }

    @Test(arguments: [
        ("", "expected 5 fields (minute hour day-of-month month day-of-week), found 0 in ''"),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4 in '* * * *'"),
        ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6 in '* * * * * *'"),
        ("60 * * * *", "minute field '60': expected 0-59"),
        ("0,60 * * * *", "minute field '0,60': expected 0-59, found '60'"),
        ("* * 0 * *", "day-of-month field '0': expected 1-31"),
        ("* * 32 * *", "day-of-month field '32': expected 1-31"),
        ("* * * 13 *", "month field '13': expected 1-12 or JAN-DEC"),
        ("* * * JANUARY *", "month field 'JANUARY': expected 1-12 or JAN-DEC"),
        ("* * * * 8", "day-of-week field '8': expected 0-7 or SUN-SAT"),
        ("* * * * MON-FUN", "day-of-week field 'MON-FUN': expected 0-7 or SUN-SAT, found 'FUN'"),
        ("* MON * * *", "hour field 'MON': expected 0-23"),
        ("* * * MON *", "month field 'MON': expected 1-12 or JAN-DEC"),
        ("* * * * JAN", "day-of-week field 'JAN': expected 0-7 or SUN-SAT"),
        ("5-2 * * * *", "minute field '5-2': range '5-2' starts after it ends"),
        ("* * * DEC-JAN *", "month field 'DEC-JAN': range 'DEC-JAN' starts after it ends"),
        ("*/0 * * * *", "minute field '*/0': step '0': expected a positive number"),
        ("*/x * * * *", "minute field '*/x': step 'x': expected a positive number"),
        ("*/ * * * *", "minute field '*/': step '': expected a positive number"),
        ("5/10 * * * *", "minute field '5/10': a step needs '*' or a range before '/', as in '*/10'"),
        ("1/2/3 * * * *", "minute field '1/2/3': '1/2/3' has more than one '/'"),
        ("1,,2 * * * *", "minute field '1,,2': empty list item"),
        ("1, * * * *", "minute field '1,': empty list item"),
        ("1-2-3 * * * *", "minute field '1-2-3': '1-2-3': expected a value or a range a-b"),
        ("-5 * * * *", "minute field '-5': expected 0-59, found ''"),
        ("+5 * * * *", "minute field '+5': expected 0-59"),
        ("** * * * *", "minute field '**': expected 0-59"),
    ])
    func rejectsWithAReadableMessage(text: String, message: String) {
        #expect(throws: CronError(message: message)) {
            try CronExpression(parsing: text)
        }
    }

    @Test func errorDescriptionIsTheMessage() {
        let error = CronError(message: "hour field '25': expected 0-23")
        #expect(error.description == error.message)
    }

    // MARK: - Codable and equality

    @Test func encodesAsTheSourceString() throws {
        let cron = try CronExpression(parsing: "30 2 * * mon-fri")
        let data = try JSONEncoder().encode(cron)
        #expect(String(decoding: data, as: UTF8.self) == #""30 2 * * mon-fri""#)
        let decoded = try JSONDecoder().decode(CronExpression.self, from: data)
        #expect(decoded == cron)
        #expect(decoded.matches(minute: 30, hour: 2, dayOfMonth: 1, month: 1, weekday: 1))
    }

    @Test func decodingParsesAgainAndRejectsBadExpressions() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CronExpression.self, from: Data(#""0 25 * * *""#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CronExpression.self, from: Data("42".utf8))
        }
    }

    @Test func equalityFollowsTheSource() throws {
        #expect(try CronExpression(parsing: "0 2 * * *") == CronExpression(parsing: "0 2 * * *"))
        #expect(try CronExpression(parsing: "0 2 * * *") != CronExpression(parsing: "0 3 * * *"))
    }
}
