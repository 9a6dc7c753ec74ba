@testable import StatusAPI
import Testing

@Suite("HTML escaping")
struct HTMLTextTests {
    @Test func textWithoutMarkupIsUnchanged() {
        for text in ["", "sensor-fw-2-1-0-3f842a80", "wave 2 · 50 %", "Zürich 東京 🚀"] {
            #expect(HTMLText.escape(text) == text)
        }
    }

    @Test func theFiveCharactersAreEscapedAndTheRestKept() {
        #expect(HTMLText.escape(#"<a href="x">Tom & Jerry's</a>"#)
                == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(HTMLText.escape("é<ü>東") == "é&lt;ü&gt;東")
    }
}
