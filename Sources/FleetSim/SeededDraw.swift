import RolloutCore

/// Every random choice of the simulation, derived from the seed and the identity of what is drawn
/// (device, job, purpose), never from call order: the same seed gives the same fleet and the same outcomes,
/// even when a crash makes the engine repeat calls.
package struct SeededDraw: Sendable {
    package let seed: UInt64

    package init(seed: UInt64) {
        self.seed = seed
    }

    /// A uniform value in [0, 1) for (`purpose`, `item`).
    @inline(__always)
    package func unit(_ purpose: UInt64, _ item: UInt64) -> Double {
        unit(purpose, mixedItem: StableHash.mix(item))
    }

    /// `unit(purpose, item)` for `mixedItem == StableHash.mix(item)`: several draws of one item mix it once.
    @inline(__always)
    package func unit(_ purpose: UInt64, mixedItem: UInt64) -> Double {
        let mixed = StableHash.mix(seed ^ StableHash.mix(purpose ^ mixedItem))
        return Double(mixed >> 11) * 0x1.0p-53
    }

    /// A purpose code for a text (job id, group name).
    package static func purpose(_ text: String) -> UInt64 {
        StableHash.hash("sim", text)
    }

    /// A fresh seed for people who did not pass one (the CLI prints it, so the run can be repeated).
    package static func freshSeed() -> UInt64 {
        UInt64.random(in: 1...UInt64(UInt32.max))
    }
}
