import Engine
@testable import FleetSim
import Foundation
import RolloutCore
import Testing

@Suite struct SimulatedExecutionTests {
    let scenario = SimulationScenario(hardware: [("A", 1)], offlinePercent: 20, checkInDelayMaxSeconds: 60,
                                      installSecondsMin: 60, installSecondsMax: 120,
                                      outcomes: [OutcomeRule(firmware: "2.1.0", failPercent: 30)])

    func model(seed: UInt64 = 3) -> (SimulatedExecution.Model, SimulatedPopulation) {
        let draw = SeededDraw(seed: seed)
        let population = SimulatedPopulation(count: 200, scenario: scenario, draw: draw)
        let document = JobDocument(version: "2.1.0", previousVersion: "2.0.3", firmwareUrl: "sim://x", checksum: "abc",
                                   size: 1, signature: nil, rolloutId: "r", stage: "wave-1")
        let request = JobRequest(rolloutId: "r", jobId: "job-1", stage: "wave-1", targets: .devices([]),
                                 document: document, settings: JobSettings())
        return (SimulatedExecution.Model(request: request, population: population, scenario: scenario, draw: draw),
                population)
    }

    /// A job keeps no per-device copy: drawing a device's execution again must give the very same one.
    @Test func drawingAgainGivesTheSameExecution() {
        let (model, population) = model()
        for device in 0..<population.count {
            let first = model.execution(device: device, position: device, online: population.online[device],
                                        hardware: population.hardware[device])
            let again = model.execution(device: device, position: device, online: population.online[device],
                                        hardware: population.hardware[device])
            #expect(first == again)
            #expect(population.online[device] || first == .never)
        }
    }

    @Test func aScriptKeepsTheDrawnStartAndSetsTheEnd() throws {
        let (model, population) = model()
        let device = try #require(population.online.firstIndex(of: true))
        let drawn = model.execution(device: device, position: 0, online: true, hardware: 0)
        let scripted = model.execution(device: device, position: 0, online: true, hardware: 0, script: .failed)
        #expect(scripted == SimulatedExecution(start: drawn.start, finish: drawn.start + 30, outcome: .failed))
        #expect(model.execution(device: device, position: 0, online: true, hardware: 0, script: .neverStarts) == .never)
        // An offline device never starts, whatever the script says.
        #expect(model.execution(device: device, position: 0, online: false, hardware: 0, script: .succeeded) == .never)
    }

    @Test func aCancelStopsWhatHadNotStartedAndWithForceWhatWasRunning() {
        let running = SimulatedExecution(start: 10, finish: 100, outcome: .succeeded)
        #expect(running.cancelled(at: 5, force: false) == .never.with(outcome: .succeeded))
        #expect(running.cancelled(at: 50, force: false) == running)
        #expect(running.cancelled(at: 50, force: true)
                == SimulatedExecution(start: 10, finish: .infinity, outcome: .succeeded))
        #expect(running.cancelled(at: 200, force: true) == running)
    }
}

private extension SimulatedExecution {
    func with(outcome: Outcome) -> SimulatedExecution {
        SimulatedExecution(start: start, finish: finish, outcome: outcome)
    }
}
