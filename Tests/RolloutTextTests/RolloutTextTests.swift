import Foundation
import Testing
@testable import RolloutCore
@testable import RolloutText

/// The sentences made at the edges from today's facts read as the ones older versions stored in the state
/// (Tests/Fixtures/histories): replaying a recorded log and rendering its facts gives the recorded `message`,
/// `waitingFor`, pause `reason` and rollback `reason`.
@Suite struct RolloutTextTests {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let names = ["completed", "rolled-back-job-outcomes", "rolled-back-metric", "windows-and-approval",
                        "gate-failed-paused-then-resumed", "aborted-at-approval", "rollback-requested",
                        "effect-failed-paused"]

    struct Recorded {
        var replayed: RolloutState
        var stored: [String: Any]
    }

    static func load(_ name: String) throws -> Recorded {
        let directory = repositoryRoot + "/Tests/Fixtures/histories/" + name
        let source = try String(contentsOfFile: directory + "/plan.yaml", encoding: .utf8)
        let plan = try PlanParser.parse(source, file: name + "/plan.yaml")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .deferredToDate
        let events = try String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { !$0.isEmpty }
            .map { try decoder.decode(RolloutEventRecord.self, from: Data($0.utf8)) }
        let storedData = try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))
        let stored = try #require(try JSONSerialization.jsonObject(with: storedData) as? [String: Any])
        let id = try #require(stored["rolloutId"] as? String)
        return Recorded(replayed: RolloutStateMachine.replay(rolloutId: id, plan: plan, events: events), stored: stored)
    }

    @Test(arguments: names)
    func sentencesReadAsRecorded(name: String) throws {
        let recorded = try Self.load(name)
        let state = recorded.replayed
        #expect(RolloutText.note(state) == recorded.stored["message"] as? String, "\(name): message")
        #expect(RolloutText.waiting(state) == recorded.stored["waitingFor"] as? String, "\(name): waitingFor")
        if let pause = recorded.stored["pause"] as? [String: Any] {
            #expect(state.pause.map { RolloutText.pause($0, phase: state.phase) } == pause["reason"] as? String,
                    "\(name): pause reason")
        }
        if let rollback = recorded.stored["rollback"] as? [String: Any] {
            #expect(RolloutText.rollbackCause(state.rollback?.cause) == rollback["reason"] as? String,
                    "\(name): rollback reason")
        }
    }

    @Test func notificationsKeepTheirWording() {
        let started = RolloutNotification(rolloutId: "fw-1", stage: nil, phase: .preparing,
                                          fact: .started(firmware: "sensor-fw", version: "2.1.0"))
        #expect(RolloutText.notification(started) == "rollout fw-1 started: sensor-fw 2.1.0")
        let incomplete = RolloutNotification(rolloutId: "fw-1", stage: nil, phase: .rollbackIncomplete,
                                             fact: .rollbackIncomplete(version: "2.0.3", notRolledBack: 9, devices: 310))
        #expect(RolloutText.notification(incomplete)
                == "fw-1 rollback incomplete: 9 of 310 devices did not take 2.0.3 and may still run the new firmware")
        #expect(incomplete.kind == .rollbackIncomplete)
    }

    /// A notification queued by an older version (kind and text, no facts) still decodes and is sent as it was.
    @Test func aNotificationQueuedByAnOlderVersionIsSentAsRecorded() throws {
        let legacy = #"{"kind":"paused","phase":"paused","rolloutId":"fw-1","stage":"canary","text":"fw-1 paused: x"}"#
        let notification = try JSONDecoder().decode(RolloutNotification.self, from: Data(legacy.utf8))
        #expect(notification.kind == .paused)
        #expect(RolloutText.notification(notification) == "fw-1 paused: x")
        let again = try JSONDecoder().decode(RolloutNotification.self, from: try JSONEncoder().encode(notification))
        #expect(again == notification)
    }
}
