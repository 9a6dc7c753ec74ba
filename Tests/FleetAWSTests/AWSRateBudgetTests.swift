import Engine
import Foundation
@testable import HTTPTransport
import RolloutCore
import Testing

@testable import FleetAWS

/// Budgets shared per account and region, the quotas they start from, and `AWSClient` drawing on them. Time and the
/// waits are injected: nothing here sleeps.
@Suite("AWS rate budgets: one per account and region, AWS's quotas, --aws-quota")
struct AWSRateBudgetTests {
    /// A clock the test moves by hand.
    final class ManualClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_800_000_000)

        var now: @Sendable () -> Date { { [self] in lock.withLock { current } } }

        func advance(_ seconds: Double) {
            lock.withLock { current = current.addingTimeInterval(seconds) }
        }
    }

    @Test("S3 calls share one bucket, IoT calls one per API, IAM and STS are counted but not metered")
    func metering() {
        let quotas = AWSQuotas.defaults
        #expect(quotas.meteredAPI(operation: "PutObject", service: "s3") == "S3")
        #expect(quotas.meteredAPI(operation: "HeadObject", service: "s3") == "S3")
        #expect(quotas.meteredAPI(operation: "CreateJob", service: "iot") == "CreateJob")
        #expect(quotas.meteredAPI(operation: "SimulatePrincipalPolicy", service: "iam") == nil)
        #expect(quotas.meteredAPI(operation: "SomethingNew", service: "iot") == nil)
    }

    @Test("one budget per account and region: rollouts of the worker wait behind each other, other regions do not")
    func sharedPerAccountAndRegion() async throws {
        let clock = ManualClock()
        let sleeps = SleepRecorder()
        let budgets = AWSRateBudgets(quotas: try AWSQuotas.parse(["CreateJob=2"]), now: clock.now, sleep: sleeps.sleep)
        // Two "rollouts" draw on the same budget: the third CreateJob within the same instant waits half a second.
        for _ in 0..<3 {
            try await budgets.acquire(operation: "CreateJob", service: "iot", region: "eu-west-1", account: "111122223333")
        }
        #expect(sleeps.recorded == [0.5])
        // Another region and another account start full.
        try await budgets.acquire(operation: "CreateJob", service: "iot", region: "us-east-1", account: "111122223333")
        try await budgets.acquire(operation: "CreateJob", service: "iot", region: "eu-west-1", account: nil)
        #expect(sleeps.recorded == [0.5])
        #expect(budgets.budget(region: "eu-west-1", account: "111122223333") === budgets.budget(region: "eu-west-1",
                                                                                                   account: "111122223333"))
        clock.advance(10)
        let usage = budgets.usage()
        let shared = try #require(usage.first { $0.scope == "111122223333/eu-west-1" && $0.api == "CreateJob" })
        #expect(shared.calls == 3 && shared.throttled == 0 && shared.budgetWaitSeconds == 0.5 && shared.ratePerSecond == 2)
        #expect(shared.budgetUsedRatio == 0, "the bucket refilled in 10 s")
        #expect(usage.contains { $0.scope == "eu-west-1" && $0.api == "CreateJob" && $0.calls == 1 })
    }

    @Test("AWSClient takes a token per attempt and counts throttled answers under the operation's API")
    func clientDrawsOnTheBudget() async throws {
        let clock = ManualClock()
        let budgetSleeps = SleepRecorder()
        let retrySleeps = SleepRecorder()
        let budgets = AWSRateBudgets(quotas: try AWSQuotas.parse(["DescribeJob=1"]), now: clock.now,
                                     sleep: budgetSleeps.sleep)
        let throttle = ScriptedTransport.json(400, ["message": "Rate exceeded"],
                                              headers: ["x-amzn-ErrorType": "ThrottlingException:"])
        let transport = ScriptedTransport([throttle, throttle, ScriptedTransport.json(200, ["job": ["jobId": "j"]])])
        let client = AWSClient(service: "iot", region: "eu-west-1", endpoint: HTTPEndpoint(host: "iot.eu-west-1.amazonaws.com"),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s",
                                                                                      accountId: "111122223333")),
                               transport: transport,
                               retry: RetryPolicy(maxAttempts: 4, baseDelaySeconds: 0.1, maxDelaySeconds: 1,
                                                  random: SeededRandom(seed: 1), sleep: retrySleeps.sleep),
                               now: clock.now, budgets: budgets)
        let answer = try await IoTClient(client: client).describeJob("j")
        #expect(answer.job.jobId == "j")
        #expect(transport.requests.count == 3)
        // Three attempts at one instant on a budget of 1/s with a burst of 1: waits of 1 s and 2 s before sending.
        #expect(budgetSleeps.recorded == [1, 2])
        #expect(retrySleeps.recorded.count == 2, "throttling still backs off as before")
        let usage = try #require(budgets.usage().first { $0.api == "DescribeJob" })
        #expect(usage.scope == "111122223333/eu-west-1")
        #expect(usage.calls == 3 && usage.throttled == 2 && usage.budgetWaitSeconds == 3)
    }

    @Test("the fleet reports its budgets for /metrics")
    func fleetReportsUsage() async throws {
        let configuration = AWSConfiguration(region: "eu-west-1",
                                             credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "A",
                                                                                                    secretAccessKey: "s")),
                                             transport: ScriptedTransport([ScriptedTransport.json(200, ["job": ["jobId": "j"]])]))
        let fleet = AWSFleet(configuration: configuration)
        #expect(fleet.apiUsage().isEmpty, "no budget is made before a call")
        _ = try await fleet.jobProgress(jobId: "j")
        let usage = fleet.apiUsage()
        #expect(usage.first { $0.api == "DescribeJob" }?.calls == 1)
        #expect(usage.first { $0.api == "CreateJob" }?.ratePerSecond == 10, "every metered API is listed, used or not")
    }
}
