import Engine
import Foundation
import HTTPTransport
import RolloutCore
import RolloutText

/// The CloudWatch `MetricSource`, for both CloudWatch providers, signed with the fleet's credential chain.
///
/// - `cloudWatch`: GetMetricData over the gate's lookback, ending at the last whole period (the period still open
///   would read low for a sum); the value is the newest datapoint of the one returned series. Several series (a
///   `SEARCH` expression) need the gate's `reduce` over their newest datapoints. No datapoint is "no data" (an
///   error measurement).
/// - `cloudWatchAlarm`: DescribeAlarms of the named alarms, and DescribeAlarmHistory of those not in ALARM since the
///   measurement window began; the value is how many are in ALARM or went into ALARM in the window (the gate's max is
///   0), so an alarm that fired and cleared between two polls still counts. A named alarm that does not exist is an
///   error, never a silent pass.
///
/// Every call is bounded by the AWS client's retry policy and the transport's time-outs.
package struct CloudWatchMetricSource: MetricSource {
    let configuration: AWSConfiguration

    package init(configuration: AWSConfiguration) {
        self.configuration = configuration
    }

    package func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        let region = gate.cloudWatch?.region ?? configuration.region
        var endpointOverride: HTTPEndpoint?
        if !gate.url.isEmpty {
            guard let endpoint = HTTPEndpoint(url: gate.url) else {
                return MetricReading(error: "\(gate.name): url \(CredentialRedaction.url(gate.url)) is not an http(s) URL")
            }
            endpointOverride = endpoint
        }
        let client = configuration.cloudWatchClient(region: region, endpoint: endpointOverride)
        switch gate.kind {
        case .cloudWatchAlarm:
            return await readAlarms(gate, client: client, region: region, since: values.windowStart)
        default:
            return await readMetricData(gate, values: values, client: client, region: region)
        }
    }

    func readAlarms(_ gate: MetricGate, client: CloudWatchClient, region: String, since: Date?) async -> MetricReading {
        let names = gate.alarmNames ?? []
        var input = "DescribeAlarms \(names.joined(separator: ", ")) in \(region)"
        guard !names.isEmpty else { return MetricReading(error: "\(gate.name): no alarm names", input: input) }
        let states: [String: String]
        do {
            states = try await client.alarmStates(names: names)
        } catch {
            return MetricReading(error: "\(gate.name): DescribeAlarms: \(CredentialRedaction.text("\(error)"))", input: input)
        }
        let missing = names.filter { states[$0] == nil }
        guard missing.isEmpty else {
            return MetricReading(error: "\(gate.name): no such alarm in \(region): \(missing.joined(separator: ", "))",
                                 input: input)
        }
        let alarming = names.filter { states[$0] == "ALARM" }
        var wentOff: [String] = []
        let now = configuration.now()
        if let since, since < now {
            // The others may have gone off and back since the last measurement: their history says.
            input += "; DescribeAlarmHistory since \(since.ISO8601Format())"
            for name in names where states[name] != "ALARM" {
                do {
                    if try await client.enteredAlarm(name: name, start: since, end: now) { wentOff.append(name) }
                } catch {
                    return MetricReading(error: "\(gate.name): DescribeAlarmHistory \(name): "
                                         + CredentialRedaction.text("\(error)"), input: input)
                }
            }
        }
        if !alarming.isEmpty { input += " (in ALARM: \(alarming.joined(separator: ", ")))" }
        if !wentOff.isEmpty { input += " (in ALARM since the last measurement: \(wentOff.joined(separator: ", ")))" }
        return MetricReading(value: Double(alarming.count + wentOff.count), input: input)
    }

    func readMetricData(_ gate: MetricGate, values: MetricQueryTemplate.Values, client: CloudWatchClient,
                        region: String) async -> MetricReading {
        guard let query = gate.cloudWatch else { return MetricReading(error: "\(gate.name): no CloudWatch query") }
        let parameters = Self.parameters(query, values: values)
        let input = Self.describe(query, values: values) + " in \(region)"
        let period = TimeInterval(query.periodSeconds)
        let end = Date(timeIntervalSince1970: (configuration.now().timeIntervalSince1970 / period).rounded(.down) * period)
        let start = end.addingTimeInterval(-TimeInterval(query.lookbackSeconds))
        do {
            let series = try await client.metricData(parameters, start: start, end: end)
            switch Self.value(of: series, reduce: gate.reduce, lookbackSeconds: query.lookbackSeconds) {
            case .success(let value): return MetricReading(value: value, input: input)
            case .failure(let problem):
                return MetricReading(error: "\(gate.name): \(problem.message)", input: input, noData: problem.noData)
            }
        } catch {
            return MetricReading(error: "\(gate.name): GetMetricData: \(CredentialRedaction.text("\(error)"))", input: input)
        }
    }

    /// The one number of a GetMetricData answer: the newest datapoint of its one series; several series need
    /// `reduce` (over each one's newest datapoint); a series without datapoints counts as none. Pure.
    static func value(of series: [CloudWatchClient.Series], reduce: SeriesReduction?,
                      lookbackSeconds: Int) -> Result<Double, MetricReadError> {
        if let failed = series.first(where: { $0.statusCode == "Forbidden" || $0.statusCode == "InternalError" }) {
            return .failure(MetricReadError(message: "GetMetricData status \(failed.statusCode) for \(failed.id)"))
        }
        let newest = series.compactMap { one in one.values.first.map { (label: one.label.isEmpty ? one.id : one.label, value: $0) } }
        return SeriesReduction.value(of: newest, reduce: reduce,
                                     noData: "no datapoint in the last " + DurationText.format(lookbackSeconds))
    }

    /// `MetricDataQueries.member.N.…` for the gate: its statistic as `m1`, or its expression as `result` with the
    /// expression's inputs not returned.
    static func parameters(_ query: CloudWatchMetricQuery, values: MetricQueryTemplate.Values) -> [(String, String)] {
        var parameters: [(String, String)] = []
        var number = 0
        func add(_ stat: CloudWatchMetricStat, returned: Bool) {
            number += 1
            let prefix = "MetricDataQueries.member.\(number)"
            parameters.append(("\(prefix).Id", stat.id))
            parameters.append(("\(prefix).MetricStat.Metric.Namespace", stat.namespace))
            parameters.append(("\(prefix).MetricStat.Metric.MetricName", stat.metricName))
            for (index, dimension) in stat.dimensions.enumerated() {
                let dimensionPrefix = "\(prefix).MetricStat.Metric.Dimensions.member.\(index + 1)"
                parameters.append(("\(dimensionPrefix).Name", dimension.name))
                parameters.append(("\(dimensionPrefix).Value", MetricQueryTemplate.expand(dimension.value, values)))
            }
            parameters.append(("\(prefix).MetricStat.Period", String(query.periodSeconds)))
            parameters.append(("\(prefix).MetricStat.Stat", stat.statistic))
            parameters.append(("\(prefix).ReturnData", returned ? "true" : "false"))
        }
        if let expression = query.expression {
            number += 1
            let prefix = "MetricDataQueries.member.\(number)"
            parameters.append(("\(prefix).Id", "result"))
            parameters.append(("\(prefix).Expression", MetricQueryTemplate.expand(expression, values)))
            parameters.append(("\(prefix).Period", String(query.periodSeconds)))
            parameters.append(("\(prefix).ReturnData", "true"))
            for stat in query.metrics { add(stat, returned: false) }
        } else if let stat = query.stat {
            add(stat, returned: true)
        }
        return parameters
    }

    /// `Sum of Fleet/CrashCount {Version=2.1.0} per 5m` or the expression, for the measurement's input.
    static func describe(_ query: CloudWatchMetricQuery, values: MetricQueryTemplate.Values) -> String {
        func stat(_ stat: CloudWatchMetricStat) -> String {
            let dimensions = stat.dimensions.map { "\($0.name)=\(MetricQueryTemplate.expand($0.value, values))" }
            return "\(stat.statistic) of \(stat.namespace)/\(stat.metricName)"
                + (dimensions.isEmpty ? "" : " {\(dimensions.joined(separator: ","))}")
        }
        let period = " per " + DurationText.format(query.periodSeconds)
        if let expression = query.expression {
            return MetricQueryTemplate.expand(expression, values) + " where "
                + query.metrics.map { "\($0.id) = \(stat($0))" }.joined(separator: "; ") + period
        }
        return (query.stat.map(stat) ?? "nothing") + period
    }
}
