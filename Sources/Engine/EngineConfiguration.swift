import Foundation
import RolloutCore

/// Bounds and cadences of the engine.
package struct EngineConfiguration: Sendable {
    /// How often a running job's progress and metrics are read (virtual seconds in simulation).
    package var pollIntervalSeconds: Double
    /// Slower polling once a stage's executions all have an outcome (only the bake and metrics remain).
    package var settledPollFactor: Double
    /// Attempts of one effect before it fails for good (pausing the rollout).
    package var effectAttemptsMax: Int
    package var effectBackoffBaseSeconds: Double
    package var effectBackoffMaxSeconds: Double
    /// Work done by one `step` before it yields to other rollouts.
    package var iterationsPerStepMax: Int
    /// Attempts to deliver a notification before it is dropped (notifications never block a rollout).
    package var notificationAttemptsMax: Int
    /// A poll that only moves counters (no verdict change, no new phase) is persisted at most this often
    /// (clock seconds since the rollout's last change): the log keeps what matters, not every tick of progress.
    package var observationCommitIntervalSeconds: Double
    /// Longest wait between two tries of an effect that waits for fleet capacity (`FleetError.capacity`: a job
    /// slot): such an effect is tried again for as long as it takes, so the wait is short enough to take a slot
    /// soon after one frees, and long enough not to spend the account's request budget on asking.
    package var capacityWaitRetryMaxSeconds: Double

    package init(pollIntervalSeconds: Double = 30, effectAttemptsMax: Int = 8, effectBackoffBaseSeconds: Double = 2,
                effectBackoffMaxSeconds: Double = 300, iterationsPerStepMax: Int = 256, notificationAttemptsMax: Int = 5,
                observationCommitIntervalSeconds: Double = 300, settledPollFactor: Double = 4,
                capacityWaitRetryMaxSeconds: Double = 60) {
        precondition(capacityWaitRetryMaxSeconds > 0, "capacity waits need a positive retry bound")
        self.capacityWaitRetryMaxSeconds = capacityWaitRetryMaxSeconds
        precondition(settledPollFactor >= 1 && settledPollFactor <= 60, "settled poll factor out of range")
        self.settledPollFactor = settledPollFactor
        self.observationCommitIntervalSeconds = observationCommitIntervalSeconds
        precondition(pollIntervalSeconds > 0, "poll interval must be positive")
        precondition(effectAttemptsMax >= 1, "at least one attempt")
        self.pollIntervalSeconds = pollIntervalSeconds
        self.effectAttemptsMax = effectAttemptsMax
        self.effectBackoffBaseSeconds = effectBackoffBaseSeconds
        self.effectBackoffMaxSeconds = effectBackoffMaxSeconds
        self.iterationsPerStepMax = iterationsPerStepMax
        self.notificationAttemptsMax = notificationAttemptsMax
    }

    /// Capped exponential backoff with deterministic jitter (derived from the effect key, so simulations replay).
    package func backoffSeconds(attempt: Int, key: String, retryAfterSeconds: Double?) -> Double {
        let exponential = min(effectBackoffMaxSeconds, effectBackoffBaseSeconds * pow(2, Double(min(attempt, 30) - 1)))
        let jitterUnit = Double(StableHash.hash(key, String(attempt)) % 1000) / 1000
        let jittered = exponential * (0.5 + 0.5 * jitterUnit)
        return max(jittered, retryAfterSeconds ?? 0)
    }

    /// The wait before trying again an effect that waits for capacity: the usual backoff, capped by
    /// `capacityWaitRetryMaxSeconds` (a service's `Retry-After` still wins), however many tries it took.
    package func capacityWaitSeconds(attempt: Int, key: String, retryAfterSeconds: Double?) -> Double {
        let backoff = min(capacityWaitRetryMaxSeconds, backoffSeconds(attempt: attempt, key: key, retryAfterSeconds: nil))
        return max(backoff, retryAfterSeconds ?? 0)
    }
}
