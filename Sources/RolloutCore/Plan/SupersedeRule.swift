/// One live rollout per release and fleet: a plan edited and submitted again (one bake changed) is another rollout
/// id, and would start a second canary of the same firmware on the same devices while the first goes on. Such a
/// submission is refused unless it supersedes (the live one is then aborted, recorded as superseded). Pure.
package enum SupersedeRule {
    /// A live rollout the plan would run beside.
    package struct Live: Sendable, Equatable {
        package var rolloutId: String
        package var plan: RolloutPlan

        package init(rolloutId: String, plan: RolloutPlan) {
            self.rolloutId = rolloutId
            self.plan = plan
        }
    }

    /// The live rollouts (other than `rolloutId` itself) of the same firmware and version on the same fleet group.
    package static func conflicts(of plan: RolloutPlan, rolloutId: String, live: [Live]) -> [String] {
        live.filter { other in
            other.rolloutId != rolloutId && other.plan.fleet.thingGroup == plan.fleet.thingGroup
                && other.plan.release.firmware == plan.release.firmware
                && other.plan.release.version == plan.release.version
        }.map(\.rolloutId).sorted()
    }

    /// The reason recorded on a superseded rollout's abort.
    package static func abortReason(supersededBy rolloutId: String) -> String {
        "superseded by \(rolloutId)"
    }
}

/// A submission refused because the same release already rolls out on the same fleet.
package struct SupersedeConflict: Error, Sendable, Equatable, CustomStringConvertible {
    package var rolloutId: String
    package var live: [String]
    /// The live rollouts are rolling back: an abort would not stop them, so nothing may supersede them yet.
    package var rollingBack: Bool

    package init(rolloutId: String, live: [String], rollingBack: Bool = false) {
        self.rolloutId = rolloutId
        self.live = live
        self.rollingBack = rollingBack
    }

    package var description: String {
        if rollingBack {
            return "\(live.joined(separator: ", ")) is rolling this release back on this fleet; \(rolloutId) can start once "
                + "that rollback has ended"
        }
        return "\(live.joined(separator: ", ")) already rolls out this release on this fleet; submitting \(rolloutId) beside it "
            + "would start a second canary. Let it finish, or supersede it (`rollout submit --supersede`, "
            + "`?supersede=true`): its abort is then recorded (superseded by \(rolloutId)) before \(rolloutId) is created"
    }
}
