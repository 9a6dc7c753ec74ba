/// A hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per process).
///
/// FNV-1a over the bytes, finished with the splitmix64 mixer so that near-identical ids spread evenly.
package enum StableHash {
    package static func hash(_ first: String, _ second: String) -> UInt64 {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in first.utf8 {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        state = (state ^ 0xff) &* 0x0000_0100_0000_01b3  // separator: ("ab","c") ≠ ("a","bc")
        for byte in second.utf8 {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return mix(state)
    }

    /// splitmix64's finaliser.
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
