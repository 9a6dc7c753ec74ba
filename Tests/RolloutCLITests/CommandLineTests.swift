import Foundation
import RolloutCore
import StoreSQLite
import Testing

/// The documented exit codes and outputs of the command line.
@Suite struct CommandLineTests {
    @Test func validateAcceptsTheExamplesAndLocatesProblems() async throws {
        let good = try await rollout(["validate", "\(repositoryRoot)/workflows/canary-3-waves.yaml",
                                      "\(repositoryRoot)/workflows/windowed-approval.yaml"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("valid"))

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bad = "\(directory)/bad.yaml"
        try """
            name: bad
            release: {firmware: fw, version: 2.0.0, artifact: s3://bucket-a/fw.bin}
            fleet: {}
            onFailure: pause
            canary: {devices: 10, bake: 30m}
            waves:
              - {percent: 120, bake: 1h}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try await rollout(["validate", bad])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(bad):7:15: waves[0].percent: expected a number in 0…100"), "\(result.stderr)")
    }

    @Test func planPrintsTheTimeline() async throws {
        let result = try await rollout(["plan", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "1000",
                                        "--start", "2026-12-01T00:00:00Z", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let stages = object?["stages"] as? [[String: Any]] ?? []
        #expect(stages.map { $0["devices"] as? Int } == [20, 230, 750])
        // notBefore is Monday 2026-12-07; the window opens at 02:00 Berlin = 01:00Z.
        #expect(stages.first?["earliestStart"] as? String == "2026-12-07T01:00:00Z")
    }

    @Test("text output shows times in the operator's zone (TZ); ROLLOUT_UTC=1 and JSON keep UTC")
    func operatorTimeZone() async throws {
        let arguments = ["plan", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "1000",
                         "--start", "2026-12-01T00:00:00Z"]
        let berlin = try await rollout(arguments, environment: ["TZ": "Europe/Berlin"])
        #expect(berlin.status == 0, "\(berlin.stderr)")
        #expect(berlin.stdout.contains("2026-12-07 02:00:00 +01:00"), "the 02:00 Berlin window: \(berlin.stdout)")
        #expect(!berlin.stdout.contains("T01:00:00Z"))
        let utc = try await rollout(arguments, environment: ["TZ": "Europe/Berlin", "ROLLOUT_UTC": "1"])
        #expect(utc.stdout.contains("2026-12-07T01:00:00Z"))
        let json = try await rollout(arguments + ["--output", "json"], environment: ["TZ": "Europe/Berlin"])
        #expect(json.stdout.contains("2026-12-07T01:00:00Z"))
    }

    @Test("plan --show-document prints a stage's and the rollback's document in the plan's shape, from a template too")
    func showDocument() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("show-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: "\(directory)/fw.bin"))
        try #"{"cmd": "flash", "url": "${firmware.url}", "bytes": ${firmware.size}, "back": "${rollback.version}"}"#
            .write(toFile: "\(directory)/doc.json", atomically: true, encoding: .utf8)
        func plan(_ document: String) throws -> String {
            let path = "\(directory)/plan-\(UUID().uuidString).yaml"
            try """
                name: doc-test
                release: {firmware: fw, version: 2.1.0, artifact: fw.bin}
                rollback: {version: 2.0.3, artifact: fw.bin}
                fleet: {thingGroup: fleet}
                canary: {devices: 10, bake: 30m}
                waves:
                  - {percent: 100, bake: 1h}
                job: {document: \(document)}
                aws: {bucket: fw-bucket, region: eu-west-1}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let nrf = try await rollout(["plan", try plan("nrf-fota"), "--show-document", "canary"])
        #expect(nrf.status == 0, "\(nrf.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(nrf.stdout.utf8)) as? [String: Any]
        #expect(document?["operation"] as? String == "app_fw_update" && document?["size"] as? Int == 1000)
        #expect((document?["location"] as? [String: String])?["host"] == "s3.eu-west-1.amazonaws.com")

        let templated = try await rollout(["plan", try plan("{template: doc.json}"), "--show-document", "rollback"])
        #expect(templated.status == 0, "\(templated.stderr)")
        let rollback = try JSONSerialization.jsonObject(with: Data(templated.stdout.utf8)) as? [String: Any]
        #expect(rollback?["cmd"] as? String == "flash" && rollback?["bytes"] as? Int == 1000)
        #expect((rollback?["url"] as? String)?.hasPrefix("https://s3.eu-west-1.amazonaws.com/fw-bucket/firmware/fw/2.0.3/") == true)

        let unknown = try await rollout(["plan", try plan("aws-ota"), "--show-document", "wave-9"])
        #expect(unknown.status == 65 && unknown.stderr.contains("no stage wave-9; the plan's stages: canary, wave-1, rollback"))
    }

    @Test("rollout plan projects each job as AWS runs it: a temporary group's fill without rings, a few calls with them")
    func planProjectsJobCreationAndNotification() async throws {
        func stages(_ extra: [String]) async throws -> [[String: Any]] {
            let result = try await rollout(["plan", "\(repositoryRoot)/workflows/canary-3-waves.yaml", "--devices", "1000000",
                                            "--start", "2026-12-01T00:00:00Z", "--output", "json"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return object?["stages"] as? [[String: Any]] ?? []
        }
        let filled = try await stages([])
        let launch = filled.compactMap { $0["launch"] as? [String: Any] }
        #expect(launch.map { $0["targeting"] as? String } == Array(repeating: "temporaryGroup", count: 4))
        // wave-3's 500,000 devices at AWS's 100 AddThingToThingGroup a second, plus the job's few calls.
        #expect(launch.last?["jobCreationSeconds"] as? Double == 5002)
        #expect(launch.last?["notificationSeconds"] as? Double == 30_000, "1,000 a minute at most")

        let ringed = try await stages(["--rings", "100", "--aws-quota", "AddThingToThingGroup=50"])
        #expect(ringed.compactMap { ($0["launch"] as? [String: Any])?["targeting"] as? String } == ["rings", "rings", "rings", "rings"])
        #expect((ringed.last?["earliestStart"] as? String ?? "") < (filled.last?["earliestStart"] as? String ?? ""))

        let text = try await rollout(["plan", "\(repositoryRoot)/workflows/canary-3-waves.yaml", "--devices", "1000000"])
        #expect(text.stdout.contains("~1 h 23 m (temporary group filled at 100/s)"), "\(text.stdout)")
        #expect(text.stdout.contains("≥ 8 h 20 m (outlasts the bake)"))
        let bad = try await rollout(["plan", "\(repositoryRoot)/workflows/canary-3-waves.yaml", "--rings", "1000"])
        #expect(bad.status != 0 && bad.stderr.contains("--rings must be 0…"), "\(bad.stderr)")
    }

    @Test func simulateReportsJSONAndExitsByOutcome() async throws {
        let completed = try await rollout(["simulate", "\(repositoryRoot)/workflows/canary-3-waves.yaml", "--devices", "2000",
                                           "--seed", "7", "--start", "2026-03-02T00:00:00Z", "--output", "json"])
        #expect(completed.status == 0, "\(completed.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(completed.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["outcome"] as? String == "completed")
        #expect(report["devices"] as? Int == 2000)
        #expect(report["seed"] as? Int == 7)
        #expect((report["virtualSeconds"] as? Double ?? 0) > 3600)
        #expect((report["events"] as? Int ?? 0) > 10)
        let stages = report["stages"] as? [[String: Any]] ?? []
        #expect(stages.map { $0["name"] as? String } == ["canary", "wave-1", "wave-2", "wave-3"])
        for key in ["devices", "succeeded", "failed", "timedOut", "rejected", "startedAt", "endedAt", "verdicts"] {
            #expect(stages.first?[key] != nil, "stage field \(key)")
        }

        let rolledBack = try await rollout(["simulate", "\(repositoryRoot)/workflows/broken-gate.yaml", "--scenario",
                                            "\(repositoryRoot)/workflows/scenarios/rev-b-fails.yaml", "--seed", "42"])
        #expect(rolledBack.status == 3, "\(rolledBack.stderr)")
        #expect(rolledBack.stdout.contains("rolledBack"))
        #expect(rolledBack.stdout.contains("reproduce: rollout simulate"))
        #expect(rolledBack.stdout.contains("--scenario \(repositoryRoot)/workflows/scenarios/rev-b-fails.yaml"),
                "the reproduce line names everything that shaped the run")
        #expect(rolledBack.stdout.components(separatedBy: "--scenario ").count == 2, "the scenario named once")

        // Prometheus and CloudWatch-alarm gates rehearse unchanged but for their endpoints (sim://…).
        let metricGates = try await rollout(["simulate", "\(repositoryRoot)/workflows/metric-gates.yaml", "--scenario",
                                             "\(repositoryRoot)/workflows/scenarios/slow-leak-alarm.yaml", "--seed", "3"])
        #expect(metricGates.status == 3, "\(metricGates.stderr)")
        #expect(metricGates.stdout.contains("wave-2 gate failed: crash-ratio "), "\(metricGates.stdout)")
        #expect(metricGates.stdout.contains("failureLimit 1)"))

        let stopped = try await rollout(["simulate", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "300",
                                         "--seed", "1", "--approval-delay", "never"])
        #expect(stopped.status == 4, "waits for an approval: \(stopped.stderr)")

        // A rollback that does not reach every device is not a success: exit 5, and the devices are named.
        let incomplete = try await rollout(["simulate", "\(repositoryRoot)/workflows/broken-gate.yaml", "--scenario",
                                            "\(repositoryRoot)/workflows/scenarios/rollback-fails.yaml", "--seed", "42",
                                            "--output", "json"])
        #expect(incomplete.status == 5, "\(incomplete.stderr)")
        let incompleteReport = try JSONSerialization.jsonObject(with: Data(incomplete.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(incompleteReport["outcome"] as? String == "rollbackIncomplete")
        let count = try #require(incompleteReport["notRolledBackCount"] as? Int)
        let names = incompleteReport["notRolledBack"] as? [String] ?? []
        let rollback = incompleteReport["rollback"] as? [String: Any] ?? [:]
        #expect(count > 0 && names.count == count)
        #expect(count == (rollback["devices"] as? Int ?? 0) - (rollback["succeeded"] as? Int ?? 0))
    }

    @Test func sameSeedSameOutput() async throws {
        let arguments = ["simulate", "\(repositoryRoot)/workflows/broken-gate.yaml", "--scenario",
                         "\(repositoryRoot)/workflows/scenarios/rev-b-fails.yaml", "--seed", "99", "--start",
                         "2026-03-02T00:00:00Z", "--output", "json"]
        let first = try await rollout(arguments)
        let second = try await rollout(arguments)
        #expect(first.stdout == second.stdout)
    }

    @Test func enqueueFillsTheTemplate() async throws {
        let result = try await rollout(["enqueue", "--template", "\(repositoryRoot)/deploy/ci/rollout-plan.template.yaml",
                                        "--tag", "v2.4.0", "--set", "ARTIFACT=s3://my-firmware-bucket/fw-2.4.0.bin",
                                        "--set", "PREVIOUS_TAG=v2.3.1", "--set", "PREVIOUS_VERSION=2.3.1", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("version: 2.4.0"))
        #expect(result.stdout.contains("name: sensor-fw-2-4-0"), "each release its own name")
        #expect(result.stdout.contains("version: 2.3.1") && result.stdout.contains("sensor-fw/v2.3.1.bin"),
                "the rollback is the release before, not a fixed version")
        let missing = try await rollout(["enqueue", "--template", "\(repositoryRoot)/deploy/ci/rollout-plan.template.yaml",
                                         "--tag", "v2.4.0", "--dry-run"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("${ARTIFACT}"))

        // A gate's own placeholders are the worker's, filled per measurement: the template keeps them as written.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let template = try String(contentsOfFile: "\(repositoryRoot)/deploy/ci/rollout-plan.template.yaml", encoding: .utf8)
        let gate = #"  metrics: [{name: crash, provider: prometheus, url: "https://prom.example.com", "#
            + #"query: "max(crash{version=\"${version}\",stage=\"${stage}\"})", max: 0.01}]"#
        let withGate = template.replacingOccurrences(of: "\nschedule:", with: "\n\(gate)\nschedule:")
        try withGate.write(toFile: "\(directory)/gated.template.yaml", atomically: true, encoding: .utf8)
        let gated = try await rollout(["enqueue", "--template", "\(directory)/gated.template.yaml", "--tag", "v2.4.0",
                                       "--set", "ARTIFACT=s3://my-firmware-bucket/fw-2.4.0.bin", "--set", "PREVIOUS_TAG=v2.3.1",
                                       "--set", "PREVIOUS_VERSION=2.3.1", "--dry-run"])
        #expect(gated.status == 0, "\(gated.stderr)")
        #expect(gated.stdout.contains(#"query: "max(crash{version=\"${version}\",stage=\"${stage}\"})""#), "\(gated.stdout)")
    }
}

@Suite struct SimulateResumeTests {
    /// A rehearsal that stopped at an approval resumes from its database, with the same fleet and clock.
    @Test func simulationResumesFromItsDatabase() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = ["simulate", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "300", "--seed", "5",
                         "--db", "\(directory)/sim.db"]
        let first = try await rollout(arguments + ["--approval-delay", "never"])
        #expect(first.status == 4, "stops at the approval: \(first.stderr)")
        #expect(first.stdout.contains("awaitingApproval"))
        let second = try await rollout(arguments)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("resuming"))
        #expect(second.stdout.contains("completed"))
        #expect(second.stdout.contains("approved by simulator"))
    }
}

@Suite struct LocalCommandTests {
    /// `rollout approve ID --db` records the approval in a database no worker holds; the next run acts on it.
    @Test func approvalRecordedInTheDatabaseIsActedOn() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "\(directory)/sim.db"
        let arguments = ["simulate", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "300", "--seed", "5",
                         "--db", database, "--approval-delay", "never", "--output", "json"]
        let first = try await rollout(arguments)
        #expect(first.status == 4)
        let report = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        let id = try #require(report?["rolloutId"] as? String)

        let illegal = try await rollout(["resume", id, "--db", database])
        #expect(illegal.status == 4, "nothing to resume: \(illegal.stderr)")
        #expect(illegal.stderr.contains("not paused"))
        let approved = try await rollout(["approve", id, "--db", database, "--by", "release-bot",
                                          "--reason", "CAB-1234 approved"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let store = try SQLiteRolloutStore(path: database, role: .reader)
        let events = try store.events(rolloutId: id, afterSequence: 0, limit: 10_000)
        store.close()
        #expect(events.contains { $0.event == .approved(by: "release-bot", reason: "CAB-1234 approved") },
                "--by and --reason are recorded")

        let second = try await rollout(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        let final = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect(final?["outcome"] as? String == "completed")
    }

    /// A command recorded with `--db` into a simulation's database takes that database's clock (its latest instant),
    /// so time never runs backwards for the rollout; and the simulated fleet's journal records every job once,
    /// however often the run is resumed.
    @Test func commandsKeepTheSimulationsClockAndJobsAreJournalledOnce() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "\(directory)/sim.db"
        let arguments = ["simulate", "\(repositoryRoot)/workflows/windowed-approval.yaml", "--devices", "300", "--seed", "5",
                         "--db", database, "--approval-delay", "never", "--output", "json"]
        let first = try await rollout(arguments)
        #expect(first.status == 4)
        let report = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        let id = try #require(report?["rolloutId"] as? String)
        let before = try SQLiteRolloutStore(path: database, role: .reader)
        let latest = try #require(try before.latestInstant())
        before.close()

        // The simulation runs in December 2026 (the plan's notBefore); the wall clock says otherwise.
        let approved = try await rollout(["approve", id, "--db", database])
        #expect(approved.status == 0, "\(approved.stderr)")
        let second = try await rollout(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        let third = try await rollout(arguments)
        #expect(third.status == 0, "resuming a finished run changes nothing: \(third.stderr)")

        let store = try SQLiteRolloutStore(path: database, role: .reader)
        defer { store.close() }
        let events = try store.events(rolloutId: id, afterSequence: 0, limit: 10_000)
        let approval = try #require(events.first { $0.event.kind == "approved" })
        #expect(approval.at == latest, "the approval is stamped with the database's clock")
        for (earlier, later) in zip(events, events.dropFirst()) {
            #expect(earlier.at <= later.at, "time runs backwards at event \(later.sequence) (\(later.event.kind))")
        }
        let journal = try String(contentsOfFile: database + ".simfleet", encoding: .utf8)
        let creations = journal.split(separator: "\n").filter { $0.contains("\"operation\":\"create\"") }
        let jobIds = creations.compactMap { line -> String? in
            guard let range = line.range(of: "\"jobId\":\"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect(jobIds.count == 3 && Set(jobIds).count == 3, "each job journalled once: \(jobIds)")
    }
}

/// The smaller promises of the command line a pipeline relies on.
@Suite struct CommandLineContractTests {
    @Test func versionAndPollIntervalsAndValidateJSON() async throws {
        let version = try await rollout(["--version"])
        #expect(version.status == 0 && !version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

        // --poll-interval takes the same forms everywhere: a duration or seconds; nonsense is a usage error (64).
        let plan = "\(repositoryRoot)/workflows/canary-3-waves.yaml"
        for interval in ["2m", "120"] {
            let result = try await rollout(["simulate", plan, "--devices", "100", "--seed", "3", "--poll-interval", interval])
            #expect(result.status == 0, "\(interval): \(result.stderr)")
            #expect(result.stdout.contains("--poll-interval \(interval)"), "the reproduce line keeps it")
        }
        for command in [["simulate", plan], ["worker", "--db", "/nonexistent/x.db"], ["run", plan, "--db", "/nonexistent/x.db"]] {
            let result = try await rollout(command + ["--poll-interval", "fast"])
            #expect(result.status == 64, "\(command[0]): \(result.stderr)")
            #expect(result.stderr.contains("--poll-interval must be a duration such as 30s"), "\(result.stderr)")
        }

        // validate --output json: a boolean and structured errors, nothing on stderr.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "name: x\n".write(toFile: "\(directory)/bad.yaml", atomically: true, encoding: .utf8)
        let validated = try await rollout(["validate", plan, "\(directory)/bad.yaml", "--output", "json"])
        #expect(validated.status == 65)
        #expect(validated.stderr.isEmpty, "\(validated.stderr)")
        let results = try JSONSerialization.jsonObject(with: Data(validated.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(results.map { $0["valid"] as? Bool } == [true, false])
        let errors = results.last?["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { $0["field"] as? String == "release" && $0["line"] as? Int == 1 }, "\(errors)")
    }
}
