import Engine
import Foundation
import RolloutCore
import Testing

/// A real worker (in-memory store, simulated fleet, sped-up clock) behind a real server, driven over loopback HTTP.
@Suite("status API end to end")
struct StatusServerEndToEndTests {
    static let token = "test-token-\(UUID().uuidString)"

    @Test("a submitted plan runs to completion and every route describes it")
    func submitAndComplete() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let plan = TestPlans.quick(name: "api-complete")
        let first = try await client.checked("POST", "/v1/rollouts", body: plan, checker: checker)
        #expect(first.status == 201)
        let id = try #require(try first.jsonValue()["id"]?.string)
        #expect(id.hasPrefix("api-complete-"))
        #expect(try first.jsonValue()["created"] == .bool(true))
        #expect(first.headers["location"] == "/v1/rollouts/\(id)")

        let again = try await client.checked("POST", "/v1/rollouts", body: plan, checker: checker)
        #expect(again.status == 200)
        #expect(try again.jsonValue()["created"] == .bool(false))
        #expect(try again.jsonValue()["id"]?.string == id)

        let detail = try await waitForPhase("completed", id: id, in: harness, client: client, checker: checker)
        let stages = try #require(detail["stages"]?.array)
        #expect(stages.compactMap { $0["name"]?.string } == ["canary", "wave-1", "wave-2"])
        #expect(stages.allSatisfy { $0["status"]?.string == "passed" })
        #expect(stages.compactMap { $0["devices"]?.int }.reduce(0, +) == 200)
        #expect(detail["plan"]?["name"]?.string == "api-complete")
        #expect(detail["state"]?["rolloutId"]?.string == id)
        #expect(detail["gates"]?[0]?["verdict"]?.string == "pass")
        #expect(try #require(detail["verdicts"]?.array).contains { $0["verdict"]?.string == "pass" })
        #expect(detail["nextWakeAt"]?.isNull == true)

        // The list, with and without a phase filter.
        let all = try await client.checked("GET", "/v1/rollouts", checker: checker)
        #expect(try all.jsonValue()["rollouts"]?.array?.compactMap { $0["id"]?.string } == [id])
        let completed = try await client.checked("GET", "/v1/rollouts?phase=completed&limit=5", checker: checker)
        #expect(try completed.jsonValue()["rollouts"]?.array?.count == 1)
        let baking = try await client.checked("GET", "/v1/rollouts?phase=baking", checker: checker)
        #expect(try baking.jsonValue()["rollouts"]?.array?.isEmpty == true)

        // The event log, page by page.
        let template = "/v1/rollouts/{id}/events"
        let page1 = try await client.checked("GET", "/v1/rollouts/\(id)/events?limit=3", documentedAs: template,
                                             checker: checker).jsonValue()
        #expect(page1["events"]?.array?.compactMap { $0["sequence"]?.int } == [1, 2, 3])
        #expect(page1["events"]?[0]?["type"]?.string == "submitted")
        #expect(page1["next"] == .integer(3))
        let everything = try await client.checked("GET", "/v1/rollouts/\(id)/events?after=3&limit=1000",
                                                  documentedAs: template, checker: checker).jsonValue()
        let rest = try #require(everything["events"]?.array)
        #expect(rest.first?["sequence"]?.int == 4)
        #expect(everything["next"]?.isNull == true)
        #expect(rest.contains { $0["type"]?.string == "jobCreated" })

        // Metrics count what happened.
        let metrics = try await client.checked("GET", "/metrics", checker: checker)
        let exposition = try PrometheusText(parsing: metrics.text)
        #expect(exposition.value("rollout_rollouts", ["phase": "completed"]) == 1)
        #expect(exposition.value("rollout_stages", ["status": "passed"]) == 3)
        #expect(exposition.value("rollout_jobs_created_total") ?? 0 >= 3)
        #expect(exposition.value("rollout_fleet_calls_total") ?? 0 >= 3)
        #expect(exposition.value("rollout_commits_total") ?? 0 >= 5)
        #expect(exposition.value("rollout_gate_verdicts_total", ["verdict": "pass"]) ?? 0 >= 3)

        // The status page shows it.
        let page = try await client.checked("GET", "/", checker: checker)
        #expect(page.text.contains(id))
        #expect(page.text.contains("completed"))

        await server.stop()
        await harness.stop()
    }

    @Test("pause, resume and approve drive a rollout through its approval")
    func pauseResumeApprove() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let submitted = try await client.checked("POST", "/v1/rollouts", body: TestPlans.quick(name: "api-approval", approval: true),
                                                 checker: checker)
        let id = try #require(try submitted.jsonValue()["id"]?.string)
        let waiting = try await waitForPhase("awaitingApproval", id: id, in: harness, client: client, checker: checker)
        #expect(waiting["currentStage"]?.string == "wave-1")
        #expect(waiting["waitingFor"]?.string?.isEmpty == false)

        let template = "/v1/rollouts/{id}/"
        let paused = try await client.checked("POST", "/v1/rollouts/\(id)/pause", documentedAs: template + "pause",
                                              body: #"{"by": "carol", "reason": "change freeze"}"#, checker: checker)
        #expect(paused.status == 202)
        #expect(try paused.jsonValue()["phase"]?.string == "paused")
        #expect(try paused.jsonValue()["command"]?.string == "pause")

        let pausedAgain = try await client.checked("POST", "/v1/rollouts/\(id)/pause", documentedAs: template + "pause",
                                                   checker: checker)
        #expect(pausedAgain.status == 409)
        #expect(try pausedAgain.jsonValue()["code"]?.string == "illegal_transition")

        let resumed = try await client.checked("POST", "/v1/rollouts/\(id)/resume", documentedAs: template + "resume",
                                               body: #"{"by": "carol", "reason": "freeze lifted"}"#, checker: checker)
        #expect(resumed.status == 202)
        #expect(try resumed.jsonValue()["phase"]?.string == "awaitingApproval")

        let approved = try await client.checked("POST", "/v1/rollouts/\(id)/approve", documentedAs: template + "approve",
                                                body: #"{"by": "alice", "reason": "canary metrics reviewed"}"#, checker: checker)
        #expect(approved.status == 202)

        let done = try await waitForPhase("completed", id: id, in: harness, client: client, checker: checker)
        #expect(done["state"]?["stages"]?[1]?["approvedBy"]?.string == "alice")
        let events = try await client.get("/v1/rollouts/\(id)/events?limit=1000").jsonValue()
        let kinds = try #require(events["events"]?.array).compactMap { $0["type"]?.string }
        #expect(kinds.contains("pauseRequested") && kinds.contains("resumeRequested") && kinds.contains("approved"))
        let pauseEvent = try #require(events["events"]?.array?.first { $0["type"]?.string == "pauseRequested" })
        #expect(pauseEvent["event"]?["pauseRequested"]?["by"]?.string == "carol")
        // approve and resume keep their reasons too.
        let approveEvent = try #require(events["events"]?.array?.first { $0["type"]?.string == "approved" })
        #expect(approveEvent["event"]?["approved"]?["reason"]?.string == "canary metrics reviewed")
        let resumeEvent = try #require(events["events"]?.array?.first { $0["type"]?.string == "resumeRequested" })
        #expect(resumeEvent["event"]?["resumeRequested"]?["reason"]?.string == "freeze lifted")

        await server.stop()
        await harness.stop()
    }

    @Test("abort stops a running rollout for good; later commands are illegal")
    func abort() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let submitted = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-abort"), checker: checker)
        let id = try #require(try submitted.jsonValue()["id"]?.string)
        try await waitForPhase("baking", id: id, in: harness, client: client, checker: checker)

        let aborted = try await client.checked("POST", "/v1/rollouts/\(id)/abort", documentedAs: "/v1/rollouts/{id}/abort",
                                               body: #"{"reason": "wrong build"}"#, checker: checker)
        #expect(aborted.status == 202)
        #expect(try aborted.jsonValue()["phase"]?.string == "aborted")
        let detail = try await waitForPhase("aborted", id: id, in: harness, client: client, checker: checker)
        #expect(detail["stages"]?[0]?["status"]?.string == "cancelled")

        let resume = try await client.checked("POST", "/v1/rollouts/\(id)/resume", documentedAs: "/v1/rollouts/{id}/resume",
                                              checker: checker)
        #expect(resume.status == 409)
        #expect(try resume.jsonValue()["code"]?.string == "illegal_transition")
        #expect(try resume.jsonValue()["message"]?.string?.contains("aborted") == true)

        await server.stop()
        await harness.stop()
    }

    @Test("one device: shown, excluded, cancelled over the API, each answer as documented")
    func devices() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let submitted = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-devices"), checker: checker)
        let id = try #require(try submitted.jsonValue()["id"]?.string)
        try await waitForPhase("baking", id: id, in: harness, client: client, checker: checker)
        let thing = "sim-0000001"
        let shown = try await client.checked("GET", "/v1/rollouts/\(id)/devices/\(thing)",
                                             documentedAs: "/v1/rollouts/{id}/devices/{thing}", checker: checker)
        #expect(shown.status == 200)
        #expect(try shown.jsonValue()["stage"]?.string != nil)

        let excluded = try await client.checked("POST", "/v1/rollouts/\(id)/devices/\(thing)/exclude",
                                                documentedAs: "/v1/rollouts/{id}/devices/{thing}/exclude",
                                                body: #"{"by": "alice", "reason": "field unit"}"#, checker: checker)
        #expect(excluded.status == 202)
        #expect(try excluded.jsonValue()["command"]?.string == "exclude")
        let again = try await client.checked("POST", "/v1/rollouts/\(id)/devices/\(thing)/exclude",
                                             documentedAs: "/v1/rollouts/{id}/devices/{thing}/exclude", checker: checker)
        #expect(again.status == 409)
        let cancelled = try await client.checked("POST", "/v1/rollouts/\(id)/devices/\(thing)/cancel",
                                                 documentedAs: "/v1/rollouts/{id}/devices/{thing}/cancel",
                                                 body: #"{"force": true}"#, checker: checker)
        #expect(cancelled.status == 202)
        let after = try await client.checked("GET", "/v1/rollouts/\(id)/devices/\(thing)",
                                             documentedAs: "/v1/rollouts/{id}/devices/{thing}", checker: checker)
        #expect(try after.jsonValue()["exclusion"]?["cancelled"]?.bool == true)
        #expect(try after.jsonValue()["exclusion"]?["by"]?.string == "alice")

        let page = try await client.checked("GET", "/rollouts/\(id)", documentedAs: "/rollouts/{id}", checker: checker)
        #expect(page.status == 200)
        #expect(page.text.contains("<h2>Timeline</h2>") && page.text.contains("alice · field unit · \(thing)"), "\(page.text)")
        #expect(page.text.contains("<code>rollout pause \(id) --reason &quot;…&quot;</code>"))
        #expect(!page.text.contains("rollout approve \(id)"), "only the commands the rollout takes now")
        #expect(page.text.contains("<h2>Plan</h2>") && page.text.components(separatedBy: "<script").count == 2)
        let missing = try await client.checked("GET", "/rollouts/no-such-rollout", documentedAs: "/rollouts/{id}",
                                               checker: checker)
        #expect(missing.status == 404)

        let stranger = try await client.checked("GET", "/v1/rollouts/\(id)/devices/sim-9999999",
                                                documentedAs: "/v1/rollouts/{id}/devices/{thing}", checker: checker)
        #expect(stranger.status == 404)
        #expect(try stranger.jsonValue()["code"]?.string == "device_not_in_rollout")
        let badName = try await client.checked("GET", "/v1/rollouts/\(id)/devices/a%20b",
                                               documentedAs: "/v1/rollouts/{id}/devices/{thing}", checker: checker)
        #expect(badName.status == 400)
        let forceOnExclude = try await client.checked("POST", "/v1/rollouts/\(id)/devices/sim-0000002/exclude",
                                                      documentedAs: "/v1/rollouts/{id}/devices/{thing}/exclude",
                                                      body: #"{"force": true}"#, checker: checker)
        #expect(forceOnExclude.status == 400)

        await server.stop()
        await harness.stop()
    }

    @Test("an edited plan of a release already rolling out on the fleet is refused (409), or supersedes it")
    func aSecondLiveRolloutOfTheSameReleaseIsRefusedUnlessItSupersedes() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let first = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-release"), checker: checker)
        let firstId = try #require(try first.jsonValue()["id"]?.string)
        // The same plan text again is the same rollout: answered, not refused.
        let again = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-release"), checker: checker)
        #expect(again.status == 200)

        // One bake changed: another rollout id, the same release on the same fleet.
        let edited = TestPlans.quick(name: "api-release", bakeMinutes: 45)
        let refused = try await client.checked("POST", "/v1/rollouts", body: edited, checker: checker)
        #expect(refused.status == 409)
        #expect(try refused.jsonValue()["code"]?.string == "release_already_rolling_out")
        #expect(try refused.jsonValue()["message"]?.string?.contains(firstId) == true)
        let listed = try await client.checked("GET", "/v1/rollouts", checker: checker)
        #expect(try listed.jsonValue()["rollouts"]?.array?.count == 1, "nothing was created")

        // Another version of the firmware, or another fleet, is no conflict.
        let otherVersion = TestPlans.slow(name: "api-next").replacingOccurrences(of: "version: 2.1.0", with: "version: 2.2.0")
            .replacingOccurrences(of: "fw/2.1.0.bin", with: "fw/2.2.0.bin")
        #expect(try await client.checked("POST", "/v1/rollouts", body: otherVersion, checker: checker).status == 201)

        let superseding = try await client.checked("POST", "/v1/rollouts?supersede=true", documentedAs: "/v1/rollouts",
                                                   body: edited, checker: checker)
        #expect(superseding.status == 201)
        let secondId = try #require(try superseding.jsonValue()["id"]?.string)
        let old = try await waitForPhase("aborted", id: firstId, in: harness, client: client, checker: checker)
        let events = try await client.checked("GET", "/v1/rollouts/\(firstId)/events?limit=1000",
                                              documentedAs: "/v1/rollouts/{id}/events", checker: checker)
        let reasons = (try events.jsonValue()["events"]?.array ?? []).compactMap { $0["event"]?["abortRequested"]?["reason"]?.string }
        #expect(reasons.contains("superseded by \(secondId)"), "\(reasons)")
        #expect(old["phase"]?.string == "aborted")

        await server.stop()
        await harness.stop()
    }

    @Test("two edited plans of one release submitted at the same instant: one is created, the other refused")
    func simultaneousSubmissionsOfOneReleaseCannotBothStart() async throws {
        let harness = try await WorkerHarness()
        let worker = harness.worker
        let results = await withTaskGroup(of: Result<SubmitResult, any Error>.self) { group in
            for bake in [31, 32, 33, 34] {
                group.addTask {
                    do {
                        return .success(try await worker.submit(planSource: TestPlans.quick(name: "race", bakeMinutes: bake),
                                                                fileName: "race.yaml", baseDirectory: nil, supersede: false))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<SubmitResult, any Error>] = []
            for await result in group { all.append(result) }
            return all
        }
        let created = results.compactMap { try? $0.get() }.filter(\.created)
        let refused = results.filter { if case .failure(let error) = $0 { return error is SupersedeConflict }; return false }
        #expect(created.count == 1 && refused.count == 3, "\(results)")
        await harness.stop()
    }

    @Test("rollback puts the previous firmware back and ends rolled back")
    func rollback() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker, token: Self.token)
        let checker = try RepositoryFiles.openAPIChecker()
        let client = server.client

        let submitted = try await client.checked("POST", "/v1/rollouts", body: TestPlans.slow(name: "api-rollback"),
                                                 checker: checker)
        let id = try #require(try submitted.jsonValue()["id"]?.string)
        try await waitForPhase("baking", id: id, in: harness, client: client, checker: checker)
        // Let some canary devices take the new firmware, so the rollback has devices to act on.
        let outcomes = await harness.worker.engine.readModel.wait(for: id, timeoutSeconds: 60) {
            $0.rollout.state.stages[0].progress.succeeded > 0
        }
        #expect(outcomes != nil, "canary outcomes")

        let rolling = try await client.checked("POST", "/v1/rollouts/\(id)/rollback",
                                               documentedAs: "/v1/rollouts/{id}/rollback",
                                               body: #"{"by": "bob", "reason": "crash reports"}"#, checker: checker)
        #expect(rolling.status == 202)
        #expect(try rolling.jsonValue()["phase"]?.string == "rollingBack")

        let again = try await client.checked("POST", "/v1/rollouts/\(id)/rollback", documentedAs: "/v1/rollouts/{id}/rollback",
                                             checker: checker)
        #expect(again.status == 409)

        let detail = try await waitForPhase("rolledBack", id: id, in: harness, client: client, checker: checker)
        #expect(detail["rollback"]?["reason"]?.string?.contains("crash reports") == true)
        #expect(detail["rollback"]?["devices"]?.int ?? 0 > 0)

        await server.stop()
        await harness.stop()
    }
}
