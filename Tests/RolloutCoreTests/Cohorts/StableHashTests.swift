import Testing
@testable import RolloutCore

@Suite struct StableHashTests {
    @Test func hashOfBytesIsTheHashOfStrings() {
        for (first, second) in [("", ""), ("r", "sim-0000001"), ("é", "😀 x")] {
            var bytes = second
            #expect(bytes.withUTF8 { StableHash.hash(StableHash.seed(first), $0) } == StableHash.hash(first, second))
        }
    }

    /// Pinned: cohorts of existing rollouts never move (the value `../shared/perf/sim-floor.c` computes too).
    @Test func pinnedValue() {
        #expect(StableHash.hash("sensor-fw-2-1-0-3f842a80", "sim-0571141") == 0xb2f_7709_8ca0)
    }
}
