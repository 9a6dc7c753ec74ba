import Foundation
import Logging
import RolloutCore
import RolloutText

/// What a failed effect becomes: a retry with backoff, a wait for fleet capacity, a dropped notification, or a pause
/// that names the call (never a silent end).
extension RolloutEngine {
    func handleEffectFailure(_ pending: PendingEffect, error: Error, runtime: inout Runtime) throws {
        let rolloutId = runtime.rollout.id
        let record = pending.record
        let attempts = pending.attempts + 1
        let message = "\(error)"
        let isNotification: Bool = { if case .notify = record.effect { return true }; return false }()
        var retryable = true
        var retryAfter: Double?
        if case .capacity(let wait) = error as? FleetError {
            try deferCapacityWait(pending, wait: wait, runtime: &runtime)
            return
        }
        if let fleetError = error as? FleetError {
            retryable = fleetError.isRetryable
            if case .retryable(_, let after) = fleetError { retryAfter = after }
            if case .notFound = fleetError, case .cancelJob(let stage, _, _) = record.effect {
                // Cancelling a job that was never created: nothing to cancel.
                if let stage {
                    try commitCompletion(.jobCancelled(stage: stage), key: record.key, status: .done, cohorts: nil,
                                         runtime: &runtime)
                } else {
                    try finishEffect(record.key, status: .done, runtime: runtime)
                }
                return
            }
        }
        let attemptsMax = isNotification ? configuration.notificationAttemptsMax : configuration.effectAttemptsMax
        if retryable && attempts < attemptsMax {
            let delay = configuration.backoffSeconds(attempt: attempts, key: record.key, retryAfterSeconds: retryAfter)
            let next = clock.now().addingTimeInterval(delay)
            try store.deferEffect(rolloutId: rolloutId, key: record.key, attempts: attempts, nextAttemptAt: next,
                                  lastError: message, fence: runtime.fence)
            readModel.effectDeferred(rolloutId: rolloutId, retry: EffectRetry(
                key: record.key, attempts: attempts, nextAttemptAt: next, lastError: message, waitingFor: nil))
            logger.warning("effect failed, will retry", metadata: [
                "rollout": "\(rolloutId)", "effect": "\(record.key)", "attempt": "\(attempts)",
                "error": "\(CredentialRedaction.text(message))",
            ])
            return
        }
        if isNotification {
            logger.error("notification dropped", metadata: [
                "rollout": "\(rolloutId)", "error": "\(CredentialRedaction.text(message))",
            ])
            try finishEffect(record.key, status: .failed, runtime: runtime)
            return
        }
        logger.error("effect failed for good", metadata: [
            "rollout": "\(rolloutId)", "effect": "\(record.key)", "error": "\(CredentialRedaction.text(message))",
        ])
        try commitCompletion(.effectFailed(effect: record, message: message), key: record.key, status: .failed,
                             cohorts: nil, runtime: &runtime)
    }

    /// An effect that waits for fleet capacity (a job slot): tried again after a capped backoff for as long as it
    /// takes, so the rollout waits (visibly: the retry is published with what it waits for) instead of pausing. A
    /// wait is no failed attempt: the stored attempts stay as they were, so the effect keeps its whole allowance for
    /// real failures once it has its slot; the tries of the wait are counted in the published retry (they restart
    /// after a worker restart, which only shortens the next backoff). A pause or abort makes it obsolete as usual.
    func deferCapacityWait(_ pending: PendingEffect, wait: FleetCapacityWait, runtime: inout Runtime) throws {
        let rolloutId = runtime.rollout.id
        let key = pending.record.key
        let previous = readModel.entry(rolloutId)?.retries[key]
        let tries = (previous?.waitingFor == nil ? 0 : previous?.attempts ?? 0) + 1
        let delay = configuration.capacityWaitSeconds(attempt: tries, key: key, retryAfterSeconds: wait.retryAfterSeconds)
        let next = clock.now().addingTimeInterval(delay)
        let message = wait.description
        try store.deferEffect(rolloutId: rolloutId, key: key, attempts: pending.attempts, nextAttemptAt: next,
                              lastError: message, fence: runtime.fence)
        readModel.effectDeferred(rolloutId: rolloutId, retry: EffectRetry(
            key: key, attempts: tries, nextAttemptAt: next, lastError: message, waitingFor: wait.waitingFor))
        counters.withLock { $0.capacityWaits += 1 }
        // Said once when the wait starts; later tries only at debug level (a wait may last hours).
        logger.log(level: tries == 1 ? .notice : .debug, "effect waits for fleet capacity", metadata: [
            "rollout": "\(rolloutId)", "effect": "\(key)", "try": "\(tries)", "waitingFor": "\(wait.waitingFor)",
            "error": "\(CredentialRedaction.text(message))",
        ])
    }
}
