import Engine
import Foundation
import RolloutCore
import Testing

/// What the worker shows of AWS's quotas: per-API calls, throttles and budget use on `/metrics`, and a stage waiting
/// for a job slot in the rollout's detail.
@Suite("fleet API budgets on /metrics, capacity waits in the detail")
struct FleetCapacityVisibilityTests {
    @Test("/metrics has calls, throttled answers, budget waits, rate and use per API and account-region")
    func metrics() async throws {
        let stub = StubRolloutService()
        await stub.setFleetAPIs([
            FleetAPIUsage(api: "CreateJob", scope: "111122223333/eu-west-1", calls: 12, throttled: 2,
                          budgetWaitSeconds: 1.5, ratePerSecond: 10, budgetUsedRatio: 0.3),
            FleetAPIUsage(api: "GetCallerIdentity", scope: "eu-west-1", calls: 1, throttled: 0, budgetWaitSeconds: 0,
                          ratePerSecond: nil, budgetUsedRatio: nil),
        ])
        let server = try await TestServer.start(service: stub)
        let response = try await server.client.checked("GET", "/metrics", checker: try RepositoryFiles.openAPIChecker())
        let text = try PrometheusText(parsing: response.text)
        let createJob = ["api": "CreateJob", "scope": "111122223333/eu-west-1"]
        #expect(text.value("rollout_fleet_api_requests_total", createJob) == 12)
        #expect(text.value("rollout_fleet_api_throttled_total", createJob) == 2)
        #expect(text.value("rollout_fleet_api_budget_wait_seconds_total", createJob) == 1.5)
        #expect(text.value("rollout_fleet_api_budget_rate", createJob) == 10)
        #expect(text.value("rollout_fleet_api_budget_used_ratio", createJob) == 0.3)
        let unmetered = ["api": "GetCallerIdentity", "scope": "eu-west-1"]
        #expect(text.value("rollout_fleet_api_requests_total", unmetered) == 1)
        #expect(text.value("rollout_fleet_api_budget_rate", unmetered) == nil, "an unmetered call has no budget")
        for family in ["rollout_fleet_api_requests_total", "rollout_fleet_api_throttled_total",
                       "rollout_fleet_api_budget_wait_seconds_total"] {
            #expect(text.types[family] == "counter", "\(family)")
        }
        #expect(text.types["rollout_fleet_api_budget_used_ratio"] == "gauge")
        await server.stop()
    }

    @Test("a fleet without budgets adds no family")
    func noBudgets() async throws {
        let server = try await TestServer.start(service: StubRolloutService())
        let response = try await server.client.get("/metrics")
        #expect(!response.text.contains("rollout_fleet_api_"))
        await server.stop()
    }

    @Test("the detail says the rollout waits for a job slot, with the fleet's answer and what to run")
    func jobSlotWait() async throws {
        let rollout = try StubRolloutService.hostileRollout()
        let stub = StubRolloutService(rollouts: [rollout])
        let next = Date(timeIntervalSince1970: 1_800_000_600)
        await stub.setRetrying([
            EffectRetry(key: "create-job:wave-1", attempts: 14, nextAttemptAt: next,
                        lastError: "waiting for a job slot: job x-wave-1: LimitExceededException: too many; "
                            + "`aws iot list-jobs --status IN_PROGRESS`",
                        waitingFor: "a job slot"),
            EffectRetry(key: "notify:stage-started:wave-1", attempts: 1, nextAttemptAt: next, lastError: "webhook answered 503",
                        waitingFor: nil),
        ])
        let server = try await TestServer.start(service: stub)
        let response = try await server.client.checked("GET", "/v1/rollouts/\(rollout.id)",
                                                       documentedAs: "/v1/rollouts/{id}",
                                                       checker: try RepositoryFiles.openAPIChecker())
        let detail = try response.jsonValue()
        #expect(detail["waitingFor"]?.string == "a job slot (approval of <b>canary</b>)")
        #expect(detail["message"]?.string?.hasPrefix("waiting for a job slot: job x-wave-1: LimitExceededException") == true)
        let retrying = try #require(detail["retrying"]?.array)
        #expect(retrying.count == 2)
        #expect(retrying[0]["key"]?.string == "create-job:wave-1" && retrying[0]["attempts"] == .integer(14))
        #expect(retrying[0]["waitingFor"]?.string == "a job slot")
        #expect(retrying[1]["waitingFor"]?.isNull == true)
        await server.stop()
    }
}
