import Engine
import Foundation
@testable import HTTPAdapters
@testable import HTTPTransport
import RolloutCore
import RolloutText
import StoreSQLite
import Testing

@testable import FleetAWS

/// Whole plans on moto + the device layer, whose devices take jobs on their own over time (play rules): the real
/// engine, `AWSFleet`, `SQLiteRolloutStore`, `HTTPMetricSource`, `WebhookNotifier` and the wall clock, in-process;
/// and the `rollout run` executable, killed with SIGKILL mid-stage and run again.
@Suite("rollout run end to end on moto", .serialized)
struct RunEndToEndTests {
    /// One test's world: a bucket, things in a thing group, firmware files, all named after a unique prefix (which
    /// is also the plan name, so every job id, S3 key and thing name contains it: faults and plays match it).
    struct World {
        var moto: MotoServer
        var prefix: String
        var directory: String
        var group: String
        var things: [String]
        var release: Data
        var previous: Data

        var bucket: String { prefix }
        var metricPath: String { "/_fixture/\(prefix)/health" }
        var hookPath: String { "/_fixture/\(prefix)/services/T0/B0/hook" }

        static func make(_ tag: String, things count: Int) async throws -> World {
            let moto = try await MotoServer.ready()
            let prefix = UniqueName.make(tag)
            let configuration = try moto.configuration()
            try await configuration.s3Client().createBucket(prefix)
            let iot = configuration.iotClient()
            let group = "\(prefix)-fleet"
            try await iot.createThingGroup(group)
            let things = (0..<count).map { "\(prefix)-dev-\(String(format: "%03d", $0))" }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for (index, thing) in things.enumerated() {
                    tasks.addTask {
                        try await iot.createThing(thing)
                        try await iot.addThingToThingGroup(thing: thing, group: group)
                    }
                    if index % 8 == 7 { try await tasks.next() }
                }
                try await tasks.waitForAll()
            }
            let directory = try TemporaryFile.makeDirectory()
            let release = Data.pseudoRandom(count: 200_000, seed: 21)
            let previous = Data.pseudoRandom(count: 150_000, seed: 20)
            try release.write(to: URL(fileURLWithPath: directory + "/fw-2.1.0.bin"))
            try previous.write(to: URL(fileURLWithPath: directory + "/fw-2.0.3.bin"))
            try await moto.fixture("/_fixture/\(prefix)/health", body: #"{"release": {"crashRate": 0.001}}"#)
            try await moto.fixture("/_fixture/\(prefix)/services/T0/B0/hook", body: "ok", contentType: "text/plain")
            return World(moto: moto, prefix: prefix, directory: directory, group: group, things: things,
                         release: release, previous: previous)
        }

        /// A canary of 3, waves at 40% and 100%, short bakes, a metric gate and a webhook on the fixtures.
        func planText(wave2Gates: String = "", executedMin: Int = 3) -> String {
            """
            name: \(prefix)
            release: {firmware: sensor-fw, version: 2.1.0, artifact: fw-2.1.0.bin}
            rollback: {version: 2.0.3, artifact: fw-2.0.3.bin}
            fleet: {thingGroup: \(group)}
            canary: {devices: 3, bake: 2s}
            waves:
              - {percent: 40, bake: 1s}
              - {percent: 100, bake: 1s\(wave2Gates)}
            gates:
              jobOutcomes: {failedMaxPercent: 5, executedMin: \(executedMin)}
              metrics:
                - {name: crash-rate, url: "\(moto.endpoint)\(metricPath)", pointer: /release/crashRate, max: 0.01}
            job: {inProgressTimeout: 5m}
            notifications:
              webhooks: ["\(moto.endpoint)\(hookPath)"]
            aws: {bucket: \(bucket), region: us-east-1}

            """
        }

        func writePlan(_ text: String) throws -> String {
            let path = directory + "/plan.yaml"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// Writes `text` as the plan file; returns its path, the parsed plan and the rollout id it gets.
        func writePlanAndIdentify(_ text: String) throws -> (path: String, plan: RolloutPlan, rolloutId: String) {
            let path = try writePlan(text)
            let plan = try PlanFile.load(atPath: path).plan
            return (path, plan, RolloutIdentity.rolloutId(planName: plan.name, planSource: text))
        }

        var databasePath: String { directory + "/rollout.db" }

        func remove() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Runs a plan in-process to its end (or until it needs a person) on the wall clock, bounded by `secondsMax`.
    static func runInProcess(_ world: World, planText: String, secondsMax: Double = 60) async throws
        -> (state: RolloutState, rolloutId: String, store: SQLiteRolloutStore)
    {
        let run = try await InProcessRollout.submit(world, planText: planText,
                                                    configuration: try world.moto.configuration(retry: InProcessRollout.awsRetry()))
        return (try await run.settle(secondsMax: secondsMax), run.rolloutId, run.store)
    }

    // MARK: - a. the full plan

    @Test("a full plan completes: firmware, job documents and targets on S3/IoT are exactly what the plan says")
    func fullPlan() async throws {
        let world = try await World.make("e2e-full", things: 30)
        defer { world.remove() }
        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let text = world.planText()
        let (state, rolloutId, store) = try await Self.runInProcess(world, planText: text)
        #expect(state.phase == .completed, "\(RolloutText.note(state) ?? "")")
        #expect(state.stages.map(\.status) == [.passed, .passed, .passed])
        #expect(state.stages.map(\.devices) == [3, 9, 18])

        // The firmware, content-addressed, with its digest.
        let digest = SHA256Digest.hash(world.release).lowercaseHex
        let key = "firmware/sensor-fw/2.1.0/\(digest).bin"
        #expect(state.release?.key == key && state.release?.bucket == world.bucket)
        let object = try await world.moto.boto3("s3", "get_object", ["Bucket": world.bucket, "Key": key], readBody: true)
        #expect(object["BodyBase64"] as? String == world.release.base64EncodedString())
        #expect((object["Metadata"] as? [String: String])?["sha256"] == digest)
        let previousDigest = SHA256Digest.hash(world.previous).lowercaseHex
        let previousHead = try await world.moto.boto3("s3", "head_object",
                                                      ["Bucket": world.bucket, "Key": "firmware/sensor-fw/2.0.3/\(previousDigest).bin"])
        #expect(previousHead["ContentLength"] as? Int == world.previous.count)

        // Every stage's job: targets = the stage's cohort, document fields, the copy in S3.
        let cohorts = try #require(try store.cohorts(rolloutId: rolloutId))
        var seen: Set<String> = []
        for (index, stage) in state.stages.enumerated() {
            let job = try await Self.job(world.moto, stage.jobId)
            let targets = Self.targetThings(job)
            #expect(targets.count == Set(targets).count, "\(stage.name): no duplicate targets")
            #expect(Set(targets) == Set(cohorts.devices(ofStage: index)), "\(stage.name): targets are its cohort")
            #expect(seen.isDisjoint(with: targets), "\(stage.name): no device in two stages")
            seen.formUnion(targets)
            #expect(job["status"] as? String == "COMPLETED")
            #expect(job["targetSelection"] as? String == "SNAPSHOT")

            let document = try await Self.document(world.moto, stage.jobId)
            #expect(document["operation"] as? String == "firmwareUpdate")
            #expect(document["version"] as? String == "2.1.0")
            #expect(document["previousVersion"] as? String == "2.0.3")
            #expect(document["firmwareUrl"] as? String == "https://s3.us-east-1.amazonaws.com/\(world.bucket)/\(key)")
            #expect(document["checksumAlgorithm"] as? String == "SHA256")
            #expect(document["checksum"] as? String == digest)
            #expect(document["size"] as? Int == world.release.count)
            #expect(document["rolloutId"] as? String == rolloutId)
            #expect(document["stage"] as? String == stage.name)
            let copy = try await world.moto.boto3("s3", "get_object", ["Bucket": world.bucket, "Key": "jobs/\(stage.jobId).json"],
                                                  readBody: true)
            let copyData = try #require(Data(base64Encoded: copy["BodyBase64"] as? String ?? ""))
            #expect(NSDictionary(dictionary: try #require(try jsonObject(copyData) as? [String: Any])).isEqual(to: document))

            let executions = try await Self.executions(world.moto, stage.jobId)
            #expect(Set(executions.keys) == Set(targets))
            #expect(executions.values.allSatisfy { $0 == "SUCCEEDED" })
        }
        #expect(seen == Set(world.things), "the stages partition the fleet")

        let calls = try await world.moto.createJobCalls(prefix: rolloutId)
        #expect(Set(calls.keys) == Set(state.stages.map(\.jobId)))
        #expect(calls.values.allSatisfy { $0.attempts == 1 && $0.created == 1 })
        _ = try Self.checkEventLog(store, rolloutId: rolloutId, plan: try PlanFile.load(atPath: world.directory + "/plan.yaml").plan,
                                   state: state)

        // The metric gate was read over HTTP; the webhook got Slack-compatible notifications, the last one `completed`.
        #expect(try await world.moto.received(world.metricPath).count >= 3)
        let hooks = try await world.moto.received(world.hookPath).compactMap {
            try? jsonObject(Data(($0["body"] as? String ?? "").utf8)) as? [String: Any]
        }
        #expect(hooks.contains { $0["kind"] as? String == "completed" && ($0["text"] as? String)?.isEmpty == false })
        #expect(hooks.allSatisfy { $0["rolloutId"] as? String == rolloutId })
    }

    // MARK: - b. a broken gate rolls back

    @Test("a gate broken in wave 2 cancels its job and rolls back exactly the devices that took or were taking 2.1.0")
    func brokenGateRollsBack() async throws {
        let world = try await World.make("e2e-bad", things: 30)
        defer { world.remove() }
        // In wave 2, the first 2 devices take the job at once and never report back (IN_PROGRESS forever), and about
        // half of the rest fail.
        try await world.moto.play(jobPrefix: world.prefix, rules: [
            ["job": "-wave-2$", "first": 2, "status": "IN_PROGRESS", "startMs": [0, 0]],
            ["job": "-wave-2$", "share": 0.5, "status": "FAILED"],
        ])
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let text = world.planText()
        let (state, rolloutId, store) = try await Self.runInProcess(world, planText: text)
        #expect(state.phase == .rolledBack, "\(RolloutText.note(state) ?? "")")
        #expect(state.stages.map(\.status) == [.passed, .passed, .failed])
        let rollback = try #require(state.rollback)

        let wave2 = try await Self.job(world.moto, state.stages[2].jobId)
        #expect(wave2["status"] as? String == "CANCELED")

        // Expected: every device whose execution SUCCEEDED or is IN_PROGRESS, in any stage (read back with boto3).
        var expected: Set<String> = []
        var failed: Set<String> = []
        var stuck: Set<String> = []
        for stage in state.stages {
            for (thing, status) in try await Self.executions(world.moto, stage.jobId) {
                if status == "SUCCEEDED" || status == "IN_PROGRESS" { expected.insert(thing) }
                if status == "FAILED" { failed.insert(thing) }
                if status == "IN_PROGRESS" { stuck.insert(thing) }
            }
        }
        // The two silent devices, and any caught mid-install when the job was cancelled.
        #expect(stuck.count >= 2, "the silent devices of wave 2 are still in progress")
        #expect(!failed.isEmpty)
        let rollbackJob = try await Self.job(world.moto, rollback.jobId)
        let targets = Self.targetThings(rollbackJob)
        #expect(targets.count == Set(targets).count)
        #expect(Set(targets) == expected, "rollback targets = succeeded ∪ in progress")
        #expect(stuck.isSubset(of: Set(targets)) && failed.isDisjoint(with: Set(targets)))
        #expect(rollback.devices == expected.count)

        let document = try await Self.document(world.moto, rollback.jobId)
        #expect(document["version"] as? String == "2.0.3")
        #expect(document["previousVersion"] as? String == "2.1.0")
        #expect(document["stage"] as? String == "rollback")
        #expect(document["checksum"] as? String == SHA256Digest.hash(world.previous).lowercaseHex)

        // The rollback job ran to its end on every target.
        #expect(rollbackJob["status"] as? String == "COMPLETED")
        let rolledBack = try await Self.executions(world.moto, rollback.jobId)
        #expect(Set(rolledBack.keys) == expected && rolledBack.values.allSatisfy { $0 == "SUCCEEDED" })
        #expect(rollback.progress.succeeded == expected.count)

        let calls = try await world.moto.createJobCalls(prefix: rolloutId)
        #expect(calls.values.allSatisfy { $0.attempts == 1 && $0.created == 1 })
        #expect(calls.count == 4)
        _ = try Self.checkEventLog(store, rolloutId: rolloutId, plan: try PlanFile.load(atPath: world.directory + "/plan.yaml").plan,
                                   state: state)
        let hooks = try await world.moto.received(world.hookPath).map { $0["body"] as? String ?? "" }
        #expect(hooks.contains { $0.contains(#""kind":"rollingBack""#) } && hooks.contains { $0.contains(#""kind":"rolledBack""#) })
    }

    // MARK: - d. throttling storm

    @Test("a storm throttling ~30% of IoT and S3 calls is survived: the plan completes, each job created once")
    func throttlingStorm() async throws {
        let world = try await World.make("e2e-storm", things: 12)
        defer { world.remove() }
        try await world.moto.play(jobPrefix: world.prefix)
        // Every IoT and S3 call naming this world (jobs, things, groups, the bucket: firmware and documents).
        let rules: [[String: Any]] = [["match": world.prefix, "share": 0.3, "kind": "mixed", "seed": 17]]
        try await world.moto.control("faults", ["name": world.prefix, "rules": rules])
        let state: RolloutState
        let rolloutId: String
        do {
            (state, rolloutId, _) = try await Self.runInProcess(world, planText: world.planText(), secondsMax: 90)
        } catch {
            _ = try? await world.moto.control("faults", ["name": world.prefix, "rules": []])
            throw error
        }
        let stats = try await world.moto.control("stats", [:])
        try await world.moto.control("faults", ["name": world.prefix, "rules": []])
        try await world.moto.stopPlaying(jobPrefix: world.prefix)
        #expect(state.phase == .completed, "\(RolloutText.note(state) ?? "")")
        let injected = (stats["injected"] as? [String: Int])?[world.prefix] ?? 0
        #expect(injected >= 10, "the storm happened (\(injected) injected errors)")
        let calls = try await world.moto.createJobCalls(prefix: rolloutId)
        #expect(calls.count == 3 && calls.values.allSatisfy { $0.created == 1 })
    }

    // MARK: - c. the executable, killed and run again

    static func rolloutExecutable() throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["ROLLOUT_EXECUTABLE"] { candidates.append(explicit) }
        if let main = Bundle.main.executableURL { candidates.append(main.deletingLastPathComponent().path + "/rollout") }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/rollout")
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        candidates.append(packageRoot + "/.build/debug/rollout")
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("no rollout executable among \(candidates) (build it, or set ROLLOUT_EXECUTABLE)")
        }
        return found
    }

    /// Fails clearly when the executable has no `run` subcommand (it must be registered in `RolloutCommand`).
    static func requireRunCommand(_ executable: String) async throws {
        let help = try await TestProcess.run(executable, ["run", "--help"])
        try #require(help.status == 0 && help.stdoutText.contains("--poll-interval"),
                     "`rollout run` is not available in \(executable): \(help.stdoutText.prefix(300))")
    }

    static func childEnvironment(_ world: World) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_EC2_METADATA_DISABLED": "true", "HOME": world.directory, "PATH": "/usr/bin:/bin"]
    }

    @Test("`rollout run` killed with SIGKILL mid-stage resumes when run again: completes, every job created once")
    func killAndResume() async throws {
        let executable = try Self.rolloutExecutable()
        let world = try await World.make("e2e-kill", things: 20)
        defer { world.remove() }
        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let text = world.planText()
        let (planPath, plan, rolloutId) = try world.writePlanAndIdentify(text)
        let arguments = ["run", planPath, "--db", world.databasePath, "--endpoint-url", world.moto.endpoint,
                         "--poll-interval", "1s", "--timeout", "90s", "--output", "json"]

        try await Self.requireRunCommand(executable)

        // First run: killed as soon as the wave-1 job exists (its bake is still running).
        let first = Process()
        first.executableURL = URL(fileURLWithPath: executable)
        first.arguments = arguments
        first.environment = Self.childEnvironment(world)
        let firstOutput = try TemporaryFile.make(suffix: ".out")
        first.standardOutput = FileHandle(forWritingAtPath: firstOutput)
        first.standardError = FileHandle(forWritingAtPath: try TemporaryFile.make(suffix: ".err"))
        try first.run()
        let wave1 = RolloutState.jobId(rolloutId: rolloutId, stage: "wave-1")
        var killedMidStage = false
        for _ in 0..<600 where first.isRunning {
            if try await world.moto.createJobCalls(prefix: wave1)[wave1]?.created == 1 {
                kill(first.processIdentifier, SIGKILL)
                killedMidStage = true
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        if !killedMidStage && first.isRunning { kill(first.processIdentifier, SIGKILL) }
        first.waitUntilExit()
        try #require(killedMidStage, "the first run never reached wave-1: \(String(decoding: FileManager.default.contents(atPath: firstOutput) ?? Data(), as: UTF8.self))")
        #expect(first.terminationReason == .uncaughtSignal && first.terminationStatus == SIGKILL)
        let firstLines = String(decoding: FileManager.default.contents(atPath: firstOutput) ?? Data(), as: UTF8.self)
            .split(separator: "\n").compactMap { try? jsonObject(Data($0.utf8)) as? [String: Any] }
        #expect(firstLines.first?["event"] as? String == "submitted")
        #expect(firstLines.allSatisfy { $0["rolloutId"] as? String == rolloutId })

        // Second run, same command: resumes and completes.
        let second = try await TestProcess.run(executable, arguments, environment: Self.childEnvironment(world))
        #expect(second.status == 0, "stderr: \(second.stderrText)")
        let lines = second.stdoutText.split(separator: "\n").compactMap { try? jsonObject(Data($0.utf8)) as? [String: Any] }
        #expect(lines.first?["event"] as? String == "resumed")
        #expect(lines.last?["event"] as? String == "finished" && lines.last?["phase"] as? String == "completed")
        #expect(lines.last?["exitCode"] as? Int == 0)

        let store = try SQLiteRolloutStore(path: world.databasePath, role: .reader)
        let state = try #require(try store.rollout(id: rolloutId)?.state)
        #expect(state.phase == .completed)
        _ = try Self.checkEventLog(store, rolloutId: rolloutId, plan: plan, state: state)
        let calls = try await world.moto.createJobCalls(prefix: rolloutId)
        #expect(Set(calls.keys) == Set(state.stages.map(\.jobId)))
        #expect(calls.values.allSatisfy { $0.attempts == 1 && $0.created == 1 && $0.conflicts == 0 },
                "every job created exactly once: \(calls)")
        var targeted: [String] = []
        for stage in state.stages {
            targeted += Self.targetThings(try await Self.job(world.moto, stage.jobId))
        }
        #expect(targeted.count == world.things.count && Set(targeted) == Set(world.things))

        // Once finished, running it again changes nothing and says so.
        let third = try await TestProcess.run(executable, arguments, environment: Self.childEnvironment(world))
        #expect(third.status == 0)
        #expect(try store.events(rolloutId: rolloutId, afterSequence: 0, limit: 100_000).count == state.eventCount)
    }

    @Test("`rollout run` refuses a plan without an `aws:` section (65), and says what it waits for at an approval (4)")
    func runRefusalsAndWaiting() async throws {
        let executable = try Self.rolloutExecutable()
        try await Self.requireRunCommand(executable)
        let world = try await World.make("e2e-cli", things: 10)
        defer { world.remove() }
        let withoutAWS = world.planText().replacingOccurrences(of: "aws: {bucket: \(world.bucket), region: us-east-1}\n", with: "")
        let planPath = try world.writePlan(withoutAWS)
        let refused = try await TestProcess.run(executable, ["run", planPath, "--db", world.databasePath,
                                                             "--endpoint-url", world.moto.endpoint],
                                                environment: Self.childEnvironment(world))
        #expect(refused.status == 65)
        #expect(refused.stderrText.contains("`aws:`"))

        try await world.moto.play(jobPrefix: world.prefix)
        defer { Task { try? await world.moto.stopPlaying(jobPrefix: world.prefix) } }
        let approval = world.planText().replacingOccurrences(of: "- {percent: 40, bake: 1s}",
                                                             with: "- {percent: 40, bake: 1s, approval: required}")
        let approvalPath = try world.writePlan(approval)
        let waiting = try await TestProcess.run(executable, ["run", approvalPath, "--db", world.databasePath,
                                                             "--endpoint-url", world.moto.endpoint, "--poll-interval", "1s",
                                                             "--timeout", "60s"],
                                                environment: Self.childEnvironment(world))
        #expect(waiting.status == 4, "stdout: \(waiting.stdoutText) stderr: \(waiting.stderrText)")
        #expect(waiting.stdoutText.contains("waiting for") && waiting.stdoutText.contains("run this command again"))
    }
}
