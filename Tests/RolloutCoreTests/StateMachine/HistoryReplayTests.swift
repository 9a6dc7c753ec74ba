import Foundation
import Testing
@testable import RolloutCore

/// Event logs recorded by earlier versions (Tests/Fixtures/histories) replay to the states those versions stored.
@Suite struct HistoryReplayTests {
    struct History {
        var name: String
        var plan: RolloutPlan
        var events: [RolloutEventRecord]
        var stored: RolloutState
    }

    static let names = ["completed", "rolled-back-job-outcomes", "rolled-back-metric", "windows-and-approval",
                        "gate-failed-paused-then-resumed", "aborted-at-approval", "rollback-requested",
                        "effect-failed-paused"]

    /// The store's JSON: dates as the `Double` inside a `Date`.
    static func load(_ name: String) throws -> History {
        let directory = repositoryRoot + "/Tests/Fixtures/histories/" + name
        let source = try String(contentsOfFile: directory + "/plan.yaml", encoding: .utf8)
        let plan = try PlanParser.parse(source, file: name + "/plan.yaml")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .deferredToDate
        let lines = try String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { !$0.isEmpty }
        let events = try lines.map { try decoder.decode(RolloutEventRecord.self, from: Data($0.utf8)) }
        let stored = try decoder.decode(RolloutState.self,
                                        from: try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json")))
        return History(name: name, plan: plan, events: events, stored: stored)
    }

    @Test(arguments: names)
    func recordedLogReplaysToTheStoredState(name: String) throws {
        let history = try Self.load(name)
        #expect(history.events.map(\.sequence) == Array(1...history.events.count), "\(name): gapless log")
        let replayed = RolloutStateMachine.replay(rolloutId: history.stored.rolloutId, plan: history.plan,
                                                  events: history.events)
        #expect(replayed == history.stored, "\(name) replays to another state")
    }
}
