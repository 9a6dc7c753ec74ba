import Engine
import Foundation
import RolloutCore
import StoreSQLite
import Testing

@testable import FleetAWS

/// Reading back what a run left on AWS, with boto3 (a client independent of the one under test), and checking its
/// event log.
extension RunEndToEndTests {
    static func job(_ moto: MotoServer, _ jobId: String) async throws -> [String: Any] {
        let answer = try await moto.boto3("iot", "describe_job", ["jobId": jobId])
        return try #require(answer["job"] as? [String: Any], "describe_job \(jobId): \(answer)")
    }

    static func targetThings(_ job: [String: Any]) -> [String] {
        (job["targets"] as? [String] ?? []).map { IoTClient.thingName(fromArn: $0) }
    }

    static func document(_ moto: MotoServer, _ jobId: String) async throws -> [String: Any] {
        let answer = try await moto.boto3("iot", "get_job_document", ["jobId": jobId])
        let text = try #require(answer["document"] as? String)
        return try #require(try jsonObject(Data(text.utf8)) as? [String: Any])
    }

    /// Every execution of a job: thing name → status (all pages).
    static func executions(_ moto: MotoServer, _ jobId: String) async throws -> [String: String] {
        var statuses: [String: String] = [:]
        var token: String?
        for _ in 0..<100 {
            var params: [String: Any] = ["jobId": jobId, "maxResults": 250]
            if let token { params["nextToken"] = token }
            let answer = try await moto.boto3("iot", "list_job_executions_for_job", params)
            for summary in answer["executionSummaries"] as? [[String: Any]] ?? [] {
                let thing = IoTClient.thingName(fromArn: summary["thingArn"] as? String ?? "")
                statuses[thing] = (summary["jobExecutionSummary"] as? [String: Any])?["status"] as? String
            }
            token = answer["nextToken"] as? String
            if token == nil { break }
        }
        return statuses
    }

    static func checkEventLog(_ store: any RolloutStore, rolloutId: String, plan: RolloutPlan, state: RolloutState)
        throws -> [RolloutEventRecord]
    {
        let events = try store.events(rolloutId: rolloutId, afterSequence: 0, limit: 100_000)
        #expect(events.map(\.sequence) == Array(1...events.count), "event log has no gaps")
        #expect(events.count == state.eventCount)
        #expect(RolloutStateMachine.replay(rolloutId: rolloutId, plan: plan, events: events) == state,
                "replaying the log reproduces the stored state")
        #expect(!events.contains { $0.event.kind == "effectFailed" })
        #expect(events.filter { $0.event.kind == "prepared" }.count == 1)
        for (index, stage) in state.stages.enumerated() where stage.jobCreatedAt != nil {
            let created = events.filter { $0.event == .jobCreated(stage: index) }.count
            #expect(created == 1, "\(stage.name): jobCreated recorded once")
        }
        return events
    }
}
