import Engine
import Foundation
import StorePostgres

/// `rollout run --db postgres://…`: the run drives its rollout only under the rollout's lease, as a worker would.
extension RunCommand {
    /// Takes the rollout's lease with one round. Nil when taken; else, after saying who drives the rollout (or why
    /// the lease could not be taken), the exit status. A holder whose process on this machine is gone (the run
    /// killed before this one) is waited for until its lease expires, once; a lease that was held when claimed and
    /// free when read (given back meanwhile) is claimed again, once. `created`: this run just submitted the rollout.
    func takeLease(_ lease: PostgresLeases, keeping: LeaseKeeping, rolloutId: String, created: Bool,
                   reporter: RunReporter) async -> Int32? {
        var waited = false
        var retried = false
        while true {
            do {
                _ = try await keeping.round()
            } catch {
                Console.error("error: cannot take the lease of rollout \(rolloutId) in \(db): \(error)")
                return ExitStatus.otherError
            }
            if lease.fence(for: rolloutId) != nil { return nil }
            let holder: LeaseHolder?
            do {
                holder = try lease.holder(of: rolloutId)
            } catch {
                Console.error("error: cannot read who leases rollout \(rolloutId): \(error)")
                return ExitStatus.otherError
            }
            guard let holder else {
                // Leased when claimed, free when read: its holder just gave it back or let it expire.
                if !retried {
                    retried = true
                    continue
                }
                Console.error("error: rollout \(rolloutId) keeps changing hands: run the same command again")
                return Self.leasedElsewhereStatus
            }
            if !waited && lease.isGoneFromThisMachine(holder) {
                waited = true
                let seconds = min(max(holder.secondsLeft, 0), 600) + 0.25
                reporter.waitingForLease(rolloutId: rolloutId, message: "\(Self.describe(holder)) is gone (process "
                                            + "\(holder.pid ?? 0) on this machine): its lease of rollout \(rolloutId) "
                                            + "expires in \(Int(seconds.rounded(.up))) s; waiting for it")
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                continue
            }
            let follow = holder.listen.map { " Follow it there: `rollout status \(rolloutId) --server http://\($0)`." } ?? ""
            let wait = holder.isRun
                ? " It goes back when that run stops (or \(Int(holder.secondsLeft.rounded(.up))) s after its last "
                    + "renewal if it dies)."
                : " A worker keeps a rollout until it ends; stop that worker to drive the rollout here."
            // Just submitted and claimed by a worker's round before this run's claim: it is in good hands.
            let what = created ? "rollout \(rolloutId) was submitted and taken at once by \(Self.describe(holder))"
                               : "rollout \(rolloutId) is driven by \(Self.describe(holder))"
            reporter.leasedElsewhere(rolloutId: rolloutId, holder: holder.workerId,
                                     message: "\(what): a rollout has one driver at a time.\(follow)\(wait)")
            return Self.leasedElsewhereStatus
        }
    }

    /// The holder of a lease, for people.
    static func describe(_ holder: LeaseHolder) -> String {
        if holder.isRun { return "another `rollout run` (\(holder.workerId))" }
        return "worker \(holder.workerId)" + (holder.listen.map { " (listening on \($0))" } ?? "")
    }
}
