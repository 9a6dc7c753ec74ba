import Testing
@testable import Engine

@Suite struct LatchTests {
    @Test func waitersBeforeTheOpeningResumeAndLaterOnesPassAtOnce() async {
        let latch = Latch()
        #expect(!latch.isOpen)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { await latch.wait() } }
            latch.open()
        }
        #expect(latch.isOpen)
        await latch.wait()
    }
}
