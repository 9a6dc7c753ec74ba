import Foundation
import Testing
@testable import RolloutCore

/// One live rollout per release and fleet: who conflicts with whom.
@Suite struct SupersedeRuleTests {
    func plan(version: String = "2.0.0", group: String = "fleet", bake: String = "30m") throws -> RolloutPlan {
        try parsePlan(planText(canary: "canary: {devices: 10, bake: \(bake)}")
            .replacingOccurrences(of: "version: 2.0.0", with: "version: \(version)")
            .replacingOccurrences(of: "thingGroup: fleet", with: "thingGroup: \(group)"))
    }

    @Test func theSameReleaseOnTheSameFleetConflictsAndNothingElse() throws {
        let live = [SupersedeRule.Live(rolloutId: "a", plan: try plan()),
                    SupersedeRule.Live(rolloutId: "b", plan: try plan(version: "2.2.0")),
                    SupersedeRule.Live(rolloutId: "c", plan: try plan(group: "lab"))]
        #expect(SupersedeRule.conflicts(of: try plan(bake: "45m"), rolloutId: "new", live: live) == ["a"])
        #expect(SupersedeRule.conflicts(of: try plan(), rolloutId: "a", live: live).isEmpty, "a rollout never conflicts with itself")
        #expect(SupersedeRule.conflicts(of: try plan(version: "3.0.0"), rolloutId: "new", live: live).isEmpty)
        let conflict = SupersedeConflict(rolloutId: "new", live: ["a"])
        #expect(conflict.description.contains("a already rolls out") && conflict.description.contains("--supersede"))
        #expect(SupersedeRule.abortReason(supersededBy: "new") == "superseded by new")
    }
}
