import Engine
import Foundation
import RolloutCore
import StoreSQLite
import Testing

@testable import FleetAWS

/// `rollout cleanup` finds the temporary thing group an older version left behind for a finished rollout, lists it
/// with --dry-run (exit 2), removes it, and then finds nothing.
@Suite("rollout cleanup on moto", .serialized)
struct CleanupCommandMotoTests {
    /// Stores an aborted AWS rollout whose canary had started: the state an older version could leave with its group.
    static func storeAbortedRollout(_ world: RunEndToEndTests.World) throws -> String {
        let text = world.planText()
        let plan = try PlanParser.parse(text, file: "plan.yaml")
        let id = RolloutIdentity.rolloutId(planName: plan.name, planSource: text)
        let store = try SQLiteRolloutStore(path: world.databasePath, role: .worker)
        defer { store.close() }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let artifact = StagedArtifact(version: "2.1.0", url: "https://example/fw.bin", sha256Hex: "00", sizeBytes: 1)
        let events: [RolloutEvent] = [
            .submitted,
            .prepared(PreparedRollout(eligibleDevices: 20, stageSizes: [3, 5, 12], release: artifact, rollback: artifact)),
            .abortRequested(by: "ops", reason: "test"),
        ]
        var state = RolloutStateMachine.initialState(rolloutId: id, plan: plan, at: start)
        for (index, event) in events.enumerated() {
            let transition = RolloutStateMachine.applyLogged(event, to: state, plan: plan, at: start)
            let commit = StoreCommit(rolloutId: id, expectedEventCount: state.eventCount,
                                     event: RolloutEventRecord(sequence: index + 1, at: start, event: event),
                                     state: transition.state, effects: [], verdicts: transition.verdicts)
            if index == 0 {
                _ = try store.create(NewRollout(id: id, plan: plan, planSource: text, fleetKind: "aws"), commit: commit)
            } else {
                try store.commit(commit)
            }
            state = transition.state
        }
        #expect(state.phase == .aborted && state.stages[0].startedAt != nil)
        return id
    }

    @Test func listsAndRemovesWhatAnOlderVersionLeft() async throws {
        let executable = try RunEndToEndTests.rolloutExecutable()
        let world = try await RunEndToEndTests.World.make("cleanup", things: 3)
        defer { world.remove() }
        let rolloutId = try Self.storeAbortedRollout(world)
        let group = AWSFleet.temporaryGroupName(jobId: RolloutState.jobId(rolloutId: rolloutId, stage: "canary"))
        let iot = try world.moto.configuration().iotClient()
        try await iot.createThingGroup(group)
        let arguments = ["cleanup", "--db", world.databasePath, "--endpoint-url", world.moto.endpoint]
        let environment = RunEndToEndTests.childEnvironment(world)

        let listed = try await TestProcess.run(executable, arguments + ["--dry-run"], environment: environment)
        #expect(listed.status == 2, "stderr: \(listed.stderrText)")
        #expect(listed.stdoutText.contains("would remove thing group \(group)"), "\(listed.stdoutText)")
        _ = try await iot.describeThingGroup(group)  // still there

        let removed = try await TestProcess.run(executable, arguments + ["--output", "json"], environment: environment)
        #expect(removed.status == 0, "stderr: \(removed.stderrText)")
        let report = try #require(try jsonObject(removed.stdout) as? [String: Any])
        let leftovers = report["leftovers"] as? [[String: Any]] ?? []
        #expect(leftovers.count == 1 && leftovers.first?["removed"] as? Bool == true)
        await #expect(throws: AWSError.self) { _ = try await iot.describeThingGroup(group) }

        let again = try await TestProcess.run(executable, arguments, environment: environment)
        #expect(again.status == 0)
        #expect(again.stdoutText.contains("nothing left behind"))
    }
}
