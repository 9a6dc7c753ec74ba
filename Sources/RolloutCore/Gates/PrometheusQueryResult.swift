import Foundation

/// The answer of Prometheus' instant query API (`GET /api/v1/query`), reduced to what a gate judges. Pure.
///
/// `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<time>,"<number>"]}]}}`;
/// a `scalar` result is `[<time>,"<number>"]`; errors are `{"status":"error","errorType":…,"error":…}`.
package enum PrometheusQueryResult {
    /// What one query gave.
    package enum Values: Equatable, Sendable {
        /// Each series' value (one for a scalar), with the series' labels in PromQL form for messages.
        case series([(labels: String, value: Double)])
        /// The server's own error.
        case error(String)

        package static func == (left: Values, right: Values) -> Bool {
            switch (left, right) {
            case (.error(let a), .error(let b)): return a == b
            case (.series(let a), .series(let b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.labels == $1.labels && $0.value == $1.value }
            default: return false
            }
        }
    }

    /// Decodes the body of a query answer (any HTTP status: Prometheus sends its errors as JSON with 400/422/503).
    package static func decode(_ data: Data) -> Values {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .error("the answer is not Prometheus JSON")
        }
        if object["status"] as? String != "success" {
            let type = object["errorType"] as? String ?? "error"
            return .error("Prometheus \(type): \(object["error"] as? String ?? "no reason given")")
        }
        guard let payload = object["data"] as? [String: Any], let type = payload["resultType"] as? String else {
            return .error("the answer has no data.resultType")
        }
        switch type {
        case "scalar":
            guard let pair = payload["result"] as? [Any], let value = sampleValue(pair) else {
                return .error("the scalar result has no value")
            }
            return .series([(labels: "scalar", value: value)])
        case "vector":
            guard let items = payload["result"] as? [[String: Any]] else { return .error("the vector result is not a list") }
            var series: [(labels: String, value: Double)] = []
            for item in items {
                guard let pair = item["value"] as? [Any], let value = sampleValue(pair) else {
                    return .error("a series of the vector has no value")
                }
                series.append((labels: labelText(item["metric"] as? [String: Any] ?? [:]), value: value))
            }
            return .series(series)
        default:
            return .error("the query gives a \(type), not an instant vector or scalar (a gate needs a number)")
        }
    }

    /// The one number a gate judges: no series is "no data", several need `reduce`, NaN and infinities are errors.
    package static func value(of values: Values, reduce: SeriesReduction?) -> Result<Double, MetricReadError> {
        switch values {
        case .error(let message):
            return .failure(MetricReadError(message: message))
        case .series(let series):
            return SeriesReduction.value(of: series.map { (label: $0.labels, value: $0.value) }, reduce: reduce,
                                         noData: "the query returned no series",
                                         hint: "aggregate them in PromQL or set `reduce` (max, min, avg, sum)")
        }
    }

    static func sampleValue(_ pair: [Any]) -> Double? {
        guard pair.count == 2, let text = pair[1] as? String else { return nil }
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(text)
        }
    }

    static func labelText(_ labels: [String: Any]) -> String {
        let name = labels["__name__"] as? String ?? ""
        let pairs = labels.keys.filter { $0 != "__name__" }.sorted().map { "\($0)=\"\(labels[$0] as? String ?? "")\"" }
        return name + "{" + pairs.joined(separator: ",") + "}"
    }
}
