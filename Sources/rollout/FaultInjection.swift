import Engine
import Foundation
import Logging

/// Faults the process tests inject into a real `rollout worker`, from its environment; none unless asked for.
///
/// `ROLLOUT_TEST_STOP_BEFORE_EFFECT=TEXT`: the first time the worker is about to perform an effect whose key contains
/// TEXT (e.g. `create-job:canary`), right after its lease check and before the fleet call, it stops itself with
/// SIGSTOP, as a process frozen by the OS, a debugger or a VM pause would be. `kill -CONT` lets it go on. This is how
/// the tests show that a worker paused past its lease neither creates a job nor writes anything once it continues.
enum FaultInjection {
    static let stopBeforeEffectVariable = "ROLLOUT_TEST_STOP_BEFORE_EFFECT"

    static func crashHook(environment: [String: String], logger: Logger) -> (@Sendable (CrashPoint) throws -> Void)? {
        guard let text = environment[stopBeforeEffectVariable], !text.isEmpty else { return nil }
        let fired = Locked(false)
        return { point in
            guard case .beforeEffect(let rolloutId, let key) = point, key.contains(text) else { return }
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
