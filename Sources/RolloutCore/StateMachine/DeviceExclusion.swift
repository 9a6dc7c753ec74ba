import Foundation

/// A device a person took out of a rollout (`rollout device exclude|cancel`): later stages do not target it, and
/// with `cancelled` its execution in the stage that holds it was cancelled. Kept in the state as a fact.
package struct DeviceExclusion: Codable, Equatable, Sendable {
    package var thing: String
    /// The stage the device was assigned to; nil when it was excluded before the rollout assigned its devices (it
    /// is then left out of every stage).
    package var stage: String?
    package var by: String
    package var reason: String?
    package var at: Date
    /// Its execution in `stage`'s job was cancelled (`force`: also while installing).
    package var cancelled: Bool
    package var force: Bool
    /// The stage had started when the device was taken out, so its job holds the device (the job's targets never
    /// change after the stage starts: a retried CreateJob must ask for the same job).
    package var inJob: Bool

    /// A rollout keeps at most this many: more is a change of the fleet selection (`fleet.exclude` in a new plan).
    package static let perRolloutMax = 1000
    /// A thing name as AWS IoT allows it: 1–128 of `[a-zA-Z0-9:_-]`.
    package static func isValidThingName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name.unicodeScalars.allSatisfy(thingNameCharacters.contains)
    }

    private static let thingNameCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-")

    package init(thing: String, stage: String?, by: String, reason: String?, at: Date, cancelled: Bool, force: Bool,
                inJob: Bool) {
        self.inJob = inJob
        self.thing = thing
        self.stage = stage
        self.by = by
        self.reason = reason
        self.at = at
        self.cancelled = cancelled
        self.force = force
    }
}
