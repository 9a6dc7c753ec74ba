import Foundation
import HTTPTransport

/// The CloudWatch calls metric gates make (Query protocol, `Version=2010-08-01`).
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

    /// Whether the alarm entered ALARM between `start` and `end` (DescribeAlarmHistory, state updates, newest
    /// first): an alarm that went off and back between two measurements is in no DescribeAlarms answer, but it is in
    /// its history. Reads at most `maxPages` pages of 100 and stops at the first entry into ALARM.
    package func enteredAlarm(name: String, start: Date, end: Date, maxPages: Int = 5) async throws -> Bool {
        precondition(maxPages > 0, "at least one page")
        var nextToken: String?
        for _ in 0..<maxPages {
            var parameters: [(String, String)] = [
                ("AlarmName", name), ("HistoryItemType", "StateUpdate"),
                ("StartDate", Self.timestamp(start)), ("EndDate", Self.timestamp(end)),
                ("ScanBy", "TimestampDescending"), ("MaxRecords", "100"),
            ]
            parameters += QueryRequest.list("AlarmTypes", ["MetricAlarm", "CompositeAlarm"])
            if let nextToken { parameters.append(("NextToken", nextToken)) }
            let request = QueryRequest.make(endpoint: client.endpoint, action: "DescribeAlarmHistory",
                                            version: "2010-08-01", parameters: parameters)
            let text = String(decoding: try await client.send(request, operation: "DescribeAlarmHistory").body,
                              as: UTF8.self)
            if let items = XMLText.firstElement("AlarmHistoryItems", in: text, raw: true) {
                for member in XMLText.allElements("member", in: items, raw: true, topLevelOnly: true)
                where Self.entersAlarm(historyData: XMLText.firstElement("HistoryData", in: member),
                                       summary: XMLText.firstElement("HistorySummary", in: member)) {
                    return true
                }
            }
            nextToken = XMLText.firstElement("NextToken", in: text).flatMap { $0.isEmpty ? nil : $0 }
            if nextToken == nil { return false }
        }
        // More than `maxPages` × 100 state changes in one window: an alarm that flaps so much has surely been in ALARM.
        return true
    }

    /// A state update's new state is ALARM: from its JSON `HistoryData` (`newState.stateValue`), else from the
    /// summary AWS writes ("Alarm updated from OK to ALARM"). Pure.
    static func entersAlarm(historyData: String?, summary: String?) -> Bool {
        if let historyData,
           let object = try? JSONSerialization.jsonObject(with: Data(historyData.utf8)) as? [String: Any],
           let newState = object["newState"] as? [String: Any], let value = newState["stateValue"] as? String {
            return value == "ALARM"
        }
        return summary?.hasSuffix(" to ALARM") == true
    }

    /// `2026-11-30T08:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        date.ISO8601Format()
    }
}
