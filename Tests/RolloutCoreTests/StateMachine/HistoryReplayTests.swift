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

    /// Facts this version keeps that the recorded format did not have (it held sentences instead: `message`,
    /// `waitingFor`, `reason`): cleared before comparing. Tests/RolloutTextTests checks that today's sentences,
    /// made from these facts, read as the recorded ones did.
    static func withoutNewerFacts(_ state: RolloutState) -> RolloutState {
        var state = state
        state.note = nil
        state.waiting = nil
        state.pause?.note = nil
        state.pause?.stage = nil
        state.pause?.deciding = nil
        state.pause?.failedEffectError = nil
        state.rollback?.cause = nil
        // Metric measurements counted per stage (MetricTally) came later; the readings they count are in the log.
        for index in state.stages.indices { state.stages[index].measurements = nil }
        return state
    }

    @Test(arguments: names)
    func recordedLogReplaysToTheStoredState(name: String) throws {
        let history = try Self.load(name)
        #expect(history.events.map(\.sequence) == Array(1...history.events.count), "\(name): gapless log")
        let replayed = RolloutStateMachine.replay(rolloutId: history.stored.rolloutId, plan: history.plan,
                                                  events: history.events)
        let differences = try JSONDiff.paths(Self.withoutNewerFacts(replayed), history.stored)
        #expect(differences.isEmpty, "\(name) replays to another state: \(differences.prefix(10))")
    }
}

/// Where two encodable values differ, as JSON paths with both values (bounded output for test messages).
enum JSONDiff {
    static func paths<T: Encodable>(_ lhs: T, _ rhs: T) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .deferredToDate
        let left = try JSONSerialization.jsonObject(with: encoder.encode(lhs))
        let right = try JSONSerialization.jsonObject(with: encoder.encode(rhs))
        var found: [String] = []
        compare(left, right, path: "$", into: &found)
        return found
    }

    private static func compare(_ lhs: Any?, _ rhs: Any?, path: String, into found: inout [String]) {
        guard found.count < 50 else { return }
        switch (lhs, rhs) {
        case let (left as [String: Any], right as [String: Any]):
            for key in Set(left.keys).union(right.keys).sorted() {
                compare(left[key], right[key], path: path + "." + key, into: &found)
            }
        case let (left as [Any], right as [Any]):
            if left.count != right.count { found.append("\(path): \(left.count) vs \(right.count) items") }
            for index in 0..<min(left.count, right.count) {
                compare(left[index], right[index], path: "\(path)[\(index)]", into: &found)
            }
        default:
            let left = lhs.map { "\($0)" } ?? "absent"
            let right = rhs.map { "\($0)" } ?? "absent"
            if left != right { found.append("\(path): \(left) vs \(right)") }
        }
    }
}
