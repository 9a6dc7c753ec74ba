/// Sorting of plain unsigned keys in linear time (least-significant-digit radix sort, 16-bit digits), for the arrays
/// of a million keys that cohort ranking and simulated jobs sort: several times faster than the standard library's
/// comparison sort on such arrays, and linear, so ten million devices cost ten times one million.
///
/// The result is the ascending order of the keys, exactly as `sort()` gives it (equal keys are indistinguishable).
package enum RadixSort {
    /// Below this many keys the standard sort is faster than clearing and summing 65,536 counters per pass.
    static let countMin = 1 << 12
    static let digitBits = 16
    static let digitCount = 1 << digitBits

    /// Sorts `keys` ascending. `presortedLowBits`: the keys are already in ascending order of their lowest bits
    /// (keys that end with their own position do), so digits made only of those bits need no pass.
    package static func sort<Key: FixedWidthInteger & UnsignedInteger>(_ keys: inout [Key], presortedLowBits: Int = 0) {
        precondition(presortedLowBits >= 0 && presortedLowBits <= Key.bitWidth, "presorted bits within the key")
        guard keys.count >= countMin else {
            keys.sort()
            return
        }
        keys.withUnsafeMutableBufferPointer { sort($0, presortedLowBits: presortedLowBits) }
    }

    /// Sorts `values` ascending. Non-negative floats (infinity included) order as their bit patterns do; an array
    /// holding a negative value, a negative zero or NaN is sorted by the standard sort instead.
    package static func sort(_ values: inout [Float]) {
        guard values.count >= countMin, values.allSatisfy({ $0.sign == .plus && !$0.isNaN }) else {
            values.sort()
            return
        }
        values.withUnsafeMutableBufferPointer { floats in
            floats.withMemoryRebound(to: UInt32.self) { sort($0, presortedLowBits: 0) }
        }
    }

    private static func sort<Key: FixedWidthInteger & UnsignedInteger>(_ keys: UnsafeMutableBufferPointer<Key>,
                                                                        presortedLowBits: Int) {
        precondition(keys.count <= Int(UInt32.max), "at most 2^32 keys")
        let passes = Key.bitWidth / digitBits
        let firstPass = presortedLowBits / digitBits
        guard firstPass < passes else { return }
        // Every pass's digit counts in one read of the keys.
        let counts = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: passes * digitCount)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        for key in keys {
            for pass in firstPass..<passes {
                counts[pass * digitCount + Int(truncatingIfNeeded: key >> (pass * digitBits)) & (digitCount - 1)] &+= 1
            }
        }
        let scratch = UnsafeMutableBufferPointer<Key>.allocate(capacity: keys.count)
        defer { scratch.deallocate() }
        var (from, to) = (keys, scratch)
        for pass in firstPass..<passes {
            let offsets = UnsafeMutableBufferPointer(rebasing: counts[(pass * digitCount)..<((pass + 1) * digitCount)])
            // A digit every key shares orders nothing: skip the pass.
            if offsets.contains(where: { Int($0) == keys.count }) { continue }
            var sum: UInt32 = 0
            for digit in 0..<digitCount {
                let count = offsets[digit]
                offsets[digit] = sum
                sum &+= count
            }
            let shift = pass * digitBits
            for key in from {
                let digit = Int(truncatingIfNeeded: key >> shift) & (digitCount - 1)
                to[Int(offsets[digit])] = key
                offsets[digit] &+= 1
            }
            swap(&from, &to)
        }
        if from.baseAddress != keys.baseAddress {
            _ = keys.update(fromContentsOf: from)
        }
    }
}
