import Engine
import Foundation
import RolloutCore
@testable import StatusAPI
import Testing

/// The status pages in a real headless browser (Debian's `chromium`, installed by `.ci/install-deps`): the DOM after
/// the page's own script ran, and screenshots kept as test artifacts in `.build/test-artifacts/`.
@Suite("status pages in headless Chromium")
struct StatusPageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static var artifacts: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/test-artifacts", isDirectory: true)
    }

    /// Runs headless Chromium on `url` (a fresh profile, no sandbox: tests may run as root), at most 60 s.
    static func browse(_ url: String, _ arguments: [String]) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(chromium))
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--user-data-dir=\(profile)", "--virtual-time-budget=3000", "--window-size=1280,1000"]
            + arguments + [url]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + 60) == .timedOut {
            process.terminate()
            throw HTTPTestClient.Failure("chromium did not finish \(url) within 60 s")
        }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    // Without Chromium the test is reported as skipped, with this reason (never as a pass).
    @Test("the overview pins what needs a person, bars are stacked, hostile text stays text; a rollout's page reveals its buttons",
          .enabled(if: StatusPageBrowserTests.chromium != nil,
                   "no chromium on this machine (.ci/install-deps installs Debian's)"))
    func pages() async throws {
        let harness = try await WorkerHarness()
        let server = try await TestServer.start(service: harness.worker)
        let client = server.client
        let checker = try RepositoryFiles.openAPIChecker()
        func submit(_ text: String) async throws -> String {
            try #require(try await client.checked("POST", "/v1/rollouts", body: text, checker: checker).jsonValue()["id"]?.string)
        }
        let running = try await submit(TestPlans.slow(name: "browser-running"))
        let waiting = try await submit(TestPlans.quick(name: "browser-approval", approval: true)
            .replacingOccurrences(of: "version: 2.1.0", with: "version: 2.2.0"))
        let ended = try await submit(TestPlans.slow(name: "browser-aborted")
            .replacingOccurrences(of: "version: 2.1.0", with: "version: 2.3.0"))
        let paused = try await submit(TestPlans.slow(name: "browser-paused")
            .replacingOccurrences(of: "version: 2.1.0", with: "version: 2.4.0"))
        let done = try await submit(TestPlans.quick(name: "browser-done")
            .replacingOccurrences(of: "version: 2.1.0", with: "version: 2.5.0"))
        try await waitForPhase("baking", id: running, in: harness, client: client, checker: checker)
        try await waitForPhase("awaitingApproval", id: waiting, in: harness, client: client, checker: checker)
        try await waitForPhase("baking", id: ended, in: harness, client: client, checker: checker)
        _ = try await client.checked("POST", "/v1/rollouts/\(ended)/abort", documentedAs: "/v1/rollouts/{id}/abort",
                                     body: #"{"by": "<b>mallory</b>", "reason": "<img src=x onerror=alert(1)>"}"#,
                                     checker: checker)
        try await waitForPhase("aborted", id: ended, in: harness, client: client, checker: checker)
        try await waitForPhase("baking", id: paused, in: harness, client: client, checker: checker)
        _ = try await client.checked("POST", "/v1/rollouts/\(paused)/pause", documentedAs: "/v1/rollouts/{id}/pause",
                                     body: #"{"by": "carol", "reason": "looking at a report"}"#, checker: checker)
        try await waitForPhase("paused", id: paused, in: harness, client: client, checker: checker)
        try await waitForPhase("completed", id: done, in: harness, client: client, checker: checker)
        let base = "http://127.0.0.1:\(server.port)"

        let overview = try Self.browse(base + "/", ["--dump-dom"])
        func position(_ id: String) -> String.Index? { overview.range(of: "id=\"\(id)\"")?.lowerBound }
        let needsPerson = [waiting, paused].compactMap(position)
        let runningAt = try #require(position(running), "\(overview.prefix(2000))")
        let finished = [ended, done].compactMap(position)
        #expect(needsPerson.count == 2 && finished.count == 2)
        #expect(needsPerson.allSatisfy { $0 < runningAt } && finished.allSatisfy { $0 > runningAt },
                "awaiting approval and paused, then running, then finished")
        #expect(overview.contains("Needs a person (2)") && overview.contains("Finished (2)"))
        #expect(overview.contains("<details class=\"group group-finished\">"), "finished ones collapsed")
        #expect(overview.contains("class=\"seg-succeeded\""), "stacked bars")

        let page = try Self.browse(base + "/rollouts/\(ended)", ["--dump-dom"])
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "the reason stays text")
        #expect(!page.contains("<img src=\"x\""))
        let approval = try Self.browse(base + "/rollouts/\(waiting)", ["--dump-dom"])
        #expect(approval.contains("data-verb=\"approve\""))
        #expect(approval.range(of: #"<button type="button" data-script-only="" data-verb="approve""#) != nil,
                "visible (no hidden attribute) once the script ran: \(approval.prefix(3000))")

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        for (name, path) in [("status-overview.png", "/"), ("status-rollout.png", "/rollouts/\(waiting)")] {
            let file = Self.artifacts.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: file)
            _ = try Self.browse(base + path, ["--screenshot=\(file.path)"])
            let bytes = try Data(contentsOf: file)
            #expect(bytes.count > 10_000 && bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a PNG at \(file.path)")
        }
        await server.stop()
        await harness.stop()
    }
}
