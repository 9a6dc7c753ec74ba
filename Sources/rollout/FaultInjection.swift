import Engine
import Foundation
import Logging

/// Faults the process tests inject into a real `rollout worker`, from its environment; none unless asked for.
///
/// The first time the worker is about to perform an effect whose key contains TEXT (e.g. `create-job:canary`), it
/// stops itself with SIGSTOP, as a process frozen by the OS, a debugger or a VM pause would be; `kill -CONT` lets it
/// go on. This is how the tests show that a worker paused past its lease neither creates a job nor writes anything
/// once it continues:
/// - `ROLLOUT_TEST_STOP_BEFORE_EFFECT=TEXT`: right after its last lease check, before the fleet call (it continues
///   straight into the call: the fleet adopts the job, the commit after it is fenced);
/// - `ROLLOUT_TEST_STOP_BEFORE_LEASE_CHECK=TEXT`: right before that check (it continues into the check, which finds
///   the lease lapsed: no fleet call).
enum FaultInjection {
    static let stopBeforeEffectVariable = "ROLLOUT_TEST_STOP_BEFORE_EFFECT"
    static let stopBeforeLeaseCheckVariable = "ROLLOUT_TEST_STOP_BEFORE_LEASE_CHECK"

    static func crashHook(environment: [String: String], logger: Logger) -> (@Sendable (CrashPoint) throws -> Void)? {
        let afterCheck = environment[stopBeforeEffectVariable].flatMap { $0.isEmpty ? nil : $0 }
        let beforeCheck = environment[stopBeforeLeaseCheckVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard afterCheck != nil || beforeCheck != nil else { return nil }
        let fired = Locked(false)
        return { point in
            let rolloutId: String, key: String, text: String?
            switch point {
            case .beforeEffect(let id, let effect): (rolloutId, key, text) = (id, effect, afterCheck)
            case .beforeLeaseCheck(let id, let effect): (rolloutId, key, text) = (id, effect, beforeCheck)
            default: return
            }
            guard let text, key.contains(text) else { return }
            let first = fired.withLock { fired -> Bool in
                defer { fired = true }
                return !fired
            }
            guard first else { return }
            logger.notice("stopping (fault injection)", metadata: ["rollout": "\(rolloutId)", "effect": "\(key)"])
            raise(SIGSTOP)
            logger.notice("continued (fault injection)", metadata: ["rollout": "\(rolloutId)", "effect": "\(key)"])
        }
    }
}
