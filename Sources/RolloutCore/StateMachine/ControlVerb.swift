/// The control verbs a person (CLI, HTTP API) can give a rollout; each records intent as a command event that the
/// engine acts on. One list, one mapping: every edge goes through it.
package enum ControlVerb: String, CaseIterable, Codable, Sendable {
    case pause, resume, abort, approve, rollback, promote

    /// Bounds on what a caller may write into the event log.
    package static let byLengthMax = 200
    package static let reasonLengthMax = 2000

    /// The command event: who asks and why (an empty reason of approve and resume is recorded as none).
    package func event(by: String, reason: String, stage: String? = nil) -> RolloutEvent {
        switch self {
        case .pause: return .pauseRequested(by: by, reason: reason)
        case .resume: return .resumeRequested(by: by, reason: reason.isEmpty ? nil : reason)
        case .abort: return .abortRequested(by: by, reason: reason)
        case .approve: return .approved(by: by, reason: reason.isEmpty ? nil : reason)
        case .rollback: return .rollbackRequested(by: by, reason: reason)
        case .promote: return .promoteRequested(by: by, reason: reason.isEmpty ? nil : reason, stage: stage)
        }
    }

    /// Why `by` or `reason` cannot be recorded (too long), or nil.
    package static func problem(by: String, reason: String) -> String? {
        if by.count > byLengthMax { return "`by` is longer than \(byLengthMax) characters" }
        if reason.count > reasonLengthMax { return "`reason` is longer than \(reasonLengthMax) characters" }
        return nil
    }
}
