import Testing
@testable import RolloutCore

@Suite struct CredentialRedactionTests {
    @Test("a URL keeps scheme, host, port, path and query names; user info, query values and fragment are masked",
          arguments: [
              ("https://user:pa55@metrics.example.com:8443/api/health?apiKey=k3y&window=5m#frag",
               "https://***@metrics.example.com:8443/api/health?apiKey=***&window=***#***"),
              ("https://token@host/p", "https://***@host/p"),
              ("https://host/p?s3cr3t", "https://host/p?***"),
              ("https://host/p?a=&b=1&&c", "https://host/p?a=***&b=***&&***"),
              ("https://host/p?x=a=b", "https://host/p?x=***"),
              ("https://host", "https://host"),
              ("http://host/plain/path", "http://host/plain/path"),
              ("sim://health", "sim://health"),
              ("host/p?apiKey=k3y", "host/p?apiKey=***"),
              ("", ""),
          ])
    func url(original: String, shown: String) {
        #expect(CredentialRedaction.url(original) == shown)
    }

    @Test("a webhook keeps scheme, host and port; its path (and anything after) becomes /***", arguments: [
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/***"),
        ("https://user:pw@hooks.example.com:8443/hook?token=t#f", "https://hooks.example.com:8443/***"),
        ("https://hooks.example.com", "https://hooks.example.com/***"),
        ("https://hooks.example.com?token=t", "https://hooks.example.com/***"),
        ("not a url", "***"),
    ])
    func webhook(original: String, shown: String) {
        #expect(CredentialRedaction.webhookURL(original) == shown)
    }

    @Test("free text: every URL in it is masked, the words around stay")
    func freeText() {
        let text = #"GET https://ops:hunter2@wiki.example.com/page?token=tok987. Then "http://h/x?k=v" and (ftp://u:p@f/x)"#
        #expect(CredentialRedaction.text(text)
                == #"GET https://***@wiki.example.com/page?token=***. Then "http://h/x?k=***" and (ftp://***@f/x)"#)
        #expect(CredentialRedaction.text("no links here: a:b, 10://x") == "no links here: a:b, 10://x")
        #expect(CredentialRedaction.text("two https://a/?x=1\nhttps://b/?y=2") == "two https://a/?x=***\nhttps://b/?y=***")
        #expect(CredentialRedaction.text("ends with https://") == "ends with https://")
    }

    @Test("masking is idempotent: a masked text is shown as it is")
    func idempotent() {
        let samples = ["https://user:pa55@metrics.example.com:8443/api/health?apiKey=k3y&window=5m#frag",
                       "see https://a:b@c/d?e=f and http://g/h?i", "https://host/p?***"]
        for sample in samples {
            let once = CredentialRedaction.text(sample)
            #expect(CredentialRedaction.text(once) == once)
            #expect(CredentialRedaction.url(CredentialRedaction.url(sample)) == CredentialRedaction.url(sample))
        }
        let hook = CredentialRedaction.webhookURL("https://hooks.slack.com/services/T/B/X")
        #expect(CredentialRedaction.webhookURL(hook) == hook)
        #expect(CredentialRedaction.text(hook) == hook)
    }

    @Test("a plan is shown with every metric URL (plan and stage gates) and every webhook masked; nothing else changes")
    func plan() throws {
        let metric = "{name: crash, url: \"https://m.example.com/q?tenant=K1\", pointer: /x, max: 1}"
        let stageMetric = "{name: errors, url: \"https://m.example.com/e?team=K2\", pointer: /y, max: 1}"
        let original = try parsePlan(planText(
            canary: "canary: {devices: 10, bake: 30m, gates: {metrics: [\(stageMetric)]}}",
            waves: "waves:\n  - {percent: 50, bake: 1h, gates: {metrics: [\(stageMetric)]}}\n  - {percent: 100, bake: 1h}",
            extra: "gates: {metrics: [\(metric)]}\nnotifications: {webhooks: [\"https://hooks.slack.com/services/T0/B0/SECRET\"]}"))
        let shown = CredentialRedaction.plan(original)
        #expect(shown.gates.metrics.map(\.url) == ["https://m.example.com/q?tenant=***"])
        #expect(shown.canary.gates?.metrics.map(\.url) == ["https://m.example.com/e?team=***"])
        #expect(shown.waves[0].gates?.metrics.map(\.url) == ["https://m.example.com/e?team=***"])
        #expect(shown.waves[1].gates == nil)
        #expect(shown.notifications.map(\.url) == ["https://hooks.slack.com/***"])

        var restored = shown
        restored.gates = original.gates
        restored.canary = original.canary
        restored.waves = original.waves
        restored.notifications = original.notifications
        #expect(restored == original, "only URLs change")
        #expect(original.gates.metrics[0].url == "https://m.example.com/q?tenant=K1", "the original is untouched")
    }
}
