import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The Prometheus `MetricSource`: an instant query (`GET <url>/api/v1/query?query=…`) with the gate's PromQL,
/// placeholders expanded as PromQL string content. Works with any Prometheus-compatible API (Thanos, Mimir,
/// VictoriaMetrics) and, with `auth.sigv4`, Amazon Managed Service for Prometheus
/// (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>`).
///
/// One series is the value; none is "no data" (an error measurement, not a failure); several need the gate's
/// `reduce`. Bounded and authenticated as `MetricHTTPReader` describes.
package struct PrometheusMetricSource: MetricSource {
    let reader: MetricHTTPReader

    /// - Parameters:
    ///   - signer: signs `auth.sigv4` gates (the AWS adapter's); nil refuses them with a readable error.
    package init(options: HTTPMetricSource.Options = .init(), transport: (any HTTPTransport)? = nil,
                signer: (any HTTPRequestSigner)? = nil,
                environment: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] },
                secrets: MetricSecretPolicy = .fromEnvironment()) {
        reader = MetricHTTPReader(options: options, transport: transport ?? options.makeTransport(), signer: signer,
                                  environment: environment, secrets: secrets)
    }

    package func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        let query = MetricQueryTemplate.expand(gate.query ?? "", values, escape: MetricQueryTemplate.promQLEscaped)
        var base = MetricQueryTemplate.expand(gate.url, values) { URIEncoding.encode($0) }
        while base.hasSuffix("/") { base.removeLast() }
        let answer = await reader.get(base + "/api/v1/query", query: [QueryItem("query", query)], gate: gate,
                                      headers: [("Accept", "application/json")])
        let input = "\(query) @ \(CredentialRedaction.url(base))"
        switch answer.result {
        case .failure(let problem):
            return MetricReading(error: "\(gate.name): \(answer.shown): \(problem.message)", input: input)
        case .success(let response):
            if response.status == 401 || response.status == 403 {
                return MetricReading(error: "\(gate.name): HTTP \(response.status) from \(CredentialRedaction.url(base)) "
                                     + "(check the gate's auth)", input: input)
            }
            let decoded = PrometheusQueryResult.decode(response.body)
            if case .error = decoded, !response.isSuccess, !response.body.starts(with: Data("{".utf8)) {
                return MetricReading(error: "\(gate.name): HTTP \(response.status) from \(CredentialRedaction.url(base))",
                                     input: input)
            }
            switch PrometheusQueryResult.value(of: decoded, reduce: gate.reduce) {
            case .success(let value): return MetricReading(value: value, input: input)
            case .failure(let problem):
                return MetricReading(error: "\(gate.name): \(problem.message)", input: input, noData: problem.noData)
            }
        }
    }
}
