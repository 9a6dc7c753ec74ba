import Foundation
import RolloutCore
import RolloutText
import Testing

@Suite struct PreflightTextTests {
    let start = PlanParser.parseTimestamp("2026-03-02T10:00:00Z")!

    func stage(_ devices: Int, targeting: LaunchProjection.Targeting, creation: Double, notification: Double,
               bake: Int = 3600, windowWait: Int = 0) -> LaunchProjection.Stage {
        LaunchProjection.Stage(stage: "wave-3", devices: devices, targeting: targeting, windowWaitSeconds: windowWait,
                               earliestStart: start, jobCreationSeconds: creation, notificationsPerMinute: 1000,
                               notificationSeconds: notification, bakeSeconds: bake, approvalRequired: false,
                               earliestBakeEnd: start.addingTimeInterval(creation + Double(bake)),
                               notificationsOutlastBake: notification > Double(bake))
    }

    @Test func aStageLineSaysSizeCreationNotificationsAndStart() {
        let line = PreflightText.stage(stage(500_000, targeting: .rings, creation: 2, notification: 30_000),
                                       groupFillPerSecond: 20)
        #expect(line == "wave-3: 500,000 devices; job created in ~2 s (rings); notifications take ≥ 8 h 20 m at "
                    + "1,000 per minute; bake 1h; earliest start 2026-03-02T10:00:00Z; "
                    + "the bake ends before every device is notified")
    }

    @Test func aTemporaryGroupSaysItsFillRateAndAWindowItsWait() {
        let line = PreflightText.stage(stage(2_000, targeting: .temporaryGroup, creation: 102, notification: 120,
                                             windowWait: 5400), groupFillPerSecond: 20)
        #expect(line.contains("job created in ~1 m 42 s (temporary group filled at 20/s)"))
        #expect(line.contains("notifications take ≥ 2 m at 1,000 per minute"))
        #expect(line.contains("(after 1 h 30 m for a window)"))
        #expect(!line.contains("the bake ends before"))
    }

    @Test func durationsRoundUpAndCountsGroupThousands() {
        #expect(PreflightText.duration(0.2) == "1 s")
        #expect(PreflightText.duration(61) == "1 m 1 s")
        #expect(PreflightText.duration(7200) == "2 h")
        #expect(PreflightText.duration(90_000) == "1 d 1 h")
        #expect(PreflightText.count(1_000_000) == "1,000,000")
        #expect(PreflightText.count(12.5) == "12.5")
    }
}
