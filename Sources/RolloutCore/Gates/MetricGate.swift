/// An external health metric judged between waves: where it is read (`provider` and its query), the bounds that
/// make one measurement a failure, how often and how many times it is measured (`measurement`), and whether a
/// verdict acts at all (`dryRun`).
///
/// Stored plans from before providers existed hold only `name`, `url`, `pointer`, `max`, `min`; every newer field is
/// optional, so they decode as HTTP JSON gates with the default measurement policy.
package struct MetricGate: Codable, Equatable, Sendable {
    package var name: String
    /// nil is `httpJSON`.
    package var provider: MetricProvider?
    /// HTTP JSON: the document's URL. Prometheus: the server's base URL (`/api/v1/query` is appended).
    /// CloudWatch: an endpoint override (empty: the region's own endpoint). `sim://…` in a rehearsal.
    package var url: String
    /// HTTP JSON: RFC 6901 JSON pointer to the number, e.g. `/data/crashRate`.
    package var pointer: String
    /// Prometheus: the PromQL of an instant query, with `${stage}`, `${rolloutId}`, `${version}` substituted.
    package var query: String?
    /// CloudWatch GetMetricData: a metric statistic or a metric-math expression.
    package var cloudWatch: CloudWatchMetricQuery?
    /// CloudWatch alarms: the stage fails while one of them is in ALARM.
    package var alarmNames: [String]?
    /// How several values (series, datapoints) become one; nil: more than one is an error.
    package var reduce: SeriesReduction?
    /// Where the credentials come from (never the credentials themselves).
    package var auth: MetricAuth?
    /// One measurement fails when the value is above `max` …
    package var max: Double?
    /// … or below `min`.
    package var min: Double?
    /// When and how often to measure, and how many failures or errors decide; nil is the default policy.
    package var measurement: MeasurementPolicy?
    /// Measured, recorded and shown, never acted on.
    package var dryRun: Bool?

    package init(name: String, url: String, pointer: String, max: Double? = nil, min: Double? = nil) {
        self.name = name
        self.url = url
        self.pointer = pointer
        self.max = max
        self.min = min
    }

    /// The name of `jobOutcomes.baseline.metric` (not a gate's name: those are plain tokens).
    package static let baselineName = "jobOutcomes.baseline"

    package var kind: MetricProvider { provider ?? .httpJSON }
    package var policy: MeasurementPolicy { measurement ?? MeasurementPolicy() }
    package var isDryRun: Bool { dryRun ?? false }

    /// Whether one value is within the gate's bounds.
    package func accepts(_ value: Double) -> Bool {
        if let max, value > max { return false }
        if let min, value < min { return false }
        return true
    }
}

/// Where a metric gate reads its value.
package enum MetricProvider: String, Codable, Sendable, Equatable, CaseIterable {
    /// HTTP GET of a JSON document and a JSON pointer to a number.
    case httpJSON
    /// A Prometheus-compatible instant query (`/api/v1/query`), Amazon Managed Service for Prometheus included.
    case prometheus
    /// CloudWatch GetMetricData: the latest datapoint of a metric statistic or expression.
    case cloudWatch
    /// CloudWatch DescribeAlarms: the number of the named alarms in ALARM (fails above 0).
    case cloudWatchAlarm
}

/// How several values become the one a gate judges.
package enum SeriesReduction: String, Codable, Sendable, Equatable, CaseIterable {
    case max, min, avg, sum

    /// The one number a gate judges from the series a query returned (each by its label and value), the same rule
    /// for every provider and the rehearsal: none is "no data" (`noData` says what was empty), one is its value,
    /// several need `reduce` (`hint` says where else they could be aggregated); NaN and infinities are errors.
    package static func value(of series: [(label: String, value: Double)], reduce: SeriesReduction?, noData: String,
                              hint: String = "set `reduce` (max, min, avg, sum)") -> Result<Double, MetricReadError> {
        guard !series.isEmpty else { return .failure(MetricReadError(message: "no data: " + noData, noData: true)) }
        let value: Double
        if series.count == 1 {
            value = series[0].value
        } else if let reduce, let reduced = reduce.reduce(series.map(\.value)) {
            value = reduced
        } else {
            let shown = series.prefix(3).map(\.label).joined(separator: ", ")
            return .failure(MetricReadError(message: "the query returned \(series.count) series (\(shown)"
                + (series.count > 3 ? ", …" : "") + "); " + hint))
        }
        guard value.isFinite else { return .failure(MetricReadError(message: "the value is \(value) (not a finite number)")) }
        return .success(value)
    }

    package func reduce(_ values: [Double]) -> Double? {
        guard let first = values.first else { return nil }
        switch self {
        case .max: return values.max()
        case .min: return values.min()
        case .sum: return values.reduce(0, +)
        case .avg: return values.dropFirst().reduce(first, +) / Double(values.count)
        }
    }
}

/// Where a metric source finds its credentials: files and environment variables by name, or SigV4 signing with the
/// worker's AWS credentials. The plan never holds a secret.
package struct MetricAuth: Codable, Equatable, Sendable {
    /// `Authorization: Bearer <file's content, trimmed>`, read at every measurement (rotated tokens are picked up).
    package var bearerTokenFile: String?
    package var bearerTokenEnv: String?
    /// HTTP Basic: a user name (not secret) and the password from a file or an environment variable.
    package var basicUsername: String?
    package var basicPasswordFile: String?
    package var basicPasswordEnv: String?
    /// SigV4 with the worker's AWS credentials, e.g. service `aps` (Amazon Managed Service for Prometheus).
    package var sigV4Region: String?
    package var sigV4Service: String?

    package init() {}
}

/// A CloudWatch GetMetricData query: one metric statistic (`stat`), or an expression over named statistics.
package struct CloudWatchMetricQuery: Codable, Equatable, Sendable {
    /// nil: the worker's AWS region.
    package var region: String?
    /// Seconds per datapoint (60 or a multiple; 1, 5, 10, 30 for high-resolution metrics).
    package var periodSeconds: Int
    /// How far back the query looks; the latest datapoint in it is the value.
    package var lookbackSeconds: Int
    /// The statistic judged, when there is no expression.
    package var stat: CloudWatchMetricStat?
    /// Metric math over `metrics` (by id), e.g. `100 * errors / MAX([errors, attempts])`.
    package var expression: String?
    /// The statistics the expression names.
    package var metrics: [CloudWatchMetricStat]

    package init(region: String? = nil, periodSeconds: Int = 300, lookbackSeconds: Int? = nil,
                stat: CloudWatchMetricStat? = nil, expression: String? = nil, metrics: [CloudWatchMetricStat] = []) {
        self.region = region
        self.periodSeconds = periodSeconds
        self.lookbackSeconds = lookbackSeconds ?? Swift.max(periodSeconds * 3, 900)
        self.stat = stat
        self.expression = expression
        self.metrics = metrics
    }
}

/// One CloudWatch metric and the statistic taken of it.
package struct CloudWatchMetricStat: Codable, Equatable, Sendable {
    /// The query id (`m1`; referenced by expressions): a lower-case letter, then letters, digits, underscores.
    package var id: String
    package var namespace: String
    package var metricName: String
    /// Dimension name and value pairs, in the plan's order; values may use `${stage}`, `${rolloutId}`, `${version}`.
    package var dimensions: [CloudWatchDimension]
    /// `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount`, or a percentile such as `p99`.
    package var statistic: String

    package init(id: String, namespace: String, metricName: String, dimensions: [CloudWatchDimension] = [],
                statistic: String) {
        self.id = id
        self.namespace = namespace
        self.metricName = metricName
        self.dimensions = dimensions
        self.statistic = statistic
    }

    /// The statistics CloudWatch knows by name; percentiles (`p0`…`p100`, e.g. `p99.9`) are checked apart.
    package static let namedStatistics = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"]

    package static func isValidStatistic(_ text: String) -> Bool {
        if namedStatistics.contains(text) { return true }
        guard text.hasPrefix("p"), let number = Double(text.dropFirst()) else { return false }
        return number >= 0 && number <= 100
    }
}

/// A CloudWatch dimension.
package struct CloudWatchDimension: Codable, Equatable, Sendable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
