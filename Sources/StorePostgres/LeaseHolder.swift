import Foundation

/// Who else leases a rollout now (`PostgresLeases.holder(of:)`): why `rollout run` cannot drive it, and where to
/// follow it instead.
package struct LeaseHolder: Sendable, Equatable {
    /// The holder's id (`rollout workers` lists it).
    package var workerId: String
    /// The holder's HTTP address, when it is a worker serving one.
    package var listen: String?
    /// The machine and process it announced (nil when it never announced itself).
    package var host: String?
    package var pid: Int?
    /// True when the holder is another `rollout run`, not a worker.
    package var isRun: Bool
    /// Seconds until the lease expires unless renewed.
    package var secondsLeft: Double

    package init(workerId: String, listen: String?, host: String?, pid: Int?, isRun: Bool, secondsLeft: Double) {
        self.workerId = workerId
        self.listen = listen
        self.host = host
        self.pid = pid
        self.isRun = isRun
        self.secondsLeft = secondsLeft
    }
}
