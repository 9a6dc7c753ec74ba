import FleetSim
import Foundation
import RolloutCore
import Testing

@Suite struct SimulationScenarioTests {
    var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    @Test func parsesTheExampleScenarios() throws {
        let broken = try SimulationScenario.parseFile(atPath: "\(repositoryRoot)/workflows/scenarios/rev-b-fails.yaml")
        #expect(broken.devices == 5000)
        #expect(broken.hardware.map(\.name) == ["A", "B", "C"])
        #expect(broken.outcomes == [OutcomeRule(firmware: "2.1.0", hardware: "B", failPercent: 30)])
        #expect(broken.throttlePercent == 1)
        let leak = try SimulationScenario.parseFile(atPath: "\(repositoryRoot)/workflows/scenarios/slow-leak.yaml")
        #expect(leak.health.crashRates.first?.afterUpdateSeconds == 3 * 3600)
    }

    @Test func emptyScenarioIsAHealthyDefaultFleet() throws {
        #expect(try SimulationScenario.parse("", file: "s.yaml") == SimulationScenario())
    }

    @Test func errorsNameFileLineAndField() {
        do {
            _ = try SimulationScenario.parse("devices: 5\noutcomes:\n  - {firmware: 2.1.0, failPercent: 130}\napi: {throttle: 5}\n",
                                             file: "s.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.issues.map(\.field) == ["outcomes[0].failPercent", "api.throttle"])
            #expect(error.issues[0].line == 3)
            #expect(error.description.contains("s.yaml:3:"))
        }
    }

    @Test func impossibleValuesAreRefused() {
        #expect(throws: PlanError.self) { try SimulationScenario.parse("devices: 0", file: "s.yaml") }
        #expect(throws: PlanError.self) { try SimulationScenario.parse("devices: 20000000", file: "s.yaml") }
        #expect(throws: PlanError.self) { try SimulationScenario.parse("install: {min: 10m, max: 1m}", file: "s.yaml") }
        #expect(throws: PlanError.self) { try SimulationScenario.parse("hardware: {A: 0}", file: "s.yaml") }
    }

    @Test("api.quotas takes --aws-quota's names and units; a wrong one is named with its line")
    func quotasAreParsedByName() throws {
        let scenario = try SimulationScenario.parse("api:\n  quotas: {CreateJob: 5, ConcurrentJobs: 20}\n", file: "s.yaml")
        #expect(scenario.quotas.ratesPerSecond["CreateJob"] == 5)
        #expect(scenario.quotas.concurrentJobsMax == 20)
        #expect(scenario.quotas.ratesPerSecond["DescribeJob"] == AWSQuotas.defaults.ratesPerSecond["DescribeJob"])
        #expect(SimulationScenario().quotas == AWSQuotas.defaults, "AWS's published defaults unless told otherwise")
        do {
            _ = try SimulationScenario.parse("api:\n  quotas:\n    Teleport: 5\n    ConcurrentJobs: 1.5\n", file: "s.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.issues.map(\.field) == ["api.quotas.Teleport", "api.quotas.ConcurrentJobs"])
            #expect(error.issues.map(\.line) == [3, 4])
            #expect(error.description.contains("unknown name `Teleport`; one of CreateJob"))
            #expect(error.description.contains("whole number of jobs"))
        }
    }

    @Test("health.gates takes a pointer, or a pointer read per hardware model; anything else names its field")
    func healthGatesPerHardware() throws {
        let scenario = try SimulationScenario.parse("""
            health:
              gates:
                crash-rate: {pointer: /release/crashRate, series: hardware}
                offline: /fleet/offlinePercent
            """, file: "s.yaml")
        #expect(scenario.health.gateValues == ["crash-rate": "/release/crashRate", "offline": "/fleet/offlinePercent"])
        #expect(scenario.health.gatesPerHardware == ["crash-rate"])
        do {
            _ = try SimulationScenario.parse("health:\n  gates:\n    a: {pointer: /x, series: region}\n    b: {series: hardware}\n",
                                             file: "s.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.issues.map(\.field) == ["health.gates.a.series", "health.gates.b.pointer"])
            #expect(error.description.contains("expected hardware (one series per hardware model), not `region`"))
        }
    }

    @Test func scriptedOutcomesAreParsedAndCheckedByField() throws {
        let scenario = try SimulationScenario.parse("scripted:\n  - {stage: wave-2, first: 2, outcome: failed}\n",
                                                    file: "s.yaml")
        #expect(scenario.scripted == [ScriptedOutcome(stage: "wave-2", first: 2, outcome: .failed)])
        do {
            _ = try SimulationScenario.parse("scripted:\n  - {stage: wave-2, first: 2, outcome: exploded}\n  - {stage: x}\n",
                                             file: "s.yaml")
            Issue.record("a bad script was accepted")
        } catch {
            #expect(error.issues.map(\.field) == ["scripted[0].outcome", "scripted[1]"])
            #expect(error.issues.first?.message.contains("succeeded, failed, timedOut, rejected, neverStarts") == true)
        }
    }
}
