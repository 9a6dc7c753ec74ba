/// Runs a worker's coordination rounds on a thread of their own. A round's database calls block, so they stay off
/// Swift's cooperative pool; and off the engine's thread, where a renewal queued behind steps (or behind reading
/// thousands of claimed rollouts) could come after the leases' local deadline and stop every step.
actor CoordinationRounds {
    private let executor = DedicatedThreadExecutor(name: "rollout-leases")

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    func round(_ coordination: any WorkerCoordination) throws -> LeaseRound {
        try coordination.round()
    }

    /// Claims a rollout just submitted (a failure leaves it to the next round of some worker).
    func claim(_ rolloutId: String, _ coordination: any WorkerCoordination) {
        _ = try? coordination.claim(rolloutId)
    }
}
