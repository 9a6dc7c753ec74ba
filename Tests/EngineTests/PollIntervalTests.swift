import Foundation
import RolloutCore
import Testing
@testable import Engine

@Suite struct PollIntervalTests {
    @Test func pollsSlowerOnceEveryExecutionHasAnOutcome() {
        let configuration = EngineConfiguration(pollIntervalSeconds: 30, settledPollFactor: 4)
        var state = RolloutState(rolloutId: "r", stageNames: ["canary"], createdAt: Date(timeIntervalSince1970: 0))
        state.phase = .baking
        state.stages[0].progress = JobProgress(queued: 3, inProgress: 2, succeeded: 5)
        #expect(RolloutEngine.calculatePollInterval(state, configuration: configuration) == 30)
        state.stages[0].progress = JobProgress(succeeded: 9, failed: 1)
        #expect(RolloutEngine.calculatePollInterval(state, configuration: configuration) == 120)
        state.stages[0].progress = .zero
        #expect(RolloutEngine.calculatePollInterval(state, configuration: configuration) == 30, "nothing seen yet")
    }
}
