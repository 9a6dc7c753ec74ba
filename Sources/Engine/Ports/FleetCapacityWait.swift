import Foundation

/// A fleet limit that is used up for now: the account's job slots, room in a device's thing groups, another quota.
/// Unlike a failure it says nothing wrong about the request: the effect waits (retried with a capped backoff, never
/// given up) until capacity frees itself (jobs finish) or a person frees it (`remedy`).
package struct FleetCapacityWait: Sendable, Equatable, CustomStringConvertible {
    package enum Resource: Sendable, Equatable {
        /// The account's concurrent or active jobs are at their quota: CreateJob must wait for one to end.
        case jobSlot
        /// A device already belongs to as many thing groups as AWS allows.
        case thingGroupRoom(thing: String)
        /// Another quota, by name.
        case quota(String)
        /// The fleet's ring set is missing devices (`rollout rings sync` brings it up to date).
        case rings(fleetGroup: String)
        /// A stage's temporary thing group is still being filled at the API budget's pace (the rehearsal's model
        /// of the fill the AWS fleet does inside its CreateJob step).
        case temporaryGroupFill(group: String, added: Int, total: Int)
    }

    package var resource: Resource
    /// What the fleet answered, naming the resource (`job rollout-…-wave-3: LimitExceededException: …`).
    package var detail: String
    /// What a person can run to free capacity sooner.
    package var remedy: String
    package var retryAfterSeconds: Double?

    package init(resource: Resource, detail: String, remedy: String, retryAfterSeconds: Double? = nil) {
        self.resource = resource
        self.detail = detail
        self.remedy = remedy
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// What the effect waits for, as a noun phrase: `a job slot`.
    package var waitingFor: String {
        switch resource {
        case .jobSlot: return "a job slot"
        case .thingGroupRoom(let thing): return "room in the thing groups of \(thing)"
        case .quota(let name): return "the \(name) quota"
        case .rings(let group): return "an up-to-date ring set for \(group)"
        case .temporaryGroupFill(let group, let added, let total):
            return "thing group \(group) to be filled (\(added) of \(total) devices added)"
        }
    }

    package var description: String {
        "waiting for \(waitingFor): \(detail); \(remedy)"
    }
}
