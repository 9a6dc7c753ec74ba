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
        #expect(html.contains(#"<meta http-equiv="refresh" content="5">"#))
        #expect(html.contains(hostile.id))
        #expect(!html.contains("<script"))
        #expect(html.contains("aborted by &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"))
        #expect(html.contains("approval of &lt;b&gt;canary&lt;/b&gt;"))
        #expect(html.contains("50% &lt;of&gt; 10 devices"))
        #expect(html.contains(#"<progress value="5" max="10">"#))
        #expect(html.contains(#"<span class="phase phase-baking">baking</span>"#))
        await server.stop()
    }

    @Test("an empty worker renders a page too")
    func emptyPage() {
        let html = StatusPage.render(rollouts: [], refreshSeconds: 5, now: Date(timeIntervalSince1970: 0))
        #expect(html.contains("No rollouts yet"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }
}
