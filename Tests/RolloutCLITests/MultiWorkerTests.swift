import Engine
import Foundation
import PostgresTestSupport
import RolloutCore
import StorePostgres
import Testing

/// Three `rollout worker` processes on one PostgreSQL database (the tests' private server) and one shared simulated
/// fleet: two of them are SIGKILLed while 300 rollouts run; the survivor takes their rollouts over and every rollout
/// finishes, each job created once, each event log without a gap.
@Suite(.serialized) struct MultiWorkerTests {
    static let rollouts = 300
    static let leaseSeconds = 3.0

    typealias Worker = WorkerProcessTests.WorkerProcess

    static func worker(database: String, directory: String) throws -> Worker {
        try Worker(arguments: ["worker", "--db", database, "--listen", "127.0.0.1:0",
                               "--lease-seconds", "\(leaseSeconds)", "--sim-journal", directory + "/fleet.simfleet",
                               "--scenario", directory + "/scenario.yaml", "--devices", "40", "--seed", "17",
                               "--poll-interval", "1s"],
                   directory: directory)
    }

    @Test func threeWorkersFinishEveryRolloutThoughTwoAreKilled() async throws {
        let database = try PostgresTestServer.shared.freshDatabase()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "devices: 40\ncheckInDelayMax: 1s\ninstall: {min: 1s, max: 2s}\n"
            .write(toFile: directory + "/scenario.yaml", atomically: true, encoding: .utf8)
        let planPaths = try (0..<Self.rollouts).map { index -> String in
            let path = "\(directory)/plan-\(index).yaml"
            try """
                name: shared-\(index)
                release: {firmware: fw, version: 2.1.\(index), artifact: s3://fw-bucket/fw/2.1.0.bin}
                rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
                fleet: {thingGroup: fleet}
                canary: {devices: 2, bake: 3s}
                waves:
                  - {percent: 100, bake: 3s}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let workers = try (0..<3).map { _ in try Self.worker(database: database, directory: directory) }
        defer { workers.forEach { $0.kill() } }
        var listening: [String] = []
        for worker in workers { listening.append(try await worker.listening()) }
        let servers = listening

        // Any worker's API takes any submission: round robin. (One at a time: ten concurrent submissions to one
        // worker were seen to stall for the 30 s query timeout; noted on the issue, not yet understood.)
        for (index, path) in planPaths.enumerated() {
            let submitted = try await rollout(["submit", path, "--server", servers[index % 3]])
            #expect(submitted.status == 0, "\(submitted.stderr)")
        }
        let store = try PostgresRolloutStore(location: PostgresLocation(url: database), migrate: false)
        defer { store.close() }

        func completed() throws -> Int {
            try store.rollouts(phases: [.completed], limit: 10_000).count
        }
        func waitFor(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try condition() { return true }
                try await Task.sleep(for: .milliseconds(200))
            }
            return try condition()
        }
        // Worker 0 dies once some rollouts are done; worker 1 once more are.
        #expect(try await waitFor(120) { try completed() >= 10 }, "some rollouts complete")
        workers[0].kill()
        #expect(try await waitFor(120) { try completed() >= Self.rollouts / 3 }, "a third complete")
        workers[1].kill()

        let allDone = try await waitFor(300) { try completed() == Self.rollouts }
        let unfinished = try store.rollouts(phases: nil, limit: 10_000).filter { $0.state.phase != .completed }
        let unfinishedText = unfinished.prefix(5).map { "\($0.id) \($0.state.displayPhase.rawValue)" }
        #expect(allDone, "every rollout completes on the survivor; unfinished: \(unfinishedText); last lines: \(workers[2].log.all.suffix(5))")

        // Take-overs happened (their timing is not asserted: the survivor's log says when).
        let everyone = try store.workers(leaseSeconds: Self.leaseSeconds, includeGone: true)
        #expect(everyone.count == 3)
        #expect(everyone.map(\.takeovers).reduce(0, +) >= 1, "\(everyone)")
        let takeoverLines = workers[1].log.objects.filter { ($0["message"] as? String)?.contains("took over") == true }
            + workers[2].log.objects.filter { ($0["message"] as? String)?.contains("took over") == true }
        #expect(!takeoverLines.isEmpty)

        // Independently of the workers: contiguous logs that replay to the stored state, and each job created once.
        for rollout in try store.rollouts(phases: nil, limit: 10_000) {
            let events = try store.events(rolloutId: rollout.id, afterSequence: 0, limit: 10_000)
            #expect(events.map(\.sequence) == Array(1...events.count), "no gap in \(rollout.id)'s log")
            #expect(RolloutStateMachine.replay(rolloutId: rollout.id, plan: rollout.plan, events: events) == rollout.state)
        }
        let journal = try String(contentsOfFile: directory + "/fleet.simfleet", encoding: .utf8)
        let jobIds = journal.split(separator: "\n").filter { $0.contains("\"operation\":\"create\"") }.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["jobId"] as? String
        }
        #expect(jobIds.count == Self.rollouts * 2, "\(Self.rollouts) rollouts × 2 stages")
        #expect(Set(jobIds).count == jobIds.count, "a job was created twice")
    }
}
