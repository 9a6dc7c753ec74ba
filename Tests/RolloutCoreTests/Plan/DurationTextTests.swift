import Testing
@testable import RolloutCore

@Suite struct DurationTextTests {
    @Test(arguments: [("90s", 90), ("30m", 1800), ("4h", 14400), ("2d", 172_800), ("1h30m", 5400), ("0", 0)])
    func parses(text: String, seconds: Int) {
        #expect(DurationText.parseSeconds(text) == seconds)
    }

    @Test(arguments: ["", "5", "-5m", "1.5h", "h", "10 m", "1w", "400d", "9999999999s"])
    func refuses(text: String) {
        #expect(DurationText.parseSeconds(text) == nil)
    }

    @Test func formatsRoundTrip() {
        for seconds in [0, 1, 59, 60, 3600, 5400, 86400, 90061] {
            #expect(DurationText.parseSeconds(DurationText.format(seconds)) == seconds)
        }
        #expect(DurationText.format(5400) == "1h30m")
    }
}
