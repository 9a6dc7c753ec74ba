import Testing
@testable import RolloutCore

@Suite struct RadixSortTests {
    /// splitmix64 from a seed: repeatable pseudo-random keys.
    func keys(_ count: Int, seed: UInt64) -> [UInt64] {
        (0..<count).map { StableHash.mix(seed &+ UInt64($0)) }
    }

    @Test(arguments: [0, 1, 100, RadixSort.countMin, 50_000])
    func sortsLikeTheStandardSort(count: Int) {
        var radix = keys(count, seed: 1)
        RadixSort.sort(&radix)
        #expect(radix == keys(count, seed: 1).sorted())
        var narrow = keys(count, seed: 2).map { UInt32(truncatingIfNeeded: $0 >> 40) }  // many equal keys
        let expected = narrow.sorted()
        RadixSort.sort(&narrow)
        #expect(narrow == expected)
    }

    @Test func skipsBitsAlreadyInOrder() {
        // Keys ending with their own position, as the cohort planner packs them.
        let bits = 17
        let packed = keys(70_000, seed: 3).enumerated().map { ($0.element & ~((1 << bits) - 1)) | UInt64($0.offset) }
        var radix = packed
        RadixSort.sort(&radix, presortedLowBits: bits)
        #expect(radix == packed.sorted())
    }

    @Test func sortsFloatsLikeTheStandardSort() {
        var values = keys(20_000, seed: 4).map { Float($0 % 100_000) / 7 }
        values[3] = .infinity
        values[9] = 0
        var expected = values
        expected.sort()
        RadixSort.sort(&values)
        #expect(values == expected)
        var negative = values
        negative[5] = -1
        var negativeExpected = negative
        negativeExpected.sort()
        RadixSort.sort(&negative)
        #expect(negative == negativeExpected)
    }
}
