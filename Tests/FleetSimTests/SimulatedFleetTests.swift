import Engine
import FleetSim
import Foundation
import RolloutCore
import Testing

@Suite struct SimulatedFleetTests {
    let start = PlanParser.parseTimestamp("2026-03-02T00:00:00Z")!

    func request(_ jobId: String, devices: DeviceIdList, version: String = "2.1.0", settings: JobSettings = JobSettings()) -> JobRequest {
        let document = JobDocument(version: version, previousVersion: "2.0.3", firmwareUrl: "sim://x", checksum: "abc",
                                   size: 1, signature: nil, rolloutId: "r", stage: jobId)
        return JobRequest(rolloutId: "r", jobId: jobId, stage: jobId, targets: .devices(devices), document: document,
                          settings: settings)
    }

    @Test func populationIsDeterministicAndCompact() {
        let scenario = SimulationScenario(hardware: [("A", 1), ("B", 3)], offlinePercent: 10)
        let first = SimulatedPopulation(count: 10_000, scenario: scenario, draw: SeededDraw(seed: 5))
        let again = SimulatedPopulation(count: 10_000, scenario: scenario, draw: SeededDraw(seed: 5))
        let other = SimulatedPopulation(count: 10_000, scenario: scenario, draw: SeededDraw(seed: 6))
        #expect(first.hardware == again.hardware && first.online == again.online)
        #expect(first.hardware != other.hardware)
        let revisionB = first.hardware.filter { $0 == 1 }.count
        #expect((7000...8000).contains(revisionB), "weights 1:3 give about 75% B, got \(revisionB)")
        let offline = first.online.filter { !$0 }.count
        #expect((800...1200).contains(offline))
        #expect(SimulatedPopulation.deviceId(42) == "sim-0000042")
        #expect(first.index(of: "sim-0000042") == 42)
        #expect(first.index(of: "sim-9999999") == nil)
        #expect(first.index(of: "thing-1") == nil)
    }

    @Test func jobsProgressOverVirtualTimeAndHonourOutcomes() async throws {
        let clock = VirtualClock(start: start)
        let scenario = SimulationScenario(
            hardware: [("A", 1)], checkInDelayMaxSeconds: 60, installSecondsMin: 60, installSecondsMax: 120,
            outcomes: [OutcomeRule(firmware: "2.1.0", failPercent: 20, rejectPercent: 10)]
        ).fillingInstantly()
        let fleet = SimulatedFleet(devices: 2000, seed: 1, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("job-1", devices: devices))
        let atStart = try await fleet.jobProgress(jobId: "job-1")
        #expect(atStart.queued + atStart.inProgress == 2000)
        clock.advance(to: start.addingTimeInterval(3600))
        let done = try await fleet.jobProgress(jobId: "job-1")
        #expect(done.jobDone)
        #expect(done.executed == 2000)
        #expect((300...500).contains(done.failed), "about 20% fail: \(done.failed)")
        #expect((140...260).contains(done.rejected), "about 10% reject: \(done.rejected)")
        let failedDevices = try await fleet.devices(jobId: "job-1", statuses: [.failed])
        #expect(failedDevices.count == done.failed)
    }

    @Test func createIsIdempotentAndConflictsAreDetected() async throws {
        let clock = VirtualClock(start: start)
        let fleet = SimulatedFleet(devices: 100, seed: 1, scenario: SimulationScenario(), clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds.ids(in: 0..<10)
        try await fleet.createJob(request("job-1", devices: devices))
        try await fleet.createJob(request("job-1", devices: devices))
        #expect(fleet.jobsCreated == ["job-1"])
        await #expect(throws: FleetError.self) {
            try await fleet.createJob(self.request("job-1", devices: DeviceIdList(devices.prefix(5))))
        }
    }

    @Test func cancelStopsQueuedExecutions() async throws {
        let clock = VirtualClock(start: start)
        let scenario = SimulationScenario(checkInDelayMaxSeconds: 3600, installSecondsMin: 60, installSecondsMax: 60)
            .fillingInstantly()
        let fleet = SimulatedFleet(devices: 1000, seed: 2, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("job-1", devices: devices))
        clock.advance(to: start.addingTimeInterval(900))
        try await fleet.cancelJob(jobId: "job-1", reason: "test", force: false)
        clock.advance(to: start.addingTimeInterval(7200))
        let progress = try await fleet.jobProgress(jobId: "job-1")
        #expect(progress.canceled > 600 && progress.canceled < 850, "about three quarters had not started")
        #expect(progress.succeeded + progress.canceled == 1000)
        #expect(progress.jobDone)
    }

    @Test func selectorAndExclusionsShapeTheInventory() async throws {
        let fleet = SimulatedFleet(devices: 1000, seed: 3, scenario: SimulationScenario(), clock: VirtualClock(start: start))
        let onlyB = try await fleet.inventory(FleetSelection(selector: ["hardwareRevision": ["B"]], exclude: []))
        #expect(onlyB.deviceIds.allSatisfy { fleet.population.hardware[fleet.population.index(of: $0)!] == 1 })
        let all = try await fleet.inventory(FleetSelection(exclude: ["sim-0000001", "sim-0000002"]))
        #expect(all.deviceIds.count == 998)
        await #expect(throws: FleetError.self) {
            _ = try await fleet.inventory(FleetSelection(selector: ["region": ["eu"]]))
        }
    }

    @Test func healthDocumentShowsALateCrashRate() async throws {
        let clock = VirtualClock(start: start)
        let scenario = SimulationScenario(hardware: [("A", 1)], checkInDelayMaxSeconds: 1, installSecondsMin: 60,
                                          installSecondsMax: 60,
                                          health: HealthModel(baselineCrashRate: 0.001, crashRates: [
                                              CrashRateRule(firmware: "2.1.0", crashRate: 0.05, afterUpdateSeconds: 3 * 3600),
                                          ]))
        let fleet = SimulatedFleet(devices: 100, seed: 4, scenario: scenario, clock: clock)
        let devices = try await fleet.inventory(FleetSelection()).deviceIds
        try await fleet.createJob(request("r-canary", devices: devices))
        let source = SimulatedMetricSource(fleet: fleet, clock: clock)
        let gate = MetricGate(name: "crash-rate", url: "sim://health", pointer: "/release/crashRate", max: 0.01)
        clock.advance(to: start.addingTimeInterval(3600))
        #expect(await source.read(gate, values: .init(stage: "canary", rolloutId: "r", version: "2.1.0")).value == 0.001)
        clock.advance(to: start.addingTimeInterval(5 * 3600))
        #expect(await source.read(gate, values: .init(stage: "canary", rolloutId: "r", version: "2.1.0")).value == 0.05)
        let missing = MetricGate(name: "x", url: "sim://health", pointer: "/nope", max: 1)
        #expect(await source.read(missing, values: .init(stage: "canary", rolloutId: "r", version: "2.1.0")).error != nil)
    }

    @Test("a gate rehearsed per hardware model: no series before a model runs the release, several need reduce")
    func perHardwareSeries() async throws {
        let clock = VirtualClock(start: start)
        var health = HealthModel(baselineCrashRate: 0.001, crashRates: [
            CrashRateRule(firmware: "2.1.0", hardware: "B", crashRate: 0.04, afterUpdateSeconds: 0),
        ], gateValues: ["crash-rate": "/release/crashRate"])
        health.gatesPerHardware = ["crash-rate"]
        let scenario = SimulationScenario(hardware: [("A", 1), ("B", 1)], checkInDelayMaxSeconds: 1, installSecondsMin: 60,
                                          installSecondsMax: 60, health: health)
        let fleet = SimulatedFleet(devices: 100, seed: 4, scenario: scenario, clock: clock)
        let source = SimulatedMetricSource(fleet: fleet, clock: clock)
        var gate = MetricGate(name: "crash-rate", url: "sim://prometheus", pointer: "", max: 0.01)
        gate.provider = .prometheus
        gate.query = "max by (hardware) (crash_ratio)"
        let values = MetricQueryTemplate.Values(stage: "canary", rolloutId: "r", version: "2.1.0")

        let before = await source.read(gate, values: values)
        #expect(before.noData == true && before.error == "no data: no series (no hardware model has /release/crashRate)")
        #expect(before.input == "max by (hardware) (crash_ratio) (rehearsed as /release/crashRate per hardware model)")

        try await fleet.createJob(request("r-canary", devices: try await fleet.inventory(FleetSelection()).deviceIds))
        clock.advance(to: start.addingTimeInterval(3600))
        let unreduced = await source.read(gate, values: values)
        #expect(unreduced.error == "the query returned 2 series ({hardware=\"A\"}, {hardware=\"B\"}); "
                + "set `reduce` (max, min, avg, sum)", "\(unreduced)")
        gate.reduce = .max
        #expect(await source.read(gate, values: values).value == 0.04)
        gate.reduce = .min
        #expect(await source.read(gate, values: values).value == 0.001)
    }

    @Test func journalRebuildsTheFleetInANewProcess() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = VirtualClock(start: start)
        let first = SimulatedFleet(devices: 500, seed: 9, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        try first.attachJournal(path: path)
        let devices = try await first.inventory(FleetSelection()).deviceIds
        try await first.createJob(request("job-1", devices: devices))
        clock.advance(to: start.addingTimeInterval(600))
        try await first.cancelJob(jobId: "job-1", reason: "test", force: false)
        clock.advance(to: start.addingTimeInterval(7200))
        let expected = try await first.jobProgress(jobId: "job-1")

        let second = SimulatedFleet(devices: 500, seed: 9, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        try second.attachJournal(path: path)
        #expect(try await second.jobProgress(jobId: "job-1") == expected)
        try await second.createJob(request("job-1", devices: devices))
        #expect(second.jobsCreated.isEmpty, "the job is adopted, not created again")
        #expect(SimulatedFleet.journalHeader(path: path)?.seed == 9)

        let wrongSeed = SimulatedFleet(devices: 500, seed: 10, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        #expect(throws: SimulatedFleet.JournalError.self) { try wrongSeed.attachJournal(path: path) }
    }

    /// A process killed while appending leaves a line cut short: the next process drops it before appending, so the
    /// entries it writes are not glued to the broken line and lost with it at the following restart.
    @Test func aLineCutShortByAKillIsDroppedBeforeTheNextAppend() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = VirtualClock(start: start)
        let first = SimulatedFleet(devices: 100, seed: 2, scenario: SimulationScenario(), clock: clock)
        try first.attachJournal(path: path)
        let devices = try await first.inventory(FleetSelection()).deviceIds
        try await first.createJob(request("job-1", devices: devices))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"operation\":\"create\",\"jobId\":\"job-".utf8))  // killed mid-write
        try handle.close()

        let second = SimulatedFleet(devices: 100, seed: 2, scenario: SimulationScenario(), clock: clock)
        try second.attachJournal(path: path)
        try await second.createJob(request("job-2", devices: devices))
        let third = SimulatedFleet(devices: 100, seed: 2, scenario: SimulationScenario(), clock: clock)
        try third.attachJournal(path: path)
        #expect(try await third.jobProgress(jobId: "job-1").total == devices.count)
        #expect(try await third.jobProgress(jobId: "job-2").total == devices.count, "job-2 survived the broken line")
    }

    /// A job adopted after a restart is not journalled again, so a later restart rebuilds it as first created
    /// (a second entry with a later instant would make its progress go backwards).
    @Test func anAdoptedJobIsJournalledOnceAndRestoredAsFirstCreated() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = VirtualClock(start: start)
        let first = SimulatedFleet(devices: 200, seed: 4, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        try first.attachJournal(path: path)
        let devices = try await first.inventory(FleetSelection()).deviceIds
        try await first.createJob(request("job-1", devices: devices))
        clock.advance(to: start.addingTimeInterval(900))
        let progress = try await first.jobProgress(jobId: "job-1")
        #expect(progress.executed > 0)

        let second = SimulatedFleet(devices: 200, seed: 4, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        try second.attachJournal(path: path)
        try await second.createJob(request("job-1", devices: devices))  // the engine re-performs the effect
        let journal = try String(contentsOfFile: path, encoding: .utf8)
        #expect(journal.components(separatedBy: "\"operation\":\"create\"").count == 2, "one creation: \(journal)")

        let third = SimulatedFleet(devices: 200, seed: 4, scenario: SimulationScenario().fillingInstantly(), clock: clock)
        try third.attachJournal(path: path)
        #expect(try await third.jobProgress(jobId: "job-1") == progress, "progress never goes backwards")
    }

    /// The rollback set is the same whether the cancel was forced or not: a device stopped mid-install by a forced
    /// cancel may hold a half-written image.
    @Test func theRollbackSetIsTheSameWithAndWithoutAForcedCancel() async throws {
        var sets: [[String]] = []
        for force in [false, true] {
            let clock = VirtualClock(start: start)
            let scenario = SimulationScenario(installSecondsMin: 600, installSecondsMax: 1200).fillingInstantly()
            let fleet = SimulatedFleet(devices: 300, seed: 12, scenario: scenario, clock: clock)
            let devices = try await fleet.inventory(FleetSelection()).deviceIds
            try await fleet.createJob(request("job-1", devices: devices))
            clock.advance(to: start.addingTimeInterval(700))
            try await fleet.cancelJob(jobId: "job-1", reason: "gate", force: force)
            let progress = try await fleet.jobProgress(jobId: "job-1")
            #expect(force ? progress.inProgress == 0 : progress.inProgress > 0)
            sets.append(try await fleet.devicesThatMayHoldFirmware(jobId: "job-1"))
        }
        #expect(!sets[0].isEmpty)
        #expect(sets[0] == sets[1])
    }
}

extension SimulationScenario {
    /// Temporary groups filled at once (a quota no account has): for tests of what a job does, not of how long AWS
    /// takes to fill its group (`SimulatedFleetLimitsTests`).
    func fillingInstantly() -> SimulationScenario {
        var scenario = self
        scenario.quotas.ratesPerSecond["AddThingToThingGroup"] = 100_000
        return scenario
    }
}
