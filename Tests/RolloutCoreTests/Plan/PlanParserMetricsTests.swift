import Foundation
import Testing
@testable import RolloutCore

/// Metric gates in a plan: every provider, the measurement policy, credentials by reference, and the errors for
/// what cannot work (file, line, field, what was expected).
@Suite struct PlanParserMetricsTests {
    func plan(_ metrics: String) -> String {
        planText(extra: "gates:\n  metrics:\n\(metrics)")
    }

    func issue(_ metrics: String) -> PlanIssue? {
        planErrors(plan(metrics)).first
    }

    @Test("each provider with its own fields, the Argo policy and dry run")
    func providers() throws {
        let parsed = try parsePlan(plan("""
            - name: crash-rate
              provider: prometheus
              url: https://prometheus.example.com
              query: sum(rate(device_crashes_total{version="${version}"}[5m])) / sum(device_up{version="${version}"})
              reduce: max
              auth: {bearerTokenFile: /run/secrets/prometheus-token}
              max: 0.01
              interval: 1m
              count: 10
              failureLimit: 1
              consecutiveErrorLimit: 2
              consecutiveSuccessLimit: 3
              initialDelay: 5m
              dryRun: true
            - name: amp
              provider: prometheus
              url: https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1
              query: max(crash_ratio)
              auth: {sigv4: {region: eu-west-1}}
              max: 0.02
            - name: crashes
              provider: cloudWatch
              region: eu-west-1
              namespace: Fleet
              metric: CrashCount
              dimensions: {Version: "${version}", Stage: "${stage}"}
              statistic: Sum
              period: 5m
              max: 3
            - name: error-ratio
              provider: cloudWatch
              expression: 100 * errors / attempts
              metrics:
                - {id: errors, namespace: AWS/IoT, metric: Failure, statistic: Sum}
                - {id: attempts, namespace: AWS/IoT, metric: Success, statistic: Sum}
              max: 5
            - name: alarms
              provider: cloudWatchAlarm
              alarms: [fleet-crash-spike, fleet-offline]
            - name: json
              url: https://metrics.example.com/health
              pointer: /release/crashRate
              auth: {basic: {username: rollout, passwordEnv: ROLLOUT_METRICS_PASSWORD}}
              max: 0.01
        """))
        let metrics = parsed.gates.metrics
        #expect(metrics.map(\.kind) == [.prometheus, .prometheus, .cloudWatch, .cloudWatch, .cloudWatchAlarm, .httpJSON])
        #expect(metrics[0].query?.hasPrefix("sum(rate(device_crashes_total{version=\"${version}\"}") == true)
        #expect(metrics[0].reduce == .max)
        #expect(metrics[0].auth?.bearerTokenFile == "/run/secrets/prometheus-token")
        #expect(metrics[0].measurement == MeasurementPolicy(intervalSeconds: 60, count: 10, failureLimit: 1,
                                                            consecutiveErrorLimit: 2, consecutiveSuccessLimit: 3,
                                                            initialDelaySeconds: 300))
        #expect(metrics[0].isDryRun)
        #expect(metrics[1].auth?.sigV4Region == "eu-west-1" && metrics[1].auth?.sigV4Service == "aps")
        #expect(metrics[1].measurement == nil, "no policy field: the default policy")
        let stat = try #require(metrics[2].cloudWatch?.stat)
        #expect(stat.namespace == "Fleet" && stat.metricName == "CrashCount" && stat.statistic == "Sum")
        #expect(stat.dimensions.map(\.name).sorted() == ["Stage", "Version"])
        #expect(metrics[2].cloudWatch?.region == "eu-west-1" && metrics[2].cloudWatch?.periodSeconds == 300)
        #expect(metrics[3].cloudWatch?.expression == "100 * errors / attempts")
        #expect(metrics[3].cloudWatch?.metrics.map(\.id) == ["errors", "attempts"])
        #expect(metrics[4].alarmNames == ["fleet-crash-spike", "fleet-offline"] && metrics[4].max == 0)
        #expect(metrics[5].auth?.basicUsername == "rollout" && metrics[5].auth?.basicPasswordEnv == "ROLLOUT_METRICS_PASSWORD")
    }

    @Test("a gate written before providers existed is still an HTTP JSON gate with the default policy")
    func legacy() throws {
        let gate = try #require(try parsePlan(plan("    - {name: crash-rate, url: \"sim://health\", pointer: /release/crashRate, max: 0.01}"))
            .gates.metrics.first)
        #expect(gate.provider == nil && gate.kind == .httpJSON && gate.measurement == nil && gate.dryRun == nil)
        let decoded = try JSONDecoder().decode(MetricGate.self, from: Data(
            #"{"name":"crash-rate","url":"sim://health","pointer":"/release/crashRate","max":0.01}"#.utf8))
        #expect(decoded == gate, "a gate stored by an older version decodes unchanged")
    }

    @Test("secrets written inline are refused, saying how to pass them by reference")
    func inlineSecrets() {
        let token = issue("    - {name: p, provider: prometheus, url: \"https://p.example.com\", query: up, max: 1, auth: {bearerToken: abc}}")
        #expect(token?.field == "gates.metrics[0].auth.bearerToken")
        #expect(token?.message.contains("never written in a plan") == true)
        #expect(token?.line == 11)
        let password = issue("    - {name: p, url: \"https://u:pw@m.example.com/h\", pointer: /x, max: 1}")
        #expect(password?.field == "gates.metrics[0].url")
        #expect(password?.message.hasPrefix("the password in the URL's user info is a secret") == true)
        let query = issue("    - {name: p, url: \"https://m.example.com/h?api_key=abc\", pointer: /x, max: 1}")
        #expect(query?.message.hasPrefix("the query parameter `api_key` is a secret") == true)
        let userInfo = issue("    - {name: p, url: \"https://t0ken@m.example.com/h\", pointer: /x, max: 1}")
        #expect(userInfo?.message.hasPrefix("the URL's user info (a user name or token) is a secret") == true)
        let workerSecret = issue("    - {name: p, provider: prometheus, url: \"https://p.example.com\", query: up, max: 1, auth: {bearerTokenEnv: AWS_SECRET_ACCESS_KEY}}")
        #expect(workerSecret?.field == "gates.metrics[0].auth.bearerTokenEnv")
        #expect(workerSecret?.message.hasPrefix("expected a variable named ROLLOUT_…") == true)
        let basic = issue("    - {name: p, url: \"https://m.example.com/h\", pointer: /x, max: 1, auth: {basic: {username: u, password: pw}}}")
        #expect(basic?.field == "gates.metrics[0].auth.basic.password")
    }

    @Test("unknown providers, statistics, placeholders, broken PromQL and impossible policies name their field")
    func badInput() {
        let cases: [(String, String, String)] = [
            ("    - {name: p, provider: datadog, url: \"https://x\", max: 1}", "gates.metrics[0].provider",
             "expected one of httpJSON, prometheus, cloudWatch, cloudWatchAlarm, not `datadog`"),
            ("    - {name: p, provider: cloudWatch, namespace: N, metric: M, statistic: Median, max: 1}",
             "gates.metrics[0].statistic", "expected Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p99, not `Median`"),
            ("    - {name: p, provider: prometheus, url: \"https://x\", query: \"up{job=\\\"${team}\\\"}\", max: 1}",
             "gates.metrics[0].query", "unknown placeholder `${team}`; known: ${stage}, ${rolloutId}, ${version}"),
            ("    - {name: p, provider: prometheus, url: \"https://x\", query: \"sum(rate(x[5m])\", max: 1}",
             "gates.metrics[0].query", "not valid PromQL: `(` is not closed"),
            ("    - {name: p, provider: prometheus, url: \"https://x\", query: \"up{job=\\\"a}\", max: 1}",
             "gates.metrics[0].query", "not valid PromQL: a string opened with \" is not closed"),
            ("    - {name: p, url: \"https://x\", pointer: /x, query: up, max: 1}", "gates.metrics[0].query",
             "`query` belongs to provider prometheus, not httpJSON (the default; set `provider:`)"),
            ("    - {name: p, url: \"https://x\", pointer: /x, max: 1, count: 3, consecutiveSuccessLimit: 4}",
             "gates.metrics[0].consecutiveSuccessLimit", "4 successes in a row cannot happen in 3 measurements (`count`)"),
            ("    - {name: p, url: \"https://x\", pointer: /x, max: 1, count: 3, failureLimit: 3}",
             "gates.metrics[0].failureLimit", "with 3 measurements (`count`), a failureLimit of 3 can never fail the gate"),
            ("    - {name: p, provider: cloudWatchAlarm, alarms: [a], max: 1}", "gates.metrics[0].max",
             "an alarm gate fails while a named alarm is in ALARM; it takes no `max`"),
            ("    - {name: p, provider: cloudWatch, namespace: N, metric: M, statistic: Sum, period: 45s, max: 1}",
             "gates.metrics[0].period", "expected 1s, 5s, 10s, 30s or a multiple of 60s, found 45s"),
            ("    - {name: p, provider: prometheus, url: \"https://x\", query: up, max: 1, auth: {sigv4: {region: Europe}}}",
             "gates.metrics[0].auth.sigv4.region", "expected an AWS region such as eu-west-1, found `Europe`"),
            ("    - {name: p, provider: cloudWatch, expression: \"100 * errs / SUM(METRICS())\", metrics: [{id: errors, namespace: N, metric: M, statistic: Sum}], max: 1}",
             "gates.metrics[0].expression", "`errs` is not the id of one of the gate's `metrics` (ids: errors)"),
            ("    - {name: p, provider: cloudWatch, expression: \"100 * a\", metrics: [{id: a, namespace: N, metric: M, statistic: Sum}, {id: b, namespace: N, metric: M, statistic: Sum}], max: 1}",
             "gates.metrics[0].metrics", "`b` is not used by the expression"),
            ("    - {name: p, provider: prometheus, url: \"https://x\", max: 1}", "gates.metrics[0].query",
             "missing; expected a PromQL instant query, e.g. sum(rate(crashes_total{version=\"${version}\"}[5m]))"),
        ]
        for (yaml, field, message) in cases {
            let found = issue(yaml)
            #expect(found?.field == field, "\(yaml)")
            #expect(found?.message == message, "\(yaml)")
            #expect(found?.line == 11, "the issue points at the gate's line")
        }
    }

    @Test("the previous firmware's rate from a metric: one per plan, no gate-only fields, never an alarm")
    func baselineMetric() throws {
        let parsed = try parsePlan(planText(extra: """
            gates:
              jobOutcomes:
                failedMaxPercent: 2
                method: sequential
                baseline:
                  metric:
                    provider: prometheus
                    url: https://prometheus.example.com
                    query: 100 * sum(ota_failed{version="${version}"}) / sum(ota_attempts{version="${version}"})
            """))
        #expect(parsed.gates.jobOutcomes.baseline == .metric)
        let metric = try #require(parsed.gates.jobOutcomes.baselineMetric)
        #expect(metric.name == MetricGate.baselineName && metric.kind == .prometheus && metric.max == nil)
        #expect(OutcomeBaseline.metric(of: parsed) == metric)
        #expect(!OutcomeBaseline.isWanted(by: parsed), "no history is read for a measured baseline")

        func firstIssue(_ gates: String, rollback: Bool = true) -> PlanIssue? {
            var text = planText(extra: gates)
            if !rollback {
                text = text.replacingOccurrences(of: "rollback: {version: 1.0.0, artifact: s3://firmware-bucket/fw/1.0.0.bin}\n",
                                                 with: "onFailure: pause\n")
            }
            return planErrors(text).first
        }
        let prometheus = "{provider: prometheus, url: \"https://p\", query: up}"
        let cases: [(String, Bool, String, String)] = [
            ("gates:\n  jobOutcomes:\n    baseline: {metric: {provider: prometheus, url: \"https://p\", query: up, max: 1}}",
             true, "gates.jobOutcomes.baseline.metric.max", "a baseline is read once, when the rollout is prepared, "
             + "and judged by jobOutcomes; `max` belongs to a gate under gates.metrics"),
            ("gates:\n  jobOutcomes:\n    baseline: {metric: {provider: cloudWatchAlarm, alarms: [a]}}",
             true, "gates.jobOutcomes.baseline.metric.provider", "a baseline is a failure rate; an alarm gives none"),
            ("gates:\n  jobOutcomes:\n    baseline: {}", true, "gates.jobOutcomes.baseline.metric",
             "missing; expected the metric that reports the previous firmware's failure rate in percent"),
            ("gates:\n  jobOutcomes:\n    baseline: latest", true, "gates.jobOutcomes.baseline",
             "expected previous (the previous firmware's failure rate on this fleet, from this worker's history) or "
             + "{metric: …} (as a metric reports it), not `latest`"),
            ("gates:\n  jobOutcomes:\n    baseline: {metric: \(prometheus)}", false, "gates.jobOutcomes.baseline",
             "a baseline compares with the failure rate of the rollback version on this fleet; the plan names no rollback"),
        ]
        for (gates, rollback, field, message) in cases {
            let found = firstIssue(gates, rollback: rollback)
            #expect(found?.field == field, "\(gates)")
            #expect(found?.message.hasPrefix(message) == true, "\(gates): \(found?.message ?? "none")")
        }
        let twoBaselines = planText(canary: "canary:\n  devices: 10\n  bake: 30m\n  gates: {jobOutcomes: {baseline: previous}}",
                                    extra: "gates:\n  jobOutcomes:\n    baseline: {metric: \(prometheus)}")
        #expect(planErrors(twoBaselines).contains { $0.field == "gates.jobOutcomes.baseline"
                && $0.message.hasPrefix("the stages name different baselines") })
    }

    @Test("placeholders expand; PromQL values are escaped; brackets inside strings and comments do not count")
    func templates() {
        let values = MetricQueryTemplate.Values(stage: "wave-1", rolloutId: "fw-1", version: "2.1.0\"x")
        #expect(MetricQueryTemplate.expand("up{v=\"${version}\",s=\"${stage}\"}", values,
                                           escape: MetricQueryTemplate.promQLEscaped) == "up{v=\"2.1.0\\\"x\",s=\"wave-1\"}")
        #expect(MetricQueryTemplate.unknownPlaceholders(in: "${rolloutId} ${x} ${") == ["x", "${"])
        #expect(MetricQueryTemplate.promQLProblem("count(up{job=\")\"}) # trailing ( comment") == nil)
        #expect(MetricQueryTemplate.promQLProblem("x)") == "`)` without its opening bracket")
        #expect(MetricQueryTemplate.promQLProblem("  ") == "the query is empty")
    }
}
