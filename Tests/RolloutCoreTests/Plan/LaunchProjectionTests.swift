import Foundation
import Testing
@testable import RolloutCore

/// The launch projection of `rollout preflight`, rule by rule: targeting, job creation, notification time, bakes
/// after creation, windows, and the report's verdict.
@Suite struct LaunchProjectionTests {
    let now = PlanParser.parseTimestamp("2026-03-02T00:00:00Z")!
    let rates = LaunchProjection.Rates(groupFillPerSecond: 20)

    /// A million devices: canary 50, 1%, 50% (wave-2 of 500,000 after the first two), 100%.
    func millionPlan(job: String = "job: {maxPerMinute: 1000}", extra: String = "") throws -> RolloutPlan {
        try parsePlan(planText(canary: "canary: {devices: 50, bake: 30m}",
                               waves: "waves:\n  - {percent: 1, bake: 2h}\n  - {percent: 50, bake: 4h}\n  - {percent: 100, bake: 4h}",
                               extra: job + "\n" + extra))
    }

    @Test func aHalfMillionWaveOnRingsIsCreatedInSecondsAndNotifiedInHours() throws {
        let stages = LaunchProjection.calculate(plan: try millionPlan(), eligible: 1_000_000, ringCount: 64,
                                                rates: rates, now: now)
        #expect(stages.map(\.stage) == ["canary", "wave-1", "wave-2", "wave-3"])
        #expect(stages.map(\.devices) == [50, 9_950, 490_000, 500_000])
        #expect(stages.map(\.targeting) == [.things, .rings, .rings, .rings])
        let wave3 = stages[3]
        #expect(wave3.jobCreationSeconds == 2)
        #expect(wave3.notificationsPerMinute == 1000)
        #expect(wave3.notificationSeconds == 30_000, "500,000 at 1,000 per minute: 8 h 20 m")
        #expect(wave3.notificationsOutlastBake, "a 4 h bake ends before the 8 h 20 m of notifications")
        #expect(!stages[0].notificationsOutlastBake)
    }

    @Test func withoutRingsALargeStageFillsATemporaryGroupAtTheBudgetsPace() throws {
        let stages = LaunchProjection.calculate(plan: try millionPlan(), eligible: 1_000_000, ringCount: 0,
                                                rates: rates, now: now)
        #expect(stages.map(\.targeting) == [.things, .temporaryGroup, .temporaryGroup, .temporaryGroup])
        #expect(stages[0].jobCreationSeconds == 2, "50 devices are targeted by ARN")
        #expect(stages[3].jobCreationSeconds == 2 + 500_000.0 / 20, "one AddThingToThingGroup per device at 20/s")
    }

    @Test func bakesStartOnceTheJobExistsAndStagesFollowEachOther() throws {
        let stages = LaunchProjection.calculate(plan: try millionPlan(), eligible: 1_000_000, ringCount: 0,
                                                rates: rates, now: now)
        #expect(stages[0].earliestStart == now)
        #expect(stages[0].earliestBakeEnd == now.addingTimeInterval(2 + 1800))
        for index in 1..<stages.count {
            let start = try #require(stages[index].earliestStart)
            #expect(start == stages[index - 1].earliestBakeEnd)
            #expect(stages[index].earliestBakeEnd == start.addingTimeInterval(stages[index].jobCreationSeconds
                                                                                 + Double(stages[index].bakeSeconds)))
        }
    }

    @Test func maxPerMinuteSetsTheNotificationPaceUpToAWSsCeiling() throws {
        let slow = LaunchProjection.calculate(plan: try millionPlan(job: "job: {maxPerMinute: 100}"),
                                              eligible: 1_000_000, ringCount: 8, rates: rates, now: now)
        #expect(slow[3].notificationsPerMinute == 100)
        #expect(slow[3].notificationSeconds == 300_000)
        let unset = LaunchProjection.calculate(plan: try millionPlan(job: ""), eligible: 1_000_000, ringCount: 8,
                                               rates: rates, now: now)
        #expect(unset[3].notificationsPerMinute == 1000, "without maxPerMinute AWS rolls out at its own ceiling")
        let capped = LaunchProjection.calculate(plan: try millionPlan(job: ""), eligible: 1_000_000, ringCount: 8,
                                                rates: LaunchProjection.Rates(groupFillPerSecond: 20,
                                                                              notificationsPerMinuteMax: 500), now: now)
        #expect(capped[3].notificationsPerMinute == 500)
    }

    @Test func aStageStartsOnlyInsideAWindow() throws {
        // Windows open at 02:00 UTC for 4 h; submitted at midnight, the canary waits 2 h.
        let plan = try millionPlan(extra: "schedule: {windows: [{cron: \"0 2 * * *\", duration: 4h, timeZone: UTC}]}")
        let stages = LaunchProjection.calculate(plan: plan, eligible: 1_000_000, ringCount: 4, rates: rates, now: now)
        #expect(stages[0].windowWaitSeconds == 7200)
        #expect(stages[0].earliestStart == now.addingTimeInterval(7200))
    }

    @Test func emptyStagesAreSkippedAndTakeNoTime() throws {
        let stages = LaunchProjection.calculate(plan: try millionPlan(), eligible: 30, ringCount: 0, rates: rates, now: now)
        #expect(stages.map(\.devices) == [30, 0, 0, 0])
        #expect(stages.map(\.targeting) == [.things, .none, .none, .none])
        #expect(stages[1].jobCreationSeconds == 0 && stages[1].notificationSeconds == 0)
        #expect(stages[2].earliestStart == stages[0].earliestBakeEnd)
    }

    @Test func theReportsVerdictIsItsWorstFinding() {
        func report(_ statuses: [PreflightStatus]) -> PreflightReport {
            PreflightReport(findings: statuses.map { PreflightFinding(check: "c", status: $0, resource: "r", summary: "s") },
                            stages: [])
        }
        #expect(report([.ok, .ok]).verdict == .ready && report([.ok]).exitStatus == 0)
        #expect(report([.ok, .warning]).verdict == .warnings && report([.warning]).exitStatus == 2)
        #expect(report([.couldNotCheck, .ok]).exitStatus == 2, "a check not made is not a pass")
        #expect(report([.warning, .blocked, .couldNotCheck]).verdict == .blocked)
        #expect(report([.blocked]).exitStatus == 1)
        #expect(report([]).exitStatus == 0)
    }
}
