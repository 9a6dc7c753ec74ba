import Engine
import Foundation
import PostgresNIO

/// A worker as the database knows it (`rollout workers`): its last heartbeat, the leases it holds now, its counters.
package struct PostgresWorkerRecord: Sendable, Equatable, Codable {
    package var id: String
    package var host: String
    package var pid: Int
    package var listen: String?
    /// The one rollout a `rollout run` drives (nil: a worker taking its share of every rollout).
    package var drives: String?
    package var startedAt: Date
    package var heartbeatAt: Date
    package var stoppedAt: Date?
    /// Unexpired leases it holds now (counted from the rollouts, not its own report).
    package var leases: Int
    package var takeovers: Int
    package var fencingRejections: Int
    /// Its --lease-seconds: how long a lease it holds lasts unless renewed.
    package var leaseSeconds: Double
    /// Heartbeat within one of its leases of the database's now, and not stopped.
    package var alive: Bool
}

extension PostgresRolloutStore {
    /// Workers, live first then by start; without `includeGone`, only those alive (heartbeat within their own lease,
    /// or within `leaseSeconds` when given).
    package func workers(leaseSeconds: Double? = nil, includeGone: Bool = false, limit: Int = 1000) throws -> [PostgresWorkerRecord] {
        let rows = try perform { db in
            try db.run("""
                SELECT w.id, w.host, w.pid, w.listen, w.drives, extract(epoch FROM w.started_at)::float8,
                       extract(epoch FROM w.heartbeat_at)::float8, extract(epoch FROM w.stopped_at)::float8,
                       (SELECT count(*) FROM rollouts r WHERE r.lease_owner = w.id AND r.lease_expires_at > clock_timestamp()),
                       w.takeovers, w.fencing_rejections, w.lease_seconds,
                       (w.stopped_at IS NULL AND w.heartbeat_at > clock_timestamp()
                          - make_interval(secs => coalesce(\(leaseSeconds)::float8, w.lease_seconds)))
                FROM workers w ORDER BY 13 DESC, w.started_at LIMIT \(min(limit, 10_000))
                """, "listing workers").rows
        }
        return try rows.compactMap { row in
            let (id, host, pid, listen, drives, started, heartbeat, stopped, leases, takeovers, fenced, lease, alive) =
                try row.decode((String, String, Int, String?, String?, Double, Double, Double?, Int, Int, Int, Double, Bool).self)
            guard alive || includeGone else { return nil }
            return PostgresWorkerRecord(id: id, host: host, pid: pid, listen: listen, drives: drives,
                                        startedAt: Date(timeIntervalSince1970: started),
                                        heartbeatAt: Date(timeIntervalSince1970: heartbeat),
                                        stoppedAt: stopped.map(Date.init(timeIntervalSince1970:)), leases: leases,
                                        takeovers: takeovers, fencingRejections: fenced, leaseSeconds: lease,
                                        alive: alive)
        }
    }
}

extension PostgresRolloutStore {
    /// Rollouts still needing a driver whose lease names `workerId`, expired or not: after that worker died, the
    /// ones no survivor has claimed yet (`rollout bench --postgres` times the take-over with it).
    package func activeRollouts(leasedTo workerId: String) throws -> Int {
        try perform { db in
            try db.run("""
                SELECT count(*) FROM rollouts r WHERE r.lease_owner = \(workerId) AND \(unescaped: PostgresLeases.activeCondition)
                """, "counting the rollouts leased to worker \(workerId)").rows.first?.decode(Int.self) ?? 0
        }
    }
}
