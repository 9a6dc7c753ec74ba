import Engine
import Foundation
import RolloutCore
import Testing

@testable import FleetAWS

/// `CloudWatchMetricSource` on moto: PutMetricData / PutMetricAlarm by boto3 (an independent client), then the
/// source's own GetMetricData and DescribeAlarms, signed with the fleet's configuration.
@Suite("CloudWatch metric source on moto")
struct CloudWatchMetricSourceTests {
    static let values = MetricQueryTemplate.Values(stage: "canary", rolloutId: "fw-1", version: "2.1.0")

    static func timestamp(_ secondsAgo: Double) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date().addingTimeInterval(-secondsAgo))
    }

    static func gate(_ query: CloudWatchMetricQuery, reduce: SeriesReduction? = nil) -> MetricGate {
        var gate = MetricGate(name: "crashes", url: "", pointer: "", max: 4)
        gate.provider = .cloudWatch
        gate.cloudWatch = query
        gate.reduce = reduce
        return gate
    }

    @Test("a metric statistic's newest whole-period datapoint, dimensions with placeholders; none is no data")
    func metricData() async throws {
        let moto = try await MotoServer.ready()
        let namespace = UniqueName.make("Fleet")
        let data: [[String: Any]] = [(180.0, 2.0), (120, 3), (60, 5)].map { ago, value in
            ["MetricName": "CrashCount", "Dimensions": [["Name": "Version", "Value": "2.1.0"]],
             "Timestamp": Self.timestamp(ago), "Value": value, "Unit": "Count"]
        }
        _ = try await moto.boto3("cloudwatch", "put_metric_data", ["Namespace": namespace, "MetricData": data])
        let source = CloudWatchMetricSource(configuration: try moto.configuration())
        let stat = CloudWatchMetricStat(id: "m1", namespace: namespace, metricName: "CrashCount",
                                        dimensions: [CloudWatchDimension(name: "Version", value: "${version}")],
                                        statistic: "Sum")
        let query = CloudWatchMetricQuery(periodSeconds: 60, lookbackSeconds: 600, stat: stat)
        let newest = await source.read(Self.gate(query), values: Self.values)
        #expect(newest.value == 5, "\(newest)")
        #expect(newest.input == "Sum of \(namespace)/CrashCount {Version=2.1.0} per 1m in us-east-1")

        let other = MetricQueryTemplate.Values(stage: "canary", rolloutId: "fw-1", version: "9.9.9")
        let none = await source.read(Self.gate(query), values: other)
        #expect(none.error == "crashes: no data: no datapoint in the last 10m", "\(none)")
        #expect(none.noData == true)

        // moto evaluates an expression only when it names one query; the request's shape is AWS's all the same.
        let expression = CloudWatchMetricQuery(periodSeconds: 60, lookbackSeconds: 600, expression: "crashes",
                                               metrics: [CloudWatchMetricStat(id: "crashes", namespace: namespace,
                                                                              metricName: "CrashCount",
                                                                              dimensions: stat.dimensions, statistic: "Maximum")])
        #expect(await source.read(Self.gate(expression), values: Self.values).value == 5)
    }

    @Test("alarms: the count in ALARM; a missing alarm is an error, never a pass")
    func alarms() async throws {
        let moto = try await MotoServer.ready()
        let quiet = UniqueName.make("fleet-offline"), firing = UniqueName.make("fleet-crash-spike")
        for name in [quiet, firing] {
            _ = try await moto.boto3("cloudwatch", "put_metric_alarm", [
                "AlarmName": name, "MetricName": "CrashCount", "Namespace": "Fleet", "Statistic": "Sum", "Period": 60,
                "EvaluationPeriods": 1, "Threshold": 5.0, "ComparisonOperator": "GreaterThanThreshold",
            ])
        }
        _ = try await moto.boto3("cloudwatch", "set_alarm_state", ["AlarmName": quiet, "StateValue": "OK", "StateReason": "test"])
        var gate = MetricGate(name: "alarms", url: "", pointer: "", max: 0)
        gate.provider = .cloudWatchAlarm
        gate.alarmNames = [quiet, firing]
        let source = CloudWatchMetricSource(configuration: try moto.configuration())
        #expect(await source.read(gate, values: Self.values).value == 0)
        _ = try await moto.boto3("cloudwatch", "set_alarm_state", ["AlarmName": firing, "StateValue": "ALARM",
                                                                   "StateReason": "crashes"])
        let alarming = await source.read(gate, values: Self.values)
        #expect(alarming.value == 1)
        #expect(alarming.input == "DescribeAlarms \(quiet), \(firing) in us-east-1 (in ALARM: \(firing))")
        gate.alarmNames = [quiet, "no-such-alarm-\(quiet)"]
        #expect(await source.read(gate, values: Self.values).error == "alarms: no such alarm in us-east-1: no-such-alarm-\(quiet)")
    }

    @Test("an alarm that went into ALARM and back since the window began counts; one that stayed OK does not")
    func alarmThatClearedBetweenMeasurements() async throws {
        let moto = try await MotoServer.ready()
        let flapping = UniqueName.make("flapping")
        let quiet = UniqueName.make("quiet")
        for name in [flapping, quiet] {
            _ = try await moto.boto3("cloudwatch", "put_metric_alarm", [
                "AlarmName": name, "MetricName": "CrashCount", "Namespace": "Fleet", "Statistic": "Sum", "Period": 60,
                "EvaluationPeriods": 1, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
            ])
        }
        let source = CloudWatchMetricSource(configuration: try moto.configuration())
        var gate = MetricGate(name: "alarms", url: "", pointer: "", max: 0)
        gate.provider = .cloudWatchAlarm
        gate.alarmNames = [flapping, quiet]
        var values = Self.values
        values.windowStart = Date().addingTimeInterval(-60)
        #expect(await source.read(gate, values: values).value == 0)

        for state in ["ALARM", "OK"] {
            _ = try await moto.boto3("cloudwatch", "set_alarm_state", ["AlarmName": flapping, "StateValue": state,
                                                                       "StateReason": "test"])
        }
        let flapped = await source.read(gate, values: values)
        #expect(flapped.value == 1, "\(flapped)")
        #expect(flapped.input?.hasSuffix("(in ALARM since the last measurement: \(flapping))") == true, "\(flapped)")
        // A window that begins after the flap sees nothing; without a window only the present state counts.
        values.windowStart = Date().addingTimeInterval(2)
        #expect(await source.read(gate, values: values).value == 0)
        #expect(await source.read(gate, values: Self.values).value == 0)
    }

    @Test("a state update enters ALARM by its HistoryData, else by AWS's summary")
    func historyItems() {
        let data = #"{"version":"1.0","oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM"}}"#
        #expect(CloudWatchClient.entersAlarm(historyData: data, summary: nil))
        #expect(!CloudWatchClient.entersAlarm(historyData: data.replacingOccurrences(of: "\"ALARM\"", with: "\"OK\""),
                                              summary: "Alarm updated from ALARM to OK"))
        #expect(CloudWatchClient.entersAlarm(historyData: nil, summary: "Alarm updated from INSUFFICIENT_DATA to ALARM"))
        #expect(!CloudWatchClient.entersAlarm(historyData: "not json", summary: "Alarm updated from ALARM to OK"))
    }

    @Test("one series is its newest datapoint; several need reduce; an empty or forbidden answer is unreadable")
    func seriesToValue() {
        func series(_ id: String, _ values: [Double], status: String = "Complete") -> CloudWatchClient.Series {
            CloudWatchClient.Series(id: id, label: id, values: values, statusCode: status)
        }
        #expect(CloudWatchMetricSource.value(of: [series("m1", [5, 3, 2])], reduce: nil, lookbackSeconds: 900) == .success(5))
        let two = [series("a", [5, 1]), series("b", [7]), series("c", [])]
        #expect(CloudWatchMetricSource.value(of: two, reduce: nil, lookbackSeconds: 900)
                == .failure(MetricReadError(message: "the query returned 2 series (a, b); set `reduce` (max, min, avg, sum)")))
        #expect(CloudWatchMetricSource.value(of: two, reduce: .max, lookbackSeconds: 900) == .success(7))
        #expect(CloudWatchMetricSource.value(of: [series("m1", [])], reduce: nil, lookbackSeconds: 900)
                == .failure(MetricReadError(message: "no data: no datapoint in the last 15m", noData: true)))
        #expect(CloudWatchMetricSource.value(of: [series("m1", [1], status: "Forbidden")], reduce: nil, lookbackSeconds: 60)
                == .failure(MetricReadError(message: "GetMetricData status Forbidden for m1")))
    }

    @Test("the CloudWatch statistic and expression become AWS's query parameters")
    func parameters() {
        let stat = CloudWatchMetricStat(id: "errors", namespace: "AWS/IoT", metricName: "Failure",
                                        dimensions: [CloudWatchDimension(name: "JobId", value: "${rolloutId}-${stage}")],
                                        statistic: "p99")
        let query = CloudWatchMetricQuery(periodSeconds: 300, expression: "100 * errors", metrics: [stat])
        let pairs = CloudWatchMetricSource.parameters(query, values: Self.values)
        #expect(pairs.map { "\($0.0)=\($0.1)" } == [
            "MetricDataQueries.member.1.Id=result", "MetricDataQueries.member.1.Expression=100 * errors",
            "MetricDataQueries.member.1.Period=300", "MetricDataQueries.member.1.ReturnData=true",
            "MetricDataQueries.member.2.Id=errors", "MetricDataQueries.member.2.MetricStat.Metric.Namespace=AWS/IoT",
            "MetricDataQueries.member.2.MetricStat.Metric.MetricName=Failure",
            "MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name=JobId",
            "MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value=fw-1-canary",
            "MetricDataQueries.member.2.MetricStat.Period=300", "MetricDataQueries.member.2.MetricStat.Stat=p99",
            "MetricDataQueries.member.2.ReturnData=false",
        ])
    }
}
