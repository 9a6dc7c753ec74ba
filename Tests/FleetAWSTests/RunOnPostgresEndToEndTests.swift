import Engine
import Foundation
import PostgresTestSupport
import RolloutCore
import StorePostgres
import Testing

@testable import FleetAWS

/// `rollout run --db postgres://…` on moto and a private PostgreSQL server: the run drives its rollout under the
/// rollout's lease, as a worker would.
@Suite("rollout run on PostgreSQL end to end", .serialized)
struct RunOnPostgresEndToEndTests {
    typealias World = RunEndToEndTests.World

    static func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? jsonObject(Data($0.utf8)) as? [String: Any] }
    }

    static func output(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    /// A `rollout run` started in the background, its output in files.
    struct BackgroundRun {
        let process = Process()
        let output: String
        let errors: String

        init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
            output = try TemporaryFile.make(suffix: ".out")
            errors = try TemporaryFile.make(suffix: ".err")
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle(forWritingAtPath: output)
            process.standardError = FileHandle(forWritingAtPath: errors)
            try process.run()
        }

        var printed: String { "\(RunOnPostgresEndToEndTests.output(output)) \(RunOnPostgresEndToEndTests.output(errors))" }

        /// Waits (polling moto every 50 ms, at most a minute) until the run has created `jobId`; false if it did not.
        func waitForJob(_ jobId: String, on moto: MotoServer) async throws -> Bool {
            for _ in 0..<1200 where process.isRunning {
                if try await moto.createJobCalls(prefix: jobId)[jobId]?.created == 1 { return true }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            return false
        }

        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    @Test("""
        a run holds the rollout's lease: a second run is refused (75) naming it, `rollout workers` lists it; \
        SIGKILLed, the next run waits for its lease, resumes and completes, every job created once
        """)
    func leaseKillAndResume() async throws {
        let executable = try RunEndToEndTests.rolloutExecutable()
        let database = try PostgresTestServer.shared.freshDatabase()
        let world = try await World.make("e2e-pg", things: 20)
        defer { world.remove() }
        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let text = world.planText()
        let (planPath, plan, rolloutId) = try world.writePlanAndIdentify(text)
        let arguments = ["run", planPath, "--db", database, "--lease-seconds", "10", "--endpoint-url", world.moto.endpoint,
                         "--poll-interval", "1s", "--timeout", "90s", "--output", "json"]
        let environment = RunEndToEndTests.childEnvironment(world)

        let firstRun = try BackgroundRun(executable, arguments, environment: environment)
        defer { firstRun.kill() }
        let first = firstRun.process
        let reachedWave1 = try await firstRun.waitForJob(RolloutState.jobId(rolloutId: rolloutId, stage: "wave-1"),
                                                         on: world.moto)
        try #require(reachedWave1, "the first run never reached wave-1: \(firstRun.printed)")

        // While the first run holds the lease, the same command is refused and says who drives the rollout.
        let second = try await TestProcess.run(executable, arguments, environment: environment)
        #expect(second.status == 75, "stdout: \(second.stdoutText) stderr: \(second.stderrText)")
        let refusal = Self.lines(second.stdoutText).last
        #expect(refusal?["event"] as? String == "leasedElsewhere")
        #expect((refusal?["message"] as? String)?.contains("another `rollout run`") == true, "\(second.stdoutText)")
        let holder = try #require(refusal?["holder"] as? String)
        #expect(holder.contains("-\(first.processIdentifier)-"), "the holder is the first run: \(holder)")

        let workers = try await TestProcess.run(executable, ["workers", "--db", database], environment: environment)
        #expect(workers.status == 0, "\(workers.stderrText)")
        let row = workers.stdoutText.split(separator: "\n").first { $0.hasPrefix(holder) }
        #expect(row?.contains(rolloutId) == true, "`rollout workers` lists the run and its rollout: \(workers.stdoutText)")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        // The same command at once: the killed run's lease is waited for (its process is gone), then taken over.
        let third = try await TestProcess.run(executable, arguments, environment: environment)
        #expect(third.status == 0, "stdout: \(third.stdoutText) stderr: \(third.stderrText)")
        let lines = Self.lines(third.stdoutText)
        #expect(lines.first?["event"] as? String == "resumed")
        #expect(lines.contains { $0["event"] as? String == "waitingForLease" }, "\(third.stdoutText)")
        #expect(lines.last?["event"] as? String == "finished" && lines.last?["phase"] as? String == "completed")

        let store = try PostgresRolloutStore(location: try PostgresLocation(url: database), migrate: false)
        defer { store.close() }
        let state = try #require(try store.rollout(id: rolloutId)?.state)
        #expect(state.phase == .completed)
        _ = try RunEndToEndTests.checkEventLog(store, rolloutId: rolloutId, plan: plan, state: state)
        let calls = try await world.moto.createJobCalls(prefix: rolloutId)
        #expect(Set(calls.keys) == Set(state.stages.map(\.jobId)))
        #expect(calls.values.allSatisfy { $0.created == 1 }, "every job created exactly once: \(calls)")
        // Three runs, none alive: the killed one silent, the refused one and the last stopped (their leases given back).
        let left = try store.workers(includeGone: true).filter { $0.drives == rolloutId }
        #expect(left.count == 3 && left.allSatisfy { !$0.alive }, "\(left)")
        #expect(left.filter { $0.stoppedAt != nil }.count == 2, "\(left)")
        let owner = try PostgresTestServer.shared.sql("SELECT coalesce(lease_owner, 'none') FROM rollouts WHERE id = '\(rolloutId)'",
                                                      database: try PostgresLocation(url: database).database)
        #expect(owner.trimmingCharacters(in: .whitespacesAndNewlines) == "none")
        #expect(left.contains { $0.takeovers == 1 }, "the last run took the killed run's lease over: \(left)")
    }

    @Test("an abort recorded through the database while a run drives the rollout reaches the run at once (exit 4)")
    func abortRecordedElsewhereReachesTheRun() async throws {
        let executable = try RunEndToEndTests.rolloutExecutable()
        let database = try PostgresTestServer.shared.freshDatabase()
        let world = try await World.make("e2e-pgabort", things: 10)
        defer { world.remove() }
        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        // A canary bake of ten minutes: only the abort can end this run within the test.
        let text = world.planText().replacingOccurrences(of: "canary: {devices: 3, bake: 2s}",
                                                         with: "canary: {devices: 3, bake: 10m}")
        let (planPath, _, rolloutId) = try world.writePlanAndIdentify(text)
        let environment = RunEndToEndTests.childEnvironment(world)
        // A poll interval of an hour and a lease of ten minutes (a round every 200 s): within the test's minute, only
        // the notification can wake the run.
        let background = try BackgroundRun(executable, ["run", planPath, "--db", database, "--lease-seconds", "600",
                                                        "--endpoint-url", world.moto.endpoint, "--poll-interval", "1h",
                                                        "--timeout", "5m", "--output", "json"],
                                           environment: environment)
        defer { background.kill() }
        let (run, output) = (background.process, background.output)
        let created = try await background.waitForJob(RolloutState.jobId(rolloutId: rolloutId, stage: "canary"),
                                                      on: world.moto)
        try #require(created, "the canary job was never created: \(background.printed)")

        let abort = try await TestProcess.run(executable, ["abort", rolloutId, "--db", database, "--reason", "test"],
                                              environment: environment)
        #expect(abort.status == 0, "\(abort.stdoutText) \(abort.stderrText)")
        let ended = try await TestProcess.waitForExit(run, secondsMax: 60)
        try #require(ended, "the run did not act on the abort within 60 s: \(Self.output(output))")
        #expect(run.terminationStatus == 4, "\(background.printed)")
        let last = Self.lines(Self.output(output)).last
        #expect(last?["event"] as? String == "finished" && last?["phase"] as? String == "aborted", "\(Self.output(output))")
        let store = try PostgresRolloutStore(location: try PostgresLocation(url: database), migrate: false)
        defer { store.close() }
        let state = try #require(try store.rollout(id: rolloutId)?.state)
        #expect(state.phase == .aborted)
        #expect(try store.events(rolloutId: rolloutId, afterSequence: 0, limit: 1000).contains {
            $0.event.kind == "abortRequested"
        })
    }
}
