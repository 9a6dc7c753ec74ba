import Engine
import Foundation
import RolloutCore
import RolloutText

/// The result of a simulated rollout, as `rollout simulate --output json` prints it.
package struct SimulationReport: Codable, Sendable {
    package struct Stage: Codable, Sendable {
        package var name: String
        package var status: String
        package var devices: Int
        package var succeeded: Int
        package var failed: Int
        package var timedOut: Int
        package var rejected: Int
        package var canceled: Int
        package var startedAt: Date?
        package var endedAt: Date?
        package var verdicts: [VerdictRecord]
    }

    package struct TimelineLine: Codable, Sendable {
        package var at: Date
        package var phase: String
        package var message: String
    }

    package var rolloutId: String
    /// The rollout's final (or current) phase: completed, rolledBack, aborted, failed, paused, awaitingApproval, …
    package var outcome: String
    package var ending: String
    package var devices: Int
    package var eligibleDevices: Int
    package var seed: UInt64
    package var startedAt: Date
    package var virtualSeconds: Double
    package var stages: [Stage]
    package var rollback: Stage?
    package var events: Int
    package var fleetCalls: Int
    package var fleetCallsThrottled: Int
    /// Calls over the account's quota for their API: they waited (`api.quotas`).
    package var fleetCallsOverBudget: Int
    package var jobsCreated: [String]
    /// After `rollbackIncomplete`: the devices that did not take the rollback (up to 1,000 names) and their count.
    package var notRolledBack: [String]?
    package var notRolledBackCount: Int?
    package var message: String?
    package var timeline: [TimelineLine]

    /// Builds the report from the store (events, verdicts) and the fleet (calls, jobs).
    package static func build(rolloutId: String, store: any RolloutStore, fleet: SimulatedFleet, seed: UInt64,
                             ending: SimulationRunner.Ending, startedAt: Date, endedAt: Date) throws -> SimulationReport {
        guard let rollout = try store.rollout(id: rolloutId) else { throw StoreError.notFound(rolloutId: rolloutId) }
        let state = rollout.state
        let verdicts = try store.verdicts(rolloutId: rolloutId)
        var events: [RolloutEventRecord] = []
        var after = 0
        // Read the log page by page (bounded pages, bounded total).
        for _ in 0..<10_000 {
            let page = try store.events(rolloutId: rolloutId, afterSequence: after, limit: 1000)
            events += page
            guard let last = page.last, page.count == 1000 else { break }
            after = last.sequence
        }
        let stages = state.stages.map { stage in
            Stage(name: stage.name, status: stage.status.rawValue, devices: stage.devices ?? 0,
                  succeeded: stage.progress.succeeded, failed: stage.progress.failed, timedOut: stage.progress.timedOut,
                  rejected: stage.progress.rejected, canceled: stage.progress.canceled, startedAt: stage.startedAt,
                  endedAt: stage.endedAt, verdicts: verdicts.filter { $0.stage == stage.name })
        }
        let rollback = state.rollback.map { rollback in
            Stage(name: "rollback", status: rollback.endedAt == nil ? "running" : "done", devices: rollback.devices ?? 0,
                  succeeded: rollback.progress.succeeded, failed: rollback.progress.failed,
                  timedOut: rollback.progress.timedOut, rejected: rollback.progress.rejected,
                  canceled: rollback.progress.canceled, startedAt: rollback.jobCreatedAt, endedAt: rollback.endedAt,
                  verdicts: [])
        }
        return SimulationReport(
            rolloutId: rolloutId, outcome: state.displayPhase.rawValue, ending: ending.rawValue,
            devices: fleet.population.count, eligibleDevices: state.eligibleDevices ?? 0, seed: seed,
            startedAt: startedAt, virtualSeconds: endedAt.timeIntervalSince(startedAt), stages: stages, rollback: rollback,
            events: events.count, fleetCalls: fleet.callsTotal, fleetCallsThrottled: fleet.callsThrottled,
            fleetCallsOverBudget: fleet.callsOverBudget,
            jobsCreated: fleet.jobsCreated, notRolledBack: state.rollback?.notRolledBack,
            notRolledBackCount: state.rollback?.notRolledBackCount, message: RolloutText.note(state),
            timeline: timeline(events: events, plan: rollout.plan, rolloutId: rolloutId))
    }

    /// Replays the log and keeps each change of note (or shown phase), in words: a readable story of the rollout
    /// (and a check that replay works on every run).
    static func timeline(events: [RolloutEventRecord], plan: RolloutPlan, rolloutId: String) -> [TimelineLine] {
        guard let first = events.first else { return [] }
        var state = RolloutStateMachine.initialState(rolloutId: rolloutId, plan: plan, at: first.at)
        var lines: [TimelineLine] = [TimelineLine(at: first.at, phase: "scheduled", message: "submitted")]
        for record in events {
            let before = state
            state = RolloutStateMachine.apply(record.event, to: state, plan: plan, at: record.at).state
            if state.note != nil, state.note != before.note || state.displayPhase != before.displayPhase,
               let message = RolloutText.note(state) {
                lines.append(TimelineLine(at: record.at, phase: state.displayPhase.rawValue, message: message))
            }
        }
        return lines
    }
}
