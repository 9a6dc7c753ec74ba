import Foundation
import Testing
@testable import RolloutCore

/// `aws.retention`: an ended rollout's jobs are due for deletion that long after its end; `purged` records it.
@Suite struct RetentionTests {
    @Test("the plan's retention sets when an ended rollout is due for purging; purged is taken once, by an ended rollout")
    func purgeDue() throws {
        let text = planText(extra: "aws: {bucket: fw-bucket, retention: 30d}")
        let plan = try parsePlan(text)
        #expect(plan.aws?.retentionSeconds == 30 * 86400)
        var driver = MachineDriver(plan: plan)
        driver.prepare(sizes: [10, 490, 500])
        driver.send(.purged(jobs: 1))
        #expect(driver.state.purgedAt == nil, "a live rollout has nothing to purge")
        driver.send(.abortRequested(by: "alice", reason: "wrong build"))
        #expect(driver.state.purgeDueAt == driver.now.addingTimeInterval(30 * 86400))
        driver.advance(30 * 86400)
        driver.send(.purged(jobs: 1))
        #expect(driver.state.purgedAt == driver.now && driver.state.purgeDueAt == nil)
        #expect(driver.log.last?.event == .purged(jobs: 1))
        let replayed = RolloutStateMachine.replay(rolloutId: driver.state.rolloutId, plan: plan, events: driver.log)
        #expect(replayed == driver.state)

        var kept = MachineDriver(plan: try parsePlan(planText(extra: "aws: {bucket: fw-bucket, retention: keep}")))
        kept.send(.abortRequested(by: "alice", reason: ""))
        #expect(kept.state.purgeDueAt == nil)
        #expect(planErrors(planText(extra: "aws: {bucket: fw-bucket, retention: 5m}")).first?.field == "aws.retention")
    }
}
