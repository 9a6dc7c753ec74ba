/// A hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per process).
///
/// FNV-1a over the bytes, finished with the splitmix64 mixer so that near-identical ids spread evenly.
package enum StableHash {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    package static func hash(_ first: String, _ second: String) -> UInt64 {
        var second = second
        return second.withUTF8 { hash(seed(first), $0) }
    }

    /// The FNV state after `first` and the separator: hashing many ids against one first text reads its bytes once.
    package struct Seed: Sendable {
        let state: UInt64
    }

    /// The state `hash(first, …)` starts from; reading a native string's bytes directly avoids `String.utf8`'s
    /// per-byte iteration, which was most of ranking a million devices.
    package static func seed(_ first: String) -> Seed {
        var first = first
        let state = first.withUTF8 { fold(offsetBasis, $0) }
        return Seed(state: (state ^ 0xff) &* prime)  // separator: ("ab","c") ≠ ("a","bc")
    }

    /// `hash(first, second)` for the `first` of `seed` and the UTF-8 bytes of `second`.
    @inline(__always)
    package static func hash(_ seed: Seed, _ second: UnsafeBufferPointer<UInt8>) -> UInt64 {
        mix(fold(seed.state, second))
    }

    @inline(__always)
    static func fold(_ state: UInt64, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var state = state
        for byte in bytes {
            state = (state ^ UInt64(byte)) &* prime
        }
        return state
    }

    /// splitmix64's finaliser.
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
