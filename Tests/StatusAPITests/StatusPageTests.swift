import Engine
import Foundation
import RolloutCore
@testable import StatusAPI
import Testing

@Suite("HTML status page")
struct StatusPageTests {
    @Test("HTMLText.escape escapes markup and quotes")
    func escaping() {
        #expect(HTMLText.escape(#"<a href="x">Tom & 'Jerry'</a>"#)
                == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
        #expect(HTMLText.escape("wave-1 ✓") == "wave-1 ✓")
    }

    @Test("the page lists every rollout, refreshes itself and escapes what rollouts say")
    func page() async throws {
        let hostile = try StubRolloutService.hostileRollout()
        let stub = StubRolloutService(rollouts: [hostile])
        let server = try await TestServer.start(service: stub)
        let response = try await server.client.checked("GET", "/", checker: try RepositoryFiles.openAPIChecker())
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/html") == true)
        let html = response.text
        #expect(html.contains(#"<noscript><meta http-equiv="refresh" content="5"></noscript>"#))
        #expect(html.contains(hostile.id))
        #expect(html.components(separatedBy: "<script").count == 2, "one script, the page's own")
        #expect(html.contains("aborted by &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"))
        #expect(html.contains("approval of &lt;b&gt;canary&lt;/b&gt;"))
        #expect(html.contains("50% &lt;of&gt; 10 devices"))
        #expect(html.contains(#"<span class="seg-succeeded" style="width:40.0%" title="4 succeeded"></span>"#))
        #expect(html.contains(#"<span class="phase phase-baking">baking</span>"#))
        await server.stop()
    }

    @Test("the overview pins what needs a person, then what runs, then what is over (collapsed); a filter keeps one phase")
    func pinnedOrder() {
        let phases: [(String, RolloutPhase)] = [
            ("done-1", .completed), ("run-1", .baking), ("approve-1", .awaitingApproval), ("paused-1", .paused),
            ("run-2", .waitingForWindow), ("broken-1", .rollbackIncomplete), ("back-1", .rolledBack),
        ]
        let entries = phases.map { StatusPage.Entry(phase: $0.1, section: "<section id=\"\($0.0)\"></section>\n") }
        let html = StatusPage.render(entries: entries, refreshSeconds: 5, now: Date(timeIntervalSince1970: 0))
        let order = ["approve-1", "paused-1", "broken-1", "run-1", "run-2", "done-1", "back-1"].map { id in
            html.range(of: "id=\"\(id)\"")?.lowerBound
        }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "\(html)")
        #expect(html.contains("<h2 class=\"group-title\">Needs a person (3)</h2>"))
        #expect(html.contains("<details class=\"group group-finished\"><summary><h2 class=\"group-title\">Finished (2)</h2>"))
        #expect(html.contains("<a href=\"/?phase=baking\">baking (1)</a>"))
        let filtered = StatusPage.render(entries: entries, refreshSeconds: 5, now: Date(timeIntervalSince1970: 0),
                                         filter: .rolledBack)
        #expect(filtered.contains("id=\"back-1\"") && !filtered.contains("id=\"run-1\"") && !filtered.contains("<details"))
        #expect(filtered.contains("<strong>rolledBack (1)</strong>"))
    }

    @Test("a stage's bar stacks its devices by outcome, each segment its share, hatched for failures")
    func stackedBar() {
        let bar = StatusPage.bar(JobProgress(queued: 1, inProgress: 1, succeeded: 6, failed: 1, timedOut: 1), devices: 10)
        #expect(bar.contains(#"<span class="seg-succeeded" style="width:60.0%" title="6 succeeded"></span>"#))
        #expect(bar.contains(#"<span class="seg-failed" style="width:10.0%" title="1 failed"></span>"#))
        #expect(bar.contains(#"<span class="seg-timedOut" style="width:10.0%""#))
        #expect(bar.contains(#"aria-label="6 succeeded, 1 failed, 1 timedOut, 1 inProgress, 1 queued of 10""#))
        #expect(!bar.contains("seg-rejected"), "no empty segment")
        #expect(StatusPage.barStyle.contains("#D55E00") && StatusPage.barStyle.contains("repeating-linear-gradient"))
    }

    @Test("an empty worker renders a page too")
    func emptyPage() {
        let html = StatusPage.render(rollouts: [], refreshSeconds: 5, now: Date(timeIntervalSince1970: 0))
        #expect(html.contains("No rollouts yet"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    @Test("the latest stage's metric measurements are shown, escaped and with URLs masked")
    func measurements() throws {
        var rollout = try StubRolloutService.hostileRollout()
        var gate = MetricGate(name: "crash-rate", url: "https://prom.example.com", pointer: "", max: 0.01)
        gate.provider = .prometheus
        gate.query = "max(x)"
        gate.dryRun = true
        rollout.plan.gates.metrics = [gate]
        rollout.plan.canary.gates = nil
        var tally = MetricTally()
        tally.record(MetricReading(value: 0.02, input: "max(x{v=\"<2>\"}) @ https://u:pw@prom.example.com"), gate: gate,
                     at: Date(timeIntervalSince1970: 1_800_000_060))
        rollout.state.stages[0].measurements = ["crash-rate": tally]
        let html = StatusPage.section(rollout)
        #expect(html.contains("<th>metric gate (canary)</th>"))
        #expect(html.contains(#"crash-rate <span class="muted">(dry run)</span></td><td>prometheus</td><td>1</td><td>1</td><td>0</td>"#))
        #expect(html.contains(#"<td class="verdict-fail">0.02 (failure)</td>"#))
        #expect(html.contains("<code>max(x{v=&quot;&lt;2&gt;&quot;}) @ https://***@prom.example.com</code>"))
        #expect(!html.contains("pw@"))
    }
}
