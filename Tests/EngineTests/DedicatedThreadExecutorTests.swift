import FleetSim
import Foundation
import Testing
@testable import Engine

@Suite struct DedicatedThreadExecutorTests {
    /// An actor on a dedicated thread that records what ran, in order, and where.
    actor Probe {
        let executor = DedicatedThreadExecutor(name: "probe-thread")
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        var order: [Int] = []

        func record(_ value: Int) -> String? {
            order.append(value)
            return Thread.current.name
        }
    }

    @Test func runsEveryJobInOrderOnItsOwnThread() async {
        let probe = Probe()
        var threads = Set<String?>()
        for value in 0..<200 { threads.insert(await probe.record(value)) }
        #expect(threads == ["probe-thread"])
        #expect(await probe.order == Array(0..<200))
    }

    @Test func serialisesJobsEnqueuedFromManyTasks() async {
        let probe = Probe()
        await withTaskGroup(of: Void.self) { group in
            for value in 0..<100 { group.addTask { _ = await probe.record(value) } }
        }
        #expect(await probe.order.sorted() == Array(0..<100))
    }

    /// The engine's store calls (an fsync per commit) block its own thread, never the cooperative pool.
    @Test func theEngineAndItsDriverRunOnTheEnginesThread() async throws {
        let world = try SimulatedWorld(devices: 20, seed: 1, scenario: SimulationScenario())
        defer { world.remove() }
        let engine = try world.makeEngine()
        let driver = RolloutDriver(engine: engine, clock: world.clock, logger: silentLogger)
        #expect(await engine.threadName() == "rollout-engine")
        #expect(await driver.threadName() == "rollout-engine")
    }
}

extension RolloutEngine {
    /// The name of the thread the engine's jobs run on.
    func threadName() -> String? { Thread.current.name }
}

extension RolloutDriver {
    /// The name of the thread the driver's jobs run on.
    func threadName() -> String? { Thread.current.name }
}
