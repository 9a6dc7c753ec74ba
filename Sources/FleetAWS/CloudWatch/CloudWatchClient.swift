import Foundation
import HTTPTransport

/// The two CloudWatch calls metric gates make (Query protocol, `Version=2010-08-01`).
package struct CloudWatchClient: Sendable {
    package let client: AWSClient

    package init(client: AWSClient) {
        precondition(client.service == "monitoring", "CloudWatchClient needs a monitoring AWSClient")
        self.client = client
    }

    /// One returned query's datapoints, newest first.
    package struct Series: Sendable, Equatable {
        package var id: String
        package var label: String
        package var values: [Double]
        /// `Complete`, `PartialData`, `InternalError`, `Forbidden`.
        package var statusCode: String
    }

    /// GetMetricData from `start` to `end`, newest datapoints first. `parameters` are the `MetricDataQueries.member.N`
    /// parameter sets, already numbered by the caller (`CloudWatchMetricSource.parameters`).
    package func metricData(_ parameters: [(String, String)], start: Date, end: Date) async throws -> [Series] {
        let request = QueryRequest.make(endpoint: client.endpoint, action: "GetMetricData", version: "2010-08-01",
                                        parameters: parameters + [
                                            ("StartTime", Self.timestamp(start)), ("EndTime", Self.timestamp(end)),
                                            ("ScanBy", "TimestampDescending"), ("MaxDatapoints", "1000"),
                                        ])
        let text = String(decoding: try await client.send(request, operation: "GetMetricData").body, as: UTF8.self)
        guard let results = XMLText.firstElement("MetricDataResults", in: text, raw: true) else { return [] }
        return XMLText.allElements("member", in: results, raw: true, topLevelOnly: true).map { member in
            let values = XMLText.firstElement("Values", in: member, raw: true)
                .map { XMLText.allElements("member", in: $0).compactMap(Double.init) } ?? []
            return Series(id: XMLText.firstElement("Id", in: member) ?? "", label: XMLText.firstElement("Label", in: member) ?? "",
                          values: values, statusCode: XMLText.firstElement("StatusCode", in: member) ?? "Complete")
        }
    }

    /// DescribeAlarms of named alarms: each alarm's name and state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    package func alarmStates(names: [String]) async throws -> [String: String] {
        precondition(!names.isEmpty && names.count <= 100, "1…100 alarm names")
        var parameters = QueryRequest.list("AlarmNames", names)
        // Without AlarmTypes, DescribeAlarms answers metric alarms only.
        parameters += QueryRequest.list("AlarmTypes", ["MetricAlarm", "CompositeAlarm"])
        parameters.append(("MaxRecords", "100"))
        let request = QueryRequest.make(endpoint: client.endpoint, action: "DescribeAlarms", version: "2010-08-01",
                                        parameters: parameters)
        let text = String(decoding: try await client.send(request, operation: "DescribeAlarms").body, as: UTF8.self)
        var states: [String: String] = [:]
        for list in ["MetricAlarms", "CompositeAlarms"] {
            guard let alarms = XMLText.firstElement(list, in: text, raw: true) else { continue }
            for member in XMLText.allElements("member", in: alarms, raw: true, topLevelOnly: true) {
                if let name = XMLText.firstElement("AlarmName", in: member),
                   let state = XMLText.firstElement("StateValue", in: member) {
                    states[name] = state
                }
            }
        }
        return states
    }

    /// `2026-11-30T08:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        date.ISO8601Format()
    }
}
