import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

/// The AWS limits the rehearsal meets as the real run would: the temporary group a stage of more than 100 devices
/// fills first, the account's concurrent jobs, the request quotas per API and the rollout rate. Each is a wait
/// (`FleetError.capacity`) with the instant it can go on, never a failure. Virtual clock only.
@Suite struct SimulatedFleetLimitsTests {
    let start = PlanParser.parseTimestamp("2026-03-02T00:00:00Z")!

    func request(_ jobId: String, targets: JobTargets, settings: JobSettings = JobSettings()) -> JobRequest {
        let document = JobDocument(version: "2.1.0", previousVersion: "2.0.3", firmwareUrl: "sim://x", checksum: "abc",
                                   size: 1, signature: nil, rolloutId: "r", stage: jobId)
        return JobRequest(rolloutId: "r", jobId: jobId, stage: jobId, targets: targets, document: document,
                          settings: settings)
    }

    /// The wait `body` throws, or nil if it went through.
    func capacityWait(_ body: () async throws -> Void) async throws -> FleetCapacityWait? {
        do {
            try await body()
            return nil
        } catch FleetError.capacity(let wait) {
            return wait
        }
    }

    @Test("a job of more than 100 devices is created once its temporary group would be filled at the quota's rate")
    func temporaryGroupFillTakesTheQuotasTime() async throws {
        let clock = VirtualClock(start: start)
        let fleet = SimulatedFleet(devices: 1000, seed: 1, scenario: SimulationScenario(), clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        let job = request("wave", targets: .devices(devices))
        // 100 AddThingToThingGroup per second, one second of burst: 1,000 devices take 9 s.
        let first = try #require(try await capacityWait { try await fleet.createJob(job) })
        #expect(first.resource == .temporaryGroupFill(group: "rollout-wave", added: 100, total: 1000))
        #expect(first.retryAfterSeconds == 9)
        #expect(first.description.contains("rollout rings sync"), "names the way out: \(first)")

        clock.advance(to: start.addingTimeInterval(5))
        let later = try #require(try await capacityWait { try await fleet.createJob(job) })
        #expect(later.resource == .temporaryGroupFill(group: "rollout-wave", added: 600, total: 1000))
        #expect(later.retryAfterSeconds == 4)
        #expect(fleet.jobsCreated.isEmpty)

        clock.advance(to: start.addingTimeInterval(9))
        try await fleet.createJob(job)
        #expect(fleet.jobsCreated == ["wave"])
        try await fleet.createJob(job)  // adopted: no second fill, no wait
    }

    @Test("100 devices, ring groups and a raised quota create the job at once")
    func noFillWithoutATemporaryGroup() async throws {
        let clock = VirtualClock(start: start)
        var scenario = SimulationScenario()
        scenario.rings = 10
        let fleet = SimulatedFleet(devices: 1000, seed: 1, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("small", targets: .devices(devices.ids(in: 0..<100))))
        let rings = (0..<5).map { RingLayout.groupName(fleetGroup: "fleet", index: $0, count: 10) }
        try await fleet.createJob(request("rings", targets: .groups(rings)))
        #expect(fleet.jobsCreated == ["small", "rings"])

        var raised = SimulationScenario()
        try raised.quotas.apply(name: "AddThingToThingGroup", value: 1000)
        let fast = SimulatedFleet(devices: 1000, seed: 1, scenario: raised, clock: clock)
        try await fast.createJob(request("wave", targets: .devices(devices)))
        #expect(fast.jobsCreated == ["wave"], "1,000 devices are one second's burst at 1,000 per second")
    }

    @Test("beyond the account's concurrent jobs CreateJob waits for the first job to finish notifying or be cancelled")
    func concurrentJobsWaitForASlot() async throws {
        let clock = VirtualClock(start: start)
        var scenario = SimulationScenario()
        try scenario.quotas.apply(name: "ConcurrentJobs", value: 2)
        let fleet = SimulatedFleet(devices: 1000, seed: 1, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        // 100 devices at 10 per minute: each job holds its slot for 10 minutes.
        var slow = JobSettings()
        slow.maxPerMinute = 10
        try await fleet.createJob(request("a", targets: .devices(devices.ids(in: 0..<100)), settings: slow))
        clock.advance(to: start.addingTimeInterval(60))
        try await fleet.createJob(request("b", targets: .devices(devices.ids(in: 100..<200)), settings: slow))
        let third = request("c", targets: .devices(devices.ids(in: 200..<300)))
        let wait = try #require(try await capacityWait { try await fleet.createJob(third) })
        #expect(wait.resource == .jobSlot)
        #expect(wait.retryAfterSeconds == 540, "job a notifies its last device 10 minutes after its creation")
        #expect(wait.detail.contains("LimitExceededException"))

        try await fleet.cancelJob(jobId: "a", reason: "test", force: false)
        try await fleet.createJob(third)
        #expect(fleet.jobsCreated == ["a", "b", "c"])
    }

    @Test("calls over an API's quota wait until its bucket holds a call again; other APIs are not held up")
    func requestQuotasAreABudgetPerAPI() async throws {
        let clock = VirtualClock(start: start)
        var scenario = SimulationScenario()
        try scenario.quotas.apply(name: "DescribeJob", value: 2)
        let fleet = SimulatedFleet(devices: 100, seed: 1, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("a", targets: .devices(devices)))
        _ = try await fleet.jobProgress(jobId: "a")
        _ = try await fleet.jobProgress(jobId: "a")
        let wait = try #require(try await capacityWait { _ = try await fleet.jobProgress(jobId: "a") })
        #expect(wait.resource == .quota("DescribeJob"))
        #expect(wait.retryAfterSeconds == 0.5)
        #expect(fleet.callsOverBudget == 1)
        _ = try await fleet.devices(jobId: "a", statuses: [.queued])  // ListJobExecutionsForJob has its own bucket
        clock.advance(to: start.addingTimeInterval(0.5))
        _ = try await fleet.jobProgress(jobId: "a")
        #expect(fleet.callsOverBudget == 1)
    }

    @Test("without maxPerMinute AWS notifies at most 1,000 devices a minute; with it, at most that")
    func rolloutRateHasAWSsCeiling() async throws {
        let clock = VirtualClock(start: start)
        var scenario = SimulationScenario(checkInDelayMaxSeconds: 1, installSecondsMin: 600, installSecondsMax: 600)
        try scenario.quotas.apply(name: "AddThingToThingGroup", value: 100_000)
        let fleet = SimulatedFleet(devices: 3000, seed: 1, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("wave", targets: .devices(devices)))
        clock.advance(to: start.addingTimeInterval(61))
        let afterAMinute = try await fleet.jobProgress(jobId: "wave")
        #expect((1000...1020).contains(afterAMinute.inProgress), "\(afterAMinute)")
        clock.advance(to: start.addingTimeInterval(181))
        let afterThree = try await fleet.jobProgress(jobId: "wave")
        #expect(afterThree.inProgress == 3000)
    }
}
