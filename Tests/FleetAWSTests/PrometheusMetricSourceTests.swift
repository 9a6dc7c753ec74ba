import Engine
import Foundation
@testable import HTTPAdapters
import RolloutCore
import Testing

@testable import FleetAWS

/// `PrometheusMetricSource` against a real Prometheus server scraping the tests' exporter (`PrometheusServer`).
@Suite("Prometheus metric source on a real Prometheus")
struct PrometheusMetricSourceTests {
    static let values = MetricQueryTemplate.Values(stage: "canary", rolloutId: "fw-1", version: "2.1.0")
    static let fast = HTTPMetricSource.Options(connectTimeoutSeconds: 2, totalTimeoutSeconds: 5, attempts: 2,
                                               retryDelaySeconds: 0.05)

    static func gate(_ url: String, _ query: String, reduce: SeriesReduction? = nil, auth: MetricAuth? = nil) -> MetricGate {
        var gate = MetricGate(name: "crash-rate", url: url, pointer: "", max: 0.01)
        gate.provider = .prometheus
        gate.query = query
        gate.reduce = reduce
        gate.auth = auth
        return gate
    }

    /// Reads until `accept` holds: Prometheus sees a new sample at its next scrape (1 s). Bounded: 150 reads.
    static func readUntil(_ source: PrometheusMetricSource, _ gate: MetricGate,
                          _ accept: (MetricReading) -> Bool) async throws -> MetricReading {
        var last = MetricReading(error: "not read")
        for _ in 0..<150 {
            last = await source.read(gate, values: values)
            if accept(last) { return last }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestFailure("Prometheus never gave the expected reading; last: \(last)")
    }

    @Test("an instant query with placeholders is one value; several series need reduce; none is no data")
    func values() async throws {
        let server = try await PrometheusServer.shared.value
        let metric = "device_crash_ratio_\(UUID().uuidString.prefix(6))"
        try await server.set(metric, ["version": "2.1.0", "hardware": "rev-a"], 0.002)
        let source = PrometheusMetricSource(options: Self.fast)
        let one = Self.gate(server.endpoint + "/open", "\(metric){version=\"${version}\"}")
        let reading = try await Self.readUntil(source, one) { $0.value == 0.002 }
        #expect(reading.input == "\(metric){version=\"2.1.0\"} @ \(server.endpoint)/open")

        try await server.set(metric, ["version": "2.1.0", "hardware": "rev-b"], 0.05)
        let several = try await Self.readUntil(source, one) { $0.error?.contains("2 series") == true }
        #expect(several.error?.hasSuffix("aggregate them in PromQL or set `reduce` (max, min, avg, sum)") == true)
        let reduced = Self.gate(server.endpoint + "/open", "\(metric){version=\"${version}\"}", reduce: .max)
        #expect(await source.read(reduced, values: Self.values).value == 0.05)
        let aggregated = Self.gate(server.endpoint + "/open", "avg(\(metric){version=\"${version}\"})")
        let average = try #require(await source.read(aggregated, values: Self.values).value)
        #expect(abs(average - 0.026) < 1e-12)

        let none = Self.gate(server.endpoint + "/open", "\(metric){version=\"9.9.9\"}")
        let noData = await source.read(none, values: Self.values)
        #expect(noData.error == "crash-rate: no data: the query returned no series")
        #expect(noData.noData == true, "no data is told apart from a failed read")
        let broken = Self.gate(server.endpoint + "/open", "sum(\(metric)")
        let error = await source.read(broken, values: Self.values).error
        #expect(error?.hasPrefix("crash-rate: Prometheus bad_data:") == true, "\(error ?? "")")
    }

    @Test("bearer token from a file or the environment, basic from a file; wrong or missing credentials say so")
    func authentication() async throws {
        let server = try await PrometheusServer.shared.value
        let directory = NSTemporaryDirectory() + "prom-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try (PrometheusServer.bearerToken + "\n").write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try PrometheusServer.password.write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let environment: @Sendable (String) -> String? = {
            $0 == "ROLLOUT_PROM_TOKEN" || $0 == "PROM_TOKEN" ? PrometheusServer.bearerToken : nil
        }
        let source = PrometheusMetricSource(options: Self.fast, environment: environment,
                                            secrets: MetricSecretPolicy(directories: [directory]))
        var fromFile = MetricAuth()
        fromFile.bearerTokenFile = directory + "/token"
        #expect(await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)", auth: fromFile), values: Self.values).value == 1)
        var fromEnv = MetricAuth()
        fromEnv.bearerTokenEnv = "ROLLOUT_PROM_TOKEN"
        #expect(await source.read(Self.gate(server.endpoint + "/bearer", "vector(2)", auth: fromEnv), values: Self.values).value == 2)
        var basic = MetricAuth()
        basic.basicUsername = "rollout"
        basic.basicPasswordFile = directory + "/password"
        #expect(await source.read(Self.gate(server.endpoint + "/basic", "vector(3)", auth: basic), values: Self.values).value == 3)

        let anonymous = await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)"), values: Self.values)
        #expect(anonymous.error == "crash-rate: HTTP 401 from \(server.endpoint)/bearer (check the gate's auth)")
        var unset = MetricAuth()
        unset.bearerTokenEnv = "ROLLOUT_PROM_TOKEN_UNSET"
        let missing = await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)", auth: unset), values: Self.values)
        #expect(missing.error?.hasSuffix("environment variable ROLLOUT_PROM_TOKEN_UNSET (bearer token) is not set") == true)
        var absentFile = MetricAuth()
        absentFile.bearerTokenFile = directory + "/nope"
        let unreadable = await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)", auth: absentFile), values: Self.values)
        #expect(unreadable.error?.hasSuffix("cannot read the bearer token file \(directory)/nope") == true)
        // A plan cannot make the worker read its own secrets: files outside the secret directories (whether they
        // exist or not) and variables without the ROLLOUT_ prefix are refused before any request.
        var outside = MetricAuth()
        outside.bearerTokenFile = directory + "/../" + (directory as NSString).lastPathComponent + "-elsewhere/token"
        let escaped = await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)", auth: outside), values: Self.values)
        #expect(escaped.error?.contains("is outside the directories metric credentials are read from (") == true,
                "\(escaped)")
        var workerVariable = MetricAuth()
        workerVariable.bearerTokenEnv = "PROM_TOKEN"
        let refused = await source.read(Self.gate(server.endpoint + "/bearer", "vector(1)", auth: workerVariable), values: Self.values)
        #expect(refused.error?.hasSuffix("environment variable PROM_TOKEN may not be read: metric credentials come from "
                                         + "variables named ROLLOUT_… only") == true, "\(refused)")
        for reading in [anonymous, missing, unreadable, escaped, refused] {
            #expect(!(reading.error ?? "").contains(PrometheusServer.bearerToken), "no secret in a reason")
        }
    }

    @Test("SigV4 for Amazon Managed Service for Prometheus signs with the fleet's credentials, service aps")
    func sigV4() async throws {
        let server = try await PrometheusServer.shared.value
        let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDPROMTEST", secretAccessKey: "s"))
        let source = PrometheusMetricSource(options: Self.fast, signer: AWSRequestSigner(credentials: credentials))
        var auth = MetricAuth()
        auth.sigV4Region = "eu-west-1"
        auth.sigV4Service = "aps"
        #expect(await source.read(Self.gate(server.endpoint + "/sigv4", "vector(4)", auth: auth), values: Self.values).value == 4)
        let header = try await server.lastSigV4()
        #expect(header.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDPROMTEST/"))
        #expect(header.contains("/eu-west-1/aps/aws4_request"))
        let unsigned = PrometheusMetricSource(options: Self.fast)
        let refused = await unsigned.read(Self.gate(server.endpoint + "/sigv4", "vector(4)", auth: auth), values: Self.values)
        #expect(refused.error?.hasSuffix(": SigV4 signing needs AWS credentials, and this worker has none configured") == true)
    }
}
