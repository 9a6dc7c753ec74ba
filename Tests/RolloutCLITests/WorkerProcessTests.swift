import Engine
import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// `rollout worker` killed with SIGKILL in the middle of several simulated rollouts, restarted on the same
/// database: every rollout completes, no job is created twice, no event is lost.
@Suite(.serialized) struct WorkerProcessTests {
    /// `rollout worker` on any free loopback port (`--listen 127.0.0.1:0`); its JSON log lines are read as they come.
    final class WorkerProcess {
        let process = Process()
        let log: ProcessLines
        private(set) var server = ""

        convenience init(database: String, directory: String, extraArguments: [String] = []) throws {
            try self.init(arguments: ["worker", "--db", database, "--listen", "127.0.0.1:0", "--time-scale", "600",
                                      "--poll-interval", "60", "--devices", "500", "--seed", "17"] + extraArguments,
                          directory: directory)
        }

        /// `rollout ARGUMENTS…` run in `directory` (they should include `--listen 127.0.0.1:0`), with `environment`
        /// added to the tests' own.
        init(arguments: [String], directory: String, environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: try rolloutExecutable())
            process.arguments = arguments
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            let pipe = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = pipe
            log = ProcessLines(pipe)
            try process.run()
        }

        /// Waits for the API's "status API listening" line and returns its URL (with the port it was given).
        func listening() async throws -> String {
            let isListening: ([String: Any]) -> Bool = { $0["message"] as? String == "status API listening" }
            let heard = await log.wait(seconds: 60) { $0.contains(where: isListening) }
            guard heard, let port = log.objects.first(where: isListening)?["port"] as? String else {
                throw CLITestError("the worker never said it listens: \(log.all.suffix(5))")
            }
            server = "http://127.0.0.1:\(port)"
            return server
        }

        deinit {
            if process.isRunning { kill() }  // a test that failed half-way leaves no worker behind (nor a stopped one)
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func terminate() -> Int32 {
            process.terminate()  // SIGTERM: graceful
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func status(_ server: String) async throws -> [[String: Any]] {
        let result = try await rollout(["status", "--server", server, "--output", "json"])
        guard result.status == 0 else { return [] }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["rollouts"] as? [[String: Any]] ?? []
    }

    /// `rollout events` prints the log line by line; `--follow` reads on until the rollout ends and exits like
    /// `status --watch`.
    @Test func eventsPrintsTheLogAndFollowsItToTheEnd() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let worker = try WorkerProcess(database: "\(directory)/events.db", directory: directory)
        defer { _ = worker.terminate() }
        let server = try await worker.listening()
        let plan = "\(directory)/plan.yaml"
        try """
            name: followed
            release: {firmware: fw, version: 3.0.0, artifact: s3://fw-bucket/fw/3.0.0.bin}
            rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
            fleet: {thingGroup: fleet}
            canary: {devices: 5, bake: 10m}
            waves:
              - {percent: 100, bake: 10m}
            """.write(toFile: plan, atomically: true, encoding: .utf8)
        let submitted = try await rollout(["submit", plan, "--server", server])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = WorkerProcessTests.submittedId(submitted.stdout)

        let followed = try await rollout(["events", id, "--server", server, "--follow", "--interval", "0.2"])
        #expect(followed.status == 0, "\(followed.stderr)")
        let lines = followed.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("#1  ") == true && lines.first?.contains("  submitted") == true, "\(followed.stdout)")
        #expect(lines.contains { $0.contains("  jobCreated  stage=0") }, "\(followed.stdout)")
        let sequences = lines.compactMap { Int($0.dropFirst().prefix { $0 != " " }) }
        #expect(sequences == Array(1...sequences.count), "every event once, in order")

        let tail = try await rollout(["events", id, "--server", server, "--after", "\(sequences.count - 1)", "--output", "json"])
        let objects = tail.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 1 && objects.first?["sequence"] as? Int == sequences.count)
        // The status of the finished rollout: the stage table with every gate's verdict; no next action.
        let status = try await rollout(["status", id, "--server", server])
        let table = status.stdout.split(separator: "\n").map(String.init)
        #expect(table.contains { $0.contains("stage") && $0.contains("in progress") && $0.contains("gates") }, "\(status.stdout)")
        #expect(table.contains { $0.hasPrefix("  canary") && $0.contains("passed") && $0.hasSuffix("pass") }, "\(status.stdout)")
        #expect(!status.stdout.contains("next:"), "a finished rollout takes no command")
        #expect(!status.stdout.contains("\u{1B}["), "no colours when stdout is not a terminal")
        let history = try await rollout(["status", id, "--server", server, "--verdicts"])
        let historyLines = history.stdout.split(separator: "\n").map(String.init)
        #expect(historyLines.contains("  verdicts:"), "\(history.stdout)")
        #expect(historyLines.contains { $0.contains("  canary  pass") }, "\(history.stdout)")
        #expect(historyLines.contains { $0.hasPrefix("      pass  failed: failed 0% of") }, "\(history.stdout)")
        let alone = try await rollout(["status", "--verdicts", "--server", server])
        #expect(alone.status == 64 && alone.stderr.contains("--verdicts goes with a rollout id"), "\(alone.stderr)")

        let missing = try await rollout(["events", "no-such-12345678", "--server", server])
        #expect(missing.status == 1 && missing.stderr.contains("no rollout"), "\(missing.stderr)")
    }

    /// A port already in use ends the worker at once, with one line naming it and exit 64, before it says it is
    /// ready or takes a step.
    @Test func aPortInUseEndsTheWorkerBeforeItIsReady() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try WorkerProcess(database: "\(directory)/first.db", directory: directory)
        defer { _ = first.terminate() }
        let server = try await first.listening()
        let port = try #require(server.split(separator: ":").last.map(String.init))
        let second = try await rollout(["worker", "--db", "\(directory)/second.db", "--listen", "127.0.0.1:\(port)"])
        #expect(second.status == 64, "\(second.stderr)")
        #expect(second.stderr.contains("error: --listen 127.0.0.1:\(port): the address is already in use"), "\(second.stderr)")
        #expect(!second.stderr.contains("worker ready"), "\(second.stderr)")
    }

    /// The README's flow: a local worker started with `--artifacts-dir workflows/firmware` takes
    /// `rollout submit workflows/canary-3-waves.yaml` (local artifacts); without the flag it refuses the plan (exit 65)
    /// naming the field and the flag. The database it creates is private to its owner.
    @Test func submitNextToALocalWorkerNeedsItsArtifactsDirectory() async throws {
        let plan = "\(repositoryRoot)/workflows/canary-3-waves.yaml"
        for allowed in [true, false] {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let worker = try WorkerProcess(database: "\(directory)/demo.db", directory: directory,
                                           extraArguments: allowed ? ["--artifacts-dir", "\(repositoryRoot)/workflows/firmware"] : [])
            defer { _ = worker.terminate() }
            let server = try await worker.listening()
            let submitted = try await rollout(["submit", plan, "--server", server])
            if allowed {
                #expect(submitted.status == 0, "\(submitted.stderr)")
                #expect(submitted.stdout.hasPrefix("submitted sensor-fw-2-1-0-"))
            } else {
                #expect(submitted.status == 65)
                #expect(submitted.stderr.contains("release.artifact"), "\(submitted.stderr)")
                #expect(submitted.stderr.contains("--artifacts-dir"), "\(submitted.stderr)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/demo.db")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func sigkillInTheMiddleLosesNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "\(directory)/rollout.db"
        let planPaths = try (1...5).map { index -> String in
            let path = "\(directory)/plan-\(index).yaml"
            try """
                name: killed-\(index)
                release: {firmware: fw, version: 2.1.\(index), artifact: s3://fw-bucket/fw/2.1.0.bin}
                rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
                fleet: {thingGroup: fleet}
                canary: {devices: 5, bake: 10m}
                waves:
                  - {percent: 40, bake: 20m}
                  - {percent: 100, bake: 20m}
                schedule: {evidenceTimeout: 300d}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        var worker = try WorkerProcess(database: database, directory: directory)
        let server = try await worker.listening()
        for path in planPaths {
            let submitted = try await rollout(["submit", path, "--server", server])
            #expect(submitted.status == 0, "\(submitted.stderr)")
        }
        // Kill it once some, not all, stages have passed: the engine logs each stage start.
        let progressed = await worker.log.wait(seconds: 120) { objects in
            objects.contains { $0["stage"] as? String == "wave-1" }
        }
        #expect(progressed, "a first wave started: \(worker.log.all.count) lines, last \(worker.log.all.suffix(3))")
        worker.kill()

        worker = try WorkerProcess(database: database, directory: directory)
        let restartedServer = try await worker.listening()
        // Asked of the worker, not read from its log: a rollout that completed just before the kill may have had
        // its last log line still in the pipe when the first worker's log was read.
        var allCompleted = false
        let deadline = Date().addingTimeInterval(240)
        while !allCompleted && Date() < deadline {
            let completed = try await status(restartedServer).filter { $0["phase"] as? String == "completed" }
            allCompleted = completed.count == 5
            if !allCompleted { try await Task.sleep(for: .milliseconds(500)) }
        }
        let rollouts = try await status(restartedServer)
        let unfinished = rollouts.filter { $0["phase"] as? String != "completed" }
        let unfinishedText = unfinished.map { rollout in
            ["id", "phase", "waiting", "dueAt", "note"].map { "\($0)=\(rollout[$0] ?? "-")" }.joined(separator: " ")
        }
        let failure = "unfinished: \(unfinishedText); last log lines: \(worker.log.all.suffix(8))"
        #expect(allCompleted, "every rollout completes after the restart; \(failure)")
        #expect(rollouts.count == 5 && unfinished.isEmpty)
        _ = server
        #expect(worker.terminate() == 0, "SIGTERM stops the worker gracefully")

        // Independently of the worker: the log of each rollout replays to its state, and the simulated fleet's
        // journal shows every job created exactly once.
        let store = try SQLiteRolloutStore(path: database, role: .reader)
        for rollout in try store.rollouts(phases: nil, limit: 10) {
            let events = try store.events(rolloutId: rollout.id, afterSequence: 0, limit: 10_000)
            #expect(events.map(\.sequence) == Array(1...events.count), "no gap in \(rollout.id)'s log")
            #expect(RolloutStateMachine.replay(rolloutId: rollout.id, plan: rollout.plan, events: events) == rollout.state)
        }
        let journal = try String(contentsOfFile: database + ".simfleet", encoding: .utf8)
        let creations = journal.split(separator: "\n").filter { $0.contains("\"operation\":\"create\"") }
        let jobIds = creations.compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return object["jobId"] as? String
        }
        #expect(jobIds.count == 15, "5 rollouts × 3 stages")
        #expect(Set(jobIds).count == jobIds.count, "a job was created twice: \(jobIds)")
    }

    /// The id in `submitted <id>`.
    static func submittedId(_ output: String) -> String {
        String(output.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
    }

    /// `rollout status ID --watch` gates a pipeline: it exits as `rollout run` does when the rollout ends (3 rolled
    /// back), and with --until-person as soon as the rollout waits for a person (4).
    @Test func watchingExitsWithTheRolloutsOutcome() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let worker = try WorkerProcess(database: "\(directory)/watch.db", directory: directory,
                                       extraArguments: ["--scenario", "\(repositoryRoot)/workflows/scenarios/rev-b-fails.yaml",
                                                        "--artifacts-dir", "\(repositoryRoot)/workflows/firmware"])
        defer { _ = worker.terminate() }
        let server = try await worker.listening()

        let bad = try await rollout(["submit", "\(repositoryRoot)/workflows/broken-gate.yaml", "--server", server])
        #expect(bad.status == 0, "\(bad.stderr)")
        let badId = Self.submittedId(bad.stdout)
        let watched = try await rollout(["status", badId, "--watch", "--interval", "0.2", "--timeout", "5m",
                                         "--server", server])
        #expect(watched.status == 3, "rolled back: \(watched.stderr)")

        let approvalPlan = "\(directory)/approval.yaml"
        try """
            name: watched-approval
            release: {firmware: fw, version: 2.1.0, artifact: s3://fw-bucket/fw/2.1.0.bin}
            rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
            fleet: {thingGroup: fleet}
            canary: {devices: 5, bake: 10m}
            waves:
              - {percent: 100, bake: 10m, approval: required}
            gates: {jobOutcomes: {executedMin: 5, failedMaxPercent: 100}}
            schedule: {evidenceTimeout: 300d}
            """.write(toFile: approvalPlan, atomically: true, encoding: .utf8)
        let waiting = try await rollout(["submit", approvalPlan, "--server", server])
        let waitingId = Self.submittedId(waiting.stdout)
        let untilPerson = try await rollout(["status", waitingId, "--watch", "--until-person", "--interval", "0.2",
                                             "--timeout", "5m", "--server", server])
        #expect(untilPerson.status == 4, "waits for an approval: \(untilPerson.stderr)")
        let refused = try await rollout(["status", "--until-person", "--server", server])
        #expect(refused.status == 64, "--until-person needs --watch and an id")
    }
}
